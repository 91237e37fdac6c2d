"""Helpers shared by the sweep tests: spec files, tiny sweeps, waiting on run directories."""

import time
from pathlib import Path


def write(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def wait_for(pred, timeout=90.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def rows(run_dir):
    path = Path(run_dir) / "metrics.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


TINY = """\
name: t
preset: debug
set: {{env.name: toy/Corridor, explore.name: {explore}, steps: {steps}, checkpoint_minutes: 0}}
seeds: 2
"""
