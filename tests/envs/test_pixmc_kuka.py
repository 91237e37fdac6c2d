"""Kuka + Allegro hand (PixMC): hand layout and camera mount as ``kuka_allegro.urdf``, and the
scripted oracle on every Kuka task over several seed ranges.

Reference points are the original URDF's forward kinematics (mount frame, scaled by 0.9),
computed by hand from its joint origins; the oracle runs take about 10 s (default run), the
extra seed ranges are marked slow.
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mimex.envs.pixmc import PixmcEnv, scripted_policy  # noqa: E402
from mimex.envs.pixmc.kuka import HAND_JOINTS  # noqa: E402

KUKA_TASKS = ("reach", "cabinet", "pick", "move")
MIN_WINS = 9   # out of 10 seeds, on every task and seed range
# (finger q, thumb q) -> grasp points in the allegro_mount frame (m, scaled), from the URDF.
URDF_POINTS = [
    (((0.0, 0.0, 0.0, 0.0), (0.28, 0.0, 0.0, 0.0)),
     {"index": (0.0062, 0.0249, 0.2423), "middle": (0.0062, -0.0265, 0.2448),
      "ring": (0.0062, -0.0778, 0.2423), "thumb": (0.0267, 0.1320, 0.0362)}),
    (((0.3, 0.8, 0.8, 0.8), (1.396, 0.5, 0.8, 0.8)),
     {"index": (0.0833, 0.0404, 0.1137), "middle": (0.0833, 0.0002, 0.1180),
      "ring": (0.0833, -0.0403, 0.1183), "thumb": (0.0593, -0.0375, 0.1185)}),
]


def _posed_env(finger_q, thumb_q) -> PixmcEnv:
    env = PixmcEnv("kuka", "reach", seed=0)
    env.reset()
    m, d = env.model, env.data
    for name in HAND_JOINTS:
        digit, k = name.split("_")[0], int(name[-1])
        d.qpos[m.joint(name).qposadr[0]] = (thumb_q if digit == "thumb" else finger_q)[k]
    mujoco.mj_forward(m, d)
    return env


def _in_mount(env: PixmcEnv, point: np.ndarray) -> np.ndarray:
    body = env.model.body("allegro_mount").id
    rot = env.data.xmat[body].reshape(3, 3)
    return rot.T @ (point - env.data.xpos[body])


@pytest.mark.parametrize("qs,points", URDF_POINTS)
def test_grasp_points_follow_the_allegro_urdf(qs, points):
    """Finger and thumb grasp points (link 3 + (0.045 | 0.06, 0.01, 0)) land where the
    original's kinematics put them, to 1 mm, in two hand poses."""
    env = _posed_env(*qs)
    for digit, expected in points.items():
        got = _in_mount(env, env.data.site_xpos[env.model.site(f"{digit}_grasp").id])
        np.testing.assert_allclose(got, expected, atol=1e-3, err_msg=digit)


def test_thumb_at_the_side_of_the_palm():
    """Fingers side by side at the palm's top; the thumb's base near the palm's bottom, and
    at its lower limit the thumb sticks out sideways (+y), not in front of the palm (+x)."""
    env = _posed_env((0.0,) * 4, (0.279, 0.0, 0.0, 0.0))
    m, d = env.model, env.data
    base = {f: _in_mount(env, d.xpos[m.body(f"{f}_link_1").id]) for f in ("index", "middle", "ring")}
    assert base["index"][1] > base["middle"][1] > base["ring"][1]
    assert np.ptp([b[0] for b in base.values()]) < 1e-3 and np.ptp([b[2] for b in base.values()]) < 3e-3
    thumb0 = _in_mount(env, d.xpos[m.body("thumb_link_0").id])
    thumb_tip = _in_mount(env, d.site_xpos[m.site("thumb_grasp").id])
    assert thumb0[2] < base["middle"][2] / 2
    assert thumb_tip[1] > base["index"][1] + 0.08 and thumb_tip[0] < 0.03


def test_ego_camera_mount_and_view():
    """The camera sits at mount (0.05, 0, 0.02) x 0.9 looking along the mount's +z with image
    up = mount -x (the original's from_euler_zyx(0, -90, 0)); at the default pose image up is
    world up, and the centre ray meets nothing of the robot."""
    env = PixmcEnv("kuka", "pick", seed=0)
    env.reset()
    m, d = env.model, env.data
    cam = m.camera("ego").id
    np.testing.assert_allclose(_in_mount(env, d.cam_xpos[cam]), (0.045, 0.0, 0.018), atol=1e-6)
    mount_rot = d.xmat[m.body("allegro_mount").id].reshape(3, 3)
    cam_rot = d.cam_xmat[cam].reshape(3, 3)          # columns: image right, image up, backward
    np.testing.assert_allclose(mount_rot.T @ -cam_rot[:, 2], (0, 0, 1), atol=1e-6)
    np.testing.assert_allclose(mount_rot.T @ cam_rot[:, 1], (-1, 0, 0), atol=1e-6)
    assert cam_rot[2, 1] > 0.9                       # image up ~ world up: table at the bottom
    geom = np.zeros(1, np.int32)
    dist = mujoco.mj_ray(m, d, d.cam_xpos[cam], -cam_rot[:, 2], None, 1, -1, geom)
    assert dist < 0 or m.geom_bodyid[geom[0]] == 0  # nothing, or the world (table / floor)


def _wins(task: str, seeds: range) -> int:
    wins = 0
    for seed in seeds:
        env = PixmcEnv("kuka", task, reward="sparse", seed=seed)
        obs, _ = env.reset()
        policy = scripted_policy(env)
        for _ in range(env.max_steps):
            obs, _, term, trunc, info = env.step(policy(obs))
            if info["success"] or term or trunc:
                break
        wins += bool(info["success"])
        env.close()
    return wins


@pytest.mark.parametrize("start", [100, 1000])
@pytest.mark.parametrize("task", KUKA_TASKS)
def test_oracle_nine_of_ten(task, start):
    """The Kuka oracle solves at least 9 of 10 seeds on every task (measured 10/10 on seeds
    0-9, 77-86, 100-109, 1000-1009, 2000-2009 and 5000-5009 for each task)."""
    wins = _wins(task, range(start, start + 10))
    assert wins >= MIN_WINS, f"kuka {task} seeds {start}-{start + 9}: {wins}/10"


@pytest.mark.slow
@pytest.mark.parametrize("start", [2000, 5000, 77])
@pytest.mark.parametrize("task", KUKA_TASKS)
def test_oracle_nine_of_ten_more_seeds(task, start):
    """As above on more seed ranges."""
    wins = _wins(task, range(start, start + 10))
    assert wins >= MIN_WINS, f"kuka {task} seeds {start}-{start + 9}: {wins}/10"
