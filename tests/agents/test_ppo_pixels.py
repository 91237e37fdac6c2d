"""PPO on pixel observations: frozen features stored once per step, trainable CNN, and
the MVP-style image-feature + state actor-critic."""

import pytest
import torch

from mimex.agents.ppo import PPOAgent
from mimex.config.overrides import resolve_config
from mimex.run.train import make_vec_env


def _agent(obs, encoder, explore="mimex", *sets):
    cfg = resolve_config("debug", {"env.name": "testing/PointGoal", "env.obs": obs,
                                   "explore.name": explore, "progress": False},
                         [f"ppo.encoder={encoder}", *sets])
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
    """pixels+state: by default the explorer sees the image feature only (the paper: no
    proprioception); the policy encodes feature and state apart."""
    agent, envs = _agent("pixels+state", "frozen", explore)
    assert set(agent.policy_in) == {"feat", "vec"}
    assert agent.pipeline.explore_input == "features"
    assert agent.pipeline.explore_dim == agent.cfg.ppo.feature_dim
    assert set(agent.net.encoders) == {"feat", "vec"}
    metrics = agent.iterate(envs)
    assert metrics["explore/reward_mean"] > 0


@pytest.mark.parametrize(("kind", "extra"), [("features+state", 4), ("state", None)])
def test_explore_input_option_selects_what_the_explorer_sees(kind, extra):
    agent, envs = _agent("pixels+state", "frozen", "mimex", f"explore.input={kind}")
    want = 4 if extra is None else agent.cfg.ppo.feature_dim + extra
    assert agent.pipeline.explore_dim == want
    _, z = agent.pipeline(envs.reset(), update_stats=False)
    assert z.shape == (envs.num_envs, want)


def test_explore_input_the_observations_cannot_give_is_a_clear_error():
    from mimex.errors import ConfigError

    with pytest.raises(ConfigError, match="explore.input='features' needs features"):
        _agent("state", "frozen", "mimex", "explore.input=features")


def test_frozen_features_are_standardised_and_O1():
    """Each frozen feature vector has mean 0 and std 1 over its entries (a fixed map), so a
    bonus weight means what it meant with the paper's O(1) ViT features."""
    agent, envs = _agent("pixels", "frozen")
    f = agent.policy_in["feat"]
    assert torch.allclose(f.mean(-1), torch.zeros(len(f)), atol=1e-5)
    assert torch.allclose(f.std(-1, unbiased=False), torch.ones(len(f)), atol=0.01)
    raw_agent, _ = _agent("pixels", "frozen", "mimex", "ppo.feature_norm=none")
    assert raw_agent.policy_in["feat"].std(-1).mean() < 0.5 * f.std(-1).mean()
