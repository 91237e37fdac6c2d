"""DeepMind Control tasks through the registry (real dm_control, headless rendering)."""

import numpy as np
import pytest

from mimex.envs import env_spec, list_envs, make_env
from mimex.envs.check import check_env
from mimex.envs.dmc import split_name
from mimex.errors import ConfigError

pytest.importorskip("dm_control")


def test_names_split_as_dm_control_knows_them():
    assert split_name("ball_in_cup_catch") == ("ball_in_cup", "catch")
    assert split_name("manipulator_bring_ball") == ("manipulator", "bring_ball")
    assert split_name("cartpole_swingup_sparse") == ("cartpole", "swingup_sparse")
    assert env_spec("dmc/manipulator_bring_ball").kwargs == {"task": "manipulator_bring_ball"}
    assert "dmc/cartpole_swingup_sparse" in list_envs("dmc")


def test_unknown_task_lists_choices():
    with pytest.raises(ConfigError, match="unknown environment 'dmc/cartpole_fly'; choose one of: .*dmc/acrobot_swingup"):
        make_env("dmc/cartpole_fly")


@pytest.mark.parametrize("obs", ["state", "pixels"])
def test_checker_passes_on_cartpole(obs):
    assert len(check_env("dmc/cartpole_swingup_sparse", obs=obs, n_steps=12)) == 4


def test_pixels_are_stacked_oldest_first_and_fresh_after_reset():
    env = make_env("dmc/cartpole_swingup", obs="pixels", seed=0, image_size=64)
    o0, _ = env.reset(seed=1)
    assert o0.shape == (9, 64, 64) and o0.dtype == np.uint8
    assert np.array_equal(o0[:3], o0[6:])  # a fresh episode repeats its first frame
    o1 = env.step(np.ones(1, dtype=np.float32))[0]
    o2 = env.step(np.ones(1, dtype=np.float32))[0]
    assert np.array_equal(o2[:3], o1[3:6]) and np.array_equal(o2[3:6], o1[6:])
    assert not np.array_equal(o2[6:], o1[6:])
    env.close()


def test_action_repeat_sums_rewards_and_time_limit_truncates():
    one = make_env("dmc/cartpole_balance_sparse", seed=0, action_repeat=1)
    two = make_env("dmc/cartpole_balance_sparse", seed=0, action_repeat=2)
    one.reset(seed=3)
    two.reset(seed=3)
    zero = np.zeros(1, dtype=np.float32)
    r1 = one.step(zero)[1] + one.step(zero)[1]
    assert two.step(zero)[1] == pytest.approx(r1)
    env = make_env("dmc/cartpole_balance_sparse", seed=0, action_repeat=8)
    env.reset()
    flags = [env.step(zero)[2:4] for _ in range(125)]  # 1000 physics steps = the time limit
    assert flags[-1] == (False, True) and not any(t or u for t, u in flags[:-1])
