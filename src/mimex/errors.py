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
    "UNKNOWN_NAME",
    "UNKNOWN_OPTION",
    "BAD_SHAPE",
    "BAD_DTYPE",
    "NON_FINITE",
]


class MimexError(Exception):
    """Base class of every error mimex raises on purpose."""


class ConfigError(MimexError, ValueError):
    """An invalid configuration: raised at construction, before any work is done."""


class InputError(MimexError, ValueError):
    """A call received data of the wrong shape, dtype or value."""


class CheckpointError(MimexError, RuntimeError):
    """A checkpoint is missing, corrupt, or does not match the configuration."""


UNKNOWN_NAME = "unknown {kind} {name!r}; choose one of: {choices}"
UNKNOWN_OPTION = "unknown option(s) {names} for {kind}; valid options are: {choices}"
BAD_SHAPE = "{arg} must have shape {expected}, got {got}"
BAD_DTYPE = "{arg} must have dtype {expected}, got {got}{hint}"
NON_FINITE = "{arg} contains {count} non-finite value(s) (NaN or inf), first in batch row {row}"
