"""Fixtures for runner tests: tiny configs on the deterministic PointGoal task."""

import pytest

from mimex.config.overrides import resolve_config


@pytest.fixture
def tiny_config(tmp_path):
    """A debug-preset config factory on testing/PointGoal writing into tmp_path/<name>."""

    def make(name="run", explore="mimex", steps=256, sets=(), **flags):
        overrides = {"env.name": "testing/PointGoal", "explore.name": explore, "steps": steps,
                     "run_dir": str(tmp_path / name), "progress": False, "tensorboard": True}
        overrides.update(flags)
        return resolve_config("debug", overrides, list(sets))

    return make
