"""The Kuka LBR iiwa 7 with a four-finger Allegro-style hand (7 + 16 = 23 joints), in MJCF.

Arm: iiwa 7 R800 link offsets (0.15, 0.19, 0.21, 0.19, 0.21, 0.19, 0.081, flange 0.045 m),
joint axes z, y, z, -y, z, y, z and limits +-170/120/170/120/170/120/175 deg; the whole actor
is scaled by ``KUKA_SCALE`` (0.9) as in the original. Hand: palm 0.041 x 0.113 x 0.095 m;
index / middle / ring fingers 0.0435 m apart with an abduction joint and three flexion joints
(links 0.054, 0.0384, 0.0267 m); an opposing thumb on a metacarpal in front of the palm
(a rotation about the finger axis, then three flexions). Fingers curl toward the palm's +x (the grasp side); the thumb curls toward -x.
"""

from __future__ import annotations

import numpy as np

from mimex.envs.pixmc.robots import (
    _ARM_GEOM,
    _ARM_RGBA,
    _DARK_RGBA,
    _ROBOT_GEOM,
    ROBOT_BASE_POS,
    RobotInfo,
)

KUKA_SCALE = 0.9
ARM_JOINTS = tuple(f"iiwa7_joint_{i}" for i in range(1, 8))
ARM_LIMITS_DEG = (170, 120, 170, 120, 170, 120, 175)
ARM_AXES = ("0 0 1", "0 1 0", "0 0 1", "0 -1 0", "0 0 1", "0 1 0", "0 0 1")
ARM_OFFSETS = (0.15, 0.19, 0.21, 0.19, 0.21, 0.19, 0.081)
FLANGE = 0.045
ARM_EFFORT = (320, 320, 176, 176, 110, 40, 40)
FINGERS = ("index", "middle", "ring")
FINGER_Y = (0.0435, 0.0, -0.0435)
FINGER_LIMITS = ((-0.47, 0.47), (-0.196, 1.61), (-0.174, 1.709), (-0.227, 1.618))
THUMB_LIMITS = ((0.263, 1.396), (-0.105, 1.163), (-0.189, 1.644), (-0.162, 1.719))
LINKS = (0.054, 0.0384, 0.0267)
# The thumb stands on a metacarpal in front of the palm (+x, the grasp side), parallel to the
# fingers, so that thumb and fingers close on an object between them.
THUMB_BASE = (0.085, 0.0, 0.06)
GRASP_CENTER = (0.042, 0.0, 0.17)   # between fingers and thumb, mid-length (unscaled, m)
HAND_KP, HAND_KV, HAND_EFFORT = 3.0, 0.1, 0.7
DEFAULT_ARM_Q = (0.0, -0.4, 0.0, -1.0, 0.0, 1.0, 0.0)
HAND_JOINTS = tuple(f"{f}_joint_{k}" for f in FINGERS + ("thumb",) for k in range(4))


def _s(x: float) -> float:
    return round(x * KUKA_SCALE, 6)


def _cap(z0: float, z1: float, r: float, rgba: str = _ARM_RGBA, hand: bool = False) -> str:
    return (f'<geom type="capsule" fromto="0 0 {_s(z0)} 0 0 {_s(z1)}" size="{_s(r)}" rgba="{rgba}" '
            f'{_ROBOT_GEOM if hand else _ARM_GEOM}/>')


def _finger_chain(name: str, limits, first_axis: str, flex_axis: str) -> str:
    """Joint 0 about ``first_axis`` then three flexion links about ``flex_axis`` along +z."""
    j = [f'<joint name="{name}_joint_{k}" axis="{first_axis if k == 0 else flex_axis}" '
         f'range="{limits[k][0]} {limits[k][1]}" armature="0.001" damping="0.01"/>' for k in range(4)]
    inert = '<inertial pos="0 0 0.01" mass="0.02" diaginertia="2e-6 2e-6 2e-6"/>'
    r = 0.0095
    tip = _s(LINKS[2] + 0.005)
    return f"""
      <body name="{name}_link_0" gravcomp="1">{inert}{j[0]}
        {_cap(0, 0.0164, r, _DARK_RGBA, hand=True)}
        <body name="{name}_link_1" pos="0 0 {_s(0.0164)}" gravcomp="1">{inert}{j[1]}
          {_cap(0, LINKS[0], r, _DARK_RGBA, hand=True)}
          <body name="{name}_link_2" pos="0 0 {_s(LINKS[0])}" gravcomp="1">{inert}{j[2]}
            {_cap(0, LINKS[1], r, _DARK_RGBA, hand=True)}
            <body name="{name}_link_3" pos="0 0 {_s(LINKS[1])}" gravcomp="1">{inert}{j[3]}
              {_cap(0, LINKS[2], r, "0.95 0.95 0.95 1", hand=True)}
              <site name="{name}_grasp" pos="0 0 {tip}" size="0.005" group="4"/>
            </body>
          </body>
        </body>
      </body>"""


