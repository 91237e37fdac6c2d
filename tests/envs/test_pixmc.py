"""PixMC-Sparse on MuJoCo: registry, env checker, rewards by hand, success rules, oracle.

The fast subset (default run): check_env on every task with state obs, two pixel tasks,
hand-computed dense rewards, success bookkeeping, scripted Reach, the vectorised env.
The sweeps over every (task, reward, obs) combination are in test_pixmc_sweeps.py.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mimex.envs import list_envs, make_env  # noqa: E402
from mimex.envs.check import check_env  # noqa: E402
from mimex.envs.pixmc import PixmcEnv, PixmcVecEnv, rewards, scripted_policy  # noqa: E402

TASKS = [f"pixmc/{r}{t}" for r in ("Franka", "Kuka") for t in ("Reach", "Cabinet", "Pick", "Move")]


def test_all_eight_tasks_registered():
    """The registry lists the eight tasks, tagged pixmc and success."""
    assert list_envs("pixmc") == sorted(TASKS)


@pytest.mark.parametrize("name", TASKS)
def test_check_env_state(name):
    """Gymnasium's checker + finiteness, in-space, no aliasing, seeded determinism (state obs)."""
    check_env(name, n_steps=15, seed=0, reward="sparse", obs="state")


@pytest.mark.parametrize("name,obs", [("pixmc/FrankaPick", "pixels+state"),
                                      ("pixmc/KukaReach", "pixels")])
def test_check_env_pixels(name, obs):
    """Pixel observations: uint8 [3, 64, 64], deterministic, not aliased."""
    check_env(name, n_steps=8, seed=1, reward="dense", obs=obs)


def test_pixel_shape_and_size_limit():
    """Any square size up to 224 on request; larger sizes are refused with the value."""
    env = make_env("pixmc/FrankaReach", obs="pixels", seed=0, image_size=96)
    obs, _ = env.reset()
    assert obs.shape == (3, 96, 96) and obs.dtype == np.uint8 and obs.std() > 5
    env.close()
    with pytest.raises(ValueError, match="300"):
        make_env("pixmc/FrankaReach", obs="pixels", image_size=300)


def test_reward_functions_by_hand():
    """Dense Reach and Franka Cabinet terms against numbers computed by hand."""
    s = rewards.scales("franka", "reach", "dense")
    a = np.full(9, 0.5)
    r, _ = rewards.reach(s, np.array([0.5, 0.0, 0.7]), np.array([0.6, 0.0, 0.7]), a)
    assert r == pytest.approx(0.08 / 0.14 - 0.01 * 9 * 0.25)
    s = rewards.scales("franka", "cabinet", "dense")
    handle = np.array([0.5, 0.0, 0.7])
    fingers = np.array([[0.5, 0.0, 0.72], [0.5, 0.0, 0.68]])  # straddling, 2 cm each
    r, t = rewards.cabinet("franka", s, fingers, handle, 0.2, np.zeros(9))
    # 0.06*(2/0.036) + 1.0*0.5 + 2.0*0.5 + 6.0*0.2 + 3.0*0.5*1*0.2*2 + 0 (0.2 m to go > 0.1)
    assert r == pytest.approx(0.06 * 2 / 0.036 + 0.5 + 1.0 + 1.2 + 0.6)
    assert t["goal_bonus"] == 0.0
    s = rewards.scales("franka", "pick", "sparse")
    assert s["od"] == 0.0 and s["lb"] == 12.0
    assert rewards.scales("franka", "pick", "sparser")["gd"] == 0.0
    assert rewards.scales("franka", "reach", "sparse")["gd"] == 0.0


def test_env_dense_pick_reward_at_known_state():
    """FrankaPick dense reward through the env, with the cube placed 0.1 m above its rest."""
    env = PixmcEnv("franka", "pick", reward="dense", seed=0)
    env.reset()
    z0 = env.spec_task.cube_z0
    env.data.qpos[env._cube_q:env._cube_q + 3] = [0.5, 0.0, z0 + 0.1]
    mujoco.mj_forward(env.model, env.data)
    f = env.finger_points()
    d = np.maximum(np.linalg.norm(f - env.cube(), axis=1), 0.02)
    expected = (0.08 * np.sum(1 / (0.04 + d)) + 4.0 * 0.5
                + 1.28 / (0.04 + abs(0.8 - (z0 + 0.1))) - 0.01 * 9 * 0.01)
    r, terms, cond, dropped = env._reward_and_flags(np.full(9, 0.1))
    assert r == pytest.approx(expected)
    assert not cond and not dropped and terms["goal_bonus"] == 0.0
    env.close()


def test_success_needs_ten_consecutive_steps_and_move_latches():
    """Reach success after 10 steps held (reset by a break); Franka Move on one step."""
    env = PixmcEnv("franka", "reach", seed=0)
    env.reset()
    for cond in [True] * 9 + [False]:
        env._update_success(cond)
    assert not env._success and env._count == 0
    for _ in range(10):
        env._update_success(True)
    assert env._success
    env._update_success(False)
    assert env._success                                  # latched
    move = PixmcEnv("franka", "move", seed=0)
    move.reset()
    move._update_success(True)
    assert move._success
    env.close()
    move.close()


def test_random_policy_sparse_reach_gets_nothing():
    """A random policy under sparse FrankaReach: no success, no reward beyond the action penalty."""
    env = make_env("pixmc/FrankaReach", reward="sparse", seed=3)
    env.action_space.seed(3)
    env.reset()
    for _ in range(400):
        _, _, term, trunc, info = env.step(env.action_space.sample())
        assert not info["success"]
        assert info["terms"]["goal_bonus"] == 0.0
        if term or trunc:
            env.reset()
    env.close()


