"""MJCF of the two robots, built from primitives (capsules, boxes, cylinders) written by us.

Kinematics follow the public specifications:

* Franka Panda: Franka Emika's modified-DH parameters (d1 0.333, d3 0.316, a4 0.0825,
  a5 -0.0825, d5 0.384, a7 0.088, flange 0.107 m; hand rotated -45 deg about the flange z;
  fingers 0.0584 m from the hand, 0..0.04 m stroke each) and its joint limits.
* Kuka LBR iiwa 7 R800: link offsets 0.15 + 0.19 (d1 0.34), 0.21 + 0.19 (d3 0.4),
  0.21 + 0.19 (d5 0.4) m, then 0.081 m to link 7 and 0.071 m to the hand mount (as
  ``kuka_allegro.urdf``), joint limits +-170/120/170/120/170/120/175 deg; with the Allegro
  right hand of that URDF (see ``kuka.py``). The whole Kuka actor is scaled by 0.9 as in the
  original.

Both robots stand at (1, 0, 0) turned 180 deg about z (facing -x, toward the table), with
gravity compensated (``gravcomp``), as the original disables gravity on the robots.
Collision classes: robot geoms have contype 2 / conaffinity 1 (they collide with the world
but not with each other); world geoms use contype 1 / conaffinity 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROBOT_BASE_POS = (1.0, 0.0, 0.0)
ARM_KP, ARM_KV = 400.0, 80.0
FRANKA_FINGER_KP, FRANKA_FINGER_KV = 1000.0, 50.0

_ROBOT_GEOM = 'contype="2" conaffinity="1" condim="4" friction="1.5 0.01 0.001"'
# Arm links: plain frictional contacts (torsional friction on capsule-edge contacts with
# elliptic cones made the solver diverge in rare random-policy collisions).
_ARM_GEOM = 'contype="2" conaffinity="1" condim="3"'
_ARM_RGBA = "0.92 0.92 0.92 1"
_DARK_RGBA = "0.15 0.15 0.15 1"


@dataclass(frozen=True)
class RobotInfo:
    """Names and defaults the env needs about a robot.

    Attributes:
        name: "franka" or "kuka".
        joints: actuated joint names in action order.
        default_q: default joint positions (rad or m), shape [n].
        speeds: per-joint target change per unit action per step (rad or m), shape [n].
        arm_bodies: bodies whose contact force ends the episode (the arm links).
        camera: name of the egocentric camera.
        hand_site: site whose position is the "hand point" used by Reach.
        finger_sites: grasp-point sites used by the rewards (Franka: left, right;
            Kuka: index, middle, ring, thumb).
    """

    name: str
    joints: tuple[str, ...]
    default_q: np.ndarray
    speeds: np.ndarray
    arm_bodies: tuple[str, ...]
    camera: str
    hand_site: str
    finger_sites: tuple[str, ...]


def _cap(a, b, r, rgba=_ARM_RGBA, coll=True) -> str:
    c = _ARM_GEOM if coll else 'contype="0" conaffinity="0"'
    return (f'<geom type="capsule" fromto="{a[0]} {a[1]} {a[2]} {b[0]} {b[1]} {b[2]}" size="{r}" '
            f'rgba="{rgba}" {c}/>')


# --------------------------------------------------------------------------- Franka
FRANKA_JOINTS = tuple(f"panda_joint{i}" for i in range(1, 8)) + ("panda_finger_joint1",
                                                                 "panda_finger_joint2")
FRANKA_LIMITS = ((-2.8973, 2.8973), (-1.7628, 1.7628), (-2.8973, 2.8973), (-3.0718, -0.0698),
                 (-2.8973, 2.8973), (-0.0175, 3.7525), (-2.8973, 2.8973), (0.0, 0.04), (0.0, 0.04))
FRANKA_DEFAULT_Q = np.array([1.157, -1.066, -0.155, -2.239, -1.841, 1.003, 0.469, 0.035, 0.035])
# Centres of mass in each link's frame (link1..7, hand): the Panda's published inertial
# parameters. Off the joint axes, as on the real arm: with every centre of mass on the axes at
# qpos0, MuJoCo's body_invweight0 of links 1 and 2 is 0, so a contact on them gets a zero
# regulariser (R = 1e-15), is solved as a near-infinitely stiff constraint and the solver
# diverges (mjWARN_BADQACC) when link 2 hits the table edge.
FRANKA_LINK_COM = ("0.003875 0.002081 -0.04762", "-0.003141 -0.02872 0.003495",
                   "0.027518 0.039252 -0.066502", "-0.05317 0.104419 0.027454",
                   "-0.011953 0.041065 -0.038437", "0.060149 -0.014117 -0.010517",
                   "0.010517 -0.004252 0.061597", "-0.01 0 0.03")
# Egocentric camera: hand-local (0.04, 0, 0.045), looking along the hand's +z (toward the fingers).
FRANKA_CAMERA_POS = (0.04, 0.0, 0.045)


def _franka_finger(side: str, quat: str) -> str:
    j = "panda_finger_joint1" if side == "left" else "panda_finger_joint2"
    return f"""
        <body name="panda_{side}finger" pos="0 0 0.0584" quat="{quat}" gravcomp="1">
          <inertial pos="0 0.01 0.03" mass="0.1" diaginertia="5e-5 5e-5 5e-5"/>
          <joint name="{j}" type="slide" axis="0 1 0" range="0 0.04" armature="0.01" damping="1"/>
          <geom type="box" pos="0 0.009 0.027" size="0.01 0.009 0.027" rgba="{_DARK_RGBA}" solref="0.01 1" {_ROBOT_GEOM}/>
          <site name="{side}_grasp" pos="0 0 0.045" size="0.005" rgba="1 0 0 0" group="4"/>
        </body>"""


def franka_body_xml() -> str:
    """The Panda body tree (9 joints) as an MJCF fragment for ``<worldbody>``."""
    lim = FRANKA_LIMITS
    j = [f'<joint name="panda_joint{i + 1}" axis="0 0 1" range="{lim[i][0]} {lim[i][1]}" '
         f'armature="0.1" damping="1"/>' for i in range(7)]
    inert = '<inertial pos="{c}" mass="{m}" diaginertia="{i} {i} {i}"/>'
    com = FRANKA_LINK_COM
    return f"""
    <body name="panda_link0" pos="{ROBOT_BASE_POS[0]} {ROBOT_BASE_POS[1]} {ROBOT_BASE_POS[2]}" quat="0 0 0 1">
      <geom type="cylinder" fromto="0 0 0 0 0 0.2" size="0.07" rgba="{_ARM_RGBA}" contype="0" conaffinity="0"/>
      <body name="panda_link1" pos="0 0 0.333" gravcomp="1">
        {inert.format(c=com[0], m=3.0, i=0.02)}{j[0]}
        {_cap((0, 0, -0.13), (0, 0, 0.0), 0.06)}
        <body name="panda_link2" quat="0.7071068 -0.7071068 0 0" gravcomp="1">
          {inert.format(c=com[1], m=3.0, i=0.02)}{j[1]}
          {_cap((0, 0, -0.05), (0, -0.2, 0), 0.06)}
          <body name="panda_link3" pos="0 -0.316 0" quat="0.7071068 0.7071068 0 0" gravcomp="1">
            {inert.format(c=com[2], m=2.5, i=0.015)}{j[2]}
            {_cap((0, 0, -0.08), (0.0825, 0, 0), 0.055)}
            <body name="panda_link4" pos="0.0825 0 0" quat="0.7071068 0.7071068 0 0" gravcomp="1">
              {inert.format(c=com[3], m=2.5, i=0.015)}{j[3]}
              {_cap((0, 0, 0), (-0.0825, 0.1, 0), 0.055)}
              <body name="panda_link5" pos="-0.0825 0.384 0" quat="0.7071068 -0.7071068 0 0" gravcomp="1">
                {inert.format(c=com[4], m=2.0, i=0.01)}{j[4]}
                {_cap((0, 0, -0.22), (0, 0, -0.02), 0.05)}
                <body name="panda_link6" quat="0.7071068 0.7071068 0 0" gravcomp="1">
                  {inert.format(c=com[5], m=1.5, i=0.008)}{j[5]}
                  {_cap((0, 0, 0), (0.088, 0, 0), 0.045)}
                  <body name="panda_link7" pos="0.088 0 0" quat="0.7071068 0.7071068 0 0" gravcomp="1">
                    {inert.format(c=com[6], m=0.5, i=0.003)}{j[6]}
                    {_cap((0, 0, -0.03), (0, 0, 0.06), 0.04)}
                    <body name="panda_hand" pos="0 0 0.107" quat="0.9238795 0 0 -0.3826834" gravcomp="1">
                      {inert.format(c=com[7], m=0.7, i=0.002)}
                      <geom type="box" pos="0 0 0.03" size="0.025 0.1 0.025" rgba="{_ARM_RGBA}" {_ROBOT_GEOM}/>
                      <camera name="ego" pos="{FRANKA_CAMERA_POS[0]} {FRANKA_CAMERA_POS[1]} {FRANKA_CAMERA_POS[2]}"
                              xyaxes="0 1 0 1 0 0" fovy="{{fovy}}"/>
                      <site name="hand_point" pos="0 0 0.1034" size="0.005" rgba="0 1 0 0" group="4"/>
                      {_franka_finger("left", "1 0 0 0")}
                      {_franka_finger("right", "0 0 0 1")}
                    </body>
                  </body>
                </body>
              </body>
            </body>
          </body>
        </body>
      </body>
    </body>"""


def franka_actuator_xml() -> str:
    """Position actuators (kp 400 / kv 80 arm; fingers stiffer), ctrlrange = joint limits."""
    out = []
    for name, (lo, hi) in zip(FRANKA_JOINTS, FRANKA_LIMITS, strict=True):
        finger = "finger" in name
        kp, kv = (FRANKA_FINGER_KP, FRANKA_FINGER_KV) if finger else (ARM_KP, ARM_KV)
        force = ' forcerange="-200 200" forcelimited="true"' if finger else ""
        out.append(f'<position name="act_{name}" joint="{name}" kp="{kp}" kv="{kv}" '
                   f'ctrlrange="{lo} {hi}"{force}/>')
    return "\n".join(out)


FRANKA = RobotInfo(
    name="franka",
    joints=FRANKA_JOINTS,
    default_q=FRANKA_DEFAULT_Q,
    speeds=np.array([0.125] * 7 + [0.0125] * 2),
    # As the original's "every body whose name contains 'link'": panda_link0..7, not the hand
    # or the fingers. link0 (the base) has no collision geometry here (it would not touch the
    # floor anyway: MuJoCo skips contacts between a world-fixed body and the world).
    arm_bodies=tuple(f"panda_link{i}" for i in range(8)),
    camera="ego",
    hand_site="hand_point",
    finger_sites=("left_grasp", "right_grasp"),
)
