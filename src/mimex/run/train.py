"""``train(cfg)``: a run directory, resume, logging, checkpoints, signals and the summary.

A run directory holds ``config.json``, ``metrics.jsonl``, TensorBoard events,
``checkpoint.pt`` and, once finished, ``summary.json``. Training the same config into a
directory with a checkpoint resumes it; ``cfg.steps`` is the total. On CPU, a run stopped
and resumed logs the same metrics as one that never stopped (timings excepted).
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimex.agents.ppo import NonFiniteError, PPOAgent
from mimex.config.schema import RunConfig, to_dict
from mimex.envs import make_env
from mimex.errors import CheckpointError
from mimex.run.checkpoint import (
    CHECKPOINT,
    load_checkpoint,
    rng_states,
    save_checkpoint,
    set_rng_states,
)
from mimex.run.logger import MetricsLogger, read_metrics
from mimex.run.progress import Progress
from mimex.run.vector import VecEnv

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

    return VecEnv([factory(i) for i in range(e.num_envs)])


def _config_diff(saved: dict[str, Any], now: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(saved) | set(now)):
        if not prefix and k in RESUMABLE:
            continue
        a, b = saved.get(k), now.get(k)
        if isinstance(a, dict) and isinstance(b, dict) and k != "options":
            out += _config_diff(a, b, f"{prefix}{k}.")
        elif a != b and not (isinstance(a, (list, tuple)) and list(a) == list(b or [])):
            out.append(f"{prefix}{k}: checkpoint has {a!r}, config has {b!r}")
    return out


def peak_memory_mib(device: torch.device) -> dict[str, float]:
    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if device.type == "cuda":
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


class _StopFlag:
    """Turns SIGTERM/SIGINT into a flag checked between iterations."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        for s in (signal.SIGTERM, signal.SIGINT):
            self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:  # a second signal: stop now, without a final checkpoint
            raise KeyboardInterrupt(f"signal {signum} received twice")
        self.signal = signum
        print(f"\nsignal {signum}: stopping after this iteration and saving a checkpoint "
              "(send it again to stop at once)", flush=True)

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


def train(cfg: RunConfig) -> dict[str, Any]:
    """Train (or resume) the run described by ``cfg``. Returns the summary."""
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    ckpt_path = run_dir / CHECKPOINT
    ckpt = load_checkpoint(ckpt_path) if ckpt_path.exists() else None
    if ckpt is not None:
        diff = _config_diff(ckpt["config"], to_dict(cfg))
        if diff:
            raise CheckpointError(
                f"the checkpoint in {run_dir} was made with another config: " + "; ".join(diff)
                + ". Use the same settings to resume, or a new --run-dir"
            )
    (run_dir / "config.json").write_text(json.dumps(to_dict(cfg), indent=2), encoding="utf-8")
    seed_everything(cfg.seed, cfg.deterministic)
    envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, device)
    elapsed_before = 0.0
    if ckpt is None:
        agent.start(envs)
    else:
        agent.load_state_dict(ckpt["agent"])
        if ckpt["envs"] is not None:
            envs.set_state(ckpt["envs"])
        else:
            envs.reset()  # this suite cannot snapshot its envs: the resumed run is not bit-exact
        set_rng_states(ckpt["rng"])
        elapsed_before = float(ckpt["elapsed_s"])
    logger = MetricsLogger(run_dir, cfg.tensorboard, None if ckpt is None else agent.global_step)
    progress = Progress(cfg.steps, agent.global_step, enabled=cfg.progress)
    start = time.perf_counter()
    last_ckpt = start
    last: dict[str, Any] = {}

    def state() -> dict[str, Any]:
        return {"format": FORMAT, "config": to_dict(cfg), "agent": agent.state_dict(),
                "envs": envs.get_state(), "rng": rng_states(),
                "elapsed_s": elapsed_before + time.perf_counter() - start}

    stopped = None
    try:
        with _StopFlag() as stop:
            while agent.global_step < cfg.steps:
                t0 = time.perf_counter()
                try:
                    metrics = agent.iterate(envs)
                except NonFiniteError as exc:
                    path = save_checkpoint(run_dir, state(), name="debug-checkpoint.pt")
                    raise NonFiniteError(f"{exc}; state saved to {path}") from exc
                metrics["perf/sps"] = agent.batch / max(time.perf_counter() - t0, 1e-9)
                last.update(metrics)
                if agent.iteration % cfg.log_every == 0 or agent.global_step >= cfg.steps:
                    logger.log(metrics)
                progress.update(agent.global_step, last)
                if stop.signal is not None:
                    stopped = stop.signal
                    break
                if time.perf_counter() - last_ckpt > cfg.checkpoint_minutes * 60:
                    save_checkpoint(run_dir, state())
                    last_ckpt = time.perf_counter()
        save_checkpoint(run_dir, state())
    finally:
        progress.close()
        logger.close()
        envs.close()
    elapsed = elapsed_before + time.perf_counter() - start
    if stopped is not None:
        return {"stopped_by_signal": stopped, "step": agent.global_step, "run_dir": str(run_dir)}
    final_keys = [k for k in last if k.startswith(("charts/", "explore/reward"))]
    summary = {"step": agent.global_step, "iterations": agent.iteration,
               "wall_clock_s": elapsed, "env": cfg.env.name, "explore": cfg.explore.name,
               "seed": cfg.seed, **{k: last[k] for k in final_keys},
               **success_milestones(read_metrics(run_dir)),
               **peak_memory_mib(device), "run_dir": str(run_dir)}
    tmp = run_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    os.replace(tmp, run_dir / "summary.json")
    return summary
