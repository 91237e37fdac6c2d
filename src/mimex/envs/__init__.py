"""Environments: PixMC-Sparse on MuJoCo, DeepMind Control, Atari, and tiny test tasks.

>>> from mimex.envs import make_env, list_envs
"""

from mimex.envs.registry import EnvSpec, env_spec, list_envs, make_env, register_env

__all__ = ["EnvSpec", "env_spec", "list_envs", "make_env", "register_env"]
