"""Compatibility re-export: the vector environment lives in :mod:`mimex.envs.vector`."""

from mimex.envs.vector import (  # noqa: F401
    StepResult,
    VecEnv,
    end_reason,
    stack_obs,
)

__all__ = ["StepResult", "VecEnv", "end_reason", "stack_obs"]
