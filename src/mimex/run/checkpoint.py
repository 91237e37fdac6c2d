"""Atomic checkpoints of plain data (tensors, numbers, strings, containers), never pickled objects.

A checkpoint is written to a temporary file, flushed to disk, and renamed over the old one
(the previous one is kept as ``checkpoint.prev.pt``, a hard link made before the rename),
so a crash at any moment leaves a whole ``checkpoint.pt``. NumPy arrays are stored as tensors with a marker and restored as arrays, so the
file loads with ``torch.load(weights_only=True)``. Loading first checks every byte against
the CRC32 that the zip container stores, so a damaged file is refused, never used.
"""

from __future__ import annotations

import os
import random
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimex import errors
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
    try:
        with open(tmp, "wb") as f:
            torch.save(to_plain(state), f)
            f.flush()
            os.fsync(f.fileno())
    except (OSError, RuntimeError) as exc:  # a full disk reaches torch's writer as a RuntimeError
        tmp.unlink(missing_ok=True)
        raise CheckpointError(_write_failed(path, exc)) from exc
    if name == CHECKPOINT and path.exists():
        _keep_previous(path)
    os.replace(tmp, path)
    _sync_dir(path.parent)
    return path


def _write_failed(path: Path, exc: BaseException) -> str:
    try:
        free = f"{shutil.disk_usage(path.parent).free / 2**20:.1f} MiB free there"
    except OSError:
        free = "free space unknown"
    kept = "the previous checkpoint, which is intact" if path.exists() else "no checkpoint yet"
    if isinstance(exc.__context__, OSError):  # torch's writer wraps the OSError of the file's write
        exc = exc.__context__
    return errors.CHECKPOINT_WRITE_FAILED.format(path=path, reason=f"{type(exc).__name__}: {exc}",
                                                 free=free, kept=kept)


def _keep_previous(path: Path) -> None:
    """Make ``checkpoint.prev.pt`` a copy of ``path`` while ``path`` stays in place, so that a
    crash at any moment leaves a ``checkpoint.pt`` to resume from."""
    staged = path.with_name(PREVIOUS + ".tmp")
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)
    except OSError:  # a file system without hard links
        shutil.copyfile(path, staged)
    os.replace(staged, path.with_name(PREVIOUS))


def _sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _advice(path: Path) -> str:
    prev = path.with_name(PREVIOUS)
    if path.name == CHECKPOINT and prev.exists():
        return (f"Copy {prev} over it to resume from the previous checkpoint, or move the run "
                "directory away to start a fresh run")
    return "Move the run directory away (or use a new --run-dir) to start a fresh run"


def verify_checkpoint(path: Path) -> None:
    """Check every stored byte against the zip CRC that ``torch.save`` wrote: damaged bytes
    that would still load (a flipped bit in a weight) are a CheckpointError, not wrong numbers."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(errors.CHECKPOINT_UNREADABLE.format(
            path=path, advice=_advice(path), reason=f"{type(exc).__name__}: {exc}")) from exc
    if bad is not None:
        raise CheckpointError(errors.CHECKPOINT_DAMAGED.format(path=path, member=bad, advice=_advice(path)))


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint; an unreadable or damaged file is a CheckpointError that says what to do."""
    path = Path(path)
    verify_checkpoint(path)
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any read failure means the same thing to the user
        raise CheckpointError(errors.CHECKPOINT_UNREADABLE.format(
            path=path, advice=_advice(path), reason=f"{type(exc).__name__}: {str(exc).strip()}")) from exc
    if not isinstance(data, dict) or "format" not in data:
        raise CheckpointError(f"{path} is not a mimex checkpoint (no 'format' key)")
    return from_plain(data)
