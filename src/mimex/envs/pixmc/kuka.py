"""The Kuka LBR iiwa 7 with an Allegro right hand (7 + 16 = 23 joints), in MJCF.

Arm: iiwa 7 R800 link offsets (0.15, 0.19, 0.21, 0.19, 0.21, 0.19, 0.081 m), joint axes
z, y, z, -y, z, y, z and limits +-170/120/170/120/170/120/175 deg; the hand mount
(``allegro_mount``) sits 0.071 m past link 7, where ``kuka_allegro.urdf`` puts ``iiwa7_link_ee``.
The whole actor is scaled by ``KUKA_SCALE`` (0.9) as in the original.

Hand, in the mount frame (z along the arm's last axis, toward the fingertips; the palm's grasp
side faces +x): positions, axes and joint limits follow ``kuka_allegro.urdf`` (primitives
instead of meshes). Index, middle and ring fingers stand side by side along the palm's top
edge (index at +y), each a rotation about its own long axis then three flexion joints that
curl it toward +x. The thumb's base sits inside the palm near its bottom; its first joint
swings the thumb about the palm normal from the +y side of the palm (lower limit) round to the
grasp side (upper limit), then it twists about its own axis and flexes toward the fingertips
(+z). The egocentric camera looks along +z from the grasp side of the mount, image up = -x.
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
MOUNT_OFFSET = 0.071           # link 7 -> allegro_mount (the URDF's iiwa7_joint_ee)
ARM_EFFORT = (320, 320, 176, 176, 110, 40, 40)
DEFAULT_ARM_Q = (0.0, -0.4, 0.0, -1.0, 0.0, 1.0, 0.0)

# ---- hand geometry (unscaled metres, mount frame; from kuka_allegro.urdf)
FINGERS = ("index", "middle", "ring")
FINGER_BASE = {"index": (-0.0031, 0.0157, 0.1323), "middle": (-0.0031, -0.0294, 0.1346),
               "ring": (-0.0031, -0.0745, 0.1323)}
FINGER_SPLAY = {"index": 0.0873, "middle": 0.0, "ring": -0.0873}   # lean toward +y (rad)
FINGER_LINKS = (0.054, 0.0384)            # proximal, medial
FINGER_TIP = (0.045, 0.01)                # grasp point on link 3: along the link, toward the pad
THUMB_BASE = (-0.0213, -0.0125, 0.0441)
THUMB_KNUCKLE = 0.005                     # thumb joint 0 -> joint 1, along +x
THUMB_TILT = 0.0873                       # the thumb base leans about x like the index finger (rad)
THUMB_LINKS = (0.0554, 0.0514)
THUMB_TIP = (0.06, 0.01)
PALM_CENTER = (-0.0124, -0.0296, 0.0854)
PALM_HALF = (0.0204, 0.0565, 0.0475)
MOUNT_RADIUS, MOUNT_HEIGHT = 0.035, 0.038
FINGER_RADIUS = 0.0095
# Joint limits of kuka_allegro.urdf (rad).
FINGER_LIMITS = ((-0.558, 0.558), (-0.279, 1.728), (-0.279, 1.728), (-0.279, 1.728))
THUMB_LIMITS = ((0.279, 1.571), (-0.332, 1.152), (-0.279, 1.728), (-0.279, 1.763))
# Thumb link frames: local z along the thumb (mount +y at joint 0 = 0), local y = flexion axis
# (mount +x), local x = pad side (mount +z).
THUMB_LINK_QUAT = "0.5 -0.5 -0.5 -0.5"
# Egocentric camera (original: allegro_mount, local (0.05, 0, 0.02), from_euler_zyx(0, -90, 0)).
CAMERA_POS = (0.05, 0.0, 0.02)
CAMERA_XYAXES = "0 -1 0 -1 0 0"          # looks along +z; image right = -y, image up = -x
# Where a held cube's centre sits: under the palm, between the bent fingers and the plane the
# thumb swings through. The scripted oracle steers this point (a site, not in the original).
GRASP_CENTER = (0.047, -0.022, 0.093)
HAND_KP, HAND_KV, HAND_EFFORT = 3.0, 0.1, 0.7
HAND_JOINTS = tuple(f"{f}_joint_{k}" for f in FINGERS + ("thumb",) for k in range(4))


def _s(x: float) -> float:
    return round(x * KUKA_SCALE, 6)


def _v(p) -> str:
    return " ".join(str(_s(c)) for c in p)


def _cap(z0: float, z1: float, r: float, rgba: str = _ARM_RGBA, hand: bool = False) -> str:
    return (f'<geom type="capsule" fromto="0 0 {_s(z0)} 0 0 {_s(z1)}" size="{_s(r)}" rgba="{rgba}" '
            f'{_ROBOT_GEOM if hand else _ARM_GEOM}/>')


def _joint(name: str, axis: str, limits) -> str:
    return (f'<joint name="{name}" axis="{axis}" range="{limits[0]} {limits[1]}" '
            'armature="0.001" damping="0.01"/>')


_INERT = '<inertial pos="0 0 0.01" mass="0.02" diaginertia="2e-6 2e-6 2e-6"/>'
_TIP_RGBA = "0.95 0.95 0.95 1"


def _segments(name: str, axes, lengths, limits, tip) -> str:
    """Links 1..3 of a digit, each a capsule along local +z starting at its joint, the next link
    at its end; link 3 carries the grasp site at ``tip`` = (along, toward the pad = local +x)."""
    xml, close = "", ""
    for k in (1, 2, 3):
        pos = "0 0 0" if k == 1 else f"0 0 {_s(lengths[k - 2])}"
        length = lengths[k - 1] if k < 3 else tip[0]
        site = (f'<site name="{name}_grasp" pos="{_s(tip[1])} 0 {_s(tip[0])}" size="0.005" group="4"/>'
                if k == 3 else "")
        xml += (f'<body name="{name}_link_{k}" pos="{pos}" gravcomp="1">{_INERT}'
                f'{_joint(f"{name}_joint_{k}", axes[k - 1], limits[k])}'
                f'{_cap(0, length, FINGER_RADIUS, _TIP_RGBA if k == 3 else _DARK_RGBA, hand=True)}{site}')
        close += "</body>"
    return xml + close


def _tilt(a: float) -> str:
    """Quaternion of a rotation by -a about x (leans local +z toward +y)."""
    return f"{np.cos(a / 2):.6f} {-np.sin(a / 2):.6f} 0 0"


def _finger(name: str) -> str:
    """Joint 0 turns the finger about its own long axis, joints 1-3 curl it toward +x."""
    return (f'<body name="{name}_link_0" pos="{_v(FINGER_BASE[name])}" quat="{_tilt(FINGER_SPLAY[name])}" '
            'gravcomp="1">'
            f'{_INERT}{_joint(f"{name}_joint_0", "0 0 1", FINGER_LIMITS[0])}'
            f'{_segments(name, ("0 1 0",) * 3, FINGER_LINKS, FINGER_LIMITS, FINGER_TIP)}</body>')


def _thumb() -> str:
    """Joint 0 swings the thumb about -z (from +y toward +x), joint 1 twists it about its own
    axis, joints 2-3 curl it toward the fingertips."""
    knuckle = (f'<geom type="capsule" fromto="0 0 0 {_s(THUMB_KNUCKLE)} 0 0" size="{_s(0.012)}" '
               f'rgba="{_DARK_RGBA}" {_ROBOT_GEOM}/>')
    return (f'<body name="thumb_link_0" pos="{_v(THUMB_BASE)}" quat="{_tilt(THUMB_TILT)}" gravcomp="1">{_INERT}'
            f'{_joint("thumb_joint_0", "0 0 -1", THUMB_LIMITS[0])}{knuckle}'
            f'<body name="thumb_frame" pos="{_s(THUMB_KNUCKLE)} 0 0" quat="{THUMB_LINK_QUAT}">'
            f'{_segments("thumb", ("0 0 1", "0 1 0", "0 1 0"), THUMB_LINKS, THUMB_LIMITS, THUMB_TIP)}'
            '</body></body>')


def _hand() -> str:
    c = CAMERA_POS
    return f"""
      <body name="allegro_mount" pos="0 0 {_s(MOUNT_OFFSET)}" gravcomp="1">
        <inertial pos="0 0 0.05" mass="0.45" diaginertia="5e-4 5e-4 5e-4"/>
        <geom type="cylinder" fromto="0 0 0 0 0 {_s(MOUNT_HEIGHT)}" size="{_s(MOUNT_RADIUS)}"
              rgba="{_DARK_RGBA}" {_ROBOT_GEOM}/>
        <geom type="box" pos="{_v(PALM_CENTER)}" size="{_v(PALM_HALF)}" rgba="{_DARK_RGBA}" {_ROBOT_GEOM}/>
        <camera name="ego" pos="{_v(c)}" xyaxes="{CAMERA_XYAXES}" fovy="{{fovy}}"/>
        <site name="grasp_center" pos="{_v(GRASP_CENTER)}" size="0.005" group="4"/>
        {"".join(_finger(f) for f in FINGERS)}
        {_thumb()}
      </body>"""


def _flange(length: float, r: float) -> str:
    """Link 7 ends flat at the mount (a capsule's round cap would reach into the hand)."""
    return (f'<geom type="cylinder" fromto="0 0 0 0 0 {_s(length)}" size="{_s(r)}" rgba="{_ARM_RGBA}" '
            f'{_ARM_GEOM}/>')


def kuka_body_xml() -> str:
    """The iiwa + hand body tree as an MJCF fragment for ``<worldbody>``."""
    open_tags, close_tags = [], []
    radii = (0.07, 0.07, 0.065, 0.065, 0.06, 0.055, 0.045)
    for i in range(7):
        lim = np.radians(ARM_LIMITS_DEG[i])
        length = ARM_OFFSETS[i + 1] if i < 6 else MOUNT_OFFSET
        pos = f"0 0 {_s(ARM_OFFSETS[i])}"
        open_tags.append(
            f'<body name="iiwa7_link_{i + 1}" pos="{pos}" gravcomp="1">'
            f'<inertial pos="0 0 0.05" mass="{3.0 - 0.3 * i:.2f}" diaginertia="0.02 0.02 0.01"/>'
            f'<joint name="{ARM_JOINTS[i]}" axis="{ARM_AXES[i]}" range="{-lim:.4f} {lim:.4f}" '
            f'armature="0.1" damping="1"/>'
            + (_cap(0.0, length, radii[i]) if i < 6 else _flange(length, radii[i])))
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
