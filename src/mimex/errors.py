"""Exception types and the error-message templates that tests match.

Messages are module constants so that tests can match them literally and users can grep
for them; each says what was wrong, the value that was received, and what to do.
"""

from __future__ import annotations

__all__ = [
    "MimexError",
    "ConfigError",
    "InputError",
    "CheckpointError",
    "RunLockedError",
    "UNKNOWN_NAME",
    "UNKNOWN_OPTION",
    "BAD_SHAPE",
    "BAD_DTYPE",
    "NON_FINITE",
    "RUN_LOCKED",
    "RUN_DIR_UNUSABLE",
    "BAD_DEVICE",
    "DEVICE_UNAVAILABLE",
    "CHECKPOINT_UNREADABLE",
    "CHECKPOINT_DAMAGED",
    "THREADS_CHANGED",
    "BAD_EPISODES",
    "WEIGHTS_NON_FINITE",
]


class MimexError(Exception):
    """Base class of every error mimex raises on purpose."""


class ConfigError(MimexError, ValueError):
    """An invalid configuration: raised at construction, before any work is done."""


class InputError(MimexError, ValueError):
    """A call received data of the wrong shape, dtype or value."""


class CheckpointError(MimexError, RuntimeError):
    """A checkpoint is missing, corrupt, or does not match the configuration."""


class RunLockedError(MimexError, RuntimeError):
    """Another process is writing the run directory."""


UNKNOWN_NAME = "unknown {kind} {name!r}; choose one of: {choices}"
UNKNOWN_OPTION = "unknown option(s) {names} for {kind}; valid options are: {choices}"
BAD_SHAPE = "{arg} must have shape {expected}, got {got}"
BAD_DTYPE = "{arg} must have dtype {expected}, got {got}{hint}"
NON_FINITE = "{arg} contains {count} non-finite value(s) (NaN or inf), first in batch row {row}"

# The run directory and its one writer.
RUN_LOCKED = ("run directory {run_dir} is in use by another mimex process ({owner}); wait for it "
              "to finish or stop it, or use another --run-dir")
RUN_DIR_UNUSABLE = "cannot use run directory {run_dir}: {reason}. Choose another --run-dir"
BAD_DEVICE = "unknown device {device!r} ({reason}); use cpu, cuda, cuda:N or mps"
DEVICE_UNAVAILABLE = "device {device!r} is not available on this machine ({reason}); use --device cpu"
# Checkpoints and exact resume.
CHECKPOINT_UNREADABLE = "cannot read checkpoint {path}: it may be truncated or corrupt. {advice}. Reason: {reason}"
CHECKPOINT_DAMAGED = ("checkpoint {path} is damaged: the bytes of {member!r} fail their CRC check, so "
                      "it would load wrong numbers. {advice}")
THREADS_CHANGED = ("the checkpoint in {run_dir} was written with {saved} torch CPU threads, this process "
                   "has {now} (threads={threads}, OMP_NUM_THREADS={omp}): the resumed run would not match "
                   "an uninterrupted one. Resume with --set threads={saved}, or pass "
                   "--allow-inexact-resume to accept different numbers")
BAD_EPISODES = "--episodes must be >= 1, got {episodes}"
WEIGHTS_NON_FINITE = ("policy weights are not finite (NaN or inf) after the update at environment step "
                      "{step}: the update diverged (check ppo.lr and ppo.max_grad_norm)")
