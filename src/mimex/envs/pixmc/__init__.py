"""PixMC-Sparse on MuJoCo: Franka / Kuka Reach, Cabinet, Pick, Move (see docs/pixmc.md).

>>> from mimex.envs import make_env
>>> env = make_env("pixmc/FrankaReach", reward="sparse", obs="state", seed=0)
>>> from mimex.envs.pixmc import scripted_policy, PixmcVecEnv
"""

from mimex.envs.headless import choose_gl

choose_gl()  # before the first ``import mujoco``

from mimex.envs.pixmc.env import PixmcEnv  # noqa: E402
from mimex.envs.pixmc.scripted import scripted_policy  # noqa: E402
from mimex.envs.pixmc.vector import PixmcVecEnv  # noqa: E402

__all__ = ["PixmcEnv", "PixmcVecEnv", "scripted_policy"]
