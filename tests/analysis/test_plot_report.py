"""`mimex plot` and `mimex report` on small synthetic run directories written here."""

import json

import numpy as np
import pytest

from mimex.analysis.curves import curve, final_value, find_runs, group_runs
from mimex.analysis.report import report
from mimex.cli import main
from mimex.config.overrides import resolve_config
from mimex.config.schema import to_dict
from mimex.errors import ConfigError


def write_run(path, env="toy/Corridor", explore="mimex", seed=0, level=0.5, rows=10, sets=(),
              episodes=50, finished=True, method=None, study=None):
    """A run directory: success rate ramps to ``level`` over ``rows`` rows of 100 steps."""
    path.mkdir(parents=True)
    cfg = resolve_config("debug", {"env.name": env, "explore.name": explore, "seed": seed,
                                   "run_dir": str(path)}, list(sets))
    (path / "config.json").write_text(json.dumps(to_dict(cfg)))
    with open(path / "metrics.jsonl", "w") as f:
        for i in range(1, rows + 1):
            f.write(json.dumps({"step": 100 * i, "charts/success_rate": level * i / rows,
                                "charts/episodes": episodes, "perf/sps": 1000.0}) + "\n")
    if finished:
        (path / "summary.json").write_text(json.dumps(
            {"step": 100 * rows, "wall_clock_s": 3.6 * (seed + 1), "peak_rss_mib": 500.0 + seed}))
    if method:
        (path / "sweep.json").write_text(json.dumps({"method": method, "study": study, "size": None}))
    return path


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    for env in ("toy/Corridor", "testing/PointGoal"):
        for explore, level in (("mimex", 0.8), ("none", 0.2)):
            for seed in range(3):
                write_run(root / env.replace("/", "-") / explore / f"seed{seed}", env, explore, seed,
                          level + 0.05 * seed)
    return root


def test_final_value_is_the_mean_of_the_last_200_episodes(tmp_path):
    run = find_runs([write_run(tmp_path / "r", level=1.0, rows=10, episodes=150)])[0]
    # last row: 150 episodes at 1.0; the row before: 50 of its 150 at 0.9
    assert final_value(run, "charts/success_rate") == pytest.approx((150 * 1.0 + 50 * 0.9) / 200)
    assert final_value(run, "charts/success_rate", window=0) == 1.0
    xs, ys = curve(run, "charts/success_rate", "frames")
    assert xs[0] == 100 and ys[0] == pytest.approx(0.1)  # toy: one frame per step


