"""Fault injection: runs are killed, checkpoints damaged, metrics torn and the disk filled,
and every time nothing already written is lost and the resumed run matches an uninterrupted
one (metrics rows equal, timings aside). Figures: docs/reliability.md.

Run with ``.venv/bin/python -m pytest -q -m slow tests/run/test_faults_slow.py`` (about
5-10 minutes on 2 CPU cores). ``MIMEX_FAULT_SEED`` (default 0) draws the kill points and
the damaged bytes; ``MIMEX_FAULT_REPORT=path`` appends one JSON line of figures per test.

Kills: ``mimex train`` runs as a subprocess with a checkpoint after every iteration and is
sent SIGKILL when its metrics reach a row drawn from the seed, after a delay drawn from the
seed (0-300 ms: anywhere in an iteration, a metrics write or a checkpoint write), then
resumed with the same command; several kills hit one run before it may finish. The kill
schedule is reproducible from the seed; where in the code a kill lands depends on the
machine's speed, so each seed also samples moments.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mimex.errors import CheckpointError
from mimex.run.logger import read_metrics
from mimex.run.train import train

slow = pytest.mark.slow  # every test here but the last, a fast check of the side file

SEED = int(os.environ.get("MIMEX_FAULT_SEED", "0"))
BATCH = 32  # the debug preset: 2 envs x 16 steps per iteration
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
COMMON = ["train", "--preset", "debug", "--seed", "3", "--no-progress", "--set", "threads=1",
          "--set", "checkpoint_minutes=1e-06", "--set", "tensorboard=false"]

# suite -> (task arguments, iterations per run, kills)
SUITES = {
    "toy": (["--env", "toy/Corridor", "--explore", "mimex"], 24, 8),
    "pixmc": (["--env", "pixmc/FrankaReach", "--obs", "state", "--explore", "rnd"], 16, 5),
    "dmc": (["--env", "dmc/cartpole_swingup_sparse", "--obs", "state", "--explore", "icm"], 16, 5),
    "atari": (["--env", "atari/Breakout", "--obs", "pixels", "--explore", "mimex"], 13, 4),
}
NEEDS = {"pixmc": "mujoco", "dmc": "dm_control", "atari": "ale_py"}


def _report(**figures) -> None:
    path = os.environ.get("MIMEX_FAULT_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"seed": SEED, **figures}) + "\n")


def _strip_timing(rows):
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


def _complete_lines(path: Path) -> list[str]:
    """The whole lines of a file (a last line without its newline is a torn write)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    return [line for line in lines[:-1] if line]


def _kept_lines(run: Path) -> set[str]:
    """Every line the run directory holds: metrics and the lines moved aside on resume."""
    out = set(_complete_lines(run / "metrics.jsonl"))
    for side in run.glob("metrics.after-checkpoint.*.jsonl"):
        out |= set(_complete_lines(side))
    return out


def _cli(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "mimex.cli", *COMMON, *args]


def _run_to_end(cmd: list[str], timeout: float = 300) -> None:
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}"


def _kill_at(cmd: list[str], run: Path, target_rows: int, delay: float) -> bool:
    """Start ``cmd``; SIGKILL it ``delay`` s after the run's metrics first hold ``target_rows``
    whole rows while a checkpoint exists. False if the process ended first."""
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if (run / "checkpoint.pt").exists() and len(_complete_lines(run / "metrics.jsonl")) >= target_rows:
                time.sleep(delay)
                if proc.poll() is not None:
                    break
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                return True
            time.sleep(0.005)
        err = proc.stderr.read() if proc.stderr else ""
        assert proc.returncode == 0, f"{' '.join(cmd)} failed before its kill:\n{err[-3000:]}"
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if proc.stderr:
            proc.stderr.close()


