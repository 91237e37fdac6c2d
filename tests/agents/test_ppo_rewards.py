"""What PPO learns from: extrinsic rewards clipped by ``ppo.reward_clip``, intrinsic rewards
normalised by the explorer's ``reward_norm``."""

import dataclasses

import numpy as np
import pytest
import torch

from mimex.agents.ppo import PPOAgent
from mimex.config.overrides import resolve_config
from mimex.errors import ConfigError
from mimex.run.train import make_vec_env, seed_everything


def _first_iteration(*sets, reward=5.0):
    cfg = resolve_config("debug", {"env.name": "testing/PointGoal", "explore.name": "mimex",
                                   "explore.beta": 1.0, "progress": False}, list(sets))
    seed_everything(cfg.seed, cfg.deterministic)
    envs = make_vec_env(cfg)
    step = envs.step

    def step_with_a_big_reward(actions):
        res = step(actions)
        return dataclasses.replace(res, reward=np.full_like(res.reward, reward))

    envs.step = step_with_a_big_reward
    agent = PPOAgent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    return agent.iterate(envs)


def test_reward_clip_bounds_the_extrinsic_reward_ppo_learns_from():
    """Same seed, same rollout: the bonus is the same, the extrinsic reward beside it is 5
    unclipped and 0.5 clipped, so the logged bonus-to-extrinsic ratio grows tenfold."""
    raw = _first_iteration()
    clipped = _first_iteration("ppo.reward_clip=0.5")
    assert clipped["explore/bonus_mean"] == pytest.approx(raw["explore/bonus_mean"])
    assert clipped["explore/bonus_to_extrinsic"] == pytest.approx(10 * raw["explore/bonus_to_extrinsic"])
    negative = _first_iteration("ppo.reward_clip=0.5", reward=-5.0)
    assert negative["explore/bonus_to_extrinsic"] == pytest.approx(clipped["explore/bonus_to_extrinsic"])


def test_reward_clip_must_not_be_negative():
    with pytest.raises(ConfigError, match=r"ppo.reward_clip must be >= 0 \(0 = off\), got -1"):
        resolve_config("debug", {}, ["ppo.reward_clip=-1"])


@pytest.mark.parametrize("name", ["icm", "mimex", "rnd"])
def test_every_explorer_can_normalise_by_its_return_std(name):
    """With reward_norm='return' PPO's intrinsic rewards have the scale of a unit-std
    discounted return, whatever the raw error's scale (ICM's is 100x below MIMEx's on Atari)."""
    m = _first_iteration(f"explore.name={name}", f"explore.{name}.reward_norm=return")
    none = _first_iteration(f"explore.name={name}", f"explore.{name}.reward_norm=none")
    assert m["explore/reward_raw_mean"] == pytest.approx(none["explore/reward_raw_mean"])
    assert m["explore/reward_mean"] != pytest.approx(none["explore/reward_mean"])
    # one rollout of S steps: R_S <= S * max r, so the normalised mean is O(1 / S) to O(1)
    assert 1e-3 < m["explore/reward_mean"] < 10


@pytest.mark.parametrize("name", ["icm", "mimex", "rnd"])
def test_return_normalisation_is_refused_off_policy(name):
    with pytest.raises(ConfigError, match=f"explore.{name}.reward_norm='return' needs on-policy"):
        resolve_config("debug", {"agent": "drqv2", "explore.name": name,
                                 f"explore.{name}.reward_norm": "return"}, [])


def test_reward_clip_is_refused_for_drqv2():
    with pytest.raises(ConfigError, match="ppo.reward_clip applies to agent ppo only"):
        resolve_config("debug", {"agent": "drqv2", "explore.name": "none"}, ["ppo.reward_clip=1"])


@pytest.mark.parametrize("text,mode", [("true", "step"), ("False", "none"), ("return", "return")])
def test_reward_norm_from_the_command_line(text, mode):
    """``--set explore.mimex.reward_norm=true`` (how the README spelled it before 'return')."""
    assert resolve_config("debug", {}, [f"explore.mimex.reward_norm={text}"]).explore.mimex.reward_norm == mode


@pytest.mark.parametrize("name", ["icm", "mimex", "rnd"])
def test_a_return_normaliser_of_another_discount_is_refused(name):
    from mimex.errors import CheckpointError
    from mimex.explore import make_explorer

    opts = {"input_dim": 3, **({"action_dim": 2} if name == "icm" else {}),
            **({"seq_len": 2, "mask_ratio": 0.5} if name == "mimex" else {})}
    sd = make_explorer(name, reward_norm="return", **opts).state_dict()
    with pytest.raises(CheckpointError, match="return_gamma: saved 0.99 vs now 0.9"):
        make_explorer(name, reward_norm="return", return_gamma=0.9, **opts).load_state_dict(sd)
    make_explorer(name, reward_norm="step", return_gamma=0.9, **opts).load_state_dict(
        make_explorer(name, reward_norm="step", **opts).state_dict())  # unused there: loads
