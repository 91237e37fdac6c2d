"""Helpers to declare documented config fields and to build configs from loose keywords."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from mimex import errors

T = TypeVar("T")


def opt(default: Any, help: str) -> Any:  # noqa: A002 - "help" reads best at call sites
    """A dataclass field with a default and a help string (shown by ``--help``)."""
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


def field_help(cls: type) -> dict[str, str]:
    """Map each field name of dataclass ``cls`` to its help string."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}


def build(cls: type[T], kind: str, options: dict[str, Any]) -> T:
    """Construct dataclass ``cls`` from ``options``, naming unknown keys and the valid ones."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise errors.ConfigError(
            errors.UNKNOWN_OPTION.format(names=unknown, kind=kind, choices=", ".join(names))
        )
    return cls(**options)


def check(cond: bool, message: str) -> None:
    """Raise ConfigError(message) unless ``cond``."""
    if not cond:
        raise errors.ConfigError(message)
