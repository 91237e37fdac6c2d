"""Running a sweep's runs as Ray tasks (``mimex sweep --backend ray [--address ADDR]``).

Each run is one task with one CPU per torch thread. A task whose worker dies is retried up
to ``max_retries`` times and resumes from its checkpoint (the run-directory lock keeps a
retry from writing next to a straggler). Stopping the sweep (Ctrl-C, SIGTERM, SIGHUP)
cancels the tasks gracefully: Ray raises an interrupt in each running task, which the
runner turns into "save a checkpoint after this iteration"; tasks not started yet never
start. The run directories must be on a file system every node sees.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mimex.config.schema import to_dict
from mimex.errors import ConfigError
from mimex.run.backends import Log, after_run, last_logged_step, total_steps
from mimex.run.stopping import StopSignals, never_raising, stop_reason
from mimex.run.sweep import PlannedRun
from mimex.run.worker import run_one


class RunStoppedError(RuntimeError):
    """A run that saved its checkpoint and stopped on a signal (not finished, not failed)."""


def _ray_task(config: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """What a Ray worker runs: one run (resumed from its checkpoint on a retry)."""
    from mimex.envs.headless import choose_gl

    choose_gl()
    try:
        return run_one(config, meta)
    except SystemExit as exc:
        if exc.code != 128 + signal.SIGINT:  # e.g. a node's SIGTERM: the worker exits, Ray retries
            raise
        # Ray's graceful cancel (a simulated SIGINT): the runner saved its checkpoint
        raise RunStoppedError(f"{config.get('run_dir')}: stopped by a signal (exit {exc.code}) after saving "
                              "its checkpoint; run the sweep again to resume it") from None


def _stop_tasks(ray: Any, refs: list[Any], grace: float, say: Log) -> None:
    """Cancel ``refs`` gracefully (a running task checkpoints, a pending one never starts);
    a task still running after ``grace`` seconds is killed (it resumes from its last
    periodic checkpoint)."""
    for ref in refs:
        try:
            ray.cancel(ref, force=False)
        except Exception:  # noqa: BLE001 - a task that just finished cannot be cancelled
            pass
    try:
        left = ray.wait(refs, num_returns=len(refs), timeout=grace)[1] if refs else []
    except Exception:  # noqa: BLE001 - e.g. the cluster went away: nothing left to wait for
        left = []
    for ref in left:
        try:
            ray.cancel(ref, force=True)
        except Exception:  # noqa: BLE001
            pass
    if left:
        say(f"{len(left)} Ray task(s) did not stop within {grace:.0f} s and were killed: they resume "
            "from their last periodic checkpoint")


def run_ray(todo: list[tuple[PlannedRun, dict[str, Any]]], address: str | None = None,
            max_retries: int = 3, log: Log = print, report_every: float = 60.0,
            poll: float = 1.0, grace: float = 600.0,
            on_done: Callable[[PlannedRun], None] | None = None) -> int:
    """Train the runs as Ray tasks (one CPU per torch thread) on the cluster at ``address``
    (or the Ray this process already joined, or a new local one). A task whose worker dies
    is retried up to ``max_retries`` times and resumes from its checkpoint. Returns the
    number of failed runs; ``on_done(run)`` is called in this process as each run finishes
    (it sees the run directory where the cluster shares its file system). Ctrl-C, SIGTERM or SIGHUP (caught from the main thread only)
    cancels every task gracefully, waits up to ``grace`` seconds for their checkpoints and
    raises ``SweepStopped``; rerunning the sweep resumes them."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend ray needs Ray: pip install 'mimex[ray]'") from None
    say = never_raising(log)
    # Ray's init installs its own SIGTERM handler (exit at once): start Ray first, then take
    # the stop signals over for the sweep's loop; they are given back before Ray shuts down.
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False) if address else ray.init(include_dashboard=False)
    refs: dict[Any, tuple[PlannedRun, float]] = {}
    try:
        with StopSignals() as stop:
            try:
                for run, meta in todo:
                    stop.check()
                    task = ray.remote(num_cpus=max(run.config.threads, 1), max_retries=max_retries)(_ray_task)
                    refs[task.remote(to_dict(run.config), meta)] = (run, time.time())
                    say(f"submitted {run.name}")
                return _follow(ray, refs, stop, say, report_every, poll, on_done)
            except BaseException as exc:  # a signal, or any error of this loop: stop the tasks
                stop.ignore()
                say(f"interrupted ({stop_reason(exc)}): cancelling {len(refs)} Ray task(s) (a running "
                    "one saves a checkpoint); run the same command again to resume")
                _stop_tasks(ray, list(refs), grace, say)
                raise
    finally:
        if started:
            ray.shutdown()


def _follow(ray: Any, refs: dict[Any, tuple[PlannedRun, float]], stop: StopSignals, say: Log,
            report_every: float, poll: float, on_done: Callable[[PlannedRun], None] | None = None) -> int:
    """Wait for the submitted tasks, logging each result (and the pending runs' steps every
    ``report_every`` seconds); returns the number of failed runs. Finished ones leave ``refs``."""
    done = failed = 0
    n = len(refs)
    last_report = time.time()
    while refs:
        stop.check()
        ready, _ = ray.wait(list(refs), num_returns=1, timeout=poll)
        for ref in ready:
            run, t0 = refs.pop(ref)
            try:
                summary = ray.get(ref)
                done += 1
                say(f"[{done + failed}/{n} finished] done {run.name}: step {summary.get('step')} "
                    f"in {time.time() - t0:.0f} s")
                after_run(on_done, run, say)
            except Exception as exc:  # noqa: BLE001 - a task error is reported, not raised
                failed += 1
                say(f"[{done + failed}/{n} finished] FAILED {run.name}: {str(exc).strip().splitlines()[-1]}")
        if refs and time.time() - last_report > report_every:
            last_report = time.time()
            for run, _ in refs.values():
                say(f"  pending {run.name}: step {last_logged_step(Path(run.config.run_dir))}/"
                    f"{total_steps(run.config)}")
    return failed
