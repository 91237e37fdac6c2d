"""The speed table behind `mimex sweep --dry-run`'s hour estimates."""

import json
from pathlib import Path

import pytest

from mimex.config.overrides import resolve_config
from mimex.run import backends
from mimex.run.speeds import (
    EXPLORER_FACTOR,
    FALLBACK,
    SEED_STEPS_PER_S,
    measured_pace,
    run_hours,
    speed_for,
    table_speed,
)
from mimex.run.sweep import expand, load_spec


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


def _metrics(run_dir, rows):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.jsonl").write_text("".join(
        (r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return run_dir


def test_measured_pace_is_steps_over_seconds_after_the_first_iteration(tmp_path):
    """KukaReach MIMEx from pixels is 951 steps/s in the table. Iterations of 1 s and 3 s
    at equal batches go at 2 batches / 4 s, not at the mean of their rates."""
    cfg = resolve_config("pixmc-paper", {"env.name": "pixmc/KukaReach", "explore.name": "mimex"})
    batch = 951
    d = _metrics(tmp_path / "run", [{"step": batch, "perf/sps": 1.0},  # start-up: left out
                                    {"step": 2 * batch, "perf/sps": batch / 1.0},
                                    "{not json", {"step": 3 * batch},  # damaged, no rate: skipped
                                    {"step": 3 * batch, "perf/sps": "inf"}, "{\"step\": 1, \"perf/sps\": Infinity}",
                                    {"step": 3 * batch, "perf/sps": True}, {"step": 3 * batch, "perf/sps": 0},
                                    {"step": 4 * batch, "perf/sps": batch / 3.0}])
    assert measured_pace(cfg, d) == pytest.approx(0.5)
    assert run_hours(cfg, 951 * 3600, pace=0.5) == pytest.approx(2.0)
    assert measured_pace(cfg, tmp_path / "nothing") is None
    assert measured_pace(cfg, _metrics(tmp_path / "one", [{"step": batch, "perf/sps": 5.0}])) is None


def test_measured_pace_of_drqv2_skips_the_seed_steps(tmp_path):
    cfg = resolve_config("dmc-cpu", {})
    rate = table_speed(cfg).steps_per_s
    seed = cfg.drqv2.seed_steps
    batch = cfg.drqv2.steps_per_iteration
    d = _metrics(tmp_path / "run", [{"step": batch, "perf/sps": 400.0}, {"step": seed, "perf/sps": 400.0},
                                    {"step": seed + batch // 2, "perf/sps": 400.0},  # half seed steps
                                    {"step": seed + batch + batch // 2, "perf/sps": rate * 2}])
    assert measured_pace(cfg, d) == pytest.approx(2.0)
    # the seed steps left go at the environment's speed, whatever the pace of the updates
    seed_h = seed / SEED_STEPS_PER_S / 3600
    assert run_hours(cfg, cfg.steps, pace=2.0) - seed_h == pytest.approx((run_hours(cfg, cfg.steps) - seed_h) / 2)


def test_dry_run_adds_the_estimate_at_the_pace_measured_here(tmp_path):
    """Runs that trained at 0.5x, 1.0x and (finished) 2.0x the table: the median pace (1.0)
    is used for the run that has not started; each started run goes at its own pace; the
    finished one adds no hours."""
    spec = load_spec("fig7@cpu")
    runs = expand(spec, tmp_path)[:4]
    states = [backends.RunState(r, state, 0, backends.total_steps(r.config))
              for r, state in zip(runs, ("resume", "resume", "done", "new"), strict=True)]
    for s, pace in zip(states[:3], (0.5, 1.0, 2.0), strict=True):
        rate = table_speed(s.run.config).steps_per_s * pace
        _metrics(Path(s.run.config.run_dir), [{"step": 1, "perf/sps": 1.0}, {"step": 2, "perf/sps": rate}])
    table = sum(run_hours(s.run.config, s.total) for s in states)
    text = backends.plan_text(spec, states, workers=2)
    line = next(line for line in text.splitlines() if line.startswith("measured:"))
    assert "3 run(s) under this root trained at 1.00x the table's speed" in line and "0.50-2.00" in line
    expected = sum(run_hours(s.run.config, s.total) / p for s, p in zip(states[:2] + states[3:], (0.5, 1.0, 1.0),
                                                                         strict=True))
    assert f"about {expected:.1f} run-hours to go, {expected / 2:.1f} h wall-clock" in line
    assert f"estimated {table - run_hours(states[2].run.config, states[2].total):.1f} run-hours" in text
    fresh = [backends.RunState(r, "new", 0, backends.total_steps(r.config)) for r in runs]
    assert "measured:" not in backends.plan_text(spec, fresh, workers=2)  # nothing has trained
