"""The crash-phase reading of episode lengths (mimex.analysis.phases) on hand-made runs."""

import math

import pytest

from mimex.analysis.phases import below_to_the_end, latest, run_phases, series, span


def rows(lengths, successes=None):
    """One row per iteration of 1,000 steps; ``None`` lengths are iterations without episodes."""
    successes = successes or [0.0] * len(lengths)
    out = []
    for i, (n, s) in enumerate(zip(lengths, successes, strict=True)):
        row = {"step": 1000 * (i + 1), "charts/step_success_rate": s}
        if n is not None:
            row["charts/episodic_length"] = n
        out.append(row)
    return out


def test_a_run_that_crashes_leaves_and_crashes_again():
    r = rows([200, 150, 25, 22, None, 120, 45, 28, 21], [0, 0.1, 0, 0, 0, 0.2, 0, 0, 0])
    ph = run_phases(r, below=30, above=100, sustained_below=50)
    assert (ph.entered, ph.left, ph.sustained) == (3000, 6000, 7000)
    assert (ph.success_iterations, ph.last_success, ph.steps) == (2, 6000, 9000)
    assert ph.final_length == 21


def test_a_run_that_never_crashes_has_no_phase_and_a_run_that_always_does_is_stuck_from_its_start():
    calm = run_phases(rows([200, 180, 190]))
    assert (calm.entered, calm.left, calm.sustained, calm.last_success) == (None, None, None, None)
    stuck = run_phases(rows([20, 21, 22]))
    assert (stuck.entered, stuck.left, stuck.sustained) == (1000, None, 1000)


def test_stuck_means_every_later_iteration_stays_under_the_mark():
    steps, lengths = series(rows([40, 60, 40, 49.9]), "charts/episodic_length")
    assert below_to_the_end(steps, lengths, 50) == 3000
    assert below_to_the_end(steps, lengths, 40) is None    # the last value is not under it


def test_rows_without_the_metric_or_with_nan_are_skipped_and_an_empty_run_reads_as_no_phase():
    steps, values = series([{"step": 1, "charts/episodic_length": math.nan}, {"step": 2}], "charts/episodic_length")
    assert steps.size == values.size == 0
    ph = run_phases([])
    assert ph.steps == 0 and ph.entered is None and math.isnan(ph.final_length)


def test_thresholds_in_the_wrong_order_are_refused_with_both_numbers():
    with pytest.raises(ValueError, match=r"below \(120.0\) must not exceed above \(100.0\)"):
        run_phases(rows([20]), below=120.0, above=100.0)


def test_span_and_latest_summarise_over_the_runs_where_it_happened():
    assert span([290_000, None, 660_000]) == "0.29-0.66M (2 of 3)"
    assert span([330_000]) == "0.33M (1 of 1)"
    assert span([None, None]) == "- (0 of 2)"
    assert latest([None, 5, 3]) == 5 and latest([None]) is None


def test_short_episodes_before_every_env_could_finish_a_long_one_are_not_a_crash():
    """With 20 envs and ``above`` 100, rows before step 2,000 are censored: only episodes that
    ended early can have finished by then."""
    r = rows([12, 150, 180])     # steps 1000, 2000, 3000
    assert run_phases(r, num_envs=1).entered == 1000
    assert run_phases(r, num_envs=20, above=100).entered is None
    assert run_phases(r, num_envs=9, above=100).entered == 1000     # 900 steps in: settled
    assert run_phases(r, num_envs=2000, above=100).final_length == 180   # the final length is read off all rows


def test_an_iteration_with_too_few_finished_episodes_is_no_crash():
    """One 15-step episode in an iteration whose other envs all run on is not a crash phase."""
    r = rows([190, 15, 195, 25, 22])
    for row, n in zip(r, (300, 1, 300, 400, 450), strict=True):
        row["charts/episodes"] = n
    assert run_phases(r).entered == 2000
    assert run_phases(r, min_episodes=32).entered == 4000
