"""The environment checker: Gymnasium's checker plus mimex's own checks.

Ours: observations are finite, have the space's dtype and lie in the space; an observation
returned by one step is not changed by the next (no aliasing of buffers); reset with a seed
is deterministic, and so is a seeded rollout; rewards are finite floats; for tasks tagged
``success``, ``info["success"]`` is a bool on every step.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env as gym_check_env

from mimex.envs.registry import env_spec, make_env


class EnvCheckError(AssertionError):
    """An environment broke the contract; the message says which check and where."""


def _leaves(obs: Any, prefix: str = "obs") -> list[tuple[str, np.ndarray]]:
    if isinstance(obs, dict):
        out: list[tuple[str, np.ndarray]] = []
        for k in sorted(obs):
            out += _leaves(obs[k], f"{prefix}[{k!r}]")
        return out
    return [(prefix, np.asarray(obs))]


def _check_obs(space: gym.Space, obs: Any, where: str) -> None:
    spaces = _leaves_space(space)
    for (name, arr), (_, sp) in zip(_leaves(obs), spaces, strict=True):
        if arr.dtype != sp.dtype:
            raise EnvCheckError(f"{where}: {name} has dtype {arr.dtype}, space says {sp.dtype}")
        if arr.shape != sp.shape:
            raise EnvCheckError(f"{where}: {name} has shape {arr.shape}, space says {sp.shape}")
        if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
            raise EnvCheckError(f"{where}: {name} holds NaN or inf")
        if not sp.contains(arr):
            raise EnvCheckError(f"{where}: {name} lies outside its space {sp}")


def _leaves_space(space: gym.Space) -> list[tuple[str, gym.Space]]:
    if isinstance(space, gym.spaces.Dict):
        out: list[tuple[str, gym.Space]] = []
        for k in sorted(space.spaces):
            out += [(k, s) for _, s in _leaves_space(space.spaces[k])]
        return out
    return [("", space)]


def _equal(a: Any, b: Any) -> bool:
    return all(np.array_equal(x, y) for (_, x), (_, y) in zip(_leaves(a), _leaves(b), strict=True))


def _rollout(env: gym.Env, seed: int, n_steps: int, check_success: bool) -> list[Any]:
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    trace = [copy.deepcopy(obs)]
    _check_obs(env.observation_space, obs, "reset")
    prev, prev_copy = obs, copy.deepcopy(obs)
    for t in range(n_steps):
        action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        where = f"step {t}"
        _check_obs(env.observation_space, obs, where)
        if not np.isfinite(float(reward)):
            raise EnvCheckError(f"{where}: reward {reward} is not finite")
        if check_success and not isinstance(info.get("success"), (bool, np.bool_)):
            raise EnvCheckError(f"{where}: info['success'] must be a bool, got {info.get('success')!r}")
        if not _equal(prev, prev_copy):
            raise EnvCheckError(f"{where}: the previous observation changed in place (aliased buffer)")
        trace.append((copy.deepcopy(obs), float(reward), bool(terminated), bool(truncated)))
        prev, prev_copy = obs, copy.deepcopy(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            _check_obs(env.observation_space, obs, f"reset after {where}")
            prev, prev_copy = obs, copy.deepcopy(obs)
    return trace


def check_env(name: str, n_steps: int = 50, seed: int = 0, **make_kwargs: Any) -> list[str]:
    """Run every check on a registered task; raise EnvCheckError on the first failure.

    Args:
        name: a registered task name.
        n_steps: random-action steps per rollout.
        seed: seed of resets and of the random actions.
        **make_kwargs: passed to ``make_env`` (``reward``, ``obs``, task options).

    Returns:
        The names of the checks that passed.
    """
    spec = env_spec(name)
    passed = []
    env = make_env(name, seed=seed, **make_kwargs)
    try:
        gym_check_env(env, skip_render_check=True)
        passed.append("gymnasium.check_env")
        check_success = "success" in spec.tags
        first = _rollout(env, seed, n_steps, check_success)
        passed.append("observations finite, typed, in space; no aliasing; rewards finite")
        o1, _ = env.reset(seed=seed + 7)
        o2, _ = env.reset(seed=seed + 7)
        if not _equal(o1, o2):
            raise EnvCheckError("reset(seed=s) twice gave different observations")
        passed.append("reset(seed) deterministic")
    finally:
        env.close()
    env2 = make_env(name, seed=seed, **make_kwargs)
    try:
        second = _rollout(env2, seed, n_steps, False)
    finally:
        env2.close()
    for t, (a, b) in enumerate(zip(first, second, strict=True)):
        if not _equal(a[0] if t else a, b[0] if t else b) or (t and a[1:] != b[1:]):
            raise EnvCheckError(f"two seeded rollouts differ at step {t}: not deterministic")
    passed.append("seeded rollout deterministic")
    return passed
