"""``evaluate(run_dir, episodes)``: greedy-policy episodes from a run's checkpoint."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimex.agents.ppo import PPOAgent
from mimex.config.schema import RunConfig, from_dict
from mimex.errors import CheckpointError
from mimex.run.checkpoint import CHECKPOINT, load_checkpoint
from mimex.run.train import make_vec_env

EVAL_SEED_OFFSET = 1_000_000


def load_run_config(run_dir: Path) -> RunConfig:
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise CheckpointError(f"{run_dir} has no config.json: is it a mimex run directory?")
    return from_dict(RunConfig, json.loads(path.read_text(encoding="utf-8")))


def evaluate(run_dir: str | Path, episodes: int = 10, device: str = "cpu") -> dict[str, Any]:
    """Run ``episodes`` episodes with the deterministic policy; write and return ``eval.json``."""
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    ckpt_path = run_dir / CHECKPOINT
    if not ckpt_path.exists():
        raise CheckpointError(f"{run_dir} has no {CHECKPOINT} to evaluate; train first")
    ckpt = load_checkpoint(ckpt_path)
    cfg.env.num_envs = max(1, min(episodes, cfg.env.num_envs))
    envs = make_vec_env(cfg, seed_offset=EVAL_SEED_OFFSET)
    agent = PPOAgent(cfg, envs, torch.device(device))
    agent.load_state_dict(ckpt["agent"])
    obs = envs.reset()
    done_eps: list[dict[str, float]] = []
    try:
        while len(done_eps) < episodes:
            res = envs.step(agent.act_deterministic(obs))
            obs = res.obs
            done_eps += res.episodes
    finally:
        envs.close()
    done_eps = done_eps[:episodes]
    result = {
        "step": agent.global_step, "episodes": len(done_eps),
        "return_mean": float(np.mean([e["return"] for e in done_eps])),
        "return_std": float(np.std([e["return"] for e in done_eps])),
        "success_rate": float(np.mean([e["success"] for e in done_eps])),
        "length_mean": float(np.mean([e["length"] for e in done_eps])),
    }
    tmp = run_dir / "eval.json.tmp"
    tmp.write_text(json.dumps(result, indent=2), encoding="utf-8")
    os.replace(tmp, run_dir / "eval.json")
    return result
