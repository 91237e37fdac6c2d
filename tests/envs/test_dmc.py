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


def _through_checkpoint(state, tmp_path):
    """``state`` after a save and a ``weights_only`` load, as a resumed run gets it."""
    from mimex.run.checkpoint import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path, {"format": 1, "state": state}, name="snap.pt")
    return load_checkpoint(tmp_path / "snap.pt")["state"]


def _assert_same_state(a, b, where="state"):
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _assert_same_state(a[k], b[k], f"{where}.{k}")
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)


def _play(env, actions):
    """(obs, reward, terminated, truncated) per step, and each reset observation after an end."""
    out = []
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        out.append((obs, reward, terminated, truncated))
        if terminated or truncated:
            out.append(("reset", env.reset()[0]))
    return out


@pytest.mark.parametrize("task,obs", [("cartpole_swingup_sparse", "state"),
                                      ("cartpole_swingup_sparse", "pixels"),
                                      ("finger_turn_easy", "state"),
                                      ("finger_turn_easy", "pixels")])
def test_snapshot_restores_the_exact_future_across_an_episode_end(task, obs, tmp_path):
    """Snapshot 100 steps into a 125-step episode, restore it (through a checkpoint file) into
    an env with another seed: the next 50 steps, the reset (drawn by the task's RNG; finger
    also moves its target site, a model field) and the new episode's start match bit for bit."""
    kwargs = {"action_repeat": 8, "image_size": 32}  # 125 steps per episode
    env = make_env(f"dmc/{task}", obs=obs, seed=1, **kwargs)
    actions = np.random.default_rng(0).uniform(-1, 1, (150, *env.action_space.shape)).astype(np.float32)
    _play(env, actions[:100])
    snap = env.get_state()
    ref = _play(env, actions[100:])
    assert sum(1 for o, *_ in ref if isinstance(o, str)) == 1  # the window crosses one episode end
    other = make_env(f"dmc/{task}", obs=obs, seed=7, **kwargs)
    _play(other, actions[:30])  # a different episode, and (finger) a different target
    other.set_state(_through_checkpoint(snap, tmp_path))
    _assert_same_state(snap, other.get_state())
    out = _play(other, actions[100:])
    assert len(out) == len(ref)
    for step, (a, b) in enumerate(zip(ref, out, strict=True)):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=f"step {step}")
    env.close()
    other.close()


def test_snapshot_of_another_task_or_observation_kind_is_refused():
    finger = make_env("dmc/finger_turn_easy", seed=0).get_state()
    cartpole = make_env("dmc/cartpole_swingup_sparse", seed=0)
    with pytest.raises(ValueError, match=r"dmc/finger_turn_easy .*cannot be restored into dmc/cartpole_swingup_sparse"):
        cartpole.set_state(finger)
    pixels = make_env("dmc/cartpole_swingup_sparse", obs="pixels", seed=0, image_size=32)
    with pytest.raises(ValueError, match=r"'pixels' observations; it cannot be restored into .* 'state'"):
        cartpole.set_state(pixels.get_state())