def _hand() -> str:
    fingers = "".join(
        f'<body name="{f}_base" pos="0 {_s(y)} {_s(0.095)}">'
        f'{_finger_chain(f, FINGER_LIMITS, "1 0 0", "0 1 0")}</body>'
        for f, y in zip(FINGERS, FINGER_Y, strict=True))
    tb = THUMB_BASE
    thumb = (f'<geom type="capsule" fromto="{_s(0.015)} {_s(tb[1])} {_s(0.03)} {_s(tb[0])} {_s(tb[1])} {_s(tb[2])}" '
             f'size="{_s(0.012)}" rgba="{_DARK_RGBA}" {_ROBOT_GEOM}/>'
             f'<body name="thumb_base" pos="{_s(tb[0])} {_s(tb[1])} {_s(tb[2])}">'
             f'{_finger_chain("thumb", THUMB_LIMITS, "0 0 1", "0 -1 0")}</body>')
    return f"""
      <body name="allegro_mount" pos="0 0 {_s(FLANGE)}" gravcomp="1">
        <inertial pos="0 0 0.04" mass="0.4" diaginertia="5e-4 5e-4 5e-4"/>
        <geom type="box" pos="0 0 {_s(0.0475)}" size="{_s(0.0204)} {_s(0.0565)} {_s(0.0475)}"
              rgba="{_DARK_RGBA}" {_ROBOT_GEOM}/>
        <camera name="ego" pos="{_s(0.05)} 0 {_s(0.02)}" xyaxes="0 1 0 1 0 0" fovy="{{fovy}}"/>
        <site name="grasp_center" pos="{_s(GRASP_CENTER[0])} {_s(GRASP_CENTER[1])} {_s(GRASP_CENTER[2])}"
              size="0.005" group="4"/>
        {fingers}
        {thumb}
      </body>"""


def kuka_body_xml() -> str:
    """The iiwa + hand body tree as an MJCF fragment for ``<worldbody>``."""
    open_tags, close_tags = [], []
    radii = (0.07, 0.07, 0.065, 0.065, 0.06, 0.055, 0.045)
    for i in range(7):
        lim = np.radians(ARM_LIMITS_DEG[i])
        length = ARM_OFFSETS[i + 1] if i < 6 else FLANGE
        pos = f"0 0 {_s(ARM_OFFSETS[i])}"
        open_tags.append(
            f'<body name="iiwa7_link_{i + 1}" pos="{pos}" gravcomp="1">'
            f'<inertial pos="0 0 0.05" mass="{3.0 - 0.3 * i:.2f}" diaginertia="0.02 0.02 0.01"/>'
            f'<joint name="{ARM_JOINTS[i]}" axis="{ARM_AXES[i]}" range="{-lim:.4f} {lim:.4f}" '
            f'armature="0.1" damping="1"/>'
            + _cap(0.0, length, radii[i]))
        close_tags.append("</body>")
    return f"""
    <body name="iiwa7_link_0" pos="{ROBOT_BASE_POS[0]} {ROBOT_BASE_POS[1]} {ROBOT_BASE_POS[2]}" quat="0 0 0 1">
      <geom type="cylinder" fromto="0 0 0 0 0 {_s(0.15)}" size="{_s(0.08)}" rgba="{_ARM_RGBA}" contype="0" conaffinity="0"/>
      {"".join(open_tags)}{_hand()}{"".join(close_tags)}
    </body>"""


def kuka_actuator_xml() -> str:
    """Position actuators: arm kp 400 / kv 80 (effort limits of the iiwa); hand soft and
    effort-limited to 0.7 N m like the original's max effort."""
    out = []
    for i, name in enumerate(ARM_JOINTS):
        lim = np.radians(ARM_LIMITS_DEG[i])
        out.append(f'<position name="act_{name}" joint="{name}" kp="400" kv="80" ctrlrange="{-lim:.4f} {lim:.4f}" '
                   f'forcerange="{-ARM_EFFORT[i]} {ARM_EFFORT[i]}"/>')
    for k, name in enumerate(HAND_JOINTS):
        lo, hi = (THUMB_LIMITS if name.startswith("thumb") else FINGER_LIMITS)[k % 4]
        out.append(f'<position name="act_{name}" joint="{name}" kp="{HAND_KP}" kv="{HAND_KV}" '
                   f'ctrlrange="{lo} {hi}" forcerange="{-HAND_EFFORT} {HAND_EFFORT}"/>')
    return "\n".join(out)


def _default_q() -> np.ndarray:
    hand = [min(max(0.0, lo), hi) for f in FINGERS + ("thumb",)
            for lo, hi in (THUMB_LIMITS if f == "thumb" else FINGER_LIMITS)]
    return np.array(list(DEFAULT_ARM_Q) + hand)


KUKA = RobotInfo(
    name="kuka",
    joints=ARM_JOINTS + HAND_JOINTS,
    default_q=_default_q(),
    speeds=np.full(23, 0.125),
    arm_bodies=tuple(f"iiwa7_link_{i}" for i in range(1, 8)),
    camera="ego",
    hand_site="index_grasp",
    finger_sites=("index_grasp", "middle_grasp", "ring_grasp", "thumb_grasp"),
)
