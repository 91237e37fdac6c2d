"""Registry entries of the test environments (``testing/*``)."""

from __future__ import annotations

from mimex.envs.registry import EnvSpec, register_env

register_env(EnvSpec("testing/PointGoal", "mimex.testing.envs:make_point_goal", tags=("testing", "success"),
                     obs=("state", "pixels", "pixels+state")))
