"""What every suite checks at ``step``: the call order and the action itself.

Each environment owns a :class:`StepGuard` and calls it at three points::

    reset:            guard.started()
    step (first):     action = guard.check(action)     # raises before any state changes
    step (last):      guard.finished(terminated, truncated)

``check`` refuses, with :class:`mimex.errors.ResetNeededError`, a step before the first
reset and a step after the episode ended (terminated or truncated) until the next reset;
and, with :class:`mimex.errors.ActionError`, actions holding NaN or inf, of another shape
than the action space's, or (discrete spaces) not an integer in range. A refused step
leaves the env as it was. ``Box`` bounds are not enforced: suites clip in-range.

The guard sits in the layer that decides the end of an episode (the outermost one the
suite builds: the frame stack for Atari, the env itself elsewhere), so episodes cut by
wrappers such as a life loss count too. ``state()``/``restore()`` go into the suite's
snapshot, so an env restored from a checkpoint steps on as the original would.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from mimex import errors

__all__ = ["StepGuard", "check_action"]

_NOT_RESET, _RUNNING, _TERMINATED, _TRUNCATED = "not-reset", "running", "terminated", "truncated"


def _brief(a: np.ndarray) -> str:
    return np.array2string(a, threshold=12, precision=4)


def check_action(action: Any, space: gym.Space, env: str) -> Any:
    """The action as the env should run it: a NumPy array of ``space.shape`` (its dtype
    unchanged) for a ``Box``, a Python int for a ``Discrete``; anything else raises
    :class:`ActionError`."""
    if isinstance(space, gym.spaces.Discrete):
        return _check_discrete(action, space, env)
    if not isinstance(space, gym.spaces.Box):  # other spaces: only the finite check applies
        return action
    try:
        a = np.asarray(action)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise errors.ActionError(errors.ACTION_BAD_TYPE.format(
            env=env, expected="an array of numbers", space=space, got=action)) from exc
    if a.dtype.kind not in "biuf":
        raise errors.ActionError(errors.ACTION_BAD_TYPE.format(
            env=env, expected=f"an array of numbers of shape {space.shape}", space=space, got=action))
    if a.shape != space.shape:
        raise errors.ActionError(errors.ACTION_BAD_SHAPE.format(
            env=env, expected=space.shape, space=space, got=a.shape))
    bad = ~np.isfinite(a)
    if bad.any():
        raise errors.ActionError(errors.ACTION_NON_FINITE.format(
            env=env, count=int(bad.sum()), index=int(np.flatnonzero(bad)[0]), action=_brief(a)))
    return a


def _check_discrete(action: Any, space: gym.spaces.Discrete, env: str) -> int:
    a = np.asarray(action) if not isinstance(action, (list, tuple, dict, str)) else None
    if a is not None and a.shape != ():
        raise errors.ActionError(errors.ACTION_BAD_SHAPE.format(env=env, expected=(), space=space,
                                                                got=a.shape))
    if a is not None and a.dtype.kind == "f" and not np.isfinite(a):
        raise errors.ActionError(errors.ACTION_NON_FINITE.format(env=env, count=1, index=0,
                                                                 action=_brief(a)))
    if a is None or a.dtype.kind not in "iu":
        raise errors.ActionError(errors.ACTION_BAD_TYPE.format(
            env=env, expected="an integer (a Python int or a NumPy integer)", space=space, got=action))
    low, high = int(space.start), int(space.start) + int(space.n) - 1
    value = int(a)
    if not low <= value <= high:
        raise errors.ActionError(errors.ACTION_OUT_OF_RANGE.format(env=env, low=low, high=high,
                                                                   space=space, got=value))
    return value


class StepGuard:
    """The reset/step order and the action checks of one environment named ``env``."""

    def __init__(self, env: str, space: gym.Space) -> None:
        self.env, self.space = env, space
        self.phase = _NOT_RESET
        self.steps = 0  # steps of the current episode, for the after-end message

    def started(self) -> None:
        """The env was reset: a new episode runs."""
        self.phase, self.steps = _RUNNING, 0

    def check(self, action: Any) -> Any:
        """Raise unless a step may run now with ``action``; returns the checked action."""
        if self.phase == _NOT_RESET:
            raise errors.ResetNeededError(errors.STEP_BEFORE_RESET.format(env=self.env))
        if self.phase != _RUNNING:
            raise errors.ResetNeededError(errors.STEP_AFTER_END.format(
                env=self.env, how=f"{self.phase} at its step {self.steps}"))
        return check_action(action, self.space, self.env)

    def finished(self, terminated: bool, truncated: bool) -> None:
        """Record the outcome of a step that ran."""
        self.steps += 1
        if terminated:
            self.phase = _TERMINATED
        elif truncated:
            self.phase = _TRUNCATED

    def state(self) -> dict[str, Any]:
        return {"phase": self.phase, "steps": self.steps}

    def restore(self, state: dict[str, Any] | None) -> None:
        """Restore :meth:`state`; a snapshot without one (older) holds a running episode."""
        state = state or {}
        self.phase, self.steps = str(state.get("phase", _RUNNING)), int(state.get("steps", 0))
