"""Per-task constants: episode lengths, reset ranges, success and termination thresholds.

All from official-code-notes section 5 (positions in metres, world frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TASKS = ("reach", "cabinet", "pick", "move")
SUCCESS_HOLD_STEPS = 10
ARM_CONTACT_FORCE_LIMIT = 1.0  # N


@dataclass(frozen=True)
class TaskSpec:
    """What varies between tasks.

    Attributes:
        goal_init, goal_delta: goal sphere centre and +- uniform range per axis (None: no goal).
        cube_xy_init, cube_xy_delta: cube centre on the table and its +- range (None: no cube).
        cube_z0: the cube's resting height (its centre).
        cabinet_delta: +- range of the cabinet position (None: no cabinet).
        drop_limit: cube more than this below z0 ends the episode (m).
        success_latch_one_step: success latches on the first step the condition holds.
        move_success_tol: Move object-to-goal success distance (m).
    """

    goal_init: tuple[float, float, float] | None = None
    goal_delta: tuple[float, float, float] | None = None
    cube_xy_init: tuple[float, float] | None = None
    cube_xy_delta: tuple[float, float] | None = None
    cube_z0: float = 0.0
    cabinet_delta: tuple[float, float, float] | None = None
    drop_limit: float = 0.0
    success_latch_one_step: bool = False
    move_success_tol: float = 0.0


def task_spec(robot: str, task: str) -> TaskSpec:
    """The constants of ``robot`` in ``task``."""
    franka = robot == "franka"
    cube = dict(cube_xy_init=(0.5, 0.0), cube_xy_delta=(0.1, 0.2),
                cube_z0=0.4225 if franka else 0.43, drop_limit=0.04 if franka else 0.06)
    if task == "reach":
        init = (0.55, 0.0, 0.7) if franka else (0.45, 0.0, 0.65)
        return TaskSpec(goal_init=init, goal_delta=(0.2, 0.3, 0.2))
    if task == "cabinet":
        return TaskSpec(cabinet_delta=(0.075, 0.075, 0.05))
    if task == "pick":
        return TaskSpec(**cube)
    if task == "move":
        return TaskSpec(goal_init=(0.5, 0.0, 0.7), goal_delta=(0.1, 0.2, 0.1),
                        success_latch_one_step=franka, move_success_tol=0.04 if franka else 0.0675,
                        **cube)
    raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")


def episode_length(robot: str, task: str, level: str) -> int:
    """Steps per episode: Reach 200; Franka Cabinet 500 dense / 1000 sparse(r); others 500."""
    if task == "reach":
        return 200
    if task == "cabinet" and robot == "franka" and level != "dense":
        return 1000
    return 500


def uniform_around(rng: np.random.Generator, init, delta) -> np.ndarray:
    """init + U[-delta, +delta] per axis."""
    init, delta = np.asarray(init, float), np.asarray(delta, float)
    return init + rng.uniform(-delta, delta)
