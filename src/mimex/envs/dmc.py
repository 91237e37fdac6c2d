"""DeepMind Control Suite tasks as Gymnasium environments: ``dmc/<domain>_<task>``.

``obs="state"``: the task's observation dict flattened to float32 in its fixed key order.
``obs="pixels"``: ``frame_stack`` RGB renders stacked channels-first, uint8[3*k, H, W]
(84x84, k=3 by default, the paper's DMC setting), rendered headless (``MUJOCO_GL=egl``,
or osmesa) with the fast settings measured on CPU: no shadows or reflections, no
multisampling, and an offscreen buffer of the image's size (about 6x faster than
dm_control's defaults). Actions are in [-1, 1] and rescaled to the task's bounds; each is
repeated ``action_repeat`` times (2 by default) with rewards summed. Reaching the task's
time limit truncates the episode; a zero discount terminates it.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from mimex.envs.headless import choose_gl  # noqa: E402

choose_gl()  # before dm_control imports mujoco

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

# The camera dm_control's pixel benchmarks use per domain (DrQ-v2: quadruped looks from 2).
DEFAULT_CAMERA = {"quadruped": 2}


def split_name(task_name: str) -> tuple[str, str]:
    """``"cartpole_swingup_sparse"`` -> ``("cartpole", "swingup_sparse")``;
    ``"ball_in_cup_catch"`` -> ``("ball_in_cup", "catch")``: the split dm_control knows."""
    parts = task_name.split("_")
    splits = [("_".join(parts[:i]), "_".join(parts[i:])) for i in range(1, len(parts))]
    try:
        from dm_control import suite

        for pair in splits:
            if pair in suite.ALL_TASKS:
                return pair
    except ImportError:
        pass
    return splits[0] if splits else (task_name, "")


class DMCEnv(gym.Env):
    """One dm_control task. See the module docstring for observations and actions."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, domain: str, task: str, obs: str = "state", seed: int | None = None,
                 image_size: int = 84, frame_stack: int = 3, action_repeat: int = 2,
                 camera_id: int | None = None) -> None:
        from dm_control import suite

        if obs not in ("state", "pixels"):
            raise ValueError(f"dmc observations are 'state' or 'pixels', got {obs!r}")
        if action_repeat < 1 or frame_stack < 1 or image_size < 16:
            raise ValueError(f"need action_repeat >= 1, frame_stack >= 1, image_size >= 16; got "
                             f"{action_repeat}, {frame_stack}, {image_size}")
        self._env = suite.load(domain, task, task_kwargs={"random": seed})
        self.obs_kind, self.size, self.k, self.repeat = obs, image_size, frame_stack, action_repeat
        self.camera = DEFAULT_CAMERA.get(domain, 0) if camera_id is None else camera_id
        spec = self._env.action_spec()
        self._low, self._high = spec.minimum.astype(np.float32), spec.maximum.astype(np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, spec.shape, np.float32)
        if obs == "state":
            dim = sum(int(np.prod(s.shape)) for s in self._env.observation_spec().values())
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        else:
            model = self._env.physics.model
            model.vis.quality.offsamples = 0
            model.vis.global_.offwidth = max(image_size, 16)
            model.vis.global_.offheight = max(image_size, 16)
            self.observation_space = gym.spaces.Box(0, 255, (3 * frame_stack, image_size, image_size), np.uint8)
        self._frames: deque[np.ndarray] = deque(maxlen=frame_stack)

    def _render(self) -> np.ndarray:
        img = self._env.physics.render(self.size, self.size, camera_id=self.camera,
                                       render_flag_overrides={"shadow": False, "reflection": False})
        return np.ascontiguousarray(img.transpose(2, 0, 1))

    def _observe(self, time_step: Any, first: bool) -> np.ndarray:
        if self.obs_kind == "state":
            return np.concatenate([np.asarray(v, dtype=np.float32).ravel()
                                   for v in time_step.observation.values()])
        frame = self._render()
        if first:
            self._frames.extend([frame] * self.k)
        else:
            self._frames.append(frame)
        return np.concatenate(list(self._frames), axis=0)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._env.task.random.seed(seed)
        return self._observe(self._env.reset(), first=True), {}

    def step(self, action: Any):
        a = np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)
        a = self._low + (a + 1.0) * 0.5 * (self._high - self._low)
        reward = 0.0
        for _ in range(self.repeat):
            ts = self._env.step(a)
            reward += float(ts.reward or 0.0)
            if ts.last():
                break
        obs = self._observe(ts, first=False)
        terminated = bool(ts.last() and ts.discount == 0.0)
        truncated = bool(ts.last() and not terminated)
        return obs, reward, terminated, truncated, {}

    def render(self) -> np.ndarray:
        return self._render().transpose(1, 2, 0)

    def close(self) -> None:
        self._env.close()


def make_dmc(task: str, obs: str = "state", seed: int | None = None, **kwargs: Any) -> gym.Env:
    """Factory used by the registry (``task`` is ``"<domain>_<task>"``)."""
    domain, name = split_name(task)
    env = DMCEnv(domain, name, obs=obs, seed=seed, **kwargs)
    env.reset(seed=seed)
    return env


def resolve_spec(name: str):
    """Registry hook: an EnvSpec for any ``dmc/<domain>_<task>`` dm_control knows, else None."""
    from mimex.envs.registry import EnvSpec

    task_name = name.split("/", 1)[1]
    try:
        from dm_control import suite
    except ImportError:
        return EnvSpec(name, "mimex.envs.dmc:make_dmc", tags=("dmc",), obs=("state", "pixels"),
                       extra="dmc", kwargs={"task": task_name})
    if split_name(task_name) not in suite.ALL_TASKS:
        return None
    return EnvSpec(name, "mimex.envs.dmc:make_dmc", tags=("dmc",), obs=("state", "pixels"),
                   extra="dmc", kwargs={"task": task_name})
