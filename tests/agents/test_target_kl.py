"""``ppo.target_kl``: an update stops before the step of the first minibatch past 1.5 x the target."""

import pytest
import torch

from mimex.agents.ppo import PPOAgent
from mimex.config.overrides import resolve_config
from mimex.errors import ConfigError
from mimex.run.train import make_vec_env


def _iterate(target_kl):
    """One PPO iteration on a tiny task: (its metrics, optimiser steps taken, weights after)."""
    torch.manual_seed(0)
    cfg = resolve_config("debug", {"env.name": "testing/PointGoal", "explore.name": "none", "progress": False},
                         [f"ppo.target_kl={target_kl}", "ppo.epochs=3", "ppo.minibatches=4"])
    envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    steps = []
    real = agent.optimizer.step
    agent.optimizer.step = lambda *a, **k: (steps.append(1), real(*a, **k))[1]
    metrics = agent.iterate(envs)
    envs.close()
    return metrics, len(steps), [p.detach().clone() for p in agent.net.parameters()]


def test_off_by_default_and_a_loose_target_changes_nothing():
    off, steps_off, w_off = _iterate(0.0)
    assert steps_off == 12 and "losses/update_fraction" not in off
    loose, steps_loose, w_loose = _iterate(1e6)
    assert steps_loose == 12 and loose["losses/update_fraction"] == 1.0 and loose["losses/kl_stop"] == 0.0
    assert loose["losses/kl_at_stop"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(w_off, w_loose, strict=True))


def test_a_tight_target_stops_after_the_first_step():
    # the first minibatch always steps (it is scored at the rollout's own policy, KL about 0);
    # the second is scored after that step, past any tiny target
    metrics, steps, _ = _iterate(1e-12)
    assert steps == 1
    assert metrics["losses/update_fraction"] == pytest.approx(1 / 12) and metrics["losses/kl_stop"] == 1.0
    assert metrics["losses/approx_kl"] < 1e-6  # the mean over the one minibatch that stepped
    assert metrics["losses/kl_at_stop"] > 1.5e-12  # the KL of the minibatch that did not


def test_a_negative_target_is_refused():
    with pytest.raises(ConfigError, match="ppo.target_kl must be >= 0 \\(0 = off\\), got -0.1"):
        resolve_config("debug", {}, ["ppo.target_kl=-0.1"])
