"""Helpers to declare documented config fields and to build configs from loose keywords."""

from __future__ import annotations

import dataclasses
import numbers
import types
import typing
from typing import Any, TypeVar

import numpy as np

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
    """Construct dataclass ``cls`` from ``options``, naming unknown keys and the valid ones;
    a value of the wrong type (see :func:`check_type`) is a ConfigError naming the option,
    the expected type and the value."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise errors.ConfigError(
            errors.UNKNOWN_OPTION.format(names=unknown, kind=kind, choices=", ".join(names))
        )
    hints = typing.get_type_hints(cls)
    return cls(**{name: check_type(name, value, hints[name], kind) for name, value in options.items()})


_TYPE_NAMES = {bool: "a bool (True or False)", int: "an int", float: "a number (int or float)",
               str: "a string"}


def _is(value: Any, tp: Any) -> bool:
    if tp is bool:
        return isinstance(value, (bool, np.bool_))
    if tp is int:  # not a bool, although bool is an int in Python
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if tp is float:  # ints are accepted where a float is expected
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if tp is type(None):
        return value is None
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True  # a type this check does not know (e.g. a generic): the dataclass checks it


def _members(tp: Any) -> tuple[Any, ...]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        return typing.get_args(tp)
    return (tp,)


def check_type(name: str, value: Any, tp: Any, kind: str) -> Any:
    """``value`` as annotation ``tp`` wants it (NumPy scalars become Python ones, an int
    given for a float a float); a ConfigError unless it fits: ``int`` (not bool), ``float``
    (int accepted), ``bool`` (not int), ``str``, and unions such as ``int | None``."""
    members = _members(tp)
    for m in members:
        if _is(value, m):
            return m(value) if m in (bool, int, float) else value
    expected = " or ".join("None" if m is type(None) else _TYPE_NAMES.get(m, getattr(m, "__name__", str(m)))
                           for m in members)
    raise errors.ConfigError(errors.OPTION_BAD_TYPE.format(
        name=name, kind=kind, expected=expected, value=value, got=type(value).__name__))


def check(cond: bool, message: str) -> None:
    """Raise ConfigError(message) unless ``cond``."""
    if not cond:
        raise errors.ConfigError(message)
