"""``PixmcEnv``: one PixMC-Sparse task on MuJoCo as a ``gymnasium.Env``.

Step (60 Hz): targets <- clip(targets + speeds * clip(a, -1, 1), limits) -> ``SUBSTEPS``
MuJoCo steps -> task quantities -> reward, success counter, termination -> observation.

Observations:
    state: float32 [n_q * 2 + n_task]: joint positions scaled to [-1, 1] by their limits,
        joint velocities x 0.1, then the task state (grasp points, goal / cube / handle positions,
        drawer opening), all clipped to +-5.
    pixels: uint8 [3, H, W], the egocentric hand camera (square, 104.95 deg FOV = the original
        120 deg horizontal FOV after its centre crop).
    pixels+state: {"pixels": ..., "state": float32 [n_q * 2]}: the image and proprioception
        only (scaled joint positions and velocities), as the original pixel-based PixMC
        agents see it; goal and object positions are never given with pixels.
Info (every step): ``success`` (bool, latched for the episode), ``success_count``, the reward
``terms``, and the ``arm_collision`` / ``dropped`` flags (each ends the episode:
``terminated``) and ``unstable`` (MuJoCo diverged; the step is undone and the episode is
cut: ``truncated``, never a true terminal); ``dense_reward``: the reward this step would have
had at the ``dense`` level, whatever the env's level (a progress measure that does not depend
on the reward level: runs log its episode sum as ``charts/dense_return``).
"""

from __future__ import annotations

import atexit
import weakref
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from mimex.envs.action_checks import StepGuard
from mimex.envs.pixmc import rewards, robots, scene, tasks

OBS_CLIP = 5.0
VEL_SCALE = 0.1
MAX_IMAGE_SIZE = 224
OBS_KINDS = ("state", "pixels", "pixels+state")
# Renderers still open at interpreter exit are closed by an atexit hook that runs before
# MuJoCo's own EGL shutdown hook (registered later, so run earlier); closing them during module
# teardown instead makes EGL print tracebacks.
_OPEN_RENDERERS: weakref.WeakSet = weakref.WeakSet()


def _close_open_renderers() -> None:
    for renderer in list(_OPEN_RENDERERS):
        renderer.close()


def open_renderer(model: mujoco.MjModel, size: int) -> mujoco.Renderer:
    """A ``size`` x ``size`` offscreen renderer, closed at exit if its owner never closes it."""
    renderer = mujoco.Renderer(model, size, size)
    if not _OPEN_RENDERERS:  # (re-)register after the GL back end registered its own hook
        atexit.unregister(_close_open_renderers)
        atexit.register(_close_open_renderers)
    _OPEN_RENDERERS.add(renderer)
    return renderer


def robot_info(robot: str) -> robots.RobotInfo:
    if robot == "franka":
        return robots.FRANKA
    if robot == "kuka":
        from mimex.envs.pixmc import kuka
        return kuka.KUKA
    raise ValueError(f"unknown robot {robot!r}; expected 'franka' or 'kuka'")


def net_contact_forces(model: mujoco.MjModel, data: mujoco.MjData,
                       mask: np.ndarray) -> dict[int, np.ndarray]:
    """Net contact force [3] (world frame, N) on each body ``b`` with ``mask[b]`` that has
    contacts: all its contacts' force vectors summed (a contact's force acts on geom2 along
    +normal, on geom1 along -normal)."""
    out: dict[int, np.ndarray] = {}
    f6 = np.zeros(6)
    for i in range(data.ncon):
        c = data.contact[i]
        b1, b2 = model.geom_bodyid[c.geom1], model.geom_bodyid[c.geom2]
        if not (mask[b1] or mask[b2]) or c.efc_address < 0:
            continue
        mujoco.mj_contactForce(model, data, i, f6)
        f = c.frame.reshape(3, 3).T @ f6[:3]   # contact frame (rows: normal, t1, t2) -> world
        for b, sign in ((b2, 1.0), (b1, -1.0)):
            if mask[b]:
                out[int(b)] = out.get(int(b), np.zeros(3)) + sign * f
    return out


