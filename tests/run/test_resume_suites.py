"""Exact resume on dm_control and Atari: a stopped and resumed run logs what an
uninterrupted one does (timings aside), because both suites snapshot their envs exactly
(physics, task RNG and model fields; emulator, sticky actions, no-op RNG, frame stacks)."""

import importlib.util

import pytest

from mimex.run.logger import read_metrics
from mimex.run.train import train


def _strip_timing(rows):
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


def _needs(module, extra):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"{module} is not installed (pip install 'mimex[{extra}]')")


@pytest.mark.parametrize("flags,steps,stop", [
    pytest.param({"env.name": "dmc/cartpole_swingup_sparse", "env.obs": "pixels",
                  "env.options": {"action_repeat": 8, "image_size": 32}},
                 320, 160, marks=_needs("dm_control", "dmc"), id="dmc-cartpole-pixels"),
    pytest.param({"env.name": "atari/Breakout", "env.obs": "pixels",
                  "env.options": {"episodic_life": True}},
                 256, 128, marks=_needs("ale_py", "atari"), id="atari-breakout"),
])
def test_stopped_and_resumed_run_equals_uninterrupted_run(tiny_config, flags, steps, stop):
    """Stop mid-episode, resume: the same metrics rows, with episodes ending after the stop
    (cartpole: 125 steps per episode; Breakout ends an episode at each lost life, every
    30-100 steps when playing at random, and then resets with random no-ops)."""
    flags = {**flags, "tensorboard": False, "threads": 1}  # one thread: 3x faster on a busy CPU
    straight = train(tiny_config(name="straight", steps=steps, **flags))
    train(tiny_config(name="resumed", steps=stop, **flags))
    resumed = train(tiny_config(name="resumed", steps=steps, **flags))
    assert resumed["step"] == steps
    rows = _strip_timing(read_metrics(straight["run_dir"]))
    assert _strip_timing(read_metrics(resumed["run_dir"])) == rows
    assert any("charts/episodic_return" in r for r in rows if r["step"] > stop)
