"""``train(cfg)``: a run directory, resume, logging, checkpoints, signals and the summary.

A run directory holds ``config.json``, ``metrics.jsonl``, TensorBoard events,
``checkpoint.pt`` and, once finished, ``summary.json``. Training the same config into a
directory with a checkpoint resumes it; ``cfg.steps`` is the total. On CPU, a run stopped
and resumed logs the same metrics as one that never stopped (timings excepted).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimex import errors
from mimex.agents import make_agent
from mimex.agents.ppo import NonFiniteError
from mimex.config.diff import changed_keys
from mimex.config.migrate import upgrade_config, was_upgraded
from mimex.config.schema import RunConfig, to_dict
from mimex.envs import make_env
from mimex.envs.vector import VecEnv
from mimex.errors import CheckpointError, ConfigError
from mimex.run.checkpoint import (
    CHECKPOINT,
    PREVIOUS,
    load_checkpoint,
    rng_states,
    save_checkpoint,
    set_rng_states,
)
from mimex.run.lock import RunLock, prepare_run_dir
from mimex.run.logger import MetricsLogger, move_aside_stale_run, read_metrics
from mimex.run.progress import Progress

FORMAT = 1
# Config keys that may change between a run and its resumption.
RESUMABLE = {"steps", "run_dir", "progress", "checkpoint_minutes", "tensorboard", "threads", "log_every"}


def seed_everything(seed: int, deterministic: bool) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def make_vec_env(cfg: RunConfig, seed_offset: int = 0) -> VecEnv:
    """``cfg.env.num_envs`` copies of the task, env i seeded with ``seed + seed_offset + i``."""
    e = cfg.env

    def factory(i: int):
        return lambda: make_env(e.name, reward=e.reward, obs=e.obs, seed=cfg.seed + seed_offset + i, **e.options)

    if e.name.startswith("pixmc/") and os.environ.get("MIMEX_PIXMC_VECTOR", "1") != "0":
        # one shared model and batch renderer, physics in threads; same numbers and snapshots
        from mimex.envs.pixmc.vector import PixmcRunnerVecEnv

        def make_pixmc(i: int, model: Any):
            extra = {} if model is None else {"model": model}
            return make_env(e.name, reward=e.reward, obs=e.obs, seed=cfg.seed + seed_offset + i,
                            **e.options, **extra)

        return PixmcRunnerVecEnv(make_pixmc, e.num_envs)
    return VecEnv([factory(i) for i in range(e.num_envs)])


def make_eval_env(cfg: RunConfig) -> VecEnv:
    """One fresh environment with a fixed seed (``seed + 2,000,000``) for evaluations during
    training: every evaluation sees the same episodes, and resuming needs no eval-env state."""
    return make_vec_env(dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, num_envs=1)), 2_000_000)


def _config_diff(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [f"{k}: checkpoint has {a!r}, config has {b!r}"
            for k, a, b in changed_keys(saved, now, RESUMABLE)]


def peak_memory_mib(device: torch.device) -> dict[str, float]:
    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if device.type == "cuda":
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


class _StopFlag:
    """Turns SIGTERM/SIGINT into a flag checked between iterations; a second SIGINT stops at once."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        for s in (signal.SIGTERM, signal.SIGINT):
            self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:
            # Ctrl-C twice: stop now, without a final checkpoint. Any other pair does not: a
            # scheduler that signals every process of a job and a sweep that forwards its own
            # SIGTERM both reach a sweep's worker, and a Ray task cancelled after a SIGTERM gets
            # Ray's simulated SIGINT; each must still save its checkpoint.
            if signum == signal.SIGINT and self.signal == signal.SIGINT:
                raise KeyboardInterrupt(f"signal {signum} received twice")
            return
        self.signal = signum
        print(f"\nsignal {signum}: stopping after this iteration and saving a checkpoint "
              "(Ctrl-C again stops at once, without it)", flush=True)

    def __exit__(self, *exc: Any) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