def test_report_table_per_env_and_method(runs, tmp_path, capsys):
    groups = group_runs(find_runs([runs]))
    assert [(g.env, g.method, len(g.runs)) for g in groups][:2] == [
        ("testing/PointGoal", "mimex", 3), ("testing/PointGoal", "none", 3)]
    text = report(groups, "charts/success_rate")
    assert "## toy/Corridor" in text and "## testing/PointGoal" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("| mimex |"))
    cells = [c.strip() for c in line.split("|")[1:-1]]
    # seeds' finals: last 200 episodes = 50 each of the last 4 rows (ramp to 0.8, 0.85, 0.9)
    finals = [np.mean([(0.8 + 0.05 * s) * i / 10 for i in (7, 8, 9, 10)]) for s in range(3)]
    assert cells[1].startswith(f"{np.mean(finals):.3f} [")
    assert cells[3] == "3" and cells[4] == "1k"
    assert cells[5] == f"{np.mean([1e-3 * (s + 1) * 1e3 for s in range(3)]):.3g}"  # h per 1M steps
    assert cells[6] == f"{1e6 / 1000.0 / 3600:.3g}"  # steady: 1M steps at the logged 1,000 steps/s
    assert cells[7] == "502"                                                      # max peak MiB
    assert main(["report", str(runs), "--metric", "charts/nope"]) == 2
    assert "no run logs 'charts/nope'; choose --metric from: charts/episodes, charts/success_rate" in capsys.readouterr().err
    out = tmp_path / "report.md"
    assert main(["report", str(runs), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == out.read_text().strip()
    assert "# Report: `charts/success_rate`" in out.read_text()  # the default metric
    assert "mean of the last 200 finished episodes" in out.read_text()
    assert main(["report", str(runs), "--metric", "perf/sps"]) == 0
    assert "final = last logged value per seed" in capsys.readouterr().out


def test_plot_writes_png_and_svg(runs, tmp_path, capsys):
    assert main(["plot", str(runs), "--metric", "charts/success_rate", "--out", str(tmp_path / "p")]) == 0
    paths = capsys.readouterr().out.split()
    assert [p.rsplit(".", 1)[1] for p in paths] == ["png", "svg"]
    assert (tmp_path / "p" / "charts_success_rate.png").stat().st_size > 10_000
    assert "P(mimex &gt; none)" in (tmp_path / "p" / "charts_success_rate.svg").read_text()


def test_several_metrics_in_one_call(runs, tmp_path, capsys):
    """--metric repeats: one table per metric in one report, one figure per metric named
    NAME_<metric>; an unknown one among them fails before anything is written."""
    assert main(["report", str(runs), "--metric", "charts/success_rate", "--metric", "perf/sps"]) == 0
    text = capsys.readouterr().out
    assert text.index("# Report: `charts/success_rate`") < text.index("# Report: `perf/sps`")
    assert main(["plot", str(runs), "--metric", "perf/sps", "--metric", "charts/nope",
                 "--out", str(tmp_path / "p")]) == 2
    assert not (tmp_path / "p").exists()
    assert main(["plot", str(runs), "--metric", "charts/success_rate", "--metric", "perf/sps",
                 "--out", str(tmp_path / "p"), "--name", "fig"]) == 0
    assert sorted(p.name for p in (tmp_path / "p").glob("*.png")) == ["fig_charts_success_rate.png",
                                                                      "fig_perf_sps.png"]


def test_runs_that_differ_beyond_the_seed_are_not_averaged(tmp_path, capsys):
    write_run(tmp_path / "a", seed=0)
    write_run(tmp_path / "b", seed=1, sets=["explore.mimex.mask_ratio=0.5"])
    with pytest.raises(ConfigError, match=r"differ in more than the seed.*explore.mimex.mask_ratio: 0.7 vs 0.5"):
        group_runs(find_runs([tmp_path]))
    assert main(["report", str(tmp_path)]) == 2
    assert "--group-by explore.mimex.mask_ratio" in capsys.readouterr().err
    groups = group_runs(find_runs([tmp_path]), ("explore.mimex.mask_ratio",))
    assert [g.method for g in groups] == ["mimex mask_ratio=0.5", "mimex mask_ratio=0.7"]


def test_seeds_at_different_budgets_are_one_method_only_where_steps_only_end_the_run(tmp_path):
    """A study being extended has seeds at the old and the new budget: the same method where
    steps only says where a run stops (here a constant lr), another config where the lr
    schedule spans each run's own steps."""
    write_run(tmp_path / "x" / "a", seed=0, sets=["steps=1000"])
    write_run(tmp_path / "x" / "b", seed=1, sets=["steps=2000"])
    assert [len(g.runs) for g in group_runs(find_runs([tmp_path / "x"]))] == [2]
    write_run(tmp_path / "y" / "a", seed=0, sets=["steps=1000", "ppo.lr_schedule=cos"])
    write_run(tmp_path / "y" / "b", seed=1, sets=["steps=2000", "ppo.lr_schedule=cos"])
    with pytest.raises(ConfigError, match="differ in more than the seed.*steps: 1000 vs 2000"):
        group_runs(find_runs([tmp_path / "y"]))


def test_sweep_method_names_and_unfinished_runs(tmp_path):
    write_run(tmp_path / "a", seed=0, method="l5-nm5", sets=["explore.mimex.n_masks=5"])
    write_run(tmp_path / "b", seed=1, method="l5-nm5", sets=["explore.mimex.n_masks=5"], finished=False)
    text = report(group_runs(find_runs([tmp_path])), "charts/success_rate")
    assert "| l5-nm5 |" in text and "| 2 (1 finished) |" in text
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no run directories"):
        find_runs([tmp_path / "empty"])


def test_finished_keeps_only_runs_at_their_step_budget(tmp_path, capsys):
    write_run(tmp_path / "done", seed=0)  # summary at step 1000 >= the debug preset's 256
    write_run(tmp_path / "running", seed=1, finished=False)
    write_run(tmp_path / "stopped", seed=2, rows=2, sets=["steps=5000"])  # summary.json at 200 of 5000
    assert [r.path.name for r in find_runs([tmp_path], finished_only=True)] == ["done"]
    assert len(find_runs([tmp_path])) == 3
    assert main(["report", str(tmp_path / "done"), str(tmp_path / "running"), "--finished"]) == 0
    assert "| 1 |" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="none of the 1 runs .* has finished"):
        find_runs([tmp_path / "running"], finished_only=True)


def test_a_config_this_version_cannot_read_is_named_not_listed_key_by_key(tmp_path):
    """A seed whose config.json today's schema refuses (here a key no version had) is not
    averaged with the others, and the error says which file and why, not a list of every
    default-filled key."""
    write_run(tmp_path / "a", seed=0)
    bad = write_run(tmp_path / "b", seed=1)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["ppo"]["no_such_key"] = 1
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError) as info:
        group_runs(find_runs([tmp_path]))
    text = str(info.value)
    assert f"{bad}/config.json cannot be read by this version" in text and "no_such_key" in text
    assert "differ in more than the seed" not in text
    assert len(group_runs(find_runs([tmp_path / "a"]))) == 1


