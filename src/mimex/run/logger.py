"""Metrics sinks: ``metrics.jsonl`` (the source of truth) and TensorBoard event files."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

METRICS = "metrics.jsonl"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


class MetricsLogger:
    """Appends one JSON object per log point and mirrors scalars to TensorBoard.

    On resume, lines past the checkpoint's step are moved to a side file (never deleted)
    and TensorBoard purges its events past that step, so the log continues seamlessly.
    """

    def __init__(self, run_dir: Path, tensorboard: bool, resume_step: int | None) -> None:
        self.path = Path(run_dir) / METRICS
        if resume_step is not None:
            self._truncate_after(resume_step)
        elif self.path.exists():
            self.path.unlink()
        self.file = open(self.path, "a", encoding="utf-8")
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir), purge_step=resume_step)

    def _truncate_after(self, step: int) -> None:
        if not self.path.exists():
            return
        keep, drop = [], []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                (keep if json.loads(line)["step"] <= step else drop).append(line)
            except (json.JSONDecodeError, KeyError, TypeError):
                drop.append(line)
        if drop:
            side = self.path.with_name(f"metrics.after-checkpoint.{int(time.time())}.jsonl")
            side.write_text("\n".join(drop) + "\n", encoding="utf-8")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
        os.replace(tmp, self.path)

    def log(self, metrics: dict[str, Any]) -> None:
        self.file.write(json.dumps({k: _clean(v) for k, v in metrics.items()}) + "\n")
        self.file.flush()
        if self.writer is not None:
            step = int(metrics["step"])
            for k, v in metrics.items():
                if k != "step" and isinstance(v, (int, float)) and math.isfinite(v):
                    self.writer.add_scalar(k, v, step)

    def close(self) -> None:
        self.file.close()
        if self.writer is not None:
            self.writer.close()


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """All log points of a run, in order."""
    path = Path(run_dir) / METRICS
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
