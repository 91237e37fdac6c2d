"""DeepMind Control Suite tasks as Gymnasium environments: ``dmc/<domain>_<task>``.

``obs="state"``: the task's observation dict flattened to float32 in its fixed key order.
``obs="pixels"``: ``frame_stack`` RGB renders stacked channels-first, uint8[3*k, H, W]
(84x84, k=3 by default, the paper's DMC setting), rendered headless (``MUJOCO_GL=egl``,
or osmesa) with the fast settings measured on CPU: no shadows or reflections, no
multisampling, and an offscreen buffer of the image's size (about 6x faster than
dm_control's defaults). Actions are in [-1, 1] and rescaled to the task's bounds; each is
repeated ``action_repeat`` times (2 by default) with rewards summed. Reaching the task's
time limit truncates the episode; a zero discount terminates it.

``get_state``/``set_state`` snapshot everything the future of an env depends on, as plain
arrays and numbers, so a stopped run resumes bit for bit (see :meth:`DMCEnv.get_state`).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from mimex.envs.headless import choose_gl  # noqa: E402

choose_gl()  # before dm_control imports mujoco

import gymnasium as gym  # noqa: E402
import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from mimex.envs.action_checks import StepGuard  # noqa: E402

# The camera dm_control's pixel benchmarks use per domain (DrQ-v2: quadruped looks from 2).
DEFAULT_CAMERA = {"quadruped": 2}
# Model fields snapshots leave out: textures, meshes and their bounding-volume trees (most of
# a model's memory: 11-70 MiB). No suite task changes them, and a change would also need a
# GPU upload that set_state does not do.
UNTRACKED_MODEL_FIELDS = ("tex_", "mesh_", "bvh_", "skin_", "flex_")


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
        self.task_name = f"{domain}_{task}"
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
        # dm_control itself would silently start a new episode on a step after the last one
        self.guard = StepGuard(f"dmc/{self.task_name}", self.action_space)
        # The model's numeric fields as loaded: snapshots hold those a task changed since
        # (e.g. finger's target site, reacher's target, quadruped's terrain).
        model = self._env.physics.model.ptr
        self._pristine = {n: getattr(model, n).copy() for n in dir(model)
                          if not n.startswith(("_",) + UNTRACKED_MODEL_FIELDS)
                          and isinstance(getattr(model, n), np.ndarray)}

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
        out = self._observe(self._env.reset(), first=True), {}
        self.guard.started()
        return out

    def step(self, action: Any):
        action = self.guard.check(action)  # NaN, wrong shape, before reset, after the end
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
        self.guard.finished(terminated, truncated)
        return obs, reward, terminated, truncated, {}

    def render(self) -> np.ndarray:
        return self._render().transpose(1, 2, 0)

    # ------------------------------------------------------------------ snapshots (exact resume)
    _SIM_STATE = mujoco.mjtState.mjSTATE_INTEGRATION

    def _changed_fields(self) -> list[str]:
        model = self._env.physics.model.ptr
        return [n for n, value in self._pristine.items() if not np.array_equal(getattr(model, n), value)]

    def get_state(self) -> dict[str, Any]:
        """Everything the next steps depend on, as plain arrays and numbers (checkpoint-safe):

        - ``sim``: MuJoCo's integration state (time, positions, velocities, actuator
          activations, controls, applied forces, mocap poses, warm start);
        - ``model``: the model fields the task changed since loading (name -> array), e.g.
          finger's target site or quadruped's terrain, drawn per episode;
        - ``random``: the task's RandomState (it draws each episode's initial state);
        - ``step_count`` / ``reset_next_step``: the dm_control environment's time-limit
          counter and pending-reset flag;
        - ``frames``: the pixel frame stack, uint8[k, 3, H, W] (empty with state observations);
        - ``task`` and ``obs``: what the snapshot belongs to, checked by :meth:`set_state`;
        - ``guard``: whether the episode runs or ended (see ``mimex.envs.action_checks``).
        """
        env = self._env
        model = env.physics.model.ptr
        frames = (np.stack(list(self._frames)) if self._frames
                  else np.zeros((0, 3, self.size, self.size), np.uint8))
        return {"task": self.task_name, "obs": self.obs_kind,
                "sim": env.physics.get_state(sig=self._SIM_STATE),
                "model": {n: getattr(model, n).copy() for n in self._changed_fields()},
                "random": env.task.random.get_state(legacy=False),
                "step_count": int(env._step_count), "reset_next_step": bool(env._reset_next_step),
                "frames": frames, "guard": self.guard.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned, from this or another env made with the
        same task and settings (the seed may differ). A snapshot of another task or
        observation kind is a ValueError naming both."""
        env, physics = self._env, self._env.physics
        model = physics.model.ptr
        if (state.get("task"), state.get("obs")) != (self.task_name, self.obs_kind):
            raise ValueError(
                f"this snapshot is of dmc/{state.get('task')} with {state.get('obs')!r} observations; "
                f"it cannot be restored into dmc/{self.task_name} with {self.obs_kind!r} "
                "observations. Resume with the env settings the run was started with")
        sim = np.asarray(state["sim"], dtype=np.float64)
        expected = mujoco.mj_stateSize(model, self._SIM_STATE)
        frames = np.asarray(state["frames"])
        want_frames = 0 if self.obs_kind == "state" else self.k
        if sim.shape != (expected,) or frames.shape[0] not in (0, want_frames) or (
                frames.size and frames.shape[1:] != (3, self.size, self.size)):
            raise ValueError(
                f"this dmc/{self.task_name} snapshot holds {sim.size} simulator numbers and frames "
                f"of shape {tuple(frames.shape)}; this env needs {expected} and "
                f"({want_frames}, 3, {self.size}, {self.size}): it was saved with other "
                "settings (frame_stack, image_size) or another dm_control version")
        unknown = set(state["model"]) - set(self._pristine)
        if unknown:
            raise ValueError(f"this dmc/{self.task_name} snapshot sets model fields {sorted(unknown)} "
                             "that this env does not have or track: it was saved with another "
                             "MuJoCo or mimex version")
        restored = set(self._changed_fields()) | set(state["model"])
        for name in sorted(restored):
            src = state["model"][name] if name in state["model"] else self._pristine[name]
            np.copyto(getattr(model, name), np.asarray(src).reshape(getattr(model, name).shape))
        if "hfield_data" in restored and physics._contexts is not None:
            with physics.contexts.gl.make_current() as ctx:  # re-upload the terrain (quadruped)
                for i in range(model.nhfield):
                    ctx.call(mujoco.mjr_uploadHField, model, physics.contexts.mujoco.ptr, i)
        mujoco.mj_resetData(model, physics.data.ptr)
        physics.set_state(sim, sig=self._SIM_STATE)
        mujoco.mj_forward(model, physics.data.ptr)
        env.task.random.set_state(state["random"])
        env._step_count = int(state["step_count"])
        env._reset_next_step = bool(state["reset_next_step"])
        self._frames.clear()
        self._frames.extend(np.array(f) for f in frames)
        self.guard.restore(state.get("guard"))

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