def test_report_says_how_many_seeds_log_a_metric_added_since_some_ran(tmp_path):
    """Seeds from before a metric existed (charts/dense_return) are left out of its CIs, and
    the seeds column says so, rather than a CI over 1 seed labelled 2 seeds."""
    newer = write_run(tmp_path / "a", seed=0)
    write_run(tmp_path / "b", seed=1)
    rows = [json.loads(line) for line in (newer / "metrics.jsonl").read_text().splitlines()]
    (newer / "metrics.jsonl").write_text("".join(json.dumps({**r, "charts/dense_return": 7.0}) + "\n"
                                                 for r in rows))
    text = report(group_runs(find_runs([tmp_path])), "charts/dense_return")
    assert "| 7.000 [7.000, 7.000] |" in text and "| 2 (1 log it) |" in text
    assert "| 2 |" in report(group_runs(find_runs([tmp_path])), "charts/success_rate")


def test_runs_of_several_sweeps_are_told_apart_by_study(tmp_path):
    write_run(tmp_path / "a", seed=0, method="mimex", study="fig7")
    write_run(tmp_path / "b", seed=0, method="mimex", study="mine", sets=["explore.mimex.n_masks=5"])
    groups = group_runs(find_runs([tmp_path]))
    assert [g.method for g in groups] == ["fig7/mimex", "mine/mimex"]
    write_run(tmp_path / "c", seed=0, method="mimex", study="fig7")
    with pytest.raises(ConfigError, match="same config and seed"):
        group_runs(find_runs([tmp_path]))


def test_seeds_saved_before_a_key_existed_group_with_newer_ones(tmp_path):
    """A config.json from before a key existed reads it as its default (or its migrated old
    value), so the study's older and newer seeds are one method, not 'differ in more than the seed'."""
    old = write_run(tmp_path / "m" / "seed0", seed=0)
    write_run(tmp_path / "m" / "seed1", seed=1)
    data = json.loads((old / "config.json").read_text())
    del data["ppo"]["std_squared"], data["ppo"]["action_std"], data["explore"]["mimex"]["mask"]
    (old / "config.json").write_text(json.dumps(data))
    [group] = group_runs(find_runs([tmp_path / "m"]))
    assert len(group.runs) == 2
    assert group.runs[0].config["ppo.std_squared"] is False


@pytest.mark.parametrize("seeds", [(2, 2), (5, 2)])
def test_long_method_names_do_not_squeeze_the_curve_panels(tmp_path, seeds):
    """Runs of several studies carry long labels; the summary panels write them inside, so
    every curve panel keeps the width it has with short names."""
    import matplotlib.pyplot as plt

    from mimex.analysis.plot import figure

    width = {}
    for label in ("a", "a-study-with-a-long-name/and-a-variant-named-at-length"):
        root = tmp_path / label.replace("/", "_")
        for j, (explore, n) in enumerate((("mimex", seeds[0]), ("none", seeds[1]))):
            for seed in range(n):
                write_run(root / explore / f"seed{seed}", explore=explore, seed=seed,
                          level=0.2 + 0.3 * j + 0.01 * seed, method=f"{label}-{explore}")
        fig = figure(group_runs(find_runs([root])), "charts/success_rate")
        curve_ax, iqm_ax, poi_ax = fig.axes[:3]
        assert iqm_ax.get_yticklabels() == [] and poi_ax.get_yticklabels() == []
        width[label] = curve_ax.get_position().width
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert f"{label}-mimex" in texts
        [poi] = [t for t in texts if t.startswith("P(")]  # the shared study/ left out, cut to fit
        assert poi.endswith("-mimex > and-a-variant-named-at-length-none)" if "/" in label else "a-mimex > a-none)")
        assert ("n=2" in texts) == (seeds[0] != seeds[1])
        plt.close(fig)
    assert width["a-study-with-a-long-name/and-a-variant-named-at-length"] == pytest.approx(width["a"], rel=0.05)


def test_many_methods_compare_with_the_best_and_their_legend_fits(tmp_path):
    import matplotlib.pyplot as plt

    from mimex.analysis.plot import ALL_PAIRS_UP_TO, figure

    names = [f"a-long-study-name/variant-{j}-described-at-some-length" for j in range(ALL_PAIRS_UP_TO + 2)]
    for j, name in enumerate(names):
        for seed in range(2):
            write_run(tmp_path / f"m{j}" / f"seed{seed}", seed=seed, level=0.1 * j + 0.01 * seed, method=name)
    fig = figure(group_runs(find_runs([tmp_path])), "charts/success_rate")
    labels = [t.get_text() for t in fig.axes[2].texts]
    # the best method (highest IQM) against each other one, the shared "a-long-study-name/" left out
    assert len(labels) == len(names) - 1 and all(t.startswith(f"P(variant-{len(names) - 1}-") for t in labels)
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 1
    plt.close(fig)


