"""One run of a sweep, in whatever process runs it: ``sweep.json`` and ``train``.

``sweep.json`` in a run directory records what the sweep asked for: the spec, the run's
name, environment, method and seed, the resolved config, its hash (``config_hash``, the
bookkeeping keys left out) and the project version (git commit, or the package version
outside a git checkout) of the sweep that planned the run and of every process that
started or resumed it (``starts``).

``python -m mimex.run.worker RUN_DIR`` trains the run that ``RUN_DIR/sweep.json`` describes
(what a local sweep worker process runs); Ray tasks call ``run_one``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SWEEP_FILE = "sweep.json"


def project_version() -> dict[str, Any]:
    """{"package": version, "commit": git HEAD or None, "dirty": uncommitted changes or None}."""
    import mimex

    out: dict[str, Any] = {"package": mimex.__version__, "commit": None, "dirty": None}
    src = Path(mimex.__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=src, capture_output=True,
                                text=True, timeout=10)
        if commit.returncode == 0:
            out["commit"] = commit.stdout.strip()
            status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "."],
                                    cwd=src, capture_output=True, text=True, timeout=10)
            out["dirty"] = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def read_sweep_file(run_dir: str | Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(run_dir) / SWEEP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_sweep_file(run_dir: str | Path, data: dict[str, Any]) -> None:
    """Atomically (re)write ``run_dir/sweep.json``."""
    path = Path(run_dir) / SWEEP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{SWEEP_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _record_start(run_dir: Path, meta: dict[str, Any]) -> None:
    data = read_sweep_file(run_dir) or dict(meta)
    data.setdefault("starts", []).append({
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": socket.gethostname(),
        "pid": os.getpid(), "version": project_version()})
    write_sweep_file(run_dir, data)


def run_one(config: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Train (or resume, or find finished) the run of ``config`` (a ``to_dict`` RunConfig);
    returns its summary. ``meta`` is the sweep.json content to write if there is none."""
    import torch

    from mimex.config.schema import RunConfig, from_dict
    from mimex.run.lock import prepare_run_dir
    from mimex.run.train import train

    cfg = from_dict(RunConfig, config)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    run_dir = prepare_run_dir(cfg.run_dir)
    _record_start(run_dir, meta)
    summary = train(cfg)
    if "stopped_by_signal" in summary:
        raise SystemExit(128 + int(summary["stopped_by_signal"]))
    return summary


def main(argv: list[str] | None = None) -> int:
    from mimex.errors import MimexError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mimex.run.worker RUN_DIR (a run directory with sweep.json)", file=sys.stderr)
        return 2
    meta = read_sweep_file(args[0])
    if meta is None or "config" not in meta:
        print(f"{args[0]}: no readable {SWEEP_FILE} with a config", file=sys.stderr)
        return 2
    try:
        summary = run_one(meta["config"], meta)
    except MimexError as exc:
        print(f"mimex sweep worker: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: summary[k] for k in ("step", "wall_clock_s") if k in summary}))
    return 0


if __name__ == "__main__":
    from mimex.envs.headless import choose_gl

    choose_gl()
    sys.exit(main())