@pytest.mark.parametrize("robot,seed", [("franka", 0), ("franka", 1), ("kuka", 0)])
def test_scripted_reach_succeeds(robot, seed):
    """The oracle reaches the goal and holds it 10 steps within the 200-step episode."""
    env = PixmcEnv(robot, "reach", reward="sparse", seed=seed)
    obs, _ = env.reset()
    policy = scripted_policy(env)
    for _ in range(env.max_steps):
        obs, _, term, trunc, info = env.step(policy(obs))
        if info["success"] or term or trunc:
            break
    assert info["success"]
    env.close()


def test_vector_env_shapes_and_autoreset():
    """Batched shapes; a finished episode restarts in the same step call."""
    vec = PixmcVecEnv("franka", "reach", num_envs=3, obs="pixels+state", seed=0)
    obs, _ = vec.reset()
    assert obs["pixels"].shape == (3, 3, 64, 64) and obs["state"].shape == (3, 18)
    assert all(env._renderer is None for env in vec.envs), "one shared renderer, none per env"
    for env in vec.envs:
        env.max_steps = 2
    vec.step(np.zeros((3, 9)))
    obs, rew, term, trunc, info = vec.step(np.zeros((3, 9)))
    assert trunc.all() and rew.shape == (3,) and info["final_obs"][0] is not None
    assert all(env._steps == 0 for env in vec.envs)
    vec.close()


@pytest.mark.parametrize("robot,n_joints", [("franka", 9), ("kuka", 23)])
def test_pixels_come_with_proprioception_only(robot, n_joints):
    """With pixels, "state" holds joint positions and velocities only (as the original
    pixel-based agents): moving the goal changes the image, never the state."""
    env = PixmcEnv(robot, "reach", obs="pixels+state", seed=0)
    obs, _ = env.reset()
    assert obs["state"].shape == (2 * n_joints,) == env.observation_space["state"].shape
    full = PixmcEnv(robot, "reach", obs="state", seed=0)
    full_obs, _ = full.reset()
    np.testing.assert_array_equal(obs["state"], full_obs[:2 * n_joints])
    env.data.mocap_pos[env._goal_mocap] += [0.05, 0.05, 0.0]
    mujoco.mj_forward(env.model, env.data)
    moved = env._obs()
    np.testing.assert_array_equal(moved["state"], obs["state"])
    env.close()
    full.close()


def test_pretty_rendering_is_opt_in():
    """Shadows and multisampling are off unless asked; asking changes the picture, not the
    physics."""
    fast = PixmcEnv("franka", "pick", obs="pixels+state", seed=3)
    pretty = PixmcEnv("franka", "pick", obs="pixels+state", seed=3, pretty=True)
    assert fast.model.vis.quality.shadowsize == 0 and fast.model.vis.quality.offsamples == 0
    assert pretty.model.vis.quality.shadowsize > 0 and pretty.model.light_castshadow.all()
    a, _ = fast.reset()
    b, _ = pretty.reset()
    np.testing.assert_array_equal(a["state"], b["state"])
    assert not np.array_equal(a["pixels"], b["pixels"])
    fast.close()
    pretty.close()


@pytest.mark.parametrize("robot,task", [("franka", "pick"), ("kuka", "cabinet")])
def test_snapshot_restores_the_exact_future(robot, task):
    """get_state after 25 steps, then set_state in a fresh env: the next 15 steps (and the
    reset after them) match bit for bit, pixels included."""
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (40, 9 if robot == "franka" else 23))
    env = PixmcEnv(robot, task, obs="pixels+state", seed=5)
    env.reset()
    for a in actions[:25]:
        env.step(a)
    snap = env.get_state()
    ref = [env.step(a) for a in actions[25:]]
    ref_reset = env.reset()[0]
    other = PixmcEnv(robot, task, obs="pixels+state", seed=99)
    other.reset()
    other.set_state(snap)
    out = [other.step(a) for a in actions[25:]]
    for (o1, r1, t1, u1, i1), (o2, r2, t2, u2, i2) in zip(ref, out, strict=True):
        np.testing.assert_array_equal(o1["pixels"], o2["pixels"])
        np.testing.assert_array_equal(o1["state"], o2["state"])
        assert (r1, t1, u1, i1["success_count"]) == (r2, t2, u2, i2["success_count"])
    np.testing.assert_array_equal(ref_reset["state"], other.reset()[0]["state"])
    with pytest.raises(ValueError, match="another task"):
        PixmcEnv(robot, "reach").set_state(snap)
    env.close()
    other.close()


@pytest.mark.parametrize("name", TASKS)
def test_dense_reward_is_the_dense_levels_reward_at_every_level(name):
    """``info["dense_reward"]`` of a sparse or sparser env is, step by step, the reward the
    dense env gets from the same seed and actions (so runs at different levels compare on
    ``charts/dense_return``); at the dense level it is the reward itself."""
    envs = {lvl: make_env(name, reward=lvl, seed=3) for lvl in rewards.LEVELS}
    for env in envs.values():
        env.reset(seed=3)
    actions = np.random.default_rng(0).uniform(-1, 1, (25, envs["dense"].action_space.shape[0]))
    differs = False
    for a in actions:
        out = {lvl: env.step(a) for lvl, env in envs.items()}
        dense_reward = out["dense"][1]
        assert out["dense"][4]["dense_reward"] == dense_reward
        for lvl in ("sparse", "sparser"):
            assert out[lvl][4]["dense_reward"] == dense_reward
            differs |= out[lvl][1] != dense_reward
        if out["dense"][2] or out["dense"][3]:
            break
    assert differs, "the sparse reward never differed from the dense one: the test shows nothing"
