"""The aggregate IQM pools scores only where tasks share a scale."""

import numpy as np
import pytest

from mimex.analysis.scales import normaliser, shared_scale


def test_success_rates_pool_as_they_are_and_atari_returns_human_normalised():
    f, name = normaliser("pixmc/KukaReach", "charts/success_rate")
    assert name == "" and f(np.array([0.25])) == pytest.approx([0.25])
    f, name = normaliser("atari/Venture", "charts/episodic_return")
    assert name == "human-normalised " and f(np.array([0.0, 1187.5])) == pytest.approx([0.0, 1.0])
    f, _ = normaliser("atari/PrivateEye", "charts/episodic_return")
    assert f(np.array([24.9 + (69571.3 - 24.9) / 2])) == pytest.approx([0.5])
    assert normaliser("dmc/cheetah-run", "charts/episodic_return") is None
    assert normaliser("atari/PrivateEye", "explore/bonus_mean") is None


def test_tasks_without_a_shared_scale_get_no_iqm_and_are_named():
    scale, name = shared_scale(["atari/PrivateEye", "atari/Venture"], "charts/episodic_return")
    assert set(scale) == {"atari/PrivateEye", "atari/Venture"} and name == "human-normalised "
    why = shared_scale(["atari/Venture", "dmc/cheetah-run"], "charts/episodic_return")
    assert isinstance(why, str) and why.startswith("charts/episodic_return has no scale shared by dmc/cheetah-run")
    one, name = shared_scale(["dmc/cheetah-run"], "charts/episodic_return")  # one task: its own scale
    assert name == "" and one["dmc/cheetah-run"](np.array([3.0])) == pytest.approx([3.0])
