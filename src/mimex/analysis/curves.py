"""Run directories as data: loading, grouping by (environment, method), curves and scores.

A *method* is what a run's config says apart from its seed: runs grouped under one
(environment, method) must have the same config except ``seed`` and bookkeeping keys
(``BOOKKEEPING``), or they are refused with the keys that differ. The method's label is the
``method`` a sweep wrote into ``sweep.json`` (prefixed with the study and size when the runs
come from several sweeps), else ``explore.name``; ``group_by`` keys add their values to the
label (``--group-by explore.mimex.mask_ratio``).
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mimex.analysis import stats
from mimex.config.diff import BOOKKEEPING, changed_keys, flatten, value_text
from mimex.config.migrate import upgrade_config
from mimex.config.schema import RunConfig, from_dict, to_dict
from mimex.errors import ConfigError, MimexError

# Environment steps per agent step, where the suite repeats actions (the x-axis in frames).
FRAMES_PER_STEP = {"dmc": 2, "atari": 4}
EPISODE_METRICS = ("charts/success_rate", "charts/episodic_return", "charts/episodic_length",
                   "charts/dense_return")


@dataclass
class Run:
    """One run directory: its config (flattened to dotted keys), rows and summary."""

    path: Path
    config: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any] | None = None
    sweep: dict[str, Any] | None = None
    method: str = ""
    # its steps only say where it stops (RunConfig.steps_only_end_the_run): seeds at different
    # budgets (a study being extended) are still one method
    extendable: bool = False
    # why today's schema cannot read its config.json (then ``config`` holds its raw keys)
    unreadable: str | None = None
    # rows after this step were left out (``cut``): the run as it stood at this step
    until: int | None = None
    # whether the run had reached ``until`` (its rows before the cut went that far)
    reached: bool = False

    @property
    def env(self) -> str:
        return str(self.config["env.name"])

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def finished(self) -> bool:
        """Whether ``summary.json`` says the run reached its step budget; once ``cut``, whether
        it had reached the cut (a run stopped below it has not, whatever its budget)."""
        if self.until is not None:
            return self.reached
        return bool(self.summary) and int(self.summary.get("step", 0)) >= int(self.config.get("steps", 0))

    def cut(self, until: int) -> Run:
        """The run as it stood at step ``until``: its rows up to that step (a study grown to
        a larger budget read at the budget all its seeds share). ``summary`` (hours, peak
        memory) stays the whole run's."""
        if until < 1:
            raise ConfigError(f"--until must be a positive step count, got {until}")
        self.reached = bool(self.rows) and int(self.rows[-1]["step"]) >= until
        kept = [r for r in self.rows if int(r["step"]) <= until]
        if self.rows and not kept:
            raise ConfigError(f"--until {until} is before the first logged step ({self.rows[0]['step']}) of "
                              f"{self.path}; pass a step the runs have logged")
        self.rows, self.until = kept, until
        return self


@dataclass
class Group:
    """The seeds of one method on one environment."""

    env: str
    method: str
    runs: list[Run] = field(default_factory=list)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_run(path: str | Path) -> Run:
    """Read ``config.json``, ``metrics.jsonl`` (or an archive's ``metrics.jsonl.gz``), and
    ``summary.json``/``sweep.json`` if present."""
    p = Path(path)
    config = _read_json(p / "config.json")
    if config is None:
        raise ConfigError(f"{p} is not a run directory (no readable config.json)")
    rows = []
    text = ""
    if (p / "metrics.jsonl").exists():
        text = (p / "metrics.jsonl").read_text(encoding="utf-8")
    elif (p / "metrics.jsonl.gz").exists():  # an archived run (mimex archive)
        try:
            text = gzip.decompress((p / "metrics.jsonl.gz").read_bytes()).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
            raise ConfigError(f"{p}/metrics.jsonl.gz cannot be read ({exc}); archive the run again") from None
    if text:
        for line in text.splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:  # a torn last line of a running run
                continue
    sweep = _read_json(p / "sweep.json")
    upgraded = upgrade_config(config)
    try:
        cfg = from_dict(RunConfig, upgraded)
    except (MimexError, ValueError, TypeError, AttributeError, KeyError) as exc:  # not a readable config
        cfg, unreadable = None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    else:
        unreadable = None
    # keys added since: as the run ran (upgrade_config), any other with its default, so the
    # seeds of one method made before and after a key existed still group
    flat = flatten(upgraded if cfg is None else to_dict(cfg))
    method = str(sweep["method"]) if sweep and "method" in sweep else str(flat.get("explore.name", "?"))
    extendable = cfg is not None and cfg.steps_only_end_the_run()
    return Run(p, flat, rows, _read_json(p / "summary.json"), sweep, method, extendable, unreadable)


