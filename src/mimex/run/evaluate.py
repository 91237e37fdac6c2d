"""``evaluate(run_dir, episodes)``: greedy-policy episodes from a run's checkpoint."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from mimex import errors
from mimex.agents import make_agent
from mimex.config.migrate import upgrade_config
from mimex.config.schema import RunConfig, from_dict
from mimex.errors import CheckpointError, InputError
from mimex.run.checkpoint import CHECKPOINT, load_checkpoint
from mimex.run.lock import refuse_record
from mimex.run.train import make_vec_env, resolve_device

EVAL_SEED_OFFSET = 1_000_000


def load_run_config(run_dir: Path) -> RunConfig:
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise CheckpointError(f"{run_dir} has no config.json: is it a mimex run directory?")
    return from_dict(RunConfig, upgrade_config(json.loads(path.read_text(encoding="utf-8"))))


def evaluate(run_dir: str | Path, episodes: int = 10, device: str = "cpu") -> dict[str, Any]:
    """Run ``episodes`` episodes with the deterministic policy; return the result and write it
    to ``eval.json`` (a run directory that cannot be written gets a warning, not an error)."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise InputError(errors.BAD_EPISODES.format(episodes=episodes))
    torch_device = resolve_device(device)
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    ckpt_path = run_dir / CHECKPOINT
    if not ckpt_path.exists():
        refuse_record(run_dir, CheckpointError)
        raise CheckpointError(f"{run_dir} has no {CHECKPOINT} to evaluate; train first")
    ckpt = load_checkpoint(ckpt_path)
    agent_state = {**ckpt["agent"], "explorer": None, "tracker": None, "replay": None}
    cfg.explore.name = "none"  # the greedy policy needs no explorer, nor its per-env windows
    cfg.env.num_envs = min(episodes, cfg.env.num_envs)
    envs = make_vec_env(cfg, seed_offset=EVAL_SEED_OFFSET)
    try:
        agent = make_agent(cfg, envs, torch_device)
        agent.load_state_dict(agent_state)
        done_eps = _run_episodes(agent, envs, episodes)
    finally:
        envs.close()
    result = {
        "step": agent.global_step, "episodes": len(done_eps),
        "return_mean": float(np.mean([e["return"] for e in done_eps])),
        "return_std": float(np.std([e["return"] for e in done_eps])),
        "success_rate": float(np.mean([e["success"] for e in done_eps])),
        "length_mean": float(np.mean([e["length"] for e in done_eps])),
    }
    if all("dense_return" in e for e in done_eps):  # PixMC: the return under the dense reward
        result["dense_return_mean"] = float(np.mean([e["dense_return"] for e in done_eps]))
    _write_result(run_dir, result)
    return result


def _run_episodes(agent: Any, envs: Any, episodes: int) -> list[dict[str, float]]:
    obs = envs.reset()
    done_eps: list[dict[str, float]] = []
    while len(done_eps) < episodes:
        res = envs.step(agent.act_deterministic(obs))
        obs = res.obs
        done_eps += res.episodes
    return done_eps[:episodes]


def _write_result(run_dir: Path, result: dict[str, Any]) -> None:
    tmp = run_dir / "eval.json.tmp"
    try:
        tmp.write_text(json.dumps(result, indent=2), encoding="utf-8")
        os.replace(tmp, run_dir / "eval.json")
    except OSError as exc:
        print(f"mimex eval: warning: cannot write {run_dir / 'eval.json'} ({exc.strerror or exc}); "
              "the result is only printed", file=sys.stderr, flush=True)
