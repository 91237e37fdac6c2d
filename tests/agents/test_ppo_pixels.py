"""PPO on pixel observations: frozen features stored once per step, trainable CNN, and
the MVP-style image-feature + state actor-critic."""

import pytest
import torch

from mimex.agents.ppo import PPOAgent
from mimex.config.overrides import resolve_config
from mimex.run.train import make_vec_env


def _agent(obs, encoder, explore="mimex"):
    cfg = resolve_config("debug", {"env.name": "testing/PointGoal", "env.obs": obs,
                                   "explore.name": explore, "progress": False},
                         [f"ppo.encoder={encoder}"])
    envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    return agent, envs


def test_frozen_encoder_features_are_computed_once_per_step_and_never_trained(monkeypatch):
    agent, envs = _agent("pixels", "frozen")
    assert set(agent.policy_in) == {"feat"}  # the rollout stores features, not images
    calls = {"n": 0}
    forward = agent.pipeline.frozen.forward

    def counting(x):
        calls["n"] += 1
        return forward(x)

    monkeypatch.setattr(agent.pipeline.frozen, "forward", counting)
    before = [p.clone() for p in agent.pipeline.frozen.parameters()]
    agent.iterate(envs)
    s = agent.cfg.ppo.num_steps
    # one call per rollout step, plus one per step where some episode ended (final obs)
    assert s <= calls["n"] <= 2 * s
    assert all(torch.equal(a, b) for a, b in zip(before, agent.pipeline.frozen.parameters(), strict=True))
    assert not any(p.requires_grad for p in agent.pipeline.frozen.parameters())


def test_trainable_cnn_learns_from_images():
    agent, envs = _agent("pixels", "cnn")
    assert set(agent.policy_in) == {"image"} and agent.policy_in["image"].dtype == torch.uint8
    conv = agent.net.encoders["image"].conv[0].weight.clone()
    agent.iterate(envs)
    assert not torch.equal(conv, agent.net.encoders["image"].conv[0].weight)


@pytest.mark.parametrize("explore", ["mimex", "icm", "rnd"])
def test_image_feature_plus_state_actor_critic(explore):
    """pixels+state: the explorer sees [image feature, state]; the policy encodes each apart."""
    agent, envs = _agent("pixels+state", "frozen", explore)
    assert set(agent.policy_in) == {"feat", "vec"}
    assert agent.pipeline.explore_dim == agent.cfg.ppo.feature_dim + 4
    assert set(agent.net.encoders) == {"feat", "vec"}
    metrics = agent.iterate(envs)
    assert metrics["explore/reward_mean"] > 0
