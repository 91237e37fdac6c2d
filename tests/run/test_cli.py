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
    assert "presets: debug, demo, atari, pixmc-paper, pixmc" in out


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
    assert main(["bench"]) == 2
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
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})  # the same threads: exact
    assert done.returncode == 0, done.stderr
    steps = [r["step"] for r in read_metrics(run)]
    assert steps == list(range(32, total + 1, 32))
    assert json.loads((run / "summary.json").read_text())["step"] == total


def test_eval_with_fewer_episodes_than_envs_and_bad_counts(tmp_path, capsys):
    """Issue 9: `--episodes K` below num_envs failed on the explorer's per-env windows; K <= 0
    said the same misleading thing."""
    run = str(tmp_path / "e")
    assert main([*TRAIN, "--run-dir", run, "--steps", "64", "--explore", "mimex"]) == 0
    assert main(["eval", "--run-dir", run, "--episodes", "1"]) == 0
    assert json.loads((tmp_path / "e" / "eval.json").read_text())["episodes"] == 1
    capsys.readouterr()
    assert main(["eval", "--run-dir", run, "--episodes", "0"]) == 2
    assert "--episodes must be >= 1, got 0" in capsys.readouterr().err


def test_eval_that_cannot_write_eval_json_still_prints_the_result(tmp_path, capsys):
    run = tmp_path / "ro"
    assert main([*TRAIN, "--run-dir", str(run), "--steps", "32", "--explore", "none"]) == 0
    capsys.readouterr()
    (run / "eval.json.tmp").mkdir()  # writing there fails, as in a read-only run directory
    assert main(["eval", "--run-dir", str(run), "--episodes", "2"]) == 0
    out, err = capsys.readouterr()
    assert "evaluation" in out and "success_rate" in out
    assert "cannot write" in err and "the result is only printed" in err


@pytest.mark.parametrize("args, message", [
    (["--set", "env.options={\"lenght\": 20}"], "unknown option(s) 'lenght' for environment 'toy/Corridor'; valid options are: length, horizon"),
    (["--set", "env.options={\"length\": 1}"], "option length must be an integer >= 2, got 1"),
    (["--set", "ppo.activation=swish"], "ppo.activation must be one of ('tanh', 'relu', 'elu', 'selu', 'gelu'), got 'swish'"),
    (["--seed", "-1"], "seed must be an integer >= 0, got -1"),
    (["--set", "ppo.lr=inf"], "config values must be finite numbers, got ppo.lr=inf"),
    (["--device", "gpu"], "unknown device 'gpu'"),
    (["--device", "cuda:99"], "device 'cuda:99' is not available on this machine"),
])
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, args, message):
    argv = ["train", "--env", "toy/Corridor", "--preset", "debug", "--no-progress", "--steps", "32"]
    assert main([*argv, "--run-dir", str(tmp_path / "bad"), *args]) == 2
    assert message in capsys.readouterr().err


def test_run_dir_that_is_a_file_or_not_writable_is_refused(tmp_path, capsys):
    afile = tmp_path / "file"
    afile.write_text("x")
    assert main([*TRAIN, "--run-dir", str(afile)]) == 2
    assert f"cannot use run directory {afile}: it is a file" in capsys.readouterr().err
    assert main([*TRAIN, "--run-dir", str(afile / "run")]) == 2
    assert "it is not a writable directory" in capsys.readouterr().err


def test_steps_below_one_iteration_says_what_will_run(tmp_path, capsys):
    assert main([*TRAIN, "--run-dir", str(tmp_path / "s"), "--steps", "10", "--explore", "none"]) == 0
    assert "steps=10 is less than one iteration (env.num_envs * ppo.num_steps = 2 * 16 = 32 steps): " \
           "training runs 1 iteration(s), to step 32" in capsys.readouterr().err
