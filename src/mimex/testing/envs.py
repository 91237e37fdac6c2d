"""Tiny, fully deterministic environments for testing training machinery.

* ``PointGoalEnv``: a 2-D point pushed by continuous actions toward a far goal; reward 1
  and termination on reaching it; time-limit truncation. Supports ``get_state`` /
  ``set_state`` so runs resume bit-exactly. ``discrete=True`` gives 4 discrete moves.
* ``NanRewardEnv``: returns a NaN reward at a chosen step, to test the NaN guard.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class PointGoalEnv(gym.Env):
    """A point in [-1, 1]^2 starting near the origin; the goal is the corner (0.9, 0.9).

    Observation float32[4]: position and goal. Action float32[2] in [-1, 1] (a move of
    ``0.05 * action``) or, with ``discrete``, one of 4 unit moves. Reward 1 within 0.1 of
    the goal (terminates, ``info["success"] = True``), else 0. Truncates after ``horizon``.
    """

    metadata = {"render_modes": []}

    def __init__(self, horizon: int = 50, discrete: bool = False, nan_at: int | None = None) -> None:
        self.horizon, self.discrete, self.nan_at = horizon, discrete, nan_at
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.action_space = gym.spaces.Discrete(4) if discrete else gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.goal = np.array([0.9, 0.9], dtype=np.float32)
        self.pos = np.zeros(2, dtype=np.float32)
        self.t = 0
        self.total_steps = 0

    def _obs(self) -> np.ndarray:
        return np.concatenate([self.pos, self.goal]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(-0.1, 0.1, size=2).astype(np.float32)
        self.t = 0
        return self._obs(), {"success": False}

    def step(self, action: Any):
        if self.discrete:
            move = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=np.float32)[int(action)]
        else:
            move = np.clip(np.asarray(action, dtype=np.float32), -1, 1)
        self.pos = np.clip(self.pos + 0.05 * move, -1.0, 1.0).astype(np.float32)
        self.t += 1
        self.total_steps += 1
        success = bool(np.linalg.norm(self.pos - self.goal) < 0.1)
        reward = 1.0 if success else 0.0
        if self.nan_at is not None and self.total_steps == self.nan_at:
            reward = float("nan")
        truncated = self.t >= self.horizon and not success
        return self._obs(), reward, success, truncated, {"success": success}

    def get_state(self) -> dict[str, Any]:
        return {"pos": self.pos.copy(), "t": self.t, "total": self.total_steps,
                "rng": self.np_random.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> None:
        self.pos = np.asarray(state["pos"], dtype=np.float32).copy()
        self.t, self.total_steps = int(state["t"]), int(state["total"])
        self.np_random.bit_generator.state = state["rng"]


def make_point_goal(obs: str = "state", seed: int | None = None, **kwargs: Any) -> gym.Env:
    env = PointGoalEnv(**kwargs)
    env.reset(seed=seed)
    return env
