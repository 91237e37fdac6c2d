"""Every suite refuses a step it cannot run, with a clear error and its state unchanged:
NaN/inf actions, actions of the wrong shape or type, a step before reset and a step after
the episode ended. The runner's vector env (auto-reset) never trips the checks."""

from __future__ import annotations

import importlib.util
import os
import pickle
import re

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mimex import errors  # noqa: E402
from mimex.envs import make_env  # noqa: E402
from mimex.envs.action_checks import StepGuard, check_action  # noqa: E402
from mimex.run.vector import VecEnv  # noqa: E402


def _needs(module):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} missing")


# (name, make_env kwargs, a short horizon option or None)
SUITES = [
    pytest.param("toy/Corridor", {"length": 3, "horizon": 2}, id="toy-corridor"),
    pytest.param("toy/Chain", {"length": 3, "horizon": 2}, id="toy-chain"),
    pytest.param("testing/PointGoal", {"horizon": 2}, id="testing"),
    pytest.param("testing/PointGoal", {"horizon": 2, "discrete": True}, id="testing-discrete"),
    pytest.param("dmc/cartpole_balance", {"action_repeat": 250}, marks=_needs("dm_control"), id="dmc"),
    pytest.param("atari/Breakout", {"episodic_life": True}, marks=_needs("ale_py"), id="atari"),
    pytest.param("pixmc/FrankaReach", {}, marks=_needs("mujoco"), id="pixmc"),
]


def _make(name, kwargs):
    obs = "pixels" if name.startswith("atari") else "state"
    env = make_env(name, obs=obs, seed=0, **kwargs)
    if name.startswith("pixmc"):
        env.max_steps = 3  # short episodes
    return env


def _good(env):
    return env.action_space.sample()


def _state(env):
    base = env.unwrapped
    return pickle.dumps(base.get_state()) if hasattr(base, "get_state") else None


@pytest.mark.parametrize("name,kwargs", SUITES)
def test_bad_actions_are_refused_and_change_nothing(name, kwargs):
    env = _make(name, kwargs)
    env.reset(seed=1)
    space = env.action_space
    before = _state(env)
    if hasattr(space, "n"):
        bad = {errors.ACTION_NON_FINITE: float("nan"),
               errors.ACTION_BAD_SHAPE: np.array([1, 0]),
               errors.ACTION_BAD_TYPE: 0.5,
               errors.ACTION_OUT_OF_RANGE: int(space.n)}
    else:
        nan = np.zeros(space.shape, np.float32)
        nan[-1] = np.nan
        inf = np.full(space.shape, np.inf)
        bad = {errors.ACTION_NON_FINITE: nan, errors.ACTION_BAD_SHAPE: np.zeros(space.shape[0] + 1),
               errors.ACTION_BAD_TYPE: np.array(["a"] * space.shape[0])}
        with pytest.raises(errors.ActionError, match="non-finite value"):
            env.step(inf)
    for template, action in bad.items():
        prefix = re.escape(template.split("{", 2)[1].split("}", 1)[1])  # the text after {env}
        with pytest.raises(errors.ActionError, match=prefix) as err:
            env.step(action)
        assert isinstance(err.value, ValueError)
        assert name.split("/")[0] in str(err.value)
    assert _state(env) == before  # nothing moved: not the physics, the counters or the RNG
    env.step(_good(env))  # and the env still works
    env.close()


@pytest.mark.parametrize("name,kwargs", SUITES)
def test_step_after_the_end_is_refused_until_reset(name, kwargs):
    env = _make(name, kwargs)
    env.reset(seed=2)
    env.action_space.seed(0)
    ended, steps = False, 0
    while not ended:
        _, _, terminated, truncated, _ = env.step(_good(env))
        ended, steps = terminated or truncated, steps + 1
        assert steps < 10_000
    with pytest.raises(errors.ResetNeededError, match="step\\(\\) was called after the episode ended"):
        env.step(_good(env))
    env.reset()
    env.step(_good(env))
    env.close()


def test_step_before_reset_is_refused():
    from mimex.envs.pixmc import PixmcEnv
    from mimex.envs.toy import LineWorld
    from mimex.testing.envs import PointGoalEnv

    for env in (LineWorld(discrete=False), PointGoalEnv(), PixmcEnv("franka", "reach")):
        with pytest.raises(errors.ResetNeededError, match="step\\(\\) was called before reset\\(\\)"):
            env.step(np.zeros(env.action_space.shape, np.float32))
        env.reset(seed=0)
        env.step(np.zeros(env.action_space.shape, np.float32))


@_needs("dm_control")
def test_dmc_step_before_reset_is_refused_not_silently_reset():
    from mimex.envs.dmc import DMCEnv

    env = DMCEnv("cartpole", "balance")
    with pytest.raises(errors.ResetNeededError, match="dmc/cartpole_balance: step\\(\\) was called before"):
        env.step(np.zeros(1, np.float32))
    env.close()


def test_vector_env_auto_reset_and_restore_never_trip_the_checks():
    """Episodes of 2 steps end every other step; a snapshot taken mid-run restores into
    fresh envs that step on identically."""
    make = [lambda i=i: make_env("toy/Corridor", seed=i, horizon=2) for i in range(3)]
    vec = VecEnv(make)
    vec.reset()
    acts = np.ones((3, 1), np.float32)
    for _ in range(5):
        vec.step(acts)
    snap = vec.get_state()
    ref = [vec.step(acts).next_obs for _ in range(3)]
    other = VecEnv(make)
    other.set_state(snap)
    out = [other.step(acts).next_obs for _ in range(3)]
    np.testing.assert_array_equal(np.stack(ref), np.stack(out))


def test_guard_state_round_trips_an_ended_episode():
    env = make_env("toy/Chain", seed=0, length=2, horizon=1)
    env.step(1)
    snap = env.get_state()
    fresh = make_env("toy/Chain", seed=5, length=2, horizon=1)
    fresh.set_state(snap)
    with pytest.raises(errors.ResetNeededError, match="truncated at its step 1"):
        fresh.step(1)
    old = {k: v for k, v in snap.items() if k != "guard"}  # a snapshot from before the guard
    fresh.set_state(old)
    fresh.step(1)


def test_check_action_accepts_what_the_suites_pass():
    import gymnasium as gym

    box = gym.spaces.Box(-1, 1, (2,), np.float32)
    for ok in (np.zeros(2), np.zeros(2, np.float32), [0.5, -2.0], np.zeros(2, np.int64)):
        assert check_action(ok, box, "e").shape == (2,)
    disc = gym.spaces.Discrete(3)
    for ok in (0, np.int64(2), np.array(1), np.uint8(1)):
        assert check_action(ok, disc, "e") in (0, 1, 2)
    with pytest.raises(errors.ActionError, match="must be an integer"):
        check_action(True, disc, "e")
    guard = StepGuard("e", box)
    with pytest.raises(errors.ResetNeededError):
        guard.check(np.zeros(2))
