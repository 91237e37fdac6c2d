"""Which keys two saved run configs (``to_dict`` layout) disagree on.

Used wherever a config is compared with another one: resuming a checkpoint, a sweep's check
of what a run directory holds, and averaging runs in ``mimex plot`` / ``mimex report``.
"""

from __future__ import annotations

import json
from typing import Any

# Keys that say where and how visibly a run goes, not what it trains: runs that differ only
# in these are the same experiment.
BOOKKEEPING = ("run_dir", "progress", "checkpoint_minutes", "tensorboard", "threads", "log_every", "device")


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"ppo": {"lr": 1}}`` -> ``{"ppo.lr": 1}`` (``env.options`` stays one value; tuples
    become lists, as JSON stores them)."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict) and k.rsplit(".", 1)[-1] != "options":  # flattening twice is once
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = list(v) if isinstance(v, tuple) else v
    return out


def value_text(v: Any) -> str:
    """A config value as the user would type it (dicts and lists as JSON)."""
    return json.dumps(v) if isinstance(v, (dict, list)) else str(v)


def changed_keys(a: dict[str, Any], b: dict[str, Any], skip: set[str] | frozenset[str] = frozenset()
                 ) -> list[tuple[str, Any, Any]]:
    """``(key, value in a, value in b)`` for each flattened key outside ``skip`` whose values
    differ (a key missing on one side has the value None there), in key order."""
    fa, fb = flatten(a), flatten(b)
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))
            if k not in skip and fa.get(k) != fb.get(k)]