@slow
@pytest.mark.parametrize("suite", list(SUITES))
def test_killed_runs_lose_nothing_and_resume_exactly(suite, tmp_path):
    if suite in NEEDS:
        pytest.importorskip(NEEDS[suite])
    args, iterations, n_kills = SUITES[suite]
    rng = random.Random(f"{SEED}-{suite}")
    steps = iterations * BATCH
    reference = tmp_path / "reference"
    ref_proc = subprocess.Popen(_cli([*args, "--steps", str(steps), "--run-dir", str(reference)]),
                                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run = tmp_path / "killed"
    cmd = _cli([*args, "--steps", str(steps), "--run-dir", str(run)])
    # kill when the metrics hold row k: distinct rows, 2 apart, the last well before the end
    targets = sorted(rng.sample(range(2, iterations - 2, 2), n_kills))
    start = time.monotonic()
    seen: set[str] = set()  # every whole metrics line ever on disk
    kills, landed = 0, []
    for target in targets:
        delay = rng.uniform(0.0, 0.3)
        if _kill_at(cmd, run, target, delay):
            kills += 1
            lines = _complete_lines(run / "metrics.jsonl")
            landed.append({"target_row": target, "delay_s": round(delay, 3), "rows_at_kill": len(lines),
                           "torn_line": not (run / "metrics.jsonl").read_bytes().endswith(b"\n"),
                           "in_checkpoint_write": (run / "checkpoint.tmp").exists()})
            seen |= set(lines)
            seen |= _kept_lines(run)
    _run_to_end(cmd)  # the last resume, to the end
    ref_proc.wait(600)
    assert ref_proc.returncode == 0, ref_proc.stderr.read()[-3000:]
    ref_proc.stderr.close()

    assert kills == n_kills, f"only {kills} of {n_kills} kills landed before the run ended: {landed}"
    assert not (missing := seen - _kept_lines(run)), f"metrics lines lost: {sorted(missing)[:3]}"
    rows, ref_rows = read_metrics(run), read_metrics(reference)
    assert [r["step"] for r in rows] == [BATCH * (i + 1) for i in range(iterations)]
    matched = _strip_timing(rows) == _strip_timing(ref_rows)
    _report(test="kill", suite=suite, kills=kills, resumes=kills, matched=kills if matched else 0,
            kill_points=landed, seconds=round(time.monotonic() - start, 1))
    assert matched, "the resumed run differs from the uninterrupted one"
    assert json.loads((run / "summary.json").read_text())["step"] == steps


# ------------------------------------------------------------------ in-process faults (toy)
STOP, END = 4 * BATCH, 7 * BATCH  # stop after 4 iterations, then resume to 7


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """An uninterrupted reference run, and a run stopped at STOP (checkpoint + previous)."""
    from mimex.config.overrides import resolve_config

    base = tmp_path_factory.mktemp("toy")

    def cfg(name, steps):
        return resolve_config("debug", {"env.name": "toy/Corridor", "steps": steps, "seed": 3,
                                        "run_dir": str(base / name), "progress": False,
                                        "tensorboard": False, "threads": 1,
                                        "checkpoint_minutes": 1e-06})

    train(cfg("reference", END))
    train(cfg("stopped", STOP))
    return {"cfg": cfg, "base": base, "reference": _strip_timing(read_metrics(base / "reference"))}


def _copy(toy, name: str) -> Path:
    dst = toy["base"] / name
    shutil.copytree(toy["base"] / "stopped", dst)
    return dst


@slow
def test_damaged_checkpoint_bytes_are_refused_and_the_previous_one_resumes_exactly(toy):
    rng = random.Random(f"{SEED}-damage")
    refused = harmless = 0
    trials = 8
    for i in range(trials):
        run = _copy(toy, f"damaged{i}")
        ckpt = run / "checkpoint.pt"
        data = bytearray(ckpt.read_bytes())
        if i == 0:
            data = data[: rng.randrange(len(data))]  # a truncated file
        else:
            for _ in range(rng.choice((1, 1, 3))):  # one or a few flipped bytes anywhere
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        ckpt.write_bytes(bytes(data))
        metrics_before = (run / "metrics.jsonl").read_bytes()
        try:
            train(toy["cfg"](f"damaged{i}", END))
        except CheckpointError as exc:
            refused += 1
            assert f"Copy {run / 'checkpoint.prev.pt'} over it" in str(exc)
            assert (run / "metrics.jsonl").read_bytes() == metrics_before  # nothing touched
            shutil.copyfile(run / "checkpoint.prev.pt", ckpt)  # follow the advice
            train(toy["cfg"](f"damaged{i}", END))
        else:
            harmless += 1  # bytes no CRC covers (zip padding): the data loaded is intact
        assert _strip_timing(read_metrics(run)) == toy["reference"]
        assert set(metrics_before.decode().splitlines()) <= _kept_lines(run)
    _report(test="damaged_checkpoint", trials=trials, refused=refused, harmless=harmless,
            resumes=trials, matched=trials)


@slow
@pytest.mark.parametrize("how", ["torn_checkpointed_row", "partial_row_past_checkpoint"])
def test_partial_metrics_line_is_repaired_and_nothing_is_lost(toy, how):
    run = _copy(toy, how)
    path = run / "metrics.jsonl"
    text = path.read_text()
    if how == "torn_checkpointed_row":  # killed while writing the row the checkpoint holds
        path.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])
    else:  # killed while writing the next row, after the checkpoint
        path.write_text(text + '{"step": 160, "charts/episodic_ret')
    before = set(_complete_lines(path))
    train(toy["cfg"](how, END))
    assert _strip_timing(read_metrics(run)) == toy["reference"]
    assert before <= _kept_lines(run)
    _report(test="partial_metrics_line", how=how, resumes=1, matched=1)


