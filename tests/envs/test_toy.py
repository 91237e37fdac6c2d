"""The tiny built-in hard-exploration tasks."""

import numpy as np
import pytest

from mimex.envs import make_env
from mimex.envs.check import check_env


@pytest.mark.parametrize("name", ["toy/Corridor", "toy/Chain"])
@pytest.mark.parametrize("obs", ["state", "pixels"])
def test_checker_passes(name, obs):
    assert len(check_env(name, obs=obs, n_steps=150)) == 4


def test_moving_right_reaches_the_goal_in_length_steps():
    env = make_env("toy/Corridor", seed=0, length=10)
    env.reset()
    for _ in range(10):
        _, r, term, trunc, info = env.step(np.array([1.0], dtype=np.float32))
    assert (r, term, trunc, info["success"]) == (1.0, True, False, True)
    chain = make_env("toy/Chain", seed=0)
    chain.reset()
    rewards = [chain.step(1)[1] for _ in range(40)]
    assert rewards == [0.0] * 39 + [1.0]


def test_time_limit_truncates_without_success():
    env = make_env("toy/Corridor", seed=0, horizon=5)
    env.reset()
    out = [env.step(np.array([-1.0], dtype=np.float32)) for _ in range(5)]
    assert [o[3] for o in out] == [False] * 4 + [True]
    assert not any(o[2] or o[4]["success"] for o in out)


def test_novel_positions_look_novel():
    """State codes of cells far apart differ more than those of neighbours."""
    env = make_env("toy/Corridor", seed=0)
    obs = [env.reset()[0]]
    for _ in range(15):
        obs.append(env.step(np.array([1.0], dtype=np.float32))[0])
    near = np.linalg.norm(obs[5] - obs[6])
    far = np.linalg.norm(obs[0] - obs[15])
    assert far > 2 * near


def test_default_corridor_is_hard_for_an_untrained_policy():
    """An untrained Gaussian policy almost never reaches the goal of the default corridor
    (under 0.01% of episodes), while at 20 cells it does in a few per thousand: the default
    length is what makes the task a hard-exploration test."""
    from mimex.envs.toy import CORRIDOR_HORIZON, CORRIDOR_LENGTH, random_success_rate

    env = make_env("toy/Corridor")
    assert (env.unwrapped.length, env.unwrapped.horizon) == (CORRIDOR_LENGTH, CORRIDOR_HORIZON)
    hard = random_success_rate(False, CORRIDOR_LENGTH, CORRIDOR_HORIZON, 100_000, "gaussian")
    easy = random_success_rate(False, 20, CORRIDOR_HORIZON, 100_000, "gaussian")
    assert hard < 1e-4 and easy > 3e-3


def test_vectorised_difficulty_estimate_matches_the_environment():
    """``random_success_rate`` simulates LineWorld's dynamics: on a short corridor its estimate
    agrees with episodes of the real env under the same (uniform) policy."""
    from mimex.envs.toy import random_success_rate

    length, horizon, episodes = 6, 60, 1500
    env = make_env("toy/Corridor", seed=0, length=length, horizon=horizon)
    env.action_space.seed(0)
    wins = 0
    for ep in range(episodes):
        env.reset(seed=ep)
        while True:
            _, _, term, trunc, info = env.step(env.action_space.sample())
            if term or trunc:
                wins += info["success"]
                break
    simulated = random_success_rate(False, length, horizon, 200_000, "uniform")
    assert 0.1 < simulated < 0.9  # a rate both estimates resolve
    assert abs(wins / episodes - simulated) < 0.04, (wins / episodes, simulated)  # 3.4 sigma
