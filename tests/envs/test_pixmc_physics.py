"""PixMC physics: arm-contact test (net force per body), instability handling, cube, inertia."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mimex.envs.pixmc import scene, tasks  # noqa: E402
from mimex.envs.pixmc.env import PixmcEnv, net_contact_forces  # noqa: E402

# A box (weight 1.47 N) resting across a horizontal capsule: two contacts along the capsule,
# each carrying about half the weight.
_BOX_ON_CAPSULE = """
<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <body name="link" pos="0 0 0.5">
      <geom type="capsule" fromto="-0.1 0 0 0.1 0 0" size="0.03"/>
    </body>
    <body name="box" pos="0 0 0.55">
      <freejoint/>
      <geom type="box" size="0.05 0.02 0.02" mass="0.15"/>
    </body>
  </worldbody>
</mujoco>"""


def test_net_contact_force_sums_the_contacts_of_a_body():
    """Two contacts of ~0.74 N each on one body: each alone is under the 1 N limit, their
    vector sum (the body's net contact force, the original's test) is over it."""
    m = mujoco.MjModel.from_xml_string(_BOX_ON_CAPSULE)
    d = mujoco.MjData(m)
    mujoco.mj_step(m, d, nstep=500)
    link, box = m.body("link").id, m.body("box").id
    f6 = np.zeros(6)
    single = []
    for i in range(d.ncon):
        mujoco.mj_contactForce(m, d, i, f6)
        single.append(np.linalg.norm(f6[:3]))
    assert len(single) == 2 and max(single) < tasks.ARM_CONTACT_FORCE_LIMIT
    mask = np.zeros(m.nbody, bool)
    mask[[link, box]] = True
    net = net_contact_forces(m, d, mask)
    weight = m.body_mass[box] * 9.81
    np.testing.assert_allclose(net[box], [0, 0, weight], atol=1e-3)      # pushed up
    np.testing.assert_allclose(net[link], [0, 0, -weight], atol=1e-3)    # pushed down
    assert np.linalg.norm(net[link]) > tasks.ARM_CONTACT_FORCE_LIMIT


# A Franka pose whose link 3 touches the table edge at two points (nothing else in contact).
_LINK3_ON_TABLE_EDGE = [2.258, -1.342, 0.304, -2.036, -2.787, -0.018, 1.633, 0.035, 0.035]


def test_arm_collision_uses_the_net_force_per_arm_body(monkeypatch):
    """In the env, a constructed case: two contacts on one arm link, each of 0.7 N (below
    the 1 N limit), sum to 1.4 N and end the episode (terminated, ``arm_collision``); one such
    contact alone does not. The contacts are real (link 3 on the table edge); their forces
    are set, and the physics frozen, through patched MuJoCo calls."""
    env = PixmcEnv("franka", "reach", seed=0)
    env.reset()
    m, d = env.model, env.data
    d.qpos[env._qadr] = _LINK3_ON_TABLE_EDGE
    env._targets = np.array(_LINK3_ON_TABLE_EDGE)
    mujoco.mj_forward(m, d)
    link3 = m.body("panda_link3").id
    assert d.ncon == 2
    assert all(link3 in m.geom_bodyid[[c.geom1, c.geom2]] for c in d.contact)

    def fake_force(model, data, i, out):   # 0.7 N along each contact normal
        out[:] = 0.0
        out[0] = 0.7

    monkeypatch.setattr(mujoco, "mj_contactForce", fake_force)
    assert env.arm_collision()
    np.testing.assert_allclose(np.linalg.norm(env.arm_contact_forces()["panda_link3"]), 1.4,
                               rtol=0.05)   # the two normals are nearly parallel
    real_forward = mujoco.mj_forward
    monkeypatch.setattr(mujoco, "mj_step", lambda model, data, nstep=1: real_forward(model, data))
    _, _, terminated, truncated, info = env.step(np.zeros(9))
    assert terminated and not truncated and info["arm_collision"] and not info["unstable"]
    d.ncon = 1                             # one 0.7 N contact alone: no collision
    assert not env.arm_collision()


def test_franka_arm_bodies_are_the_links_not_the_hand():
    env = PixmcEnv("franka", "pick")
    names = {env.model.body(b).name for b in np.flatnonzero(env._is_arm)}
    assert names == {f"panda_link{i}" for i in range(8)}


def test_no_arm_link_is_massless_for_contact_regularisation():
    """Every arm link that can touch something has a non-zero translational invweight0
    (a zero one gives its contacts R = 1e-15 and made the solver diverge)."""
    for robot in ("franka",):
        m = scene.build_model(robot, "pick")
        env = PixmcEnv(robot, "pick", model=m)
        for b in np.flatnonzero(env._is_arm):
            if np.any(m.geom_contype[m.geom_bodyid == b]):
                assert m.body_invweight0[b, 0] > 1e-5, m.body(b).name


def test_unstable_step_is_a_truncation_from_the_last_valid_state():
    """A diverging step (forced here with a huge joint velocity) ends the episode as a
    truncation, not a terminal, and leaves the state of the step start (not qpos0)."""
    env = PixmcEnv("franka", "pick", seed=0)
    env.reset()
    for _ in range(3):
        env.step(np.zeros(9))
    env.data.qvel[env._vadr[1]] = 1e12
    q_before = env.data.qpos[env._qadr].copy()
    _, _, terminated, truncated, info = env.step(np.zeros(9))
    assert info["unstable"] and truncated and not terminated
    np.testing.assert_allclose(env.data.qpos[env._qadr], q_before)


@pytest.mark.parametrize("robot,size,mass", [("franka", 0.045, 0.091125), ("kuka", 0.06, 0.216)])
def test_cube_has_isaac_gym_default_density(robot, size, mass):
    m = scene.build_model(robot, "pick")
    assert m.body("cube").mass[0] == pytest.approx(mass)
    assert m.geom("cube").friction[0] == pytest.approx(scene.CUBE_FRICTION)


@pytest.mark.slow
@pytest.mark.parametrize("robot", ["franka", "kuka"])
@pytest.mark.parametrize("task", ["reach", "cabinet", "pick", "move"])
def test_no_unstable_steps_over_many_random_episodes(robot, task):
    """300 random-action episodes per task (at most 500 steps each), with arm contacts not
    ending them, so that the arm keeps pushing into the table (the contacts that used to make
    the solver diverge): MuJoCo never flags a diverging simulation."""
    env = PixmcEnv(robot, task, seed=0)
    env.arm_collision = lambda: False
    rng = np.random.default_rng(0)
    for ep in range(300):
        env.reset(seed=ep)
        for _ in range(min(env.max_steps, 500)):
            _, _, terminated, truncated, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
            assert not info["unstable"], f"{robot} {task} episode {ep}"
            if terminated or truncated:
                break
