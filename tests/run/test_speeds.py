"""The speed table behind `mimex sweep --dry-run`'s hour estimates."""

import pytest

from mimex.config.overrides import resolve_config
from mimex.run.speeds import EXPLORER_FACTOR, FALLBACK, run_hours, speed_for


def test_rows_match_task_obs_and_explorer_first_match_wins():
    assert speed_for("pixmc/KukaReach", "pixels+state", "mimex").steps_per_s == 951.0
    assert speed_for("pixmc/KukaMove", "pixels+state", "none").steps_per_s == 1242.0  # the Kuka* row
    assert speed_for("pixmc/FrankaReach", "state", "icm").steps_per_s == 2820.0
    icm = speed_for("pixmc/KukaReach", "state", "icm")  # no row: none x the FrankaReach ratio
    assert icm.steps_per_s == pytest.approx(2305.0 * EXPLORER_FACTOR["icm"]) and "x0.611" in icm.how
    rnd = speed_for("pixmc/KukaReach", "pixels+state", "rnd")  # from pixels: none x 0.94
    assert rnd.steps_per_s == pytest.approx(1279.0 * 0.94) and "pixels ratio" in rnd.how
    guess = speed_for("nosuch/Task", None, "none")
    assert guess.steps_per_s == FALLBACK.steps_per_s and "a guess" in guess.how


@pytest.mark.parametrize("obs, none, nm1, k", [("state", 2305.0, 1259.0, 8.7), ("pixels+state", 1279.0, 951.0, 5.0)])
def test_more_maskings_scale_the_bonus_time_by_the_measured_factor(obs, none, nm1, k):
    """nm5 costs the step without a bonus plus k x MIMEx's extra time (k measured per input kind)."""
    nm5 = speed_for("pixmc/KukaReach", obs, "mimex", n_masks=5).steps_per_s
    assert 1 / nm5 == pytest.approx(1 / none + k * (1 / nm1 - 1 / none))


def test_run_hours_counts_the_remaining_steps_at_the_runs_speed():
    cfg = resolve_config("pixmc-paper", {"env.name": "pixmc/KukaReach", "explore.name": "mimex"})
    assert run_hours(cfg, 951 * 3600) == pytest.approx(1.0)
    assert run_hours(cfg, 0) == 0.0
