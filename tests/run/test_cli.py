"""The `mimex` command end to end: train, resume after SIGTERM, eval, check-env, errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mimex.cli import main
from mimex.run.logger import read_metrics

TRAIN = ["train", "--env", "testing/PointGoal", "--preset", "debug", "--no-progress"]


def test_help_lists_config_keys_with_their_docs(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "explore.mimex.n_masks = 1" in out
    assert "independent maskings averaged per sequence" in out
    assert "presets: debug, demo, pixmc, atari" in out


def test_unknown_names_exit_2_with_the_choices(tmp_path, capsys):
    assert main([*TRAIN, "--run-dir", str(tmp_path / "a"), "--explore", "curiosity"]) == 2
    assert "explore.name must be one of ('mimex', 'icm', 'rnd', 'none'), got 'curiosity'" in capsys.readouterr().err
    assert main(["train", "--run-dir", str(tmp_path / "b"), "--preset", "nope"]) == 2
    assert "unknown preset 'nope'; choose one of: debug" in capsys.readouterr().err
    assert main(["train", "--run-dir", str(tmp_path / "c"), "--env", "pixmc/Nope"]) == 2
    assert "unknown environment 'pixmc/Nope'" in capsys.readouterr().err
    assert main([*TRAIN, "--run-dir", str(tmp_path / "d"), "--set", "ppo.epochs=many"]) == 2
    assert "--set ppo.epochs=many: expected a int value like" in capsys.readouterr().err


def test_train_then_eval_then_resume_by_run_dir_alone(tmp_path, capsys):
    run = str(tmp_path / "r")
    assert main([*TRAIN, "--run-dir", run, "--steps", "64", "--explore", "rnd"]) == 0
    assert "run summary" in capsys.readouterr().out
    assert main(["eval", "--run-dir", run, "--episodes", "3"]) == 0
    result = json.loads((tmp_path / "r" / "eval.json").read_text())
    assert result["episodes"] == 3 and 0.0 <= result["success_rate"] <= 1.0
    assert main(["train", "--run-dir", run, "--steps", "128", "--no-progress"]) == 0
    assert [r["step"] for r in read_metrics(run)] == [32, 64, 96, 128]
    assert json.loads((tmp_path / "r" / "config.json").read_text())["explore"]["name"] == "rnd"


def test_check_env_and_reserved_commands(capsys):
    assert main(["check-env", "testing/PointGoal", "--steps", "20"]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["sweep"]) == 2
    assert "not available in this version" in capsys.readouterr().err


def test_sigterm_saves_a_checkpoint_and_the_same_command_resumes(tmp_path):
    run = tmp_path / "sig"
    cmd = [sys.executable, "-m", "mimex.cli", *TRAIN, "--run-dir", str(run), "--steps", "10000000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.time() + 60
    while time.time() < deadline and not (run / "metrics.jsonl").exists():
        time.sleep(0.2)
    while time.time() < deadline and (run / "metrics.jsonl").stat().st_size == 0:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "checkpoint saved. Run the same command to resume" in out
    assert (run / "checkpoint.pt").exists() and not (run / "summary.json").exists()
    stopped_at = read_metrics(run)[-1]["step"]
    total = stopped_at + 64
    cmd[-1] = str(total)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    steps = [r["step"] for r in read_metrics(run)]
    assert steps == list(range(32, total + 1, 32))
    assert json.loads((run / "summary.json").read_text())["step"] == total
