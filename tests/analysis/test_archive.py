"""`mimex archive`: records that report and plot read like the runs, never shrink, never train."""

import gzip
import json
import os

import pytest
from test_plot_report import write_run

from mimex import errors
from mimex.analysis.archive import archive_runs
from mimex.analysis.curves import find_runs, group_runs
from mimex.analysis.report import report
from mimex.cli import main
from mimex.errors import ConfigError


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    for explore, level in (("mimex", 0.8), ("none", 0.2)):
        for seed in range(2):
            d = write_run(root / "toy-Corridor" / explore / f"seed{seed}", "toy/Corridor", explore, seed,
                          level, finished=seed == 0)
            (d / "checkpoint.pt").write_bytes(b"x" * 1000)
            (d / "events.out.tfevents.1.host").write_bytes(b"tb")
    return root


def test_the_archive_reports_like_the_runs_and_holds_no_checkpoint(runs, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["archive", str(runs), "--out", str(out)]) == 0
    assert "4 of 4 runs written" in capsys.readouterr().out
    rec = out / "toy-Corridor" / "mimex" / "seed0"
    assert sorted(p.name for p in rec.iterdir()) == ["archive.json", "config.json", "metrics.jsonl.gz",
                                                     "summary.json"]
    meta = json.loads((rec / "archive.json").read_text())
    assert meta["rows"] == 10 and meta["last_step"] == 1000 and meta["finished"] is True
    assert json.loads((out / "toy-Corridor" / "none" / "seed1" / "archive.json").read_text())["finished"] is False
    assert gzip.decompress((rec / "metrics.jsonl.gz").read_bytes()) == (
        runs / "toy-Corridor" / "mimex" / "seed0" / "metrics.jsonl").read_bytes()
    for metric in ("charts/success_rate", "perf/sps"):
        before = report(group_runs(find_runs([runs])), metric)
        after = report(group_runs(find_runs([out])), metric)
        assert after == before
    assert [r.finished for r in find_runs([out])] == [r.finished for r in find_runs([runs])]
    assert main(["plot", str(out), "--out", str(tmp_path / "plots")]) == 0


def test_archiving_again_never_shrinks_a_record(runs, tmp_path):
    out = tmp_path / "results"
    src = runs / "toy-Corridor" / "none" / "seed1"
    archive_runs([src], out)
    rec = out / "seed1"
    gz = (rec / "metrics.jsonl.gz").read_bytes()
    assert [d.outcome for d in archive_runs([src], out)] == ["same"]
    assert (rec / "metrics.jsonl.gz").read_bytes() == gz
    lines = (src / "metrics.jsonl").read_text().splitlines()
    (src / "metrics.jsonl").write_text("\n".join(lines[:4]) + "\n")  # the run lost rows (or restarted)
    assert [(d.outcome, d.rows) for d in archive_runs([src], out)] == [("kept", 10)]
    assert (rec / "metrics.jsonl.gz").read_bytes() == gz
    (src / "metrics.jsonl").write_text("\n".join(lines) + "\n" + json.dumps({"step": 1100}) + '\n{"step": 12')
    assert [(d.outcome, d.rows) for d in archive_runs([src], out)] == [("written", 11)]  # torn line left out
    assert len(find_runs([rec])[0].rows) == 11
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary folder left
    # the same rows, now with a summary (the run was archived between its last row and its
    # summary): written, and finished
    (src / "summary.json").write_text(json.dumps({"step": 1000, "wall_clock_s": 1.0}))
    (src / "metrics.jsonl").write_text((src / "metrics.jsonl").read_text() + "null\n")  # not a row
    assert [d.outcome for d in archive_runs([src], out)] == ["written"]
    assert json.loads((rec / "archive.json").read_text())["finished"] is True
    # a damaged archive.json: the record's rows are counted from its metrics, still never shrinks
    (rec / "archive.json").write_text("<<<<<<< HEAD")
    (src / "metrics.jsonl").write_text("\n".join(lines[:4]) + "\n")
    assert [(d.outcome, d.rows) for d in archive_runs([src], out)] == [("kept", 11)]


def test_a_record_is_replaced_only_by_its_own_run(runs, tmp_path, monkeypatch):
    out = tmp_path / "results"
    archive_runs([runs / "toy-Corridor" / "mimex" / "seed0"], out)
    with pytest.raises(ConfigError, match=r"holds the record of another run \(explore.name: record 'mimex', run 'none'"):
        archive_runs([runs / "toy-Corridor" / "none" / "seed0"], out)
    monkeypatch.chdir(runs / "toy-Corridor" / "mimex" / "seed0")
    assert [d.dest for d in archive_runs(["."], out)] == [out / "seed0"]  # named by the folder
    monkeypatch.chdir(runs)
    archive_runs(["."], tmp_path / "whole")  # a folder of runs: their paths below it
    assert len(find_runs([tmp_path / "whole" / "toy-Corridor"])) == 4
    archive_runs([runs], runs / "archive")  # an archive kept below the runs is not archived again
    assert [d.outcome for d in archive_runs([runs], runs / "archive")] == ["same"] * 4


