"""Schedules written as strings, e.g. ``linear(1.0,0.1,100000)``: start, end, steps."""

from __future__ import annotations

import re
from collections.abc import Callable

from mimex.errors import ConfigError

_LINEAR = re.compile(r"^linear\(\s*([^,]+),\s*([^,]+),\s*([^,)]+)\)$")


def parse_schedule(text: str, name: str = "schedule") -> Callable[[int], float]:
    """Parse ``linear(start,end,steps)`` or a constant number into ``f(step) -> value``."""
    try:
        value = float(text)
        return lambda step: value
    except ValueError:
        pass
    m = _LINEAR.match(text.strip())
    if m is None:
        raise ConfigError(f"{name} must be a number or 'linear(start,end,steps)', got {text!r}")
    start, end, steps = float(m.group(1)), float(m.group(2)), float(m.group(3))
    if steps <= 0:
        raise ConfigError(f"{name}: steps must be > 0 in {text!r}")

    def linear(step: int) -> float:
        frac = min(max(step / steps, 0.0), 1.0)
        return start + frac * (end - start)

    return linear
