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

from mimex.envs.action_checks import StepGuard

IMAGE = 40  # pixel observations: uint8[3, 40, 40] (the smallest a Nature CNN takes is 36)


class PointGoalEnv(gym.Env):
    """A point in [-1, 1]^2 starting near the origin; the goal is the corner (0.9, 0.9).

    Observation float32[4]: position and goal (``obs="state"``), a uint8[3, 40, 40] drawing
    (``"pixels"``), or both in a dict (``"pixels+state"``). Action float32[2] in [-1, 1] (a move of
    ``0.05 * action``) or, with ``discrete``, one of 4 unit moves. Reward 1 within 0.1 of
    the goal (terminates, ``info["success"] = True``), else 0. Truncates after ``horizon``.
    """

    metadata = {"render_modes": []}

    def __init__(self, horizon: int = 50, discrete: bool = False, nan_at: int | None = None,
                 obs: str = "state") -> None:
        self.horizon, self.discrete, self.nan_at, self.obs_kind = horizon, discrete, nan_at, obs
        state = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        pixels = gym.spaces.Box(0, 255, (3, IMAGE, IMAGE), np.uint8)
        self.observation_space = {"state": state, "pixels": pixels,
                                  "pixels+state": gym.spaces.Dict({"pixels": pixels, "state": state})}[obs]
        self.action_space = gym.spaces.Discrete(4) if discrete else gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.goal = np.array([0.9, 0.9], dtype=np.float32)
        self.pos = np.zeros(2, dtype=np.float32)
        self.t = 0
        self.total_steps = 0
        self.guard = StepGuard("testing/PointGoal", self.action_space)

    def _obs(self) -> Any:
        state = np.concatenate([self.pos, self.goal]).astype(np.float32)
        if self.obs_kind == "state":
            return state
        img = np.zeros((3, IMAGE, IMAGE), dtype=np.uint8)
        to_px = lambda v: int(np.clip((v + 1) / 2 * (IMAGE - 1), 0, IMAGE - 1))  # noqa: E731
        gx, gy = to_px(self.goal[0]), to_px(self.goal[1])
        img[1, max(gy - 2, 0):gy + 3, max(gx - 2, 0):gx + 3] = 255
        px, py = to_px(self.pos[0]), to_px(self.pos[1])
        img[0, max(py - 1, 0):py + 2, max(px - 1, 0):px + 2] = 255
        return img if self.obs_kind == "pixels" else {"pixels": img, "state": state}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(-0.1, 0.1, size=2).astype(np.float32)
        self.t = 0
        self.guard.started()
        return self._obs(), {"success": False}

    def step(self, action: Any):
        action = self.guard.check(action)  # NaN, wrong shape, before reset, after the end
        if self.discrete:
            move = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=np.float32)[action]
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
        self.guard.finished(success, truncated)
        return self._obs(), reward, success, truncated, {"success": success}

    def get_state(self) -> dict[str, Any]:
        return {"pos": self.pos.copy(), "t": self.t, "total": self.total_steps,
                "rng": self.np_random.bit_generator.state, "guard": self.guard.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.pos = np.asarray(state["pos"], dtype=np.float32).copy()
        self.t, self.total_steps = int(state["t"]), int(state["total"])
        self.np_random.bit_generator.state = state["rng"]
        self.guard.restore(state.get("guard"))


def make_point_goal(obs: str = "state", seed: int | None = None, **kwargs: Any) -> gym.Env:
    env = PointGoalEnv(obs=obs, **kwargs)
    env.reset(seed=seed)
    return env
