"""One writer per run directory: a usable directory and an ``flock`` on ``run.lock`` in it.

Two processes writing one run (a sweep worker and its retry, the same command started
twice) would interleave metrics and overwrite each other's checkpoints. ``RunLock`` takes
an exclusive, non-blocking ``flock`` on ``run_dir/run.lock`` and writes the owner's pid,
host and start time into it; a second process is refused with a message naming the owner.
The kernel drops the lock when its process dies (even by SIGKILL), so a stale lock file
never blocks a restart. ``flock`` is not reliable on some network file systems.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from typing import Any

from mimex import errors

LOCK = "run.lock"


def prepare_run_dir(path: str | Path) -> Path:
    """Create ``path`` if needed; a file, a directory this process cannot write, or an archived
    run's record (``mimex archive``) is a ConfigError."""
    run_dir = Path(path)
    if run_dir.exists() and not run_dir.is_dir():
        raise errors.ConfigError(errors.RUN_DIR_UNUSABLE.format(run_dir=run_dir, reason="it is a file"))
    refuse_record(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = f"it is not a writable directory ({exc.strerror or exc})"
        raise errors.ConfigError(errors.RUN_DIR_UNUSABLE.format(run_dir=run_dir, reason=reason)) from None
    return run_dir


def refuse_record(run_dir: Path, error: type[errors.MimexError] = errors.ConfigError) -> None:
    """``error`` (RUN_DIR_ARCHIVED) if ``run_dir`` is an archived record (``mimex archive``):
    it has no checkpoint, so nothing can train, resume or evaluate from it."""
    if (Path(run_dir) / errors.ARCHIVE_FILE).exists():
        raise error(errors.RUN_DIR_ARCHIVED.format(run_dir=run_dir))


class RunLock:
    """``with RunLock(run_dir):`` holds the directory's lock; RunLockedError if another process has it."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / LOCK
        self.fd: int | None = None

    def __enter__(self) -> RunLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "owner unknown"
            os.close(fd)
            raise errors.RunLockedError(
                errors.RUN_LOCKED.format(run_dir=self.path.parent, owner=owner)) from None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on host {socket.gethostname()}, since {stamp}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
