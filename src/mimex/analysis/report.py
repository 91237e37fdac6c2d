"""``mimex report``: a markdown table per environment, one row per method.

Columns: the final value (per-episode metrics: the mean over each seed's last 200 finished
episodes, the paper's PixMC success; rows of ``metrics.jsonl`` weighted by their
``charts/episodes``) and the area under the curve (the curve's average height over its
steps), each as the mean over seeds with a 95% bootstrap interval; the number of seeds
(in brackets: how many finished, when some still run, and how many have a value for the
metric, when some have none); the wall-clock hours per ``per_steps``
environment steps and the peak memory, from ``summary.json`` (mean and maximum over seeds);
and the steady-state hours per ``per_steps`` from the median ``perf/sps`` of each run's
iterations after its first (no start-up, evaluation or checkpoint writes: the rate a long
run settles at, which is what the paper's A.4 compute table compares).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mimex.analysis import stats
from mimex.analysis.curves import EPISODE_METRICS, Group, final_value, group_curves
from mimex.run.speeds import iteration_rates


@dataclass
class Row:
    """One method on one environment: numbers per seed and their summaries."""

    method: str
    finals: np.ndarray          # float[num_seeds]
    aucs: np.ndarray            # float[num_seeds]
    seeds: int
    finished: int
    hours: float                # mean over finished seeds of hours per per_steps steps
    steady_hours: float         # mean over seeds of per_steps / median perf/sps (iterations 2..)
    peak_mib: float             # max over finished seeds (RSS, or CUDA when it ran on a GPU)
    steps: int                  # the largest step reached


def _ci_text(values: np.ndarray, digits: int) -> str:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return "n/a"
    mean, lo, hi = stats.bootstrap_ci_mean(v)
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def summarise(group: Group, metric: str, window: int = 200, per_steps: float = 1e6) -> Row:
    """The numbers of ``group`` for its row of the table."""
    finals = np.array([final_value(r, metric, window) for r in group.runs])
    grid, curves = group_curves(group, metric, "steps", window)
    aucs = np.array([stats.auc(grid, c) for c in curves]) if grid.size else np.zeros(0)
    done = [r.summary for r in group.runs if r.summary and r.summary.get("step")]
    hours = [s["wall_clock_s"] / 3600.0 * per_steps / s["step"] for s in done if "wall_clock_s" in s]
    peaks = [s.get("peak_cuda_mib", s.get("peak_rss_mib", float("nan"))) for s in done]
    steps = max((r.rows[-1]["step"] for r in group.runs if r.rows), default=0)
    rates = [np.median(v) for r in group.runs if (v := iteration_rates(r.rows))]
    steady = [per_steps / rate / 3600.0 for rate in rates if rate > 0]
    return Row(group.method, finals, aucs, len(group.runs), sum(r.finished for r in group.runs),
               float(np.mean(hours)) if hours else float("nan"),
               float(np.mean(steady)) if steady else float("nan"),
               float(np.max(peaks)) if peaks else float("nan"), int(steps))


def _steps_text(n: float) -> str:
    return f"{n / 1e6:.3g}M" if n >= 1e6 else f"{n / 1e3:.3g}k" if n >= 1e3 else f"{n:g}"


def _seeds_text(r: Row) -> str:
    """``5``, or ``5 (4 finished)``, ``5 (3 log it)``: the CIs are over the seeds with a value
    for the metric (runs from before a metric existed have none)."""
    notes = [f"{r.finished} finished"] if r.finished != r.seeds else []
    logged = int(np.isfinite(r.finals).sum())
    if logged != r.seeds:
        notes.append(f"{logged} log it")
    return f"{r.seeds} ({'; '.join(notes)})" if notes else f"{r.seeds}"


def report(groups: list[Group], metric: str, window: int = 200, per_steps: float = 1e6,
           digits: int = 3) -> str:
    """The markdown report of ``groups`` (one table per environment)."""
    per = _steps_text(per_steps)
    final_how = (f"mean of the last {window} finished episodes per seed" if window and
                 metric in EPISODE_METRICS else "last logged value per seed")
    lines = [f"# Report: `{metric}`", "",
             f"final = {final_how}; AUC = the curve's mean height over its steps; both: mean over "
             "seeds [95% bootstrap CI]. Hours and peak memory from summary.json (finished seeds); "
             "steady hours from the median perf/sps of iterations after the first.", ""]
    for env in sorted({g.env for g in groups}):
        lines += [f"## {env}", "",
                  f"| method | final | AUC | seeds | steps | h / {per} steps | steady h / {per} | peak MiB |",
                  "|---|---|---|---|---|---|---|---|"]
        for g in [g for g in groups if g.env == env]:
            r = summarise(g, metric, window, per_steps)
            seeds = _seeds_text(r)
            hours = "n/a" if np.isnan(r.hours) else f"{r.hours:.3g}"
            steady = "n/a" if np.isnan(r.steady_hours) else f"{r.steady_hours:.3g}"
            peak = "n/a" if np.isnan(r.peak_mib) else f"{r.peak_mib:.0f}"
            lines.append(f"| {r.method} | {_ci_text(r.finals, digits)} | {_ci_text(r.aucs, digits)} "
                         f"| {seeds} | {_steps_text(r.steps)} | {hours} | {steady} | {peak} |")
        lines.append("")
    return "\n".join(lines)