class _FullDisk(io.FileIO):
    """A file whose writes fail with ENOSPC once ``room`` bytes are written."""

    room = 0

    def write(self, b):
        if self.tell() + len(b) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(b)


@slow
@pytest.mark.parametrize("fail_at", ["periodic", "final"])
def test_full_disk_on_a_checkpoint_write_keeps_checkpoint_and_metrics(toy, monkeypatch, fail_at):
    """The disk fills while a checkpoint is written: the run stops with a clear error, the
    checkpoint before it, its previous one and the metrics are intact, no temporary file is
    left behind, and once there is room the same command resumes exactly."""
    import mimex.run.checkpoint as checkpoint

    name = f"full_{fail_at}"
    run = _copy(toy, name)
    saves = {"n": 0}
    # resumed at iteration 4: saves after iterations 5, 6 and 7, then the one at the end
    fail_on = 2 if fail_at == "periodic" else (END - STOP) // BATCH + 1
    real_open = open

    def fake_open(path, mode="r", *a, **kw):
        if str(path).endswith("checkpoint.tmp") and "w" in mode:
            saves["n"] += 1
            if saves["n"] == fail_on:
                _FullDisk.room = 2000
                return _FullDisk(path, "w")
        return real_open(path, mode, *a, **kw)

    monkeypatch.setattr(checkpoint, "open", fake_open, raising=False)
    state = {}

    def snapshot():
        state.update({p.name: p.read_bytes() for p in (run / "checkpoint.pt", run / "checkpoint.prev.pt")})

    real_save = checkpoint.save_checkpoint

    def watching_save(run_dir, st, name="checkpoint.pt"):
        if saves["n"] + 1 == fail_on:
            snapshot()
        return real_save(run_dir, st, name)

    monkeypatch.setattr("mimex.run.train.save_checkpoint", watching_save)
    with pytest.raises(CheckpointError) as err:
        train(toy["cfg"](name, END))
    msg = str(err.value)
    assert "could not write checkpoint" in msg and "No space left on device" in msg
    assert "keeps the previous checkpoint, which is intact" in msg and "run the same command again" in msg
    for fname, data in state.items():
        assert (run / fname).read_bytes() == data, f"{fname} changed"
    assert not (run / "checkpoint.tmp").exists()
    written = set(_complete_lines(run / "metrics.jsonl"))
    monkeypatch.undo()  # room again
    train(toy["cfg"](name, END))
    assert _strip_timing(read_metrics(run)) == toy["reference"]
    assert written <= _kept_lines(run)
    _report(test="full_disk", fail_at=fail_at, resumes=1, matched=1)


def test_lines_moved_aside_by_two_resumes_in_one_second_are_all_kept(tmp_path, monkeypatch):
    """Each resume moves the lines past its checkpoint to metrics.after-checkpoint.<second>.jsonl;
    a second resume within the same second appends to that file instead of replacing it."""
    from mimex.run.logger import MetricsLogger

    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s}) + "\n" for s in (32, 64, 96)))
    MetricsLogger(tmp_path, False, 64).close()  # drops step 96
    with open(path, "a") as f:
        f.write(json.dumps({"step": 96, "again": 1}) + "\n")
    MetricsLogger(tmp_path, False, 64).close()  # drops the new step 96
    (side,) = tmp_path.glob("metrics.after-checkpoint.*.jsonl")
    assert [json.loads(line) for line in _complete_lines(side)] == [{"step": 96}, {"step": 96, "again": 1}]
