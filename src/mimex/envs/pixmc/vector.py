"""Vectorised PixMC: many envs of one task stepped in one process.

All copies share one compiled ``MjModel`` (each has its own ``MjData``) and, for pixel
observations, one offscreen ``BatchRenderer`` that draws ``render_batch`` envs side by side
into one framebuffer (one viewport each) and reads them back with one ``mjr_readPixels``, so
memory and GL contexts do not grow with the number of envs. The physics of all envs runs in
``threads`` Python threads (MuJoCo releases the GIL in ``mj_step``); every env touches only
its own ``MjData``, so the numbers never depend on the thread count. Episodes auto-reset
within the same ``step`` call.

Two front ends over the same core:

* ``PixmcVecEnv``: ``reset(seed) -> (obs, info)``, ``step(a) -> (obs, rew, term, trunc,
  info)`` with ``info["final_obs"][i]`` the last observation of a finished episode and
  ``info["dense_reward"]`` float64 [N] each env's reward at the ``dense`` level.
* ``PixmcRunnerVecEnv``: the runner's contract (``mimex.envs.vector.VecEnv``): ``reset() ->
  obs``, ``step(a) -> StepResult`` (obs, true next obs, reward, terminated, truncated,
  success, finished-episode statistics with their ``end`` reason), ``get_state`` /
  ``set_state`` in the generic ``VecEnv``'s format (checkpoints of either resume in the other).
  ``mimex.run.train.make_vec_env`` uses it for ``pixmc/*`` (``MIMEX_PIXMC_VECTOR=0``: the
  generic ``VecEnv``, one env after the other, each with its own renderer).

Shapes (N envs, n action dims): actions [N, n] in [-1, 1]; state obs float32 [N, D];
pixels uint8 [N, 3, H, W]; ``pixels+state`` a dict of both; rewards float32 [N];
terminated / truncated / success bool [N].
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from mimex.envs.pixmc import batch_rewards, rewards, scene
from mimex.envs.pixmc import env as env_module
from mimex.envs.pixmc.env import OBS_CLIP, VEL_SCALE, PixmcEnv
from mimex.envs.vector import EpisodeStats, StepResult

# Envs drawn per GL pass, on a grid of up to GRID_COLS viewports per row. On Mesa's llvmpipe
# (measured 2026-11-26): 16 side by side ~10% cheaper than one at a time; 64 or 256 in one
# *row* (4096+ px wide) 4-6x dearer; 64 or 128 per pass on the 16-wide grid cost the same as
# 16 (benchmarks/bench_render_pass.py), so the batch stays 16.
RENDER_BATCH = 16
GRID_COLS = 16  # viewports per row of the offscreen buffer


def default_threads() -> int:
    """Physics threads: ``MIMEX_PIXMC_THREADS`` or the number of CPUs (at most 8)."""
    env = os.environ.get("MIMEX_PIXMC_THREADS")
    return max(1, int(env)) if env else max(1, min(8, os.cpu_count() or 1))


class BatchRenderer:
    """Offscreen renderer of square ``size`` images, ``per_pass`` envs per GL pass."""

    def __init__(self, model: mujoco.MjModel, size: int, per_pass: int = RENDER_BATCH):
        from mujoco import gl_context

        self.size, self.per_pass = int(size), max(1, int(per_pass))
        # viewports on a grid of at most GRID_COLS columns: envs j = row * cols + col
        self.cols = min(self.per_pass, GRID_COLS)
        self.rows = -(-self.per_pass // self.cols)
        g = model.vis.global_
        g.offwidth = max(int(g.offwidth), self.size * self.cols)  # before the context
        g.offheight = max(int(g.offheight), self.size * self.rows)
        self.model = model
        self._gl = gl_context.GLContext(self.size * self.cols, self.size * self.rows)
        self._gl.make_current()
        self._con = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._con)
        self._scene = mujoco.MjvScene(model=model, maxgeom=10000)
        self._opt = mujoco.MjvOption()
        self._cam = mujoco.MjvCamera()
        self._cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._buf = np.empty((self.size * self.rows, self.size * self.cols, 3), np.uint8)  # a full pass
        if not env_module._OPEN_RENDERERS:  # closed at exit before the GL back end's own hook
            atexit.unregister(env_module._close_open_renderers)
            atexit.register(env_module._close_open_renderers)
        env_module._OPEN_RENDERERS.add(self)

    def render(self, datas: list[mujoco.MjData], camera: int) -> np.ndarray:
        """uint8 [len(datas), 3, size, size]: each data seen from fixed camera ``camera``."""
        S, n = self.size, len(datas)
        out = np.empty((n, 3, S, S), np.uint8)
        if self._con is None:
            raise RuntimeError("render() after close()")
        self._gl.make_current()
        self._cam.fixedcamid = camera
        cat = mujoco.mjtCatBit.mjCAT_ALL.value
        for start in range(0, n, self.per_pass):
            chunk = datas[start:start + self.per_pass]
            for j, d in enumerate(chunk):
                mujoco.mjv_updateScene(self.model, d, self._opt, None, self._cam, cat, self._scene)
                row, col = divmod(j, self.cols)
                mujoco.mjr_render(mujoco.MjrRect(col * S, row * S, S, S), self._scene, self._con)
            k = len(chunk)
            cols = min(k, self.cols)
            rows = -(-k // cols)
            buf = self._buf if k == self.per_pass else np.empty((rows * S, cols * S, 3), np.uint8)
            mujoco.mjr_readPixels(buf, None, mujoco.MjrRect(0, 0, cols * S, rows * S), self._con)
            # GL rows come bottom-up: [rows*S, cols*S, 3] -> [rows, S (top-down), cols, S, 3]
            tiles = buf.reshape(rows, S, cols, S, 3)[:, ::-1]
            out[start:start + k] = tiles.transpose(0, 2, 4, 1, 3).reshape(rows * cols, 3, S, S)[:k]
        return out

    def close(self) -> None:
        if self._con is not None:
            self._con.free()
            self._con = None
        if self._gl is not None:
            self._gl.free()
            self._gl = None


class _PixmcBatch:
    """The core: ``envs`` (PixmcEnv sharing one model) stepped together."""

    def __init__(self, envs: list[PixmcEnv], threads: int | None = None,
                 render_batch: int = RENDER_BATCH):
        if not envs:
            raise ValueError("num_envs must be >= 1, got 0")
        self.envs = envs
        self.num_envs = len(envs)
        self.model = envs[0].model
        if any(e.model is not self.model for e in envs):
            raise ValueError("the envs of a PixMC vector env must share one MjModel")
        self.obs_kind = envs[0].obs_kind
        self.task = envs[0].task
        self.single_observation_space = envs[0].observation_space
        self.single_action_space = envs[0].action_space
        self.action_space = gym.spaces.Box(-1.0, 1.0, (self.num_envs, *self.single_action_space.shape),
                                           np.float32)
        self._renderer = (BatchRenderer(self.model, envs[0].image_size, render_batch)
                          if self.obs_kind != "state" else None)
        self._camera = self.model.camera(envs[0].info.camera).id
        self.threads = min(self.num_envs, default_threads() if threads is None else max(1, int(threads)))
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        bounds = np.linspace(0, self.num_envs, self.threads + 1).astype(int)
        self._chunks = [range(bounds[k], bounds[k + 1]) for k in range(self.threads)]

    # -------------------------------------------------------------- pieces
    def _states(self, envs: list[PixmcEnv], with_task: bool) -> np.ndarray:
        """``PixmcEnv._state`` of every env in ``envs`` as one float32 array (same numbers:
        the same elementwise operations over a leading env axis)."""
        e0 = envs[0]
        q = np.stack([e.data.qpos for e in envs])[:, e0._qadr]
        qd = np.stack([e.data.qvel for e in envs])[:, e0._vadr]
        parts = [2.0 * (q - e0._lo) / (e0._hi - e0._lo) - 1.0, VEL_SCALE * qd]
        if with_task:
            if self.task == "reach":
                parts += [self._hands(envs), self._goals(envs)]
            else:
                parts.append(np.stack([e.task_state() for e in envs]))
        return np.clip(np.concatenate(parts, axis=1), -OBS_CLIP, OBS_CLIP).astype(np.float32)

    def _hands(self, envs: list[PixmcEnv]) -> np.ndarray:
        site = envs[0]._hand_site
        return np.stack([e.data.site_xpos[site] for e in envs])

    def _goals(self, envs: list[PixmcEnv]) -> np.ndarray:
        mocap = envs[0]._goal_mocap
        return np.stack([e.data.mocap_pos[mocap] for e in envs])

    def _observe(self, idx) -> Any:
        envs = [self.envs[i] for i in idx]
        if self.obs_kind == "state":
            return self._states(envs, True)
        pix = self._renderer.render([e.data for e in envs], self._camera)
        if self.obs_kind == "pixels":
            return pix
        return {"pixels": pix, "state": self._states(envs, False)}

    def _physics(self, checked: list[np.ndarray]) -> None:
        def run(rows: range) -> None:
            for i in rows:
                self.envs[i].run_physics(checked[i])

        if self._pool is None:
            run(range(self.num_envs))
            return
        for f in [self._pool.submit(run, rows) for rows in self._chunks]:
            f.result()

    def _reset_all(self, seeds: list[int | None]) -> Any:
        for env, s in zip(self.envs, seeds, strict=True):
            env.reset_with(None, seed=s, observe=False)
        return self._observe(range(self.num_envs))

    def _step_core(self, actions: np.ndarray):
        """(obs, next_obs, reward float64, terminated, truncated, success, infos, done rows,
        dense-level reward float64)."""
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != self.action_space.shape:
            raise ValueError(f"actions must have shape {self.action_space.shape}, got {actions.shape}")
        # every action is checked before any env moves (a refused action changes nothing)
        if np.isfinite(actions).all() and all(e.guard.phase == "running" for e in self.envs):
            checked = np.clip(actions, -1.0, 1.0)  # = each env's check_action, in one call
        else:
            checked = np.stack([env.check_action(actions[i]) for i, env in enumerate(self.envs)])
        self._physics(checked)
        n = self.num_envs
        rew, term, trunc, succ, infos, dense = self._finish(checked)
        next_obs = self._observe(range(n))
        rows = np.flatnonzero(term | trunc)
        obs = next_obs
        if rows.size:
            for i in rows:
                self.envs[i].reset_state(self.envs[i].np_random)
            fresh = self._observe(rows)
            if isinstance(next_obs, dict):
                obs = {k: v.copy() for k, v in next_obs.items()}
                for k in obs:
                    obs[k][rows] = fresh[k]
            else:
                obs = next_obs.copy()
                obs[rows] = fresh
        return obs, next_obs, rew, term, trunc, succ, infos, rows, dense

    def _task_rewards(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(reward float64[N], success condition bool[N], dropped bool[N], dense reward
        float64[N]) of every env: what ``PixmcEnv._reward_and_flags`` computes, as arrays
        (``batch_rewards``, same numbers); the dense reward is the reward at the ``dense`` level
        whatever level the envs train on (``charts/dense_return``)."""
        envs, e0 = self.envs, self.envs[0]
        robot, ts = e0.robot, e0.spec_task
        levels = [e0.scales] if e0.level == "dense" else [e0.scales, e0.dense_scales]
        n = self.num_envs
        dropped = np.zeros(n, bool)
        if self.task == "reach":
            hands, goals = self._hands(envs), self._goals(envs)
            rew = [batch_rewards.reach(s, hands, goals, a) for s in levels]
            return rew[0], batch_rewards.vec_norm(hands - goals) <= 0.04, dropped, rew[-1]
        fingers = np.stack([e.data.site_xpos[e0._finger_sites] for e in envs])
        if self.task == "cabinet":
            handle = np.stack([e.data.site_xpos[e0._handle_site] for e in envs])
            opening = np.array([e.data.qpos[e0._drawer_q] for e in envs], dtype=np.float64)
            rew = [batch_rewards.cabinet(robot, s, fingers, handle, opening, a) for s in levels]
            cond = opening >= 0.32
            if robot == "franka":
                cond = cond & np.all(batch_rewards.rows_norm(fingers - handle[:, None, :]) < 0.04, axis=1)
            return rew[0], cond, dropped, rew[-1]
        cube = np.stack([e.data.qpos[e0._cube_q:e0._cube_q + 3] for e in envs])
        if self.task == "pick":
            rew = [batch_rewards.pick(robot, s, fingers, cube, ts.cube_z0, a) for s in levels]
            cond = np.abs(rewards.PICK_GOAL_HEIGHT - cube[:, 2]) <= 0.1
        else:
            goal = self._goals(envs)
            rew = [batch_rewards.move(robot, s, fingers, cube, ts.cube_z0, goal, a) for s in levels]
            cond = batch_rewards.vec_norm(goal - cube) <= ts.move_success_tol
        return rew[0], cond, cube[:, 2] < ts.cube_z0 - ts.drop_limit, rew[-1]

    def _finish(self, a: np.ndarray):
        """``PixmcEnv.finish_step`` of every env: rewards and success conditions as arrays,
        then each env's success counter, contact test, stability check and step guard."""
        rew, cond, dropped, dense = self._task_rewards(a)
        n = self.num_envs
        term, trunc, succ = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        infos: list[dict[str, Any] | None] = [None] * n
        for i, e in enumerate(self.envs):
            e._steps += 1
            e._update_success(bool(cond[i]))
            collided = e.arm_collision() if e.data.ncon else False
            unstable = e.unstable()
            terminated = bool(collided or dropped[i])
            truncated = (e._steps >= e.max_steps or unstable) and not terminated
            e.guard.finished(terminated, truncated)
            term[i], trunc[i], succ[i] = terminated, truncated, e._success
            if terminated or truncated:  # the flags end_reason reads (terms: not kept)
                infos[i] = {"success": e._success, "success_count": e._count,
                            "arm_collision": collided, "dropped": bool(dropped[i]), "unstable": unstable}
        return rew, term, trunc, succ, infos, dense

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        for env in self.envs:
            env.close()


