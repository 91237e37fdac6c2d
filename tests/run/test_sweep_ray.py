"""`mimex sweep --backend ray`: the driver loop, a killed worker retried with identical
results, and stopping the sweep, which must checkpoint every running task."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sweep_helpers import TINY, rows, wait_for, write

from mimex.cli import main
from mimex.run import backends, ray_backend
from mimex.run.logger import read_metrics
from mimex.run.sweep import expand, load_spec


class _Ref:
    value = error = None


class _FakeRay:
    """Runs tasks in this process at submission: the Ray driver loop without a cluster."""

    def __init__(self):
        self.options = []

    def is_initialized(self):
        return True

    def remote(self, **options):
        self.options.append(options)

        def wrap(fn):
            class Task:
                @staticmethod
                def remote(*args):
                    ref = _Ref()
                    try:
                        ref.value = fn(*args)
                    except Exception as exc:  # noqa: BLE001
                        ref.error = exc
                    return ref
            return Task
        return wrap

    def wait(self, refs, num_returns=1, timeout=None):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        if ref.error is not None:
            raise ref.error
        return ref.value


def test_ray_driver_loop_with_a_stand_in_ray(tmp_path, monkeypatch):
    import torch

    fake = _FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    spec = load_spec(write(tmp_path, TINY.format(explore="none", steps=64)))
    runs = expand(spec, tmp_path.resolve(), {"threads": 1, "progress": False})
    todo = backends.prepare([backends.run_state(r) for r in runs], spec)
    json.loads((Path(runs[0].config.run_dir) / "sweep.json").read_text())
    threads = torch.get_num_threads()
    lines = []
    try:
        assert ray_backend.run_ray(todo, log=lines.append, max_retries=5) == 0
    finally:
        torch.set_num_threads(threads)
    assert fake.options == [{"num_cpus": 1, "max_retries": 5}] * 2
    assert sum("done t/toy-Corridor/none/seed" in ln for ln in lines) == 2
    assert all(backends.run_state(r).state == "done" for r in runs)


@pytest.mark.slow
@pytest.mark.parametrize("kill", ["SIGKILL", "SIGTERM"])  # a dead worker; a drained or preempted node
def test_ray_sweep_survives_a_killed_worker_with_identical_results(tmp_path, kill):
    ray = pytest.importorskip("ray")
    spec_path = write(tmp_path, TINY.format(explore="mimex", steps=2048))
    spec = load_spec(spec_path)
    ref_root, ray_root = (tmp_path / "ref").resolve(), (tmp_path / "ray").resolve()
    assert main(["sweep", spec_path, "--root", str(ref_root), "--workers", "2"]) == 0  # uninterrupted
    runs = expand(spec, ray_root, {"threads": 1, "progress": False})
    todo = backends.prepare([backends.run_state(r) for r in runs], spec)
    victim = Path(runs[0].config.run_dir)
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        result = {}
        driver = threading.Thread(target=lambda: result.setdefault("failed", ray_backend.run_ray(todo, log=print)))
        driver.start()
        assert wait_for(lambda: (victim / "checkpoint.pt").exists() and rows(victim) >= 4, 120)
        pid = int((victim / "run.lock").read_text().split()[1])
        assert pid != os.getpid()
        os.kill(pid, getattr(signal, kill))
        driver.join(300)
        assert result["failed"] == 0
    finally:
        ray.shutdown()
    assert len(json.loads((victim / "sweep.json").read_text())["starts"]) == 2
    for run in runs:
        got = [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in read_metrics(run.config.run_dir)]
        want_dir = ref_root / run.name
        want = [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in read_metrics(want_dir)]
        assert got == want, run.name


@pytest.mark.slow
def test_stopping_a_ray_sweep_checkpoints_its_tasks_and_starts_no_more(tmp_path):
    """SIGTERM to `mimex sweep --backend ray` cancels the tasks gracefully: both running
    runs save a checkpoint (none is written otherwise here: checkpoint_minutes is large),
    the queued third run never starts, and the sweep exits 143 and resumes."""
    pytest.importorskip("ray")
    spec = TINY.replace("checkpoint_minutes: 0", "checkpoint_minutes: 1000").replace("seeds: 2", "seeds: 3")
    spec_path = write(tmp_path, spec.format(explore="none", steps=1_000_000))
    root = (tmp_path / "runs").resolve()
    # the sweep starts its own local Ray, as the plain command does (Ray's init installs a
    # SIGTERM handler of its own, which the sweep must take over)
    code = "import sys; from mimex.cli import main; sys.exit(main())"
    sweep = subprocess.Popen([sys.executable, "-c", code, "sweep", spec_path, "--root", str(root),
                              "--backend", "ray"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    runs = expand(load_spec(spec_path), root, {"threads": 1, "progress": False})
    try:
        assert wait_for(lambda: all(rows(r.config.run_dir) >= 3 for r in runs[:2]), 180)
        assert not any((Path(r.config.run_dir) / "checkpoint.pt").exists() for r in runs)
        sweep.send_signal(signal.SIGTERM)
        out = sweep.communicate(timeout=240)[0]
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 143, out
    assert "interrupted (SIGTERM): cancelling 3 Ray task(s)" in out, out
    states = [backends.run_state(r) for r in runs]
    for s in states[:2]:
        assert s.state == "resume" and 0 < s.step < s.total, (s.run.name, s.state, s.step)
    assert states[2].state == "new" and rows(runs[2].config.run_dir) == 0
