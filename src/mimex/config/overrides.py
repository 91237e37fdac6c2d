"""``--set key=value`` overrides and named presets, applied to a :class:`RunConfig`.

Keys are dotted paths (``ppo.lr``, ``explore.mimex.n_masks``, ``env.options.length``).
Values are parsed by the type of the field they replace: ``true``/``false`` for bools,
``none`` for optional fields, comma lists for tuples, JSON for dicts.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from mimex.config.presets import PRESETS, task_settings
from mimex.config.schema import RunConfig, from_dict, to_dict
from mimex.errors import ConfigError


def parse_value(text: str, current: Any, key: str) -> Any:
    """Turn ``text`` into a value of the type of ``current``."""
    low = text.strip().lower()
    if isinstance(current, str):
        return text
    if low in ("none", "null"):
        return None
    try:
        if isinstance(current, bool):
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return low in ("true", "1", "yes")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, (tuple, list)):
            return tuple(int(v) for v in text.split(",") if v.strip())
        if isinstance(current, dict):
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError
            return value
        if current is None:
            for conv in (int, float):
                try:
                    return conv(text)
                except ValueError:
                    pass
        return text
    except ValueError as exc:
        kind = type(current).__name__
        raise ConfigError(f"--set {key}={text}: expected a {kind} value like {current!r}") from exc


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any], parse: bool = False) -> dict[str, Any]:
    """Apply dotted ``overrides`` to a config dict; ``parse``: values are ``--set`` strings."""
    for key, value in overrides.items():
        node = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or not isinstance(node.get(part), dict):
                raise ConfigError(f"unknown config key {key!r}: no section {'.'.join(parts[: i + 1])!r}")
            node = node[part]
        last = parts[-1]
        free_form = parts[:-1] == ["env", "options"]
        if last not in node and not free_form:
            raise ConfigError(
                f"unknown config key {key!r}; valid keys here: {', '.join(sorted(node))}"
            )
        current = node.get(last)
        node[last] = parse_value(value, current, key) if parse and isinstance(value, str) else value
    return data


def resolve_config(preset: str | None = None, overrides: dict[str, Any] | None = None,
                   sets: list[str] | None = None) -> RunConfig:
    """Defaults, then the preset, then ``overrides`` (typed), then ``--set`` strings; then the
    preset's per-task keys (``presets.task_settings``: e.g. the PixMC presets' learning rate and
    step budget of ``env.name``) where neither ``overrides`` nor ``--set`` gave that key."""
    data = to_dict(RunConfig())
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        apply_overrides(data, PRESETS[preset])
    apply_overrides(data, overrides or {})
    parsed = {}
    for item in sets or []:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        parsed[k.strip()] = v
    apply_overrides(data, parsed, parse=True)
    given = set(overrides or {}) | set(parsed)
    per_task = task_settings(preset, data["env"]["name"], data["env"]["reward"], data["explore"]["name"],
                             data["steps"] if "steps" in given else None)
    apply_overrides(data, {k: v for k, v in per_task.items() if k not in given})
    return from_dict(RunConfig, data)


def field_docs(cls: type = RunConfig, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(dotted key, default, help) for every leaf field: the text of ``--help``."""
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]
        if dataclasses.is_dataclass(default):
            rows += field_docs(type(default), f"{prefix}{f.name}.")
        else:
            rows.append((prefix + f.name, default, f.metadata.get("help", "")))
    return rows