def _with_returns(root, scale):
    """Add charts/episodic_return = scale * success rate to every run's rows under root."""
    for path in root.rglob("metrics.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({**r, "charts/episodic_return": scale * r["charts/success_rate"]}) + "\n"
                                for r in rows))


def test_returns_of_tasks_without_a_shared_scale_get_no_iqm_but_a_probability_of_improvement(runs):
    import matplotlib.pyplot as plt

    from mimex.analysis.plot import aggregate, figure

    _with_returns(runs, 100.0)
    groups = group_runs(find_runs([runs]))
    agg = aggregate(groups, "charts/episodic_return", reps=200)
    assert agg["iqm"] == {} and set(agg["poi"]) == {("mimex", "none")}
    assert agg["poi"][("mimex", "none")][0] == pytest.approx(1.0)
    assert agg["no_iqm"].startswith("charts/episodic_return has no scale shared by testing/PointGoal, toy/Corridor")
    fig = figure(groups, "charts/episodic_return")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible][-1] == "pairwise, over tasks" and len(visible) == 3
    assert "no aggregate IQM" in fig._suptitle.get_text()
    plt.close(fig)
    success = aggregate(groups, "charts/success_rate", reps=200)  # one scale: pooled raw
    assert success["scale"] == "" and success["iqm"]["mimex"][0] > success["iqm"]["none"][0]


def test_atari_returns_pool_human_normalised(tmp_path):
    from mimex.analysis.plot import aggregate

    for env in ("atari/PrivateEye", "atari/Venture"):
        for seed in range(2):
            write_run(tmp_path / env.replace("/", "-") / f"seed{seed}", env=env, seed=seed, level=0.5)
    _with_returns(tmp_path, 1187.5)  # Venture: human level; Private Eye: 1.7% of it
    agg = aggregate(group_runs(find_runs([tmp_path])), "charts/episodic_return", reps=200)
    assert agg["scale"] == "human-normalised "
    # final value: the last 200 episodes, rows 7-10 of a ramp to 0.5: 0.425 x 1187.5 on both
    venture, eye = 0.425, (0.425 * 1187.5 - 24.9) / (69571.3 - 24.9)
    # IQM of 4 scores (2 seeds x 2 tasks): the middle two, one of each task
    assert agg["iqm"]["mimex"][0] == pytest.approx((venture + eye) / 2, rel=1e-6)


def test_until_reads_a_grown_run_as_it_stood_at_the_shared_budget(tmp_path, capsys):
    """A seed grown from 500 to 1,000 steps, read ``--until 500``, gives the numbers of a run
    that stopped at 500; a seed still short of the cut is not counted as finished."""
    grown = write_run(tmp_path / "grown" / "seed0", seed=0, level=1.0, rows=10, episodes=150)
    short = write_run(tmp_path / "short" / "seed0", seed=0, level=0.5, rows=5, episodes=150)
    cut = find_runs([grown], until=500)[0]
    assert [r["step"] for r in cut.rows] == [100, 200, 300, 400, 500] and cut.finished
    want = find_runs([short])[0]
    assert final_value(cut, "charts/success_rate") == final_value(want, "charts/success_rate")
    running = write_run(tmp_path / "running" / "seed1", seed=1, rows=3, finished=False)
    assert not find_runs([running], until=500)[0].finished
    assert main(["report", str(grown), str(running), "--until", "500", "--finished"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| mimex |"))
    assert row.startswith("| mimex | 0.475 [0.475, 0.475] |") and "| 1 | 500 |" in row   # (150 x 0.5 + 50 x 0.4) / 200
    between = find_runs([grown], until=450)[0]          # between two logged rows: it got past it
    assert between.finished and between.rows[-1]["step"] == 400
    beyond = find_runs([grown], until=5000)[0]          # a budget the run never reached
    assert not beyond.finished and len(beyond.rows) == 10
    with pytest.raises(ConfigError, match=r"none of the 1 runs .* has reached step 5000 \(--until\)"):
        find_runs([grown], finished_only=True, until=5000)
    with pytest.raises(ConfigError, match=r"--until 50 is before the first logged step \(100\)"):
        find_runs([grown], until=50)
    with pytest.raises(ConfigError, match="--until must be a positive step count, got 0"):
        find_runs([grown], until=0)
