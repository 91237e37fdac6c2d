"""``PixmcVecEnv``: many PixMC envs of one task stepped in one process.

All copies share one compiled ``MjModel`` (each has its own ``MjData``) and, for pixel
observations, one offscreen ``mujoco.Renderer``, so memory and GL contexts do not grow with
the number of envs. Episodes auto-reset within the same ``step`` call: the returned
observation of a finished env is the first of its next episode, and the last observation of
the finished one is in ``infos["final_obs"][i]``.

Shapes (N envs, n action dims): actions [N, n] in [-1, 1]; state obs float32 [N, D];
pixels uint8 [N, 3, H, W]; ``pixels+state`` a dict of both; rewards float32 [N];
terminated / truncated / success bool [N].
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from mimex.envs.pixmc import scene
from mimex.envs.pixmc.env import PixmcEnv, open_renderer


def _stack(obs_list: list) -> Any:
    if isinstance(obs_list[0], dict):
        return {k: np.stack([o[k] for o in obs_list]) for k in obs_list[0]}
    return np.stack(obs_list)


class PixmcVecEnv:
    """``num_envs`` copies of ``robot``/``task``; env i is seeded ``seed + i``."""

    def __init__(self, robot: str, task: str, num_envs: int, reward: str = "sparse",
                 obs: str = "state", seed: int | None = None, image_size: int = 64,
                 pretty: bool = False):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = num_envs
        self.model = scene.build_model(robot, task, pretty)
        self.envs = [PixmcEnv(robot, task, reward=reward, obs=obs, image_size=image_size,
                              seed=None if seed is None else seed + i, model=self.model)
                     for i in range(num_envs)]
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.action_space = gym.spaces.Box(-1.0, 1.0, (num_envs, *self.single_action_space.shape),
                                           np.float32)
        self._renderer = open_renderer(self.model, image_size) if obs != "state" else None

    def reset(self, seed: int | None = None):
        """Reset all envs (env i with ``seed + i`` when a seed is given)."""
        obs = []
        for i, env in enumerate(self.envs):
            o, _ = env.reset_with(self._renderer, seed=None if seed is None else seed + i)
            obs.append(o)
        return _stack(obs), {"success": np.zeros(self.num_envs, bool)}

    def step(self, actions: np.ndarray):
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != self.action_space.shape:
            raise ValueError(f"actions must have shape {self.action_space.shape}, got {actions.shape}")
        n = self.num_envs
        obs, final_obs = [], [None] * n
        rew = np.zeros(n, np.float32)
        term, trunc, succ = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        for i, env in enumerate(self.envs):
            a = env.apply_action(actions[i])
            o, rew[i], term[i], trunc[i], info = env.finish_step(a, self._renderer)
            succ[i] = info["success"]
            if term[i] or trunc[i]:
                final_obs[i] = o
                env.reset_state(env.np_random)
                o = env._obs(self._renderer)
            obs.append(o)
        infos = {"success": succ, "final_obs": final_obs}
        return _stack(obs), rew, term, trunc, infos

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        for env in self.envs:
            env.close()
