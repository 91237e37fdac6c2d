"""Running a sweep's runs: what each run's directory says (done, to resume, new), the
``--dry-run`` plan, and local worker processes (Ray tasks on a cluster: ``ray_backend``).

Finished runs (``summary.json`` at the run's step budget) are skipped; interrupted ones
(a ``checkpoint.pt``) resume exactly where their checkpoint left off, because the runner
resumes a run directory that holds one; finished runs of a smaller budget are extended where
their steps only end the run (``RunConfig.steps_only_end_the_run``); the run-directory lock
keeps a retried task from writing next to a straggler. A directory that holds another config (its ``sweep.json`` or
``config.json`` hash differs) stops the sweep before anything runs.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimex.config.diff import BOOKKEEPING, changed_keys, value_text
from mimex.config.migrate import upgrade_config
from mimex.config.schema import RunConfig, from_dict, to_dict
from mimex.errors import ConfigError
from mimex.run.lock import refuse_record
from mimex.run.stopping import StopSignals, never_raising, stop_reason
from mimex.run.sweep import PlannedRun, Spec, config_hash
from mimex.run.worker import project_version, read_sweep_file, write_sweep_file

Log = Callable[[str], None]


@dataclass
class RunState:
    """``state``: ``done``, ``resume`` (has a checkpoint), ``extend`` (finished at a smaller
    budget than this sweep's: resumed to the new one) or ``new``; ``step``: last logged step."""

    run: PlannedRun
    state: str
    step: int
    total: int  # the step the run ends at (steps rounded up to whole iterations)


def total_steps(cfg: RunConfig) -> int:
    """The step a run ends at: PPO runs whole iterations of num_envs * num_steps."""
    if cfg.agent != "ppo":
        return cfg.steps
    batch = cfg.env.num_envs * cfg.ppo.num_steps
    return -(-cfg.steps // batch) * batch


def last_logged_step(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 65536))
        for line in reversed(f.read().decode("utf-8", "replace").splitlines()):
            try:
                return int(json.loads(line)["step"])
            except (ValueError, KeyError, TypeError):
                continue
    return 0


def _read_saved(saved: Any) -> RunConfig | None:
    """A saved config as today's code reads it: keys added since it was written take the
    values that behave as it ran (``upgrade_config``). None if it is not a readable mimex config."""
    if not isinstance(saved, dict):
        return None
    try:
        return from_dict(RunConfig, upgrade_config(saved))
    except (ValueError, TypeError, AttributeError, KeyError, ConfigError):  # a section not a dict, ...
        return None


def saved_config_hash(saved: Any) -> str:
    """The config hash of a saved config as today's code reads it, so adding a config key does
    not turn every finished run into "a run of another config". ``"unreadable"`` for anything
    that is not a readable mimex config."""
    cfg = _read_saved(saved)
    return "unreadable" if cfg is None else config_hash(cfg)


def _differences(saved: Any, cfg: RunConfig, most: int = 6) -> str:
    """``" (explore.beta: the run has 0.05, this sweep 0.5; ...)"``: what differs between a
    saved config and the sweep's, as today's code reads the saved one; "" if it cannot tell."""
    held = _read_saved(saved)
    if held is None:
        return ""
    diff = changed_keys(to_dict(held), to_dict(cfg), {*BOOKKEEPING, "steps"})
    if not diff:
        return ""
    shown = [f"{k}: the run has {value_text(a)}, this sweep {value_text(b)}" for k, a, b in diff[:most]]
    more = f"; and {len(diff) - most} more" if len(diff) > most else ""
    return f" ({'; '.join(shown)}{more})"


def run_state(run: PlannedRun) -> RunState:
    """Where ``run`` stands; a ConfigError if its directory holds a run of another config."""
    d = Path(run.config.run_dir)
    want = run.config_hash
    held = read_sweep_file(d)
    saved: Any = None
    if held is not None:  # the sweep's own record: its config, or (older sweeps) only its hash
        saved = held.get("config") if isinstance(held, dict) else "unreadable"
        have = held.get("config_hash") if saved is None else saved_config_hash(saved)
    elif (d / "config.json").exists():  # a run made by `mimex train`
        try:
            saved = json.loads((d / "config.json").read_text(encoding="utf-8"))
            have = saved_config_hash(saved)
        except (OSError, ValueError):
            have = "unreadable"
    else:
        have = want
    if have == "unreadable":
        raise ConfigError(f"{d} holds a run whose saved config cannot be read (sweep.json / config.json "
                          "damaged or not a mimex config): move that directory away to rerun it, or use "
                          "another --root")
    if have != want and isinstance(saved, dict) and saved_config_hash({**saved, "steps": run.config.steps}) == want:
        raise ConfigError(f"{d} holds this run at another budget (steps {saved.get('steps')}, this sweep's "
                          f"{run.config.steps}), and its training is scaled by steps (ppo.lr_schedule or "
                          "explore.beta_anneal over the run), so it cannot be extended exactly. Set "
                          "ppo.schedule_steps to the largest budget in the spec to make runs extendable; "
                          "use another --root, or move that directory away to rerun it")
    if have != want:
        raise ConfigError(f"{d} holds a run of another config (hash {have}, this sweep's is {want}): "
                          f"the spec or the code's defaults changed since it ran{_differences(saved, run.config)}. "
                          "Use another --root, or move that directory away to rerun it")
    total = total_steps(run.config)
    step = last_logged_step(d)
    try:
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = None
    if summary is not None and int(summary.get("step", 0)) >= run.config.steps:
        return RunState(run, "done", int(summary["step"]), total)
    refuse_record(d)  # a record without its checkpoint: nothing to train from
    if (d / "checkpoint.pt").exists():  # a finished run of a smaller budget is extended
        return RunState(run, "extend" if summary is not None else "resume", step, total)
    if summary is not None:
        raise ConfigError(f"{d} holds this run finished at step {summary.get('step')}, below this sweep's "
                          f"{run.config.steps}, but no checkpoint.pt to extend it from: restore its "
                          "checkpoint, or move that directory away to rerun it from the start")
    return RunState(run, "new", 0, total)


def meta_of(run: PlannedRun, spec: Spec, version: dict[str, Any]) -> dict[str, Any]:
    """The ``sweep.json`` content of ``run``."""
    return {"spec": spec.source, "study": spec.name, "size": spec.size, "name": run.name,
            "env": run.env, "method": run.method, "seed": run.seed, "overrides": run.overrides,
            "config_hash": run.config_hash, "config": to_dict(run.config),
            "planned": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "version": version}


def prepare(states: list[RunState], spec: Spec) -> list[tuple[PlannedRun, dict[str, Any]]]:
    """Write ``sweep.json`` into every run directory still to train (an existing one is kept,
    its config refreshed with this sweep's bookkeeping: run_dir, threads); returns (run,
    sweep.json content) of those runs."""
    version = project_version()
    out = []
    for s in states:
        if s.state == "done":
            continue
        meta = read_sweep_file(s.run.config.run_dir) or meta_of(s.run, spec, version)
        meta["config"] = to_dict(s.run.config)  # same hash; this sweep's paths and threads
        meta["config_hash"] = s.run.config_hash  # as today's code computes it
        write_sweep_file(s.run.config.run_dir, meta)
        out.append((s.run, meta))
    return out


def _fmt_steps(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{n:.0f}"


def plan_text(spec: Spec, states: list[RunState], workers: int) -> str:
    """The ``--dry-run`` listing: every run, its state and steps, totals and hours."""
    from mimex.run import speeds

    title = spec.name + (f" (size {spec.size})" if spec.size else "")
    lines = [f"sweep {title}: {len(states)} runs; preset {spec.preset}; {spec.source}"]
    if spec.description:
        lines.append(f"  {spec.description}")
    width = max((len(s.run.name) for s in states), default=10)
    lines.append(f"  {'state':8s} {'run':{width}s} {'steps':>8s} {'to go':>8s} {'est. h':>7s}")
    hours = 0.0
    for s in states:
        left = 0 if s.state == "done" else s.total - s.step
        h = speeds.run_hours(s.run.config, left)
        hours += h
        lines.append(f"  {s.state:8s} {s.run.name:{width}s} {_fmt_steps(s.total):>8s} "
                     f"{_fmt_steps(left):>8s} {h:7.2f}")
    total = sum(s.total for s in states)
    left = sum(0 if s.state == "done" else s.total - s.step for s in states)
    counts = {k: sum(s.state == k for s in states) for k in ("done", "resume", "extend", "new")}
    extend = f", {counts['extend']} to extend" if counts["extend"] else ""
    lines += [f"total: {len(states)} runs ({counts['done']} done, {counts['resume']} to resume{extend}, "
              f"{counts['new']} new); {_fmt_steps(total)} env steps, {_fmt_steps(left)} to go",
              f"estimated {hours:.1f} run-hours at the speeds in mimex/run/speeds.py "
              f"({speeds.MEASURED_ON}); about {hours / max(workers, 1):.1f} h wall-clock with "
              f"--workers {workers} if each worker has its own core"]
    lines += _measured_pace_lines(states, workers)
    if spec.notes:
        lines.append(f"notes: {spec.notes}")
    return "\n".join(lines)


def _measured_pace_lines(states: list[RunState], workers: int) -> list[str]:
    """The estimate again at the pace this sweep's runs have trained at where their logs were
    written (each run that has trained at its own pace, the others at the median), if any has.
    The runs' device and threads are bookkeeping (not in the config hash): a root copied from
    another machine reports that machine's pace."""
    from mimex.run import speeds

    paces = {}
    for s in states:
        if s.state != "new":
            pace = speeds.measured_pace(s.run.config, Path(s.run.config.run_dir))
            if pace is not None:
                paces[s.run.name] = pace
    if not paces:
        return []
    typical = statistics.median(paces.values())
    hours = sum(speeds.run_hours(s.run.config, 0 if s.state == "done" else s.total - s.step,
                                 paces.get(s.run.name, typical)) for s in states)
    spread = f", {min(paces.values()):.2f}-{max(paces.values()):.2f}" if len(paces) > 1 else ""
    return [f"measured: {len(paces)} run(s) under this root trained at {typical:.2f}x the table's "
            f"speed (their logged steps over their seconds after the first row, median over runs{spread}); "
            f"at those paces (each of them at its own, the others at the median) about {hours:.1f} "
            f"run-hours to go, {hours / max(workers, 1):.1f} h wall-clock with --workers {workers}"]


def after_run(on_done: Callable[[PlannedRun], None] | None, run: PlannedRun, say: Log) -> None:
    """``on_done(run)``; an error is logged (the sweep goes on)."""
    if on_done is None:
        return
    try:
        on_done(run)
    except Exception as exc:  # noqa: BLE001 - e.g. an archive folder that cannot be written
        say(f"  after {run.name}: {type(exc).__name__}: {exc}")


def run_local(todo: list[tuple[PlannedRun, dict[str, Any]]], workers: int, log: Log = print,
              report_every: float = 60.0, poll: float = 0.3,
              on_done: Callable[[PlannedRun], None] | None = None) -> int:
    """Train the runs in up to ``workers`` processes (``python -m mimex.run.worker DIR``, output
    in ``DIR/sweep.log``), calling ``on_done(run)`` as each finishes (an error there is logged,
    not raised). Returns the number of failed runs. Ctrl-C, SIGTERM or SIGHUP
    stops the workers with one SIGTERM each (they checkpoint) and raises ``SweepStopped``
    (a ``KeyboardInterrupt``); rerunning the sweep resumes them. Signals are only caught when
    called from the main thread (Python's rule); from another thread the caller must stop
    the workers' sweep itself."""
    queue = list(todo)
    running: dict[subprocess.Popen, tuple[PlannedRun, float, Any]] = {}
    # (time, step) a run was first seen at by a progress report: its pace is measured from
    # there (after its start-up, and after a resumed run cut its metrics back to its checkpoint)
    first_seen: dict[str, tuple[float, int]] = {}
    done = failed = 0
    n = len(queue)
    # steps each queued run has left (a resumed run starts from its checkpoint's step)
    queued_left = {run.name: max(0, total_steps(run.config) - last_logged_step(Path(run.config.run_dir)))
                   for run, _ in queue}
    last_report = time.time()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    say = never_raising(log)
    # The workers run in their own sessions (a terminal's Ctrl-C reaches only this process),
    # so every way this process is stopped must pass the stop on to them.
    with StopSignals() as stop:
        try:
            while queue or running:
                stop.check()
                while queue and len(running) < workers and not stop.received:
                    run, _ = queue.pop(0)
                    d = Path(run.config.run_dir)
                    logf = open(d / "sweep.log", "a", encoding="utf-8")
                    threads = str(run.config.threads) if run.config.threads > 0 else env.get("OMP_NUM_THREADS", "")
                    penv = {**env, **({"OMP_NUM_THREADS": threads} if threads else {})}
                    proc = subprocess.Popen([sys.executable, "-m", "mimex.run.worker", str(d)], stdout=logf,
                                            stderr=subprocess.STDOUT, env=penv, start_new_session=True)
                    running[proc] = (run, time.time(), logf)
                    queued_left.pop(run.name, None)
                    say(f"[{done + failed}/{n} finished, {len(running)} running] start {run.name}")
                time.sleep(poll)
                for proc in [p for p in running if p.poll() is not None]:
                    run, t0, logf = running.pop(proc)
                    logf.close()
                    if proc.returncode == 0:
                        done += 1
                        say(f"[{done + failed}/{n} finished, {len(running)} running] done {run.name}: step "
                            f"{last_logged_step(Path(run.config.run_dir))} in {time.time() - t0:.0f} s")
                        after_run(on_done, run, say)
                    else:
                        failed += 1
                        say(f"[{done + failed}/{n} finished, {len(running)} running] FAILED {run.name} "
                            f"(exit {proc.returncode}): {_tail(Path(run.config.run_dir) / 'sweep.log')}")
                if running and time.time() - last_report > report_every:
                    now = last_report = time.time()
                    rates, running_left, longest = [], 0, 0.0
                    for run, _, _ in running.values():
                        step, total = last_logged_step(Path(run.config.run_dir)), total_steps(run.config)
                        t_first, s_first = first_seen.get(run.name, (now, step))
                        if step < s_first:  # metrics cut back to the checkpoint since: start afresh
                            t_first, s_first = now, step
                        first_seen[run.name] = (t_first, s_first)
                        rate = (step - s_first) / max(now - t_first, 1e-9)
                        running_left += max(0, total - step)
                        pace = ""
                        if rate > 0:
                            rates.append(rate)
                            longest = max(longest, (total - step) / rate)
                            pace = f" ({rate:.3g} steps/s, {duration_text((total - step) / rate)} left)"
                        say(f"  running {run.name}: step {step}/{total}{pace}")
                    if rates:  # all workers busy while runs are queued; the slowest run ends it
                        left = max(longest, (sum(queued_left.values()) + running_left) / sum(rates))
                        say(f"  sweep: {done + failed}/{n} finished; about {duration_text(left)} left at "
                            f"the running runs' pace ({workers} worker(s))")
        except BaseException as exc:  # a signal, or any error of this loop: never orphan a worker
            stop.ignore()
            for proc in running:
                proc.send_signal(signal.SIGTERM)
            say(f"interrupted ({stop_reason(exc)}): stopping {len(running)} worker(s) (each saves a "
                "checkpoint); run the same command again to resume")
            for proc, (_, _, logf) in running.items():
                proc.wait()
                logf.close()
            raise
    return failed


def duration_text(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"2.6 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _tail(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "(no log)"
    return (lines[-1] if lines else "(empty log)") + f" (log: {path})"
