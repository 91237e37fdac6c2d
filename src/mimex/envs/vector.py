"""A synchronous vector of Gymnasium environments that keeps what PPO needs.

Unlike Gymnasium's vector envs it returns, for every step, both the observation to act on
next (the reset observation where an episode ended) and the true next observation
``o_{t+1}`` (the final observation where an episode ended), the success flag of the step,
and finished-episode statistics. It can snapshot and restore the environments' state when
they support it (``get_state``/``set_state`` on the unwrapped env), for exact resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np


def stack_obs(items: list[Any]) -> Any:
    """Stack per-env observations: arrays -> [N, ...]; dicts of arrays -> dict of [N, ...]."""
    if isinstance(items[0], dict):
        return {k: np.stack([o[k] for o in items]) for k in items[0]}
    return np.stack(items)


@dataclass
class StepResult:
    """One vector step. Arrays have a leading env axis N."""

    obs: Any  # observation to act on next (reset observation where done)
    next_obs: Any  # o_{t+1}: the final observation where done
    reward: np.ndarray  # float32[N]
    terminated: np.ndarray  # bool[N]
    truncated: np.ndarray  # bool[N]
    success: np.ndarray  # bool[N], info["success"] of the step (False when absent)
    episodes: list[dict[str, Any]] = field(default_factory=list)  # finished: return, length, success, end


def end_reason(terminated: bool, info: dict[str, Any]) -> str:
    """Why an episode ended: ``collision``, ``dropped`` or ``unstable`` (from the env's info
    flags), else ``terminal`` for another true end, ``timeout`` for a time-limit cut."""
    for flag, reason in (("arm_collision", "collision"), ("dropped", "dropped"), ("unstable", "unstable")):
        if info.get(flag):
            return reason
    return "terminal" if terminated else "timeout"


class EpisodeStats:
    """Running return, length and success of each environment's current episode, and the
    record of an episode when it ends; ``state()``/``load()`` are the snapshot keys
    ``ep_return``, ``ep_length``, ``ep_success`` (and ``ep_dense_return``).

    Envs that also report a reward-level-independent reward (PixMC's ``dense_reward``: the
    reward at the ``dense`` level, whatever level they train on) get its episode sum in the
    record as ``dense_return``, so runs at different reward levels can be compared."""

    def __init__(self, num_envs: int) -> None:
        self.ep_return = np.zeros(num_envs, dtype=np.float64)
        self.ep_length = np.zeros(num_envs, dtype=np.int64)
        self.ep_success = np.zeros(num_envs, dtype=bool)
        # NaN for an episode that was running when a snapshot without its dense sum loaded
        self.ep_dense_return = np.zeros(num_envs, dtype=np.float64)
        self.has_dense = False

    def reset(self) -> None:
        self.ep_return[:] = 0
        self.ep_length[:] = 0
        self.ep_success[:] = False
        self.ep_dense_return[:] = 0

    def add(self, idx: Any, reward: Any, success: Any, dense_reward: Any = None) -> None:
        """Count one step of the envs ``idx`` (an index, or ``slice(None)`` for all)."""
        self.ep_return[idx] += reward
        self.ep_length[idx] += 1
        self.ep_success[idx] |= success
        if dense_reward is not None:
            self.ep_dense_return[idx] += dense_reward
            self.has_dense = True

    def finish(self, i: int, terminated: bool, info: dict[str, Any]) -> dict[str, Any]:
        """The record of env ``i``'s finished episode; its counters start again."""
        record = {"return": float(self.ep_return[i]), "length": int(self.ep_length[i]),
                  "success": bool(self.ep_success[i]), "end": end_reason(terminated, info)}
        if self.has_dense and np.isfinite(self.ep_dense_return[i]):
            record["dense_return"] = float(self.ep_dense_return[i])
        self.ep_return[i], self.ep_length[i], self.ep_success[i] = 0.0, 0, False
        self.ep_dense_return[i] = 0.0
        return record

    def state(self) -> dict[str, np.ndarray]:
        out = {"ep_return": self.ep_return.copy(), "ep_length": self.ep_length.copy(),
               "ep_success": self.ep_success.copy()}
        if self.has_dense:
            out["ep_dense_return"] = self.ep_dense_return.copy()
        return out

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state`. After a snapshot from before ``ep_dense_return`` existed, the
        episodes then running record no ``dense_return`` (their dense sum is unknown); later
        ones do. Everything the agent learns from is restored exactly."""
        self.ep_return = np.asarray(state["ep_return"], dtype=np.float64).copy()
        self.ep_length = np.asarray(state["ep_length"], dtype=np.int64).copy()
        self.ep_success = np.asarray(state["ep_success"], dtype=bool).copy()
        dense = state.get("ep_dense_return")
        self.has_dense = self.has_dense or dense is not None
        self.ep_dense_return = (np.where(self.ep_length == 0, 0.0, np.nan) if dense is None
                                else np.asarray(dense, dtype=np.float64).copy())


class VecEnv:
    """``num_envs`` environments stepped in turn, with automatic reset on episode end."""

    def __init__(self, make_fns: list[Callable[[], gym.Env]]) -> None:
        self.envs = [fn() for fn in make_fns]
        self.num_envs = len(self.envs)
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.stats = EpisodeStats(self.num_envs)

    def reset(self) -> Any:
        """Reset every env (each was seeded at construction) and return stacked observations."""
        self.stats.reset()
        return stack_obs([env.reset()[0] for env in self.envs])

    def step(self, actions: np.ndarray) -> StepResult:
        """Step every env with ``actions[i]``; finished episodes reset at once."""
        obs, next_obs = [], []
        n = self.num_envs
        reward = np.zeros(n, dtype=np.float32)
        term = np.zeros(n, dtype=bool)
        trunc = np.zeros(n, dtype=bool)
        success = np.zeros(n, dtype=bool)
        episodes = []
        for i, env in enumerate(self.envs):
            o, r, te, tr, info = env.step(actions[i])
            reward[i], term[i], trunc[i] = r, te, tr
            success[i] = bool(info.get("success", False))
            self.stats.add(i, r, success[i], info.get("dense_reward"))
            next_obs.append(o)
            if te or tr:
                episodes.append(self.stats.finish(i, te, info))
                o, _ = env.reset()
            obs.append(o)
        return StepResult(stack_obs(obs), stack_obs(next_obs), reward, term, trunc, success, episodes)

    def get_state(self) -> dict[str, Any] | None:
        """The state of every env and the running episode statistics; None if an env can't."""
        states = []
        for env in self.envs:
            base = env.unwrapped
            if not hasattr(base, "get_state"):
                return None
            states.append({"env": base.get_state(), "wrappers": _wrapper_counters(env)})
        return {"envs": states, **self.stats.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""
        for env, s in zip(self.envs, state["envs"], strict=True):
            env.unwrapped.set_state(s["env"])
            _set_wrapper_counters(env, s["wrappers"])
        self.stats.load(state)

    def close(self) -> None:
        for env in self.envs:
            env.close()


def _wrappers(env: gym.Env) -> list[gym.Env]:
    out = []
    while isinstance(env, gym.Wrapper):
        out.append(env)
        env = env.env
    return out


def _wrapper_counters(env: gym.Env) -> list[Any]:
    """Per-wrapper state: TimeLimit step counters, and ``get_state()`` of wrappers that have it."""
    out: list[Any] = []
    for w in _wrappers(env):
        if isinstance(w, gym.wrappers.TimeLimit):
            out.append(int(w._elapsed_steps or 0))
        elif hasattr(w, "get_state"):
            out.append(w.get_state())
        else:
            out.append(None)
    return out


def _set_wrapper_counters(env: gym.Env, states: list[Any]) -> None:
    for w, s in zip(_wrappers(env), states, strict=True):
        if isinstance(w, gym.wrappers.TimeLimit):
            w._elapsed_steps = s
        elif s is not None:
            w.set_state(s)
