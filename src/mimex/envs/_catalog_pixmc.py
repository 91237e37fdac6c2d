"""Registry entries of the pixmc suite (names, tags, reward levels, observation kinds)."""

from __future__ import annotations

from mimex.envs.registry import EnvSpec, register_env

_ROBOTS = {"Franka": "franka", "Kuka": "kuka"}
_TASKS = {"Reach": "reach", "Cabinet": "cabinet", "Pick": "pick", "Move": "move"}

for _robot_name, _robot in _ROBOTS.items():
    for _task_name, _task in _TASKS.items():
        register_env(EnvSpec(
            name=f"pixmc/{_robot_name}{_task_name}",
            entry_point=f"mimex.envs.pixmc.factory:{_robot}_{_task}",
            tags=("pixmc", _robot, _task, "success"),
            rewards=("dense", "sparse", "sparser"),
            obs=("state", "pixels", "pixels+state"),
            default_obs="pixels+state",  # the paper's setting; "state" is privileged (goal, object)
            default_reward="sparse",
        ))