def _take(obs: Any, i: int) -> Any:
    return {k: v[i] for k, v in obs.items()} if isinstance(obs, dict) else obs[i]


class PixmcVecEnv(_PixmcBatch):
    """``num_envs`` copies of ``robot``/``task``; env i is seeded ``seed + i``."""

    def __init__(self, robot: str, task: str, num_envs: int, reward: str = "sparse",
                 obs: str = "state", seed: int | None = None, image_size: int = 64,
                 pretty: bool = False, threads: int | None = None,
                 render_batch: int = RENDER_BATCH):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        model = scene.build_model(robot, task, pretty)
        envs = [PixmcEnv(robot, task, reward=reward, obs=obs, image_size=image_size,
                         seed=None if seed is None else seed + i, model=model)
                for i in range(num_envs)]
        super().__init__(envs, threads, render_batch)

    def reset(self, seed: int | None = None):
        """Reset all envs (env i with ``seed + i`` when a seed is given)."""
        obs = self._reset_all([None if seed is None else seed + i for i in range(self.num_envs)])
        return obs, {"success": np.zeros(self.num_envs, bool)}

    def step(self, actions: np.ndarray):
        obs, next_obs, rew, term, trunc, succ, _, rows, dense = self._step_core(actions)
        final_obs: list[Any] = [None] * self.num_envs
        for i in rows:
            final_obs[i] = _take(next_obs, i)
        return obs, rew.astype(np.float32), term, trunc, {"success": succ, "final_obs": final_obs,
                                                           "dense_reward": dense}


