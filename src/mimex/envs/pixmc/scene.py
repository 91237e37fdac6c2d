"""The MJCF scene of a task: floor, table, the robot, and the task's objects.

Geometry follows official-code-notes section 5: table 0.6 x 1.0 x 0.4 m centred at
(0.5, 0, 0.2); goal sphere r 0.04 (visual only); cube 0.045 m (Franka) / 0.06 m (Kuka) on the
table; a cabinet whose top drawer slides 0..0.4 m toward the robot, with a horizontal bar
handle. Rendering is kept cheap: no shadows, no reflections, 1 light, no skybox textures.

Physics: 60 Hz control, integrated with ``SUBSTEPS`` MuJoCo steps of ``1/(60*SUBSTEPS)`` s
(Isaac Gym used one PhysX TGS step; MuJoCo needs smaller steps for stiff contacts).
"""

from __future__ import annotations

import math

import mujoco

from mimex.envs.pixmc import robots

CONTROL_HZ = 60.0
SUBSTEPS = 5
TABLE_HALF = (0.3, 0.5, 0.2)
TABLE_POS = (0.5, 0.0, 0.2)
CABINET_POS = (0.05, 0.0, 0.45)
CABINET_HALF = (0.2, 0.35, 0.45)
DRAWER_Z = 0.25          # top-drawer centre above the cabinet centre, m
DRAWER_TRAVEL = 0.4      # m
HANDLE_OFFSET = 0.305    # handle point in front of the drawer body, along +x (m)
GOAL_RADIUS = 0.04
# Cube: Isaac Gym's default asset density (create_box) and rigid-shape friction. Mass
# 1000 * size^3: 0.091 kg (Franka, 0.045 m), 0.216 kg (Kuka, 0.06 m). MuJoCo takes the larger
# friction of two touching geoms (PhysX averages them).
CUBE_DENSITY = 1000.0    # kg/m^3
CUBE_FRICTION = 1.0
# 120 deg horizontal FOV on a 298 x 224 render, centre-cropped to 224 x 224, is a square
# image with a 2*atan(tan(60 deg) * 112/149) = 105.1 deg field of view.
EGO_FOVY_DEG = math.degrees(2 * math.atan(math.tan(math.radians(60.0)) * 112.0 / 149.0))

_WORLD = 'contype="1" conaffinity="3"'
# Coarser tessellation of capsules, spheres and cylinders (MuJoCo: 28 slices, 16 stacks, 4
# quads per box face): llvmpipe's cost grows with triangles, and the Kuka hand has dozens of
# capsules. At 64x64 the silhouettes look the same; boxes and the floor are lit flat.
# Measured (2026-11-26, 2 busy cores): Kuka 1.47 -> 0.79 ms per 64x64 frame, Franka 0.47 -> 0.23.
TESSELLATION = {"numslices": 8, "numstacks": 4, "numquads": 1}
_LOW_TESSELLATION = "".join(f' {k}="{v}"' for k, v in TESSELLATION.items())


def _table() -> str:
    h = TABLE_HALF
    p = TABLE_POS
    return (f'<geom name="table" type="box" pos="{p[0]} {p[1]} {p[2]}" size="{h[0]} {h[1]} {h[2]}" '
            f'rgba="0.55 0.4 0.3 1" {_WORLD}/>')


def _goal() -> str:
    return (f'<body name="goal" mocap="true" pos="0.5 0 0.7"><geom type="sphere" size="{GOAL_RADIUS}" '
            'rgba="0.1 0.9 0.1 0.6" contype="0" conaffinity="0"/></body>')


def _cube(size: float) -> str:
    s = size / 2
    f = CUBE_FRICTION
    return (f'<body name="cube" pos="0.5 0 {0.4 + s}"><freejoint name="cube_joint"/>'
            f'<geom name="cube" type="box" size="{s} {s} {s}" density="{CUBE_DENSITY}" '
            f'rgba="0.9 0.2 0.2 1" friction="{f} 0.01 0.001" condim="4" {_WORLD}/></body>')


