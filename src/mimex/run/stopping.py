"""Stopping a sweep by signal, the same way on every backend.

A sweep's runs train in other processes (local workers in their own sessions, Ray tasks on
other nodes), so a signal to the sweep reaches none of them by itself. ``StopSignals``
turns Ctrl-C, SIGTERM (``kill``, a scheduler) and SIGHUP (a closed terminal) into a
recorded number that the sweep's loop acts on between steps, so nothing starts untracked
while it stops the runs; the runs then save their checkpoints and the sweep raises
``SweepStopped``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

# Ctrl-C, a scheduler's or `kill`'s SIGTERM, and SIGHUP from a closed terminal (unless
# ignored, as under `nohup`).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class SweepStopped(KeyboardInterrupt):
    """A sweep stopped by signal ``signum`` (SIGINT: Ctrl-C); its runs were stopped too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """Context manager: within it the stop signals only append their number to ``received``.

    Signals can only be caught from the main thread (Python's rule); from another thread
    this does nothing and the caller must stop the sweep itself. ``nohup``'s ignored SIGHUP
    stays ignored. The previous handlers come back on exit."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self._previous[sig] = signal.signal(sig, self._record)
        return self

    def _record(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)

    def check(self) -> None:
        """Raise ``SweepStopped`` if a stop signal came."""
        if self.received:
            raise SweepStopped(self.received[0])

    def ignore(self) -> None:
        """Ignore further stop signals (while the runs save their checkpoints, a second
        signal must change nothing) until the block ends."""
        for sig in self._previous:
            signal.signal(sig, signal.SIG_IGN)

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def stop_reason(exc: BaseException) -> str:
    """The signal's name for a ``SweepStopped``, else the exception's type: for log lines."""
    return signal.Signals(exc.signum).name if isinstance(exc, SweepStopped) else type(exc).__name__


def never_raising(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` that ignores a failed write: after a hangup, or behind ``| tee`` after Ctrl-C,
    stdout fails, and a progress line must not stop the sweep from stopping its runs."""
    def say(text: str) -> None:
        try:
            log(text)
        except OSError:
            pass
    return say
