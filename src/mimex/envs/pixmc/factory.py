"""Factories of the eight registered tasks: ``factory(obs=..., seed=..., reward=..., **kwargs)``."""

from __future__ import annotations

from mimex.envs.pixmc.env import PixmcEnv

ROBOTS = ("franka", "kuka")
TASK_NAMES = {"Reach": "reach", "Cabinet": "cabinet", "Pick": "pick", "Move": "move"}


def make(robot: str, task: str, obs: str = "state", seed: int | None = None,
         reward: str = "sparse", **kwargs) -> PixmcEnv:
    """A ``PixmcEnv`` for ``robot`` ("franka" | "kuka") and ``task`` ("reach", ...)."""
    return PixmcEnv(robot, task, reward=reward, obs=obs, seed=seed, **kwargs)


def _factory(robot: str, task: str):
    def factory(obs: str = "state", seed: int | None = None, reward: str = "sparse", **kwargs):
        return make(robot, task, obs=obs, seed=seed, reward=reward, **kwargs)
    factory.__name__ = f"{robot}_{task}"
    factory.__doc__ = f"pixmc/{robot.capitalize()}{task.capitalize()}: see ``PixmcEnv``."
    return factory


franka_reach = _factory("franka", "reach")
franka_cabinet = _factory("franka", "cabinet")
franka_pick = _factory("franka", "pick")
franka_move = _factory("franka", "move")
kuka_reach = _factory("kuka", "reach")
kuka_cabinet = _factory("kuka", "cabinet")
kuka_pick = _factory("kuka", "pick")
kuka_move = _factory("kuka", "move")