class PixmcRunnerVecEnv(_PixmcBatch):
    """The runner's vector env for ``pixmc/*`` (see the module docstring).

    ``make(i, model)`` makes env i (``model`` None for the first, which builds the model the
    others then share)."""

    def __init__(self, make: Callable[[int, mujoco.MjModel | None], PixmcEnv], num_envs: int,
                 threads: int | None = None, render_batch: int = RENDER_BATCH):
        first = make(0, None)
        envs = [first] + [make(i, first.model) for i in range(1, num_envs)]
        super().__init__(envs, threads, render_batch)
        self.stats = EpisodeStats(self.num_envs)

    def reset(self) -> Any:
        """Reset every env (each was seeded at construction) and return stacked observations."""
        self.stats.reset()
        return self._reset_all([None] * self.num_envs)

    def step(self, actions: np.ndarray) -> StepResult:
        obs, next_obs, rew, term, trunc, succ, infos, rows, dense = self._step_core(actions)
        self.stats.add(slice(None), rew, succ, dense)
        episodes = [self.stats.finish(i, bool(term[i]), infos[i]) for i in rows]
        return StepResult(obs, next_obs, rew.astype(np.float32), term, trunc, succ, episodes)

    def get_state(self) -> dict[str, Any]:
        """Every env's state and the running episode statistics (the generic VecEnv's format)."""
        return {"envs": [{"env": e.get_state(), "wrappers": []} for e in self.envs],
                **self.stats.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""
        for env, s in zip(self.envs, state["envs"], strict=True):
            env.set_state(s["env"])
        self.stats.load(state)