def find_runs(paths: list[str | Path], finished_only: bool = False, until: int | None = None) -> list[Run]:
    """Every run directory at or below ``paths`` (``aborted-*`` and hidden folders left out), sorted;
    with ``until``, each as it stood at that step (``Run.cut``); with ``finished_only``, only
    those that reached their step budget (or ``until``)."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise ConfigError(f"{p} does not exist; pass run directories or folders that hold them")
        if (p / "config.json").exists():
            found.append(p)
        else:
            # left out: runs moved aside on a restart, hidden folders (an archive being written)
            found += [c.parent for c in sorted(p.rglob("config.json"))
                      if not any(part.startswith(("aborted-", "."))
                                 for part in c.parent.relative_to(p).parts)]
    if not found:
        raise ConfigError(f"no run directories (with config.json) under {', '.join(map(str, paths))}")
    runs = [load_run(p) for p in sorted(set(found))]
    if until is not None:
        runs = [r.cut(until) for r in runs]
    if finished_only:
        runs = [r for r in runs if r.finished]
        if not runs:
            what = (f"reached step {until} (--until)" if until is not None
                    else "finished (summary.json at its step budget)")
            raise ConfigError(f"none of the {len(set(found))} runs under {', '.join(map(str, paths))} has {what} "
                              "yet; leave out --finished to see them as they run")
    return runs


def group_runs(runs: list[Run], group_by: tuple[str, ...] = ()) -> list[Group]:
    """Runs grouped by (environment, method); a ConfigError if two runs of one group differ
    in anything but their seed and bookkeeping, naming the runs and the differing keys."""
    groups: dict[tuple[str, str], Group] = {}
    studies = {(r.sweep or {}).get("study") for r in runs}
    for run in runs:
        if len(studies) > 1 and run.sweep and run.sweep.get("study"):  # runs of several sweeps
            size = f"-{run.sweep['size']}" if run.sweep.get("size") else ""
            run.method = f"{run.sweep['study']}{size}/{run.sweep.get('method', run.method)}"
        for key in group_by:
            if key not in run.config:
                raise ConfigError(f"--group-by {key}: no such config key in {run.path}")
        label = run.method + "".join(f" {k.split('.')[-1]}={value_text(run.config[k])}" for k in group_by)
        run.method = label
        groups.setdefault((run.env, label), Group(run.env, label)).runs.append(run)
    for g in groups.values():
        ref = g.runs[0]
        for other in g.runs[1:]:
            diff = config_diff(ref.config, other.config, steps=not (ref.extendable and other.extendable))
            bad = next((r for r in (ref, other) if r.unreadable), None)
            if diff and bad is not None:
                raise ConfigError(
                    f"{g.env} / {g.method}: {bad.path}/config.json cannot be read by this version of "
                    f"mimex ({bad.unreadable}), so it is not averaged with "
                    f"{(other if bad is ref else ref).path}. Fix or upgrade that config.json, or leave "
                    f"the run out")
            if diff:
                raise ConfigError(
                    f"{g.env} / {g.method}: runs {ref.path} and {other.path} differ in more than the "
                    f"seed, so they are not averaged: {'; '.join(diff)}. Plot them as separate methods "
                    f"with --group-by KEY (e.g. --group-by {diff[0].split(':')[0]}), or pass only one of them")
        seeds = [r.seed for r in g.runs]
        if len(set(seeds)) != len(seeds):
            raise ConfigError(f"{g.env} / {g.method}: several runs with the same config and seed "
                              f"({', '.join(str(r.path) for r in g.runs)}); pass each run once")
    return sorted(groups.values(), key=lambda g: (g.env, g.method))


def check_metric(groups: list[Group], metric: str) -> None:
    """A ConfigError naming the logged metrics if no run logs ``metric``."""
    runs = [r for g in groups for r in g.runs]
    if any(_finite(row.get(metric)) for r in runs for row in r.rows):
        return
    logged = sorted({k for r in runs for row in r.rows[-1:] for k in row if k != "step"})
    raise ConfigError(f"no run logs {metric!r}; choose --metric from: {', '.join(logged) or '(no rows yet)'}")


def config_diff(a: dict[str, Any], b: dict[str, Any], steps: bool = True) -> list[str]:
    """``key: A vs B`` for each flattened key (seed and bookkeeping aside, and ``steps``
    unless ``steps``) that differs."""
    skip = {"seed", *BOOKKEEPING} | (set() if steps else {"steps"})
    return [f"{k}: {value_text(x)} vs {value_text(y)}" for k, x, y in changed_keys(a, b, skip)]


def frames_per_step(run: Run) -> int:
    """Frames per environment step: the suite's action repeat (DMC 2, Atari 4, else 1)."""
    options = run.config.get("env.options") or {}
    suite = run.env.split("/", 1)[0]
    return int(options.get("action_repeat", FRAMES_PER_STEP.get(suite, 1)))