def success_milestones(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """When the run first succeeded and its best episode success rate, from ``metrics.jsonl``
    rows (the numbers a hard-exploration study reports): ``first_success_step`` is the
    ``step`` of the first row whose ``charts/step_success_rate`` or ``charts/success_rate``
    is above 0 (None if never); ``best_success_rate`` the highest ``charts/success_rate``."""
    first = next((r["step"] for r in rows
                  if r.get("charts/step_success_rate", 0) > 0 or r.get("charts/success_rate", 0) > 0),
                 None)
    best = max((r["charts/success_rate"] for r in rows if "charts/success_rate" in r), default=0.0)
    return {"first_success_step": first, "best_success_rate": best}


def resolve_device(name: str) -> torch.device:
    """``name`` as a torch device; an unknown or unavailable one is a ConfigError."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ConfigError(errors.BAD_DEVICE.format(device=name, reason=str(exc).strip())) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index or 0) >= count:
            reason = f"{count} CUDA device(s) visible" + ("" if count else "; torch.cuda.is_available() is False")
            raise ConfigError(errors.DEVICE_UNAVAILABLE.format(device=name, reason=reason))
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(errors.DEVICE_UNAVAILABLE.format(device=name, reason="torch.backends.mps.is_available() is False"))
    elif device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(errors.BAD_DEVICE.format(device=name, reason=f"mimex does not run on {device.type!r}"))
    return device


def note(text: str) -> None:
    """A line for the user on stderr (kept off stdout, which carries the summary table)."""
    print(f"mimex: {text}", file=sys.stderr, flush=True)


def train(cfg: RunConfig, allow_inexact_resume: bool = False) -> dict[str, Any]:
    """Train (or resume) the run described by ``cfg``. Returns the summary.

    ``allow_inexact_resume``: resume even where the continuation will not match an
    uninterrupted run (other CPU thread settings); otherwise that is a CheckpointError.
    """
    device = resolve_device(cfg.device)
    run_dir = prepare_run_dir(cfg.run_dir)
    with RunLock(run_dir):
        return _train_locked(cfg, run_dir, device, allow_inexact_resume)


def _train_locked(cfg: RunConfig, run_dir: Path, device: torch.device, allow_inexact: bool) -> dict[str, Any]:
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    ckpt = _resume_state(cfg, run_dir)
    if ckpt is not None:
        if int(ckpt["agent"]["global_step"]) >= cfg.steps:
            return _already_finished(cfg, run_dir, device, ckpt)
        _check_threads(cfg, run_dir, ckpt, allow_inexact)
        _check_schedule(cfg, run_dir, ckpt, allow_inexact)
    _explain_steps(cfg)
    seed_everything(cfg.seed, cfg.deterministic)
    envs = make_vec_env(cfg)  # bad env options fail here, before anything is written
    try:
        agent = make_agent(cfg, envs, device, eval_envs=lambda: make_eval_env(cfg))
        elapsed_before = _start_or_restore(agent, envs, ckpt)
    except BaseException:
        envs.close()
        raise
    if ckpt is None:
        aside = move_aside_stale_run(run_dir)
        if aside is not None:
            note(f"{run_dir} held metrics but no checkpoint (a run killed before its first "
                 f"checkpoint); its files were moved to {aside}, and a fresh run starts")
    (run_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=2), encoding="utf-8")
    logger = MetricsLogger(run_dir, cfg.tensorboard, None if ckpt is None else agent.global_step,
                           restore=None if ckpt is None else ckpt.get("last_row"))
    last: dict[str, Any] = {}
    if ckpt is not None:
        for row in read_metrics(run_dir):
            last.update(row)
    return _loop(cfg, run_dir, device, agent, envs, logger, last, elapsed_before)


def _resume_state(cfg: RunConfig, run_dir: Path) -> dict[str, Any] | None:
    """The checkpoint to resume from (None for a fresh run), checked against ``cfg``."""
    ckpt_path = run_dir / CHECKPOINT
    if not ckpt_path.exists():
        if (run_dir / PREVIOUS).exists():
            raise CheckpointError(
                f"{run_dir} has {PREVIOUS} but no {CHECKPOINT}: copy {run_dir / PREVIOUS} to "
                f"{ckpt_path} to resume from it, or move the run directory away to start afresh")
        return None
    ckpt = load_checkpoint(ckpt_path)
    older = was_upgraded(ckpt["config"])
    ckpt["config"] = upgrade_config(ckpt["config"])  # keys added since, as the old version ran
    diff = _config_diff(ckpt["config"], to_dict(cfg))
    if diff:
        hint = (f" The checkpoint was made by an older mimex whose defaults differ: resume it "
                f"with its saved config by `mimex train --run-dir {run_dir}` alone" if older else "")
        raise CheckpointError(
            f"the checkpoint in {run_dir} was made with another config: " + "; ".join(diff)
            + ". Use the same settings to resume, or a new --run-dir." + hint
        )
    return ckpt


def _check_threads(cfg: RunConfig, run_dir: Path, ckpt: dict[str, Any], allow_inexact: bool) -> None:
    """CPU results depend on torch's thread count: resuming with another one is refused
    (or, with ``allow_inexact``, warned about), never silently different."""
    saved, now = ckpt.get("threads"), torch.get_num_threads()
    if saved is None or int(saved) == now:
        return
    msg = errors.THREADS_CHANGED.format(run_dir=run_dir, saved=saved, now=now, threads=cfg.threads,
                                        omp=os.environ.get("OMP_NUM_THREADS", "unset"))
    if not allow_inexact:
        raise CheckpointError(msg)
    note("warning (--allow-inexact-resume): " + msg.split(": the resumed")[0]
         + "; the resumed run will not be bit-exact")


def _check_schedule(cfg: RunConfig, run_dir: Path, ckpt: dict[str, Any], allow_inexact: bool) -> None:
    """A run whose lr schedule or beta anneal spans its own steps cannot be resumed to another
    total without changing its schedule part-way: refused (or, with ``allow_inexact``, warned)."""
    saved = int(ckpt["config"].get("steps", cfg.steps))
    if saved == cfg.steps or cfg.steps_only_end_the_run():
        return
    msg = errors.SCHEDULE_STEPS_CHANGED.format(run_dir=run_dir, saved=saved, now=cfg.steps)
    if not allow_inexact:
        raise CheckpointError(msg)
    note("warning (--allow-inexact-resume): " + msg.split(": resuming")[0] + "; its schedule changes now")


def _start_or_restore(agent: Any, envs: VecEnv, ckpt: dict[str, Any] | None) -> float:
    """Start a fresh run, or restore one; returns the wall-clock seconds already spent."""
    if ckpt is None:
        agent.start(envs)
        return 0.0
    agent.load_state_dict(ckpt["agent"])
    if ckpt["envs"] is not None:
        envs.set_state(ckpt["envs"])
    else:  # this suite cannot snapshot its envs: start fresh episodes, encoded afresh
        agent.start(envs)
        note("this task's environments cannot be saved, so they restart with fresh episodes: "
             "the resumed run is not bit-exact (weights, optimiser and explorer are restored)")
    set_rng_states(ckpt["rng"])
    return float(ckpt["elapsed_s"])


def _explain_steps(cfg: RunConfig) -> None:
    if cfg.agent != "ppo":  # drqv2 iterations end exactly at cfg.steps
        return
    batch = cfg.env.num_envs * cfg.ppo.num_steps
    if cfg.steps % batch:
        total = -(-cfg.steps // batch) * batch
        what = "less than one iteration" if cfg.steps < batch else "not a multiple of one iteration"
        note(f"steps={cfg.steps} is {what} (env.num_envs * ppo.num_steps = {cfg.env.num_envs} * "
             f"{cfg.ppo.num_steps} = {batch} steps): training runs {total // batch} iteration(s), "
             f"to step {total}")


def _weights_finite(agent: Any) -> bool:
    """One device sync: are all policy and value weights finite?"""
    return bool(torch.stack([torch.isfinite(p).all() for p in agent.net.parameters()]).all())


def _loop(cfg: RunConfig, run_dir: Path, device: torch.device, agent: Any, envs: VecEnv,
          logger: MetricsLogger, last: dict[str, Any], elapsed_before: float) -> dict[str, Any]:
    progress = Progress(cfg.steps, agent.global_step, enabled=cfg.progress)
    start = time.perf_counter()
    last_ckpt = start

    def state() -> dict[str, Any]:
        return {"format": FORMAT, "config": to_dict(cfg), "agent": agent.state_dict(),
                "envs": envs.get_state(), "rng": rng_states(), "threads": torch.get_num_threads(),
                "last_row": logger.last_line, "elapsed_s": elapsed_before + time.perf_counter() - start}

    def checkpoint() -> None:
        logger.sync()
        save_checkpoint(run_dir, state())

    stopped = None
    try:
        with _StopFlag() as stop:
            while agent.global_step < cfg.steps:
                t0 = time.perf_counter()
                metrics = _iterate(agent, envs, run_dir, state)
                metrics["perf/sps"] = agent.batch / max(time.perf_counter() - t0, 1e-9)
                last.update(metrics)
                if agent.iteration % cfg.log_every == 0 or agent.global_step >= cfg.steps:
                    logger.log(metrics)
                progress.update(agent.global_step, last)
                if stop.signal is not None:
                    stopped = stop.signal
                    break
                if time.perf_counter() - last_ckpt > cfg.checkpoint_minutes * 60:
                    checkpoint()
                    last_ckpt = time.perf_counter()
            checkpoint()  # inside the flag's window: a stop signal now must not abort it
    finally:
        progress.close()
        logger.close()
        envs.close()
    if stopped is not None:
        return {"stopped_by_signal": stopped, "step": agent.global_step, "run_dir": str(run_dir)}
    elapsed = elapsed_before + time.perf_counter() - start
    return _write_summary(cfg, run_dir, device, agent.global_step, agent.iteration, elapsed, last)


def _iterate(agent: Any, envs: VecEnv, run_dir: Path, state: Any) -> dict[str, Any]:
    """One iteration; a non-finite reward, loss or weight saves a debug checkpoint and stops."""
    try:
        metrics = agent.iterate(envs)
        if not _weights_finite(agent):
            raise NonFiniteError(errors.WEIGHTS_NON_FINITE.format(step=agent.global_step))
        return metrics
    except NonFiniteError as exc:
        path = save_checkpoint(run_dir, state(), name="debug-checkpoint.pt")
        raise NonFiniteError(f"{exc}; state saved to {path}") from exc
    except ValueError as exc:  # torch.distributions rejects NaN parameters mid-update
        if _weights_finite(agent):
            raise
        path = save_checkpoint(run_dir, state(), name="debug-checkpoint.pt")
        raise NonFiniteError(errors.WEIGHTS_NON_FINITE.format(step=agent.global_step)
                             + f"; state saved to {path}") from exc


def _already_finished(cfg: RunConfig, run_dir: Path, device: torch.device,
                      ckpt: dict[str, Any]) -> dict[str, Any]:
    """A finished run trained again: nothing to do; its summary stays as it was."""
    step = int(ckpt["agent"]["global_step"])
    note(f"{run_dir} is already at step {step} (steps={cfg.steps}): nothing to train. "
         "Pass a larger --steps to continue it")
    path = run_dir / "summary.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    last: dict[str, Any] = {}  # stopped after its last checkpoint, before the summary
    for row in read_metrics(run_dir):
        if row["step"] <= step:
            last.update(row)
    return _write_summary(cfg, run_dir, device, step, int(ckpt["agent"]["iteration"]),
                          float(ckpt["elapsed_s"]), last)


def _write_summary(cfg: RunConfig, run_dir: Path, device: torch.device, step: int, iterations: int,
                   elapsed: float, last: dict[str, Any]) -> dict[str, Any]:
    final_keys = [k for k in last if k.startswith(("charts/", "explore/reward", "eval/"))]
    summary = {"step": step, "iterations": iterations,
               "wall_clock_s": elapsed, "env": cfg.env.name, "explore": cfg.explore.name,
               "seed": cfg.seed, **{k: last[k] for k in final_keys},
               **success_milestones(read_metrics(run_dir)),
               **peak_memory_mib(device), "run_dir": str(run_dir)}
    tmp = run_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    os.replace(tmp, run_dir / "summary.json")
    return summary
