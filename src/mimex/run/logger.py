"""Metrics sinks: ``metrics.jsonl`` (the source of truth) and TensorBoard event files."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

METRICS = "metrics.jsonl"


def _step_of(line: str) -> int | None:
    """The ``step`` of a metrics line; None for a damaged (e.g. half-written) line."""
    try:
        return int(json.loads(line)["step"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


class MetricsLogger:
    """Appends one JSON object per log point and mirrors scalars to TensorBoard.

    On resume, lines past the checkpoint's step are moved to a side file (never deleted)
    and TensorBoard purges its events past that step, so the log continues seamlessly.
    ``restore`` is the last line logged before the checkpoint (the checkpoint keeps it): if
    that line is missing or torn in the file (a partial write), it is written back.
    """

    def __init__(self, run_dir: Path, tensorboard: bool, resume_step: int | None,
                 restore: str | None = None) -> None:
        self.path = Path(run_dir) / METRICS
        self.last_line: str | None = restore
        if resume_step is not None:
            self._truncate_after(resume_step, restore)
        elif self.path.exists():
            self.path.unlink()
        self.file = open(self.path, "a", encoding="utf-8")
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir), purge_step=resume_step)

    def _truncate_after(self, step: int, restore: str | None) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        keep, drop, damaged = [], [], 0
        for line in lines:
            row_step = _step_of(line)
            if row_step is None:
                drop.append(line)
                damaged += 1
            else:
                (keep if row_step <= step else drop).append(line)
        kept_steps = {_step_of(line) for line in keep}
        if restore is not None and _step_of(restore) not in kept_steps and _step_of(restore) <= step:
            keep.append(restore)
            keep.sort(key=_step_of)
            damaged -= 1 if damaged else 0
        if drop:
            side = self.path.with_name(f"metrics.after-checkpoint.{int(time.time())}.jsonl")
            with open(side, "a", encoding="utf-8") as f:  # two resumes in one second: append, keep both
                f.write("\n".join(drop) + "\n")
            if damaged:
                print(f"warning: {damaged} damaged line(s) of {self.path} could not be restored; "
                      f"they are kept in {side}", file=sys.stderr)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
        os.replace(tmp, self.path)

    def log(self, metrics: dict[str, Any]) -> None:
        self.last_line = json.dumps({k: _clean(v) for k, v in metrics.items()})
        self.file.write(self.last_line + "\n")
        self.file.flush()
        if self.writer is not None:
            step = int(metrics["step"])
            for k, v in metrics.items():
                if k != "step" and isinstance(v, (int, float)) and math.isfinite(v):
                    self.writer.add_scalar(k, v, step)

    def sync(self) -> None:
        """Make every logged row durable (called before each checkpoint: a checkpoint at step S
        then implies that the rows up to S are on disk)."""
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()
        if self.writer is not None:
            self.writer.close()


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """All log points of a run, in order."""
    path = Path(run_dir) / METRICS
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# What a run writes, other than its checkpoints: moved aside together when a run is restarted
# without a checkpoint, so that a new run never mixes with the old one's metrics or events.
RUN_FILES = ("config.json", METRICS, "metrics.after-checkpoint.*.jsonl", "events.out.tfevents.*",
             "summary.json", "eval.json", "debug-checkpoint.pt")


def move_aside_stale_run(run_dir: Path) -> Path | None:
    """If ``run_dir`` holds metrics or TensorBoard events but no checkpoint (killed before the
    first one), move that run's files into ``run_dir/aborted-<time>/``; returns that folder."""
    run_dir = Path(run_dir)
    if not (run_dir / METRICS).exists() and not any(run_dir.glob("events.out.tfevents.*")):
        return None
    aside = run_dir / f"aborted-{time.strftime('%Y%m%d-%H%M%S')}"
    n = 0
    while aside.exists():
        n += 1
        aside = aside.with_name(f"{aside.name.split('.')[0]}.{n}")
    aside.mkdir()
    for pattern in RUN_FILES:
        for path in sorted(run_dir.glob(pattern)):
            os.replace(path, aside / path.name)
    return aside
