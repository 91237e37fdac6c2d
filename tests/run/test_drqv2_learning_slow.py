"""DrQ-v2 learns (``make test-slow``): from states, dense cartpole_swingup reaches an
evaluation return >= 300 within 15k agent steps (the issue allows 30k). Measured with seed 0
on the shared 2-core machine (load ~7): evaluation returns 129, 771, 830, 847 at 5k, 10k,
15k, 20k steps; 20k steps took about 15 minutes there (hidden 256: a 1024-wide MLP update
took 0.46 s under that load).

The pixel counterpart (``--preset dmc-cpu``, evaluation return >= 200 within an hour) is a
documented run, not a test: see docs/drqv2.md.
"""

import pytest

from mimex.config.overrides import resolve_config
from mimex.run.logger import read_metrics
from mimex.run.train import train

STATE_SETTINGS = {
    "agent": "drqv2", "env.name": "dmc/cartpole_swingup", "env.obs": "state", "env.num_envs": 1,
    "explore.name": "none", "steps": 15_000, "threads": 1, "progress": False, "tensorboard": False,
    "drqv2.batch_size": 256, "drqv2.nstep": 3, "drqv2.lr": 3e-4, "drqv2.hidden_dim": 256,
    "drqv2.seed_steps": 1000, "drqv2.expl_steps": 1000, "drqv2.std_schedule": "linear(1.0,0.1,20000)",
    "drqv2.eval_every": 5000, "drqv2.eval_episodes": 5, "drqv2.replay_capacity": 100_000,
}


@pytest.mark.slow
def test_drqv2_learns_cartpole_swingup_from_states(tmp_path):
    cfg = resolve_config(None, {**STATE_SETTINGS, "seed": 0, "run_dir": str(tmp_path / "run")})
    train(cfg)
    evals = [r["eval/episodic_return"] for r in read_metrics(cfg.run_dir) if "eval/episodic_return" in r]
    assert len(evals) == 3
    assert max(evals) >= 300, evals
