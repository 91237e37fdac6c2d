"""Issue 9, "Never lose a run": no data lost or silently mixed, one writer per run directory,
exactness or a refusal, and a debug checkpoint when the weights diverge."""

import json
import os
import socket
import zipfile
from pathlib import Path

import pytest
import torch

from mimex.agents.ppo import NonFiniteError, PPOAgent
from mimex.errors import CheckpointError, RunLockedError
from mimex.run.lock import RunLock
from mimex.run.logger import read_metrics
from mimex.run.train import make_vec_env, train
from mimex.run.vector import VecEnv


def _strip_timing(rows):
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


@pytest.fixture
def keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_training_a_finished_run_again_keeps_its_summary(tiny_config, capsys):
    first = train(tiny_config(name="f", steps=64))
    assert any(k.startswith("charts/") for k in first) and "explore/reward_mean" in first
    again = train(tiny_config(name="f", steps=64))
    on_disk = json.loads((Path(first["run_dir"]) / "summary.json").read_text())
    assert again == first == on_disk
    assert "already at step 64 (steps=64): nothing to train" in capsys.readouterr().err


def test_run_killed_before_its_first_checkpoint_is_moved_aside(tiny_config, tmp_path, capsys):
    run = tmp_path / "k"
    train(tiny_config(name="k", steps=64))
    old_rows = read_metrics(run)
    (run / "checkpoint.pt").unlink()  # as if SIGKILLed before the first checkpoint
    (run / "summary.json").unlink()
    train(tiny_config(name="k", steps=32))
    assert [r["step"] for r in read_metrics(run)] == [32]
    assert len(list(run.glob("events.out.tfevents.*"))) == 1  # TensorBoard sees one run here
    (aside,) = run.glob("aborted-*")
    assert read_metrics(aside) == old_rows and len(list(aside.glob("events.out.tfevents.*"))) == 1
    assert f"its files were moved to {aside}" in capsys.readouterr().err


def test_previous_checkpoint_alone_is_not_silently_restarted(tiny_config, tmp_path):
    run = tmp_path / "p"
    train(tiny_config(name="p", steps=32))
    train(tiny_config(name="p", steps=64))
    os.replace(run / "checkpoint.pt", run / "checkpoint.prev.pt")
    with pytest.raises(CheckpointError, match="has checkpoint.prev.pt but no checkpoint.pt: copy"):
        train(tiny_config(name="p", steps=96))


def test_resume_with_other_thread_count_is_refused_or_explicitly_allowed(tiny_config, keep_threads, capsys):
    train(tiny_config(name="t", steps=64, threads=1))
    with pytest.raises(CheckpointError, match=r"written with 1 torch CPU threads, this process has 2 "
                                              r"\(threads=2, .*--set threads=1"):
        train(tiny_config(name="t", steps=128, threads=2))
    assert train(tiny_config(name="t", steps=128, threads=2), allow_inexact_resume=True)["step"] == 128
    assert "will not be bit-exact" in capsys.readouterr().err


def _flip_a_weight_byte(path):
    with zipfile.ZipFile(path) as zf:
        storages = [i for i in zf.infolist() if "/data/" in i.filename]  # tensor bytes, not the pickle
        info = max(storages, key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    pos = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.file_size // 2
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))


def test_checkpoint_with_damaged_bytes_is_refused(tiny_config, tmp_path):
    run = tmp_path / "d"
    train(tiny_config(name="d", steps=32))
    _flip_a_weight_byte(run / "checkpoint.pt")
    torch.load(run / "checkpoint.pt", weights_only=True)  # torch alone would use it
    with pytest.raises(CheckpointError, match="is damaged: the bytes of .* fail their CRC check") as err:
        train(tiny_config(name="d", steps=64))
    assert "checkpoint.prev.pt" not in str(err.value)  # there is none to point to
    assert "Move the run directory away" in str(err.value)


def test_corrupt_checkpoint_message_names_prev_only_when_it_exists_and_torchs_whole_reason(tiny_config, tmp_path):
    run = tmp_path / "m"
    train(tiny_config(name="m", steps=32))
    train(tiny_config(name="m", steps=64))
    with zipfile.ZipFile(run / "checkpoint.pt", "w") as zf:  # valid CRCs, not a torch archive
        zf.writestr("x/foo", b"bar")
    with pytest.raises(Exception) as torch_err:
        torch.load(run / "checkpoint.pt", weights_only=True)
    with pytest.raises(CheckpointError, match="cannot read checkpoint .* truncated or corrupt") as err:
        train(tiny_config(name="m", steps=96))
    assert str(torch_err.value).strip() in str(err.value)
    assert f"Copy {run / 'checkpoint.prev.pt'} over it" in str(err.value)


def test_torn_last_metrics_line_is_restored_on_resume(tiny_config):
    straight = train(tiny_config(name="straight", steps=96))
    resumed = tiny_config(name="resumed", steps=64)
    train(resumed)
    path = Path(resumed.run_dir) / "metrics.jsonl"
    text = path.read_text()
    path.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])  # half of row 64
    train(tiny_config(name="resumed", steps=96))
    assert _strip_timing(read_metrics(resumed.run_dir)) == _strip_timing(read_metrics(straight["run_dir"]))


def test_second_writer_is_refused_naming_the_owner(tiny_config, tmp_path):
    run = tmp_path / "l"
    run.mkdir()
    with RunLock(run):
        with pytest.raises(RunLockedError, match=f"in use by another mimex process \\(pid {os.getpid()} "
                                                 f"on host {socket.gethostname()}"):
            train(tiny_config(name="l", steps=32))
    assert train(tiny_config(name="l", steps=32))["step"] == 32  # released


def test_diverging_weights_stop_the_run_with_a_debug_checkpoint(tiny_config, tmp_path):
    cfg = tiny_config(name="inf", explore="none")
    cfg.ppo.lr = float("inf")  # past validation, as a diverging update would be
    with pytest.raises(NonFiniteError, match=r"policy weights are not finite \(NaN or inf\) after the "
                                             r"update at environment step 32"):
        train(cfg)
    assert (tmp_path / "inf" / "debug-checkpoint.pt").exists()


def test_resume_of_envs_that_cannot_snapshot_encodes_fresh_episodes(tiny_config, monkeypatch, capsys):
    monkeypatch.setattr(VecEnv, "get_state", lambda self: None)
    train(tiny_config(name="n", steps=64))
    seen = {}
    real_iterate = PPOAgent.iterate

    def spy(agent, envs):
        if not seen:
            fresh, _ = agent.pipeline(make_vec_env(agent.cfg).reset(), update_stats=False)
            seen["match"] = all(torch.equal(agent.policy_in[k], fresh[k]) for k in fresh)
            seen["count"] = agent.tracker.count.tolist()
        return real_iterate(agent, envs)

    monkeypatch.setattr(PPOAgent, "iterate", spy)
    assert train(tiny_config(name="n", steps=128))["step"] == 128
    assert seen == {"match": True, "count": [1, 1]}
    assert "the resumed run is not bit-exact" in capsys.readouterr().err
