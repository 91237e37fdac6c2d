"""PixMC-Sparse on MuJoCo: Franka / Kuka Reach, Cabinet, Pick, Move (see docs/pixmc.md).

>>> from mimex.envs import make_env
>>> env = make_env("pixmc/FrankaReach", reward="sparse", obs="state", seed=0)
>>> from mimex.envs.pixmc import scripted_policy, PixmcVecEnv
"""

from mimex.envs.pixmc.env import PixmcEnv
from mimex.envs.pixmc.scripted import scripted_policy
from mimex.envs.pixmc.vector import PixmcVecEnv

__all__ = ["PixmcEnv", "PixmcVecEnv", "scripted_policy"]