def _cabinet() -> str:
    """A mocap cabinet body (reset moves it through ``mocap_pos``) with a sliding drawer.

    The drawer body origin sits at the cabinet centre in x; its handle point is
    ``HANDLE_OFFSET`` in front (+x) of it, like the original's drawer_top + (0.305, 0, 0.01).
    """
    hx, hy, hz = CABINET_HALF
    c = CABINET_POS
    wall = 0.01
    front = HANDLE_OFFSET - 0.05           # drawer front face, relative to drawer origin
    dz = DRAWER_Z
    g = f'rgba="0.85 0.85 0.8 1" {_WORLD}'
    return f"""
    <body name="cabinet" mocap="true" pos="{c[0]} {c[1]} {c[2]}">
      <geom type="box" pos="{-hx + wall} 0 0" size="{wall} {hy} {hz}" {g}/>
      <geom type="box" pos="0 {hy - wall} 0" size="{hx} {wall} {hz}" {g}/>
      <geom type="box" pos="0 {-hy + wall} 0" size="{hx} {wall} {hz}" {g}/>
      <geom type="box" pos="0 0 {hz - wall}" size="{hx} {hy} {wall}" {g}/>
      <geom type="box" pos="0 0 {-0.1}" size="{hx} {hy - 2 * wall} {hz - 0.1}" {g}/>
      <geom type="box" pos="0 0 {dz - 0.1}" size="{hx} {hy - 2 * wall} {wall}" {g}/>
      <body name="drawer_top" pos="{hx - front} 0 {dz}">
        <joint name="drawer_joint" type="slide" axis="1 0 0" range="0 {DRAWER_TRAVEL}" damping="10"
               armature="0.005"/>
        <geom type="box" pos="{front - wall} 0 0" size="{wall} {hy - 2 * wall - 0.005} 0.08" rgba="0.7 0.6 0.5 1" {_WORLD}/>
        <geom type="box" pos="{front - 0.2} 0 -0.075" size="0.19 {hy - 0.03} {wall}" rgba="0.7 0.6 0.5 1" {_WORLD}/>
        <geom type="capsule" fromto="{front + 0.02} -0.03 0 {front + 0.02} 0.03 0" size="0.01" {g}/>
        <geom name="handle" type="capsule" fromto="{HANDLE_OFFSET} -0.08 0.01 {HANDLE_OFFSET} 0.08 0.01"
              size="0.012" rgba="0.2 0.2 0.2 1" solref="0.01 1" {_WORLD}/>
        <geom type="box" pos="{(front + HANDLE_OFFSET) / 2} -0.08 0.01" size="{(HANDLE_OFFSET - front) / 2} 0.006 0.006" rgba="0.2 0.2 0.2 1" {_WORLD}/>
        <geom type="box" pos="{(front + HANDLE_OFFSET) / 2} 0.08 0.01" size="{(HANDLE_OFFSET - front) / 2} 0.006 0.006" rgba="0.2 0.2 0.2 1" {_WORLD}/>
        <site name="handle_point" pos="{HANDLE_OFFSET} 0 0.01" size="0.005" group="4"/>
      </body>
    </body>"""


def scene_xml(robot: str, task: str, pretty: bool = False) -> str:
    """The full MJCF of ``robot`` ("franka" | "kuka") in ``task`` ("reach" | "cabinet" | "pick" | "move");
    ``pretty`` turns on shadows and 4x multisampling."""
    if robot == "franka":
        body, act = robots.franka_body_xml(), robots.franka_actuator_xml()
        cube = 0.045
    elif robot == "kuka":
        from mimex.envs.pixmc import kuka
        body, act = kuka.kuka_body_xml(), kuka.kuka_actuator_xml()
        cube = 0.06
    else:
        raise ValueError(f"unknown robot {robot!r}; expected 'franka' or 'kuka'")
    body = body.replace("{fovy}", f"{EGO_FOVY_DEG:.4f}")
    objects = {"reach": _goal(), "cabinet": _cabinet(), "pick": _cube(cube),
               "move": _cube(cube) + _goal()}
    if task not in objects:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(objects)}")
    table = "" if task == "cabinet" else _table()
    dt = 1.0 / (CONTROL_HZ * SUBSTEPS)
    return f"""
<mujoco model="pixmc_{robot}_{task}">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{dt:.8f}" integrator="implicitfast" cone="elliptic" impratio="5"/>
  <visual>
    <global offwidth="224" offheight="224"/>
    <quality shadowsize="{2048 if pretty else 0}" offsamples="{4 if pretty else 0}"{"" if pretty else _LOW_TESSELLATION}/>
    <headlight ambient="0.45 0.45 0.45" diffuse="0.5 0.5 0.5" specular="0 0 0"/>
  </visual>
  <worldbody>
    <light pos="0.5 0 2.5" dir="0 0 -1" castshadow="{str(pretty).lower()}" diffuse="0.4 0.4 0.4"/>
    <geom name="floor" type="plane" size="3 3 0.1" rgba="0.35 0.38 0.42 1" {_WORLD}/>
    <body name="view_target" pos="0.55 0 0.55"/>
    <camera name="third_person" pos="0.35 1.45 1.35" mode="targetbody" target="view_target" fovy="50"/>
    {table}
    {objects[task]}
    {body}
  </worldbody>
  <actuator>
    {act}
  </actuator>
</mujoco>"""


def build_model(robot: str, task: str, pretty: bool = False) -> mujoco.MjModel:
    """Compile the scene of ``robot`` in ``task`` (``pretty``: shadows and 4x multisampling,
    slower to render; the default renders neither)."""
    return mujoco.MjModel.from_xml_string(scene_xml(robot, task, pretty))