def curve(run: Run, metric: str, x: str = "steps", window: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(x float[n], y float[n]) of ``metric`` over the rows that log it. Per-episode metrics
    (``charts/success_rate``, returns, lengths) are the running mean over the last ``window``
    finished episodes (weighted by ``charts/episodes``; the paper's curve), others raw.
    ``window=0``: raw per-row values. ``x``: ``steps`` or ``frames``."""
    rows = [r for r in run.rows if _finite(r.get(metric))]
    xs = np.array([r["step"] for r in rows], dtype=np.float64)
    ys = np.array([r[metric] for r in rows], dtype=np.float64)
    if window and metric in EPISODE_METRICS and rows:
        counts = np.array([r.get("charts/episodes", 1) for r in rows], dtype=np.float64)
        ys = stats.running_episodes_mean(ys, counts, window)
    if x == "frames":
        xs = xs * frames_per_step(run)
    elif x != "steps":
        raise ConfigError(f"--x must be steps or frames, got {x!r}")
    return xs, ys


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def final_value(run: Run, metric: str, window: int = 200) -> float:
    """The run's final score: for per-episode metrics the mean over its last ``window``
    finished episodes (rows weighted by ``charts/episodes``), else the last logged value."""
    rows = [r for r in run.rows if _finite(r.get(metric))]
    if not rows:
        return float("nan")
    if metric in EPISODE_METRICS and window:
        return stats.last_episodes_mean(np.array([r[metric] for r in rows]),
                                        np.array([r.get("charts/episodes", 1) for r in rows]), window)
    return float(rows[-1][metric])


def common_grid(runs: list[Run], metric: str, x: str, points: int = 100) -> np.ndarray:
    """float[points]: from the latest first point to the earliest last point of the runs'
    curves (so no run is extrapolated)."""
    spans = [curve(r, metric, x, 0)[0] for r in runs]
    spans = [s for s in spans if s.size]
    if not spans:
        return np.zeros(0)
    lo, hi = max(s[0] for s in spans), min(s[-1] for s in spans)
    return np.linspace(lo, hi, points) if hi > lo else np.array([lo])


def group_curves(group: Group, metric: str, x: str = "steps", window: int = 200,
                 points: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(grid float[points], curves float[num_seeds, points]): every seed's curve
    interpolated onto the group's common grid (seeds with no data left out)."""
    runs = [r for r in group.runs if curve(r, metric, x, window)[0].size]
    grid = common_grid(runs, metric, x, points)
    ys = []
    for r in runs:
        xs, y = curve(r, metric, x, window)
        ok = np.isfinite(y)
        if ok.any():
            ys.append(stats.interpolate(xs[ok], y[ok], grid))
    return grid, np.array(ys).reshape(len(ys), grid.size)