def test_archive_refuses_to_overwrite_other_files_or_itself(runs, tmp_path):
    out = tmp_path / "results"
    (out / "toy-Corridor" / "none" / "seed1").mkdir(parents=True)
    with pytest.raises(ConfigError, match="exists and is not an archived run"):
        archive_runs([runs], out)
    assert sorted(p.name for p in out.rglob("*")) == ["none", "seed1", "toy-Corridor"]  # checked first
    archive_runs([runs], tmp_path / "a")
    with pytest.raises(ConfigError, match="is itself an archived record"):
        archive_runs([tmp_path / "a"], tmp_path / "b")
    with pytest.raises(ConfigError, match="would be archived as seed0"):
        archive_runs([runs / "toy-Corridor" / "mimex" / "seed0", runs / "toy-Corridor" / "none" / "seed0"],
                     tmp_path / "c")
    (tmp_path / "a" / "toy-Corridor" / "none" / "seed0" / "metrics.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(ConfigError, match="metrics.jsonl.gz cannot be read"):
        find_runs([tmp_path / "a"])


def test_find_runs_skips_hidden_folders_below_the_path_only(runs, tmp_path):
    hidden = tmp_path / ".cache" / "study"
    write_run(hidden / "r", "toy/Corridor")
    write_run(runs / ".seed0.tmp-1", "toy/Corridor")  # an archive being written
    assert len(find_runs([hidden])) == 1  # a hidden folder above the path does not matter
    assert len(find_runs([runs])) == 4


def test_an_archived_run_cannot_be_trained_or_swept(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: t\npreset: debug\nset: {env.name: toy/Corridor, explore.name: none, steps: 64}\n"
                    "seeds: 1\n")
    assert main(["sweep", str(spec), "--root", str(tmp_path / "runs")]) == 0
    assert main(["archive", str(tmp_path / "runs"), "--out", str(tmp_path / "results")]) == 0
    rec = tmp_path / "results" / "t" / "toy-Corridor" / "none" / "seed0"
    assert (rec / "archive.json").exists() and (rec / "sweep.json").exists()
    capsys.readouterr()
    # finished at this budget: the sweep skips it; a larger budget would need the checkpoint
    assert main(["sweep", str(spec), "--root", str(tmp_path / "results")]) == 0
    assert "1 finished (skipped)" in capsys.readouterr().out
    spec.write_text(spec.read_text().replace("steps: 64", "steps: 128"))
    assert main(["sweep", str(spec), "--root", str(tmp_path / "results")]) == 2
    assert errors.RUN_DIR_ARCHIVED.format(run_dir=rec) in capsys.readouterr().err
    before = sorted(os.listdir(rec))
    assert main(["train", "--preset", "debug", "--run-dir", str(rec), "--steps", "128", "--no-progress"]) == 2
    assert "is an archived record of a run" in capsys.readouterr().err
    assert main(["eval", "--run-dir", str(rec)]) == 2
    assert "is an archived record of a run" in capsys.readouterr().err
    assert sorted(os.listdir(rec)) == before


def test_sweep_archive_records_each_run_as_it_finishes(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: t\npreset: debug\nset: {env.name: toy/Corridor, explore.name: none, steps: 64}\n"
                    "seeds: 2\n")
    out = tmp_path / "results"
    assert main(["sweep", str(spec), "--root", str(tmp_path / "runs"), "--workers", "2",
                 "--archive", str(out)]) == 0
    text = capsys.readouterr().out
    for seed in (0, 1):
        rec = out / "t" / "toy-Corridor" / "none" / f"seed{seed}"
        assert f"archived t/toy-Corridor/none/seed{seed} (2 rows) into {rec}" in text
        assert json.loads((rec / "archive.json").read_text())["finished"] is True
    # the end-of-sweep pass finds them unchanged; a finished sweep run again archives nothing new
    assert main(["sweep", str(spec), "--root", str(tmp_path / "runs"), "--archive", str(out)]) == 0
    assert "archived" not in capsys.readouterr().out
    assert report(group_runs(find_runs([out])), "charts/success_rate") == report(
        group_runs(find_runs([tmp_path / "runs"])), "charts/success_rate")
    for inside in (tmp_path / "runs" / "t", tmp_path / "runs", tmp_path):  # overlapping folders
        assert main(["sweep", str(spec), "--root", str(tmp_path / "runs"), "--archive", str(inside)]) == 2
        assert "overlap; put the archive beside the runs" in capsys.readouterr().err