class PixmcEnv(gym.Env):
    """One PixMC task: ``robot`` in {"franka", "kuka"}, ``task`` in {"reach", "cabinet", "pick",
    "move"}, ``reward`` in {"dense", "sparse", "sparser"}, ``obs`` in {"state", "pixels",
    "pixels+state"}, ``image_size`` (pixels, <= 224), ``pretty`` (shadows and multisampling,
    slower; off by default). ``model`` lets several envs share one compiled model (the
    vectorised env does); ``pretty`` is then the model's (set it in ``scene.build_model``)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(self, robot: str, task: str, reward: str = "sparse", obs: str = "state",
                 seed: int | None = None, image_size: int = 64, render_mode: str | None = None,
                 model: mujoco.MjModel | None = None, pretty: bool = False):
        if obs not in OBS_KINDS:
            raise ValueError(f"unknown obs {obs!r}; expected one of {OBS_KINDS}")
        if not 8 <= int(image_size) <= MAX_IMAGE_SIZE:
            raise ValueError(f"image_size must be in [8, {MAX_IMAGE_SIZE}], got {image_size}")
        self.robot, self.task, self.level, self.obs_kind = robot, task, reward, obs
        self.image_size = int(image_size)
        self.render_mode = render_mode
        self.info = robot_info(robot)
        self.spec_task = tasks.task_spec(robot, task)
        self.scales = rewards.scales(robot, task, reward)
        self.dense_scales = rewards.scales(robot, task, "dense")
        self.max_steps = tasks.episode_length(robot, task, reward)
        self.model = model if model is not None else scene.build_model(robot, task, pretty)
        self.data = mujoco.MjData(self.model)
        m = self.model
        self._qadr = np.array([m.joint(j).qposadr[0] for j in self.info.joints])
        self._vadr = np.array([m.joint(j).dofadr[0] for j in self.info.joints])
        self._lo = np.array([m.joint(j).range[0] for j in self.info.joints])
        self._hi = np.array([m.joint(j).range[1] for j in self.info.joints])
        self._is_arm = np.zeros(m.nbody, bool)
        self._is_arm[[m.body(b).id for b in self.info.arm_bodies]] = True
        self._hand_site = m.site(self.info.hand_site).id
        self._finger_sites = np.array([m.site(s).id for s in self.info.finger_sites])
        self._goal_mocap = m.body("goal").mocapid[0] if self.spec_task.goal_init else None
        if task == "cabinet":
            self._cab_mocap = m.body("cabinet").mocapid[0]
            self._drawer_q = m.joint("drawer_joint").qposadr[0]
            self._handle_site = m.site("handle_point").id
        if self.spec_task.cube_xy_init:
            self._cube_q = m.joint("cube_joint").qposadr[0]
            self._cube_v = m.joint("cube_joint").dofadr[0]
        n = len(self.info.joints)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n,), np.float32)
        state_dim = 2 * n + self._task_state_dim()
        state_space = gym.spaces.Box(-OBS_CLIP, OBS_CLIP, (state_dim,), np.float32)
        proprio_space = gym.spaces.Box(-OBS_CLIP, OBS_CLIP, (2 * n,), np.float32)
        pix_space = gym.spaces.Box(0, 255, (3, self.image_size, self.image_size), np.uint8)
        self.observation_space = {"state": state_space, "pixels": pix_space,
                                  "pixels+state": gym.spaces.Dict(pixels=pix_space, state=proprio_space)}[obs]
        self._renderer: mujoco.Renderer | None = None
        self._pending_seed = seed
        self._targets = np.zeros(n)
        self._steps = 0
        self._count = 0
        self._success = False
        self.guard = StepGuard(f"pixmc/{robot.capitalize()}{task.capitalize()}", self.action_space)

    # ------------------------------------------------------------------ quantities
    def _task_state_dim(self) -> int:
        nf = 3 * len(self.info.finger_sites)
        return {"reach": 6, "cabinet": nf + 4, "pick": nf + 3, "move": nf + 6}[self.task]

    def hand_point(self) -> np.ndarray:
        """The Reach hand point [3] (Franka: between the fingers; Kuka: index grasp point)."""
        return self.data.site_xpos[self._hand_site].copy()

    def finger_points(self) -> np.ndarray:
        """Grasp points [k, 3] (Franka left, right; Kuka index, middle, ring, thumb)."""
        return self.data.site_xpos[self._finger_sites].copy()

    def goal(self) -> np.ndarray:
        return self.data.mocap_pos[self._goal_mocap].copy()

    def cube(self) -> np.ndarray:
        return self.data.qpos[self._cube_q:self._cube_q + 3].copy()

    def handle(self) -> np.ndarray:
        return self.data.site_xpos[self._handle_site].copy()

    def opening(self) -> float:
        return float(self.data.qpos[self._drawer_q])

    def task_state(self) -> np.ndarray:
        """The task part of the state observation (see ``_task_state_dim``)."""
        if self.task == "reach":
            parts = [self.hand_point(), self.goal()]
        elif self.task == "cabinet":
            parts = [self.finger_points().ravel(), self.handle(), [self.opening()]]
        elif self.task == "pick":
            parts = [self.finger_points().ravel(), self.cube()]
        else:
            parts = [self.finger_points().ravel(), self.cube(), self.goal()]
        return np.concatenate([np.asarray(p, float).ravel() for p in parts])

    def _state(self, with_task: bool = True) -> np.ndarray:
        """Scaled joint positions and velocities, then (``with_task``) the task state."""
        q = self.data.qpos[self._qadr]
        qd = self.data.qvel[self._vadr]
        scaled = 2.0 * (q - self._lo) / (self._hi - self._lo) - 1.0
        parts = [scaled, VEL_SCALE * qd] + ([self.task_state()] if with_task else [])
        return np.clip(np.concatenate(parts), -OBS_CLIP, OBS_CLIP).astype(np.float32)

    def render_camera(self, camera: str | int, renderer: mujoco.Renderer | None = None) -> np.ndarray:
        """RGB uint8 [H, W, 3] from ``camera`` with this env's (or the given) renderer."""
        if renderer is None:
            if self._renderer is None:
                self._renderer = open_renderer(self.model, self.image_size)
            renderer = self._renderer
        renderer.update_scene(self.data, camera=camera)
        return renderer.render()

    def _obs(self, renderer: mujoco.Renderer | None = None):
        if self.obs_kind == "state":
            return self._state()
        pix = np.ascontiguousarray(self.render_camera(self.info.camera, renderer).transpose(2, 0, 1))
        if self.obs_kind == "pixels":
            return pix
        return {"pixels": pix, "state": self._state(with_task=False)}

    def arm_contact_forces(self) -> dict[str, np.ndarray]:
        """Net contact force [3] (world frame, N) on each arm body that has contacts: the sum
        over its contacts of the force the other geom exerts on it (as Isaac Gym's net
        contact force per rigid body)."""
        return {self.model.body(b).name: f for b, f in
                net_contact_forces(self.model, self.data, self._is_arm).items()}

    def arm_collision(self) -> bool:
        """True when the net contact force on some arm link has a norm above 1 N."""
        return any(np.linalg.norm(f) > tasks.ARM_CONTACT_FORCE_LIMIT
                   for f in net_contact_forces(self.model, self.data, self._is_arm).values())

    # ------------------------------------------------------------------ reward / success
    def _reward_and_flags(self, action: np.ndarray, s: dict[str, float] | None = None):
        """(reward, terms, success condition, dropped) after a step, with the scales ``s``
        (default: the env's reward level)."""
        s, r = self.scales if s is None else s, self.robot
        cond, dropped = False, False
        if self.task == "reach":
            rew, terms = rewards.reach(s, self.hand_point(), self.goal(), action)
            cond = np.linalg.norm(self.hand_point() - self.goal()) <= 0.04
        elif self.task == "cabinet":
            f, h, o = self.finger_points(), self.handle(), self.opening()
            rew, terms = rewards.cabinet(r, s, f, h, o, action)
            cond = o >= 0.32
            if r == "franka":
                cond = cond and bool(np.all(np.linalg.norm(f - h, axis=1) < 0.04))
        else:
            f, c, z0 = self.finger_points(), self.cube(), self.spec_task.cube_z0
            if self.task == "pick":
                rew, terms = rewards.pick(r, s, f, c, z0, action)
                cond = abs(rewards.PICK_GOAL_HEIGHT - c[2]) <= 0.1
            else:
                rew, terms = rewards.move(r, s, f, c, z0, self.goal(), action)
                cond = np.linalg.norm(self.goal() - c) <= self.spec_task.move_success_tol
            dropped = c[2] < z0 - self.spec_task.drop_limit
        return rew, terms, bool(cond), bool(dropped)

    def _update_success(self, cond: bool) -> None:
        if self.spec_task.success_latch_one_step:
            self._success = self._success or cond
            return
        if self._count >= tasks.SUCCESS_HOLD_STEPS:
            return
        self._count = self._count + 1 if cond else 0
        self._success = self._count >= tasks.SUCCESS_HOLD_STEPS

    # ------------------------------------------------------------------ gym API
    def reset_state(self, rng: np.random.Generator) -> None:
        """Randomise robot and task as the original (q = default + U(-0.125, 0.125) per joint)."""
        m, d, ts = self.model, self.data, self.spec_task
        mujoco.mj_resetData(m, d)
        q = np.clip(self.info.default_q + 0.25 * (rng.random(len(self._qadr)) - 0.5), self._lo, self._hi)
        d.qpos[self._qadr] = q
        self._targets = q.copy()
        d.ctrl[:] = q
        if ts.goal_init is not None:
            d.mocap_pos[self._goal_mocap] = tasks.uniform_around(rng, ts.goal_init, ts.goal_delta)
        if ts.cabinet_delta is not None:
            d.mocap_pos[self._cab_mocap] = tasks.uniform_around(rng, scene.CABINET_POS, ts.cabinet_delta)
        if ts.cube_xy_init is not None:
            xy = tasks.uniform_around(rng, ts.cube_xy_init, ts.cube_xy_delta)
            d.qpos[self._cube_q:self._cube_q + 7] = [xy[0], xy[1], ts.cube_z0, 1, 0, 0, 0]
        mujoco.mj_forward(m, d)
        self._steps, self._count, self._success = 0, 0, False
        self.guard.started()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        return self.reset_with(None, seed=seed)

    def reset_with(self, renderer: mujoco.Renderer | None, seed: int | None = None,
                   observe: bool = True):
        """``reset`` that renders with ``renderer`` (the vectorised env's shared one); the
        observation is None with ``observe=False`` (the vectorised env renders in a batch)."""
        if seed is None and self._pending_seed is not None:
            seed = self._pending_seed
        self._pending_seed = None
        super().reset(seed=seed)
        self.reset_state(self.np_random)
        return self._obs(renderer) if observe else None, {"success": False, "success_count": 0}

    def apply_action(self, action: np.ndarray) -> np.ndarray:
        """Integrate the targets and run the physics of one control step; returns the clipped action."""
        return self.run_physics(self.check_action(action))

    def check_action(self, action: np.ndarray) -> np.ndarray:
        """The action clipped to [-1, 1]; NaN/inf, a wrong shape, a step before reset or after
        the end are refused (``StepGuard``) before anything changes."""
        return np.clip(np.asarray(self.guard.check(action), dtype=np.float64), -1.0, 1.0)

    def run_physics(self, a: np.ndarray) -> np.ndarray:
        """The physics of one control step for a checked action ``a``; touches this env's
        ``MjData`` only (the vectorised env runs it in threads: MuJoCo releases the GIL)."""
        self._targets = np.clip(self._targets + self.info.speeds * a, self._lo, self._hi)
        self.data.ctrl[:] = self._targets
        m, d = self.model, self.data
        before, n_bad = self._sim_state(), self._n_bad()
        mujoco.mj_step(m, d, nstep=scene.SUBSTEPS)
        if self._n_bad() > n_bad:
            # MuJoCo diverged and reset the state to qpos0 by itself: put back the state of
            # the step start (the last valid one) so that the final observation is usable.
            n_bad = self._n_bad()
            mujoco.mj_setState(m, d, before, self._SIM_STATE)
            mujoco.mj_forward(m, d)
            self._set_n_bad(n_bad)
        return a

    _BAD = (mujoco.mjtWarning.mjWARN_BADQACC, mujoco.mjtWarning.mjWARN_BADQVEL,
            mujoco.mjtWarning.mjWARN_BADQPOS)

    _BAD_IDX = np.array([int(w) for w in _BAD])

    def _n_bad(self) -> int:
        """How often MuJoCo found a diverged acceleration, velocity or position this episode."""
        return int(self.data.warning.number[self._BAD_IDX].sum())

    def _set_n_bad(self, n: int) -> None:
        for w in self._BAD:
            self.data.warning[w].number = 0
        self.data.warning[self._BAD[0]].number = n

    # ------------------------------------------------------------------ snapshots (exact resume)
    _SIM_STATE = mujoco.mjtState.mjSTATE_INTEGRATION

    def _sim_state(self) -> np.ndarray:
        sim = np.empty(mujoco.mj_stateSize(self.model, self._SIM_STATE))
        mujoco.mj_getState(self.model, self.data, sim, self._SIM_STATE)
        return sim

    def get_state(self) -> dict[str, Any]:
        """Everything the next steps depend on: MuJoCo's integration state (time, positions,
        velocities, controls, mocap poses, warm start), the joint targets, step and success
        counters and the reset RNG. Plain arrays and numbers (checkpoint-safe)."""
        return {"sim": self._sim_state(), "targets": self._targets.copy(), "steps": self._steps,
                "count": self._count, "success": self._success,
                "badqacc": self._n_bad(),
                "rng": self.np_random.bit_generator.state, "guard": self.guard.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned (same robot and task)."""
        sim = np.asarray(state["sim"], dtype=np.float64)
        expected = mujoco.mj_stateSize(self.model, self._SIM_STATE)
        if sim.shape != (expected,):
            raise ValueError(f"PixMC snapshot holds {sim.size} simulator numbers, this "
                             f"{self.robot} {self.task} model needs {expected}: it was saved "
                             "from another task")
        mujoco.mj_resetData(self.model, self.data)
        mujoco.mj_setState(self.model, self.data, sim, self._SIM_STATE)
        mujoco.mj_forward(self.model, self.data)
        self._set_n_bad(int(state["badqacc"]))
        self._targets = np.asarray(state["targets"], dtype=np.float64).copy()
        self._steps, self._count = int(state["steps"]), int(state["count"])
        self._success = bool(state["success"])
        self._pending_seed = None
        self.np_random.bit_generator.state = state["rng"]
        self.guard.restore(state.get("guard"))

    def unstable(self) -> bool:
        """True when MuJoCo flagged a diverging acceleration (or velocity, position) this
        episode; ``apply_action`` then restored the state of the step start. The env cuts the
        episode there as a truncation, not a true terminal: the agent did nothing wrong, so
        value targets should bootstrap from the final observation."""
        return self._n_bad() > 0

    def finish_step(self, a: np.ndarray, renderer: mujoco.Renderer | None = None,
                    observe: bool = True):
        """Reward, success, termination and observation after ``apply_action`` (the
        observation is None with ``observe=False``: the vectorised env renders in a batch)."""
        self._steps += 1
        rew, terms, cond, dropped = self._reward_and_flags(a)
        dense = rew if self.level == "dense" else self._reward_and_flags(a, self.dense_scales)[0]
        self._update_success(cond)
        collided = self.arm_collision()
        unstable = self.unstable()
        terminated = bool(collided or dropped)
        truncated = bool((self._steps >= self.max_steps or unstable) and not terminated)
        self.guard.finished(terminated, truncated)
        info: dict[str, Any] = {"success": bool(self._success), "success_count": self._count,
                                "terms": terms, "arm_collision": collided, "dropped": dropped,
                                "unstable": unstable, "dense_reward": float(dense)}
        return self._obs(renderer) if observe else None, float(rew), terminated, truncated, info

    def step(self, action):
        return self.finish_step(self.apply_action(action))

    def render(self):
        return self.render_camera("third_person")

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
