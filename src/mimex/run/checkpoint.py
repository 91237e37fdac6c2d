"""Atomic checkpoints of plain data (tensors, numbers, strings, containers), never pickled objects.

A checkpoint is written to a temporary file, flushed to disk, and renamed over the old one
(the previous one is kept as ``checkpoint.prev.pt``), so a crash mid-write never leaves a
torn file. NumPy arrays are stored as tensors with a marker and restored as arrays, so the
file loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimex.errors import CheckpointError

CHECKPOINT = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"
_ND = "__ndarray__"


def to_plain(obj: Any) -> Any:
    """Recursively replace NumPy arrays and scalars by tensors and Python numbers."""
    if isinstance(obj, np.ndarray):
        return {_ND: torch.from_numpy(np.ascontiguousarray(obj).copy())}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """Inverse of :func:`to_plain`."""
    if isinstance(obj, dict):
        if set(obj) == {_ND}:
            return obj[_ND].numpy()
        return {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(from_plain(v) for v in obj)
    return obj


def rng_states() -> dict[str, Any]:
    """Python, NumPy and torch global RNG states."""
    py = random.getstate()
    return {"python": [py[0], list(py[1]), py[2]], "numpy": np.random.get_state(legacy=False),
            "torch": torch.random.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_states(s: dict[str, Any]) -> None:
    random.setstate((s["python"][0], tuple(s["python"][1]), s["python"][2]))
    np.random.set_state(s["numpy"])
    torch.random.set_rng_state(s["torch"])
    if s["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def save_checkpoint(run_dir: Path, state: dict[str, Any], name: str = CHECKPOINT) -> Path:
    """Write ``state`` atomically to ``run_dir/name``; keep the previous one as a fallback."""
    path = Path(run_dir) / name
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        torch.save(to_plain(state), f)
        f.flush()
        os.fsync(f.fileno())
    if name == CHECKPOINT and path.exists():
        os.replace(path, path.with_name(PREVIOUS))
    os.replace(tmp, path)
    return path


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint; an unreadable file is a CheckpointError that says what to do."""
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any read failure means the same thing to the user
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise CheckpointError(
            f"cannot read checkpoint {path} ({type(exc).__name__}: {reason}); it may be truncated or "
            f"corrupt. Restore {path.with_name(PREVIOUS)} over it, or move the run directory "
            "away to start a fresh run"
        ) from exc
    if not isinstance(data, dict) or "format" not in data:
        raise CheckpointError(f"{path} is not a mimex checkpoint (no 'format' key)")
    return from_plain(data)
