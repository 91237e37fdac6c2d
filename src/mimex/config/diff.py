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
# Each explorer's own options: a run uses only those of its explore.name.
EXPLORER_SECTIONS = ("mimex", "icm", "rnd")


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


def unused_keys(flat: dict[str, Any]) -> set[str]:
    """The keys of a flattened config that its run never reads: the option sections of the
    explorers other than ``explore.name``."""
    name = flat.get("explore.name", "mimex")  # the schema's default
    prefixes = tuple(f"explore.{s}." for s in EXPLORER_SECTIONS if s != name)
    return {k for k in flat if k.startswith(prefixes)}


def without_unused(data: dict[str, Any]) -> dict[str, Any]:
    """A nested config without the option sections of the explorers it does not use."""
    explore = data.get("explore")
    if not isinstance(explore, dict):
        return data
    name = explore.get("name", "mimex")
    kept = {k: v for k, v in explore.items() if k not in EXPLORER_SECTIONS or k == name}
    return {**data, "explore": kept}


def changed_keys(a: dict[str, Any], b: dict[str, Any], skip: set[str] | frozenset[str] = frozenset()
                 ) -> list[tuple[str, Any, Any]]:
    """``(key, value in a, value in b)`` for each flattened key outside ``skip`` whose values
    differ (a key missing on one side has the value None there), in key order. Options of an
    explorer that neither run uses do not count (an RND run ignores ``explore.icm.*``)."""
    fa, fb = flatten(a), flatten(b)
    skip = set(skip) | (unused_keys(fa) & unused_keys(fb))
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))
            if k not in skip and fa.get(k) != fb.get(k)]
