"""Sweeps: a SPEC (a study preset or a YAML/TOML file) expanded into named run directories.

A SPEC is plain data::

    name: fig5                        # the folder under --root
    preset: pixmc-paper               # base preset (mimex train --preset)
    set: {env.reward: sparse}         # fixed overrides (dotted config keys)
    axes:                             # the cross product of these, in this order
      env: [pixmc/KukaReach, pixmc/KukaPick]          # env = env.name, explore = explore.name,
      explore: [mimex]                                # reward = env.reward, obs = env.obs
      explore.mimex.mask_ratio: [0.2, 0.5, 0.7]       # any dotted key: a list of values
      variant: {l2: {explore.mimex.seq_len: 2}, ...}  # or named override sets (a mapping)
    seeds: 5                          # or a list, e.g. [0, 3]
    per_env: {pixmc/KukaPick: {steps: 2000000}}       # overrides for one environment
    sizes: {paper: {...}, cpu: {...}}                 # variants of all of the above (SPEC@size)

Run ``i`` lands in ``ROOT/<name>[-<size>]/<env>/<method>/seed<s>`` where ``<env>`` is the
task name with ``/`` as ``-`` and ``<method>`` joins the non-env axes' values
(``explore.name`` as is, named sets by name, other keys as ``<last part>-<value>``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimex.config.diff import BOOKKEEPING, without_unused
from mimex.config.overrides import apply_overrides, resolve_config
from mimex.config.schema import RunConfig, to_dict
from mimex.errors import ConfigError

ALIASES = {"env": "env.name", "explore": "explore.name", "reward": "env.reward", "obs": "env.obs"}
TOP_KEYS = ("name", "description", "preset", "set", "axes", "seeds", "per_env", "sizes", "notes", "requires")


@dataclass
class Axis:
    """One sweep dimension: ``key`` and its values as (label, overrides) pairs."""

    key: str
    values: list[tuple[str, dict[str, Any]]]


@dataclass
class Spec:
    """A parsed SPEC at one size."""

    name: str
    preset: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    axes: list[Axis] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    per_env: dict[str, dict[str, Any]] = field(default_factory=dict)
    size: str | None = None
    description: str = ""
    notes: str = ""
    source: str = "<spec>"
    text: str = ""


@dataclass
class PlannedRun:
    """One run of a sweep: where it goes and its resolved config."""

    name: str                 # relative path: <spec dir>/<env>/<method>/seed<s>
    env: str
    method: str
    seed: int
    config: RunConfig
    overrides: dict[str, Any]

    @property
    def config_hash(self) -> str:
        return config_hash(self.config)


def repeated_runs(runs: list[PlannedRun]) -> list[tuple[PlannedRun, PlannedRun]]:
    """(run, the earlier run it repeats) for each run whose config hash, seed and steps an
    earlier run already has: it would compute the same thing (an axis that sets options of an
    explorer the run does not use, or two axis values that resolve alike; bookkeeping aside)."""
    first: dict[tuple[str, int, int], PlannedRun] = {}
    out = []
    for run in runs:
        key = (run.config_hash, run.seed, run.config.steps)
        if key in first:
            out.append((run, first[key]))
        else:
            first[key] = run
    return out


def config_hash(cfg: RunConfig) -> str:
    """12 hex digits of the SHA-256 of what the run trains: the config without bookkeeping keys
    and without ``steps`` (where a run stops), with ``ppo.schedule_steps`` as the horizon its
    lr schedule and beta anneal actually span (``schedule_steps or steps``; 0 where nothing
    decays, or for DrQ-v2), and without the options of explorers the run does not use. So a
    sweep whose budget grows extends its finished runs, a run of the paper's budget matches
    whether its horizon was given or implied, runs whose schedules differ never match, and a
    change to ICM's options leaves the RND runs of a study finished."""
    data = {k: v for k, v in without_unused(to_dict(cfg)).items() if k not in BOOKKEEPING + ("steps",)}
    horizon = (cfg.ppo.schedule_steps or cfg.steps) if cfg.schedule_decays() else 0
    data["ppo"] = {**data["ppo"], "schedule_steps": horizon}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def spec_error(spec_source: str, text: str, needle: str | None, msg: str) -> ConfigError:
    """A ConfigError naming the SPEC file and the line that holds ``needle`` (if found)."""
    line = _line_of(text, needle) if needle else None
    where = f"{spec_source}, line {line}" if line else spec_source
    return ConfigError(f"{where}: {msg}")


def parse_text(text: str, source: str) -> dict[str, Any]:
    """YAML (``.yaml``/``.yml``) or TOML (``.toml``) text as a dict; syntax errors name the line."""
    if source.endswith(".toml"):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        import yaml
    except ImportError:
        raise ConfigError("YAML sweep specs need pyyaml: pip install 'mimex[sweep]' (or use TOML)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark, ctx = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        context = (f" ({exc.context} started on line {ctx.line + 1})"
                   if ctx is not None and getattr(exc, "context", None) else "")
        raise ConfigError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}{context}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}, line 1: a sweep spec must be a mapping with keys {', '.join(TOP_KEYS)}")
    return data


def load_spec(spec: str, size: str | None = None) -> Spec:
    """A study preset name (``fig3-pixmc``, ``fig3-pixmc@cpu``) or a YAML/TOML file."""
    from mimex.studies import STUDIES, study_data

    name, _, at = spec.rpartition("@") if "@" in spec else (spec, "", "")
    size = size or at or None
    if Path(name).suffix in (".yaml", ".yml", ".toml") or Path(name).exists():
        path = Path(name)
        if not path.exists():
            raise ConfigError(f"sweep spec {spec} does not exist")
        text = path.read_text(encoding="utf-8")
        return build_spec(parse_text(text, str(path)), str(path), text, size)
    if name not in STUDIES:
        raise ConfigError(f"unknown study {name!r} and no such file; studies: {', '.join(STUDIES)} "
                          "(or pass a .yaml/.toml file)")
    data = study_data(name)
    return build_spec(data, f"study {name}", json.dumps(data, indent=1), size)


def _merge_size(data: dict[str, Any], size: str | None, source: str, text: str) -> tuple[dict, str | None]:
    sizes = data.get("sizes") or {}
    if not sizes:
        if size:
            raise spec_error(source, text, None, f"no sizes defined, so @{size} / --size {size} cannot apply")
        return data, None
    chosen = size or next(iter(sizes))
    if chosen not in sizes:
        raise spec_error(source, text, "sizes", f"unknown size {chosen!r}; sizes: {', '.join(sizes)}")
    merged = {k: v for k, v in data.items() if k != "sizes"}
    for k, v in (sizes[chosen] or {}).items():
        if k in ("set", "per_env", "axes") and isinstance(v, dict):
            merged[k] = {**(merged.get(k) or {}), **v}
        else:
            merged[k] = v
    return merged, chosen


def build_spec(data: dict[str, Any], source: str, text: str, size: str | None = None) -> Spec:
    """Check the SPEC's structure and keys; errors name the offending line."""
    for k in data:
        if k not in TOP_KEYS:
            raise spec_error(source, text, f"{k}", f"unknown top-level key {k!r}; valid keys: {', '.join(TOP_KEYS)}")
    data, size = _merge_size(data, size, source, text)
    if data.get("requires"):
        raise ConfigError(f"{source}: {data['requires']}")
    if not isinstance(data.get("name"), str) or not re.fullmatch(r"[A-Za-z0-9._+-]+", data["name"]):
        raise spec_error(source, text, "name", "needs a `name:` of letters, digits, '.', '_', '+', '-' "
                         f"(the folder of its runs), got {data.get('name')!r}")
    spec = Spec(name=data["name"], preset=data.get("preset"), size=size, source=source, text=text,
                description=str(data.get("description", "")), notes=str(data.get("notes", "")))
    spec.set = _overrides(data.get("set") or {}, "set", spec)
    for axis_key, values in (data.get("axes") or {}).items():
        spec.axes.append(_axis(axis_key, values, spec))
    seeds = data.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        spec.seeds = list(range(seeds))
    elif isinstance(seeds, list) and seeds and all(isinstance(s, int) and s >= 0 for s in seeds):
        spec.seeds = list(seeds)
    else:
        raise spec_error(source, text, "seeds", f"seeds must be a count >= 1 or a list of integers >= 0, got {seeds!r}")
    for env, ov in (data.get("per_env") or {}).items():
        spec.per_env[env] = _overrides(ov or {}, f"per_env.{env}", spec)
    if spec.preset is not None:
        from mimex.config.presets import PRESETS

        if spec.preset not in PRESETS:
            raise spec_error(source, text, "preset", f"unknown preset {spec.preset!r}; presets: {', '.join(PRESETS)}")
    return spec


def _overrides(data: Any, where: str, spec: Spec) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise spec_error(spec.source, spec.text, where.split(".")[-1],
                         f"{where} must be a mapping of dotted config keys to values, got {data!r}")
    out = {}
    for k, v in data.items():
        key = ALIASES.get(k, k)
        if key == "seed":
            raise spec_error(spec.source, spec.text, k, "set seeds with the top-level `seeds:`")
        try:
            apply_overrides(to_dict(RunConfig()), {key: v})
        except ConfigError as exc:
            raise spec_error(spec.source, spec.text, k, f"{where}: {exc}") from None
        out[key] = v
    return out


def _axis(key: str, values: Any, spec: Spec) -> Axis:
    if isinstance(values, dict):  # named override sets
        if not values:
            raise spec_error(spec.source, spec.text, key, f"axis {key!r} has no values")
        return Axis(key, [(str(label), _overrides(ov or {}, f"axes.{key}.{label}", spec))
                          for label, ov in values.items()])
    if not isinstance(values, list) or not values:
        raise spec_error(spec.source, spec.text, key,
                         f"axis {key!r} must be a non-empty list of values or a mapping of named "
                         f"override sets, got {values!r}")
    dotted = ALIASES.get(key, key)
    _overrides({dotted: values[0]}, f"axes.{key}", spec)
    return Axis(dotted, [(_label(dotted, v), {dotted: v}) for v in values])


def _label(key: str, value: Any) -> str:
    text = re.sub(r"[^A-Za-z0-9._+-]+", "-", str(value)).strip("-")
    if key == "env.name" or key == "explore.name":
        return text
    return f"{key.split('.')[-1]}-{text}"


def expand(spec: Spec, root: str | Path, defaults: dict[str, Any] | None = None) -> list[PlannedRun]:
    """Every run of ``spec`` (the cross product of its axes and seeds; all methods at the first
    seed, then all at the next), each config resolved
    and validated now: an invalid combination is an error naming the run. ``defaults``:
    overrides below the spec's own (e.g. ``threads``, ``progress``)."""
    base = {**(defaults or {}), **spec.set}
    top = spec.name if spec.size is None else f"{spec.name}-{spec.size}"
    runs = []
    for combo in itertools.product(*[a.values for a in spec.axes]):
        from_axes = {k: v for _, ov in combo for k, v in ov.items()}
        env = {**base, **from_axes}.get("env.name") or _preset_env(spec.preset)
        overrides = {**base, **spec.per_env.get(env, {}), **from_axes}
        parts = [label for axis, (label, _) in zip(spec.axes, combo, strict=True) if axis.key != "env.name"]
        for seed in spec.seeds:
            ov = {**overrides, "seed": seed}
            method_dir = "-".join(parts) or str(resolve_or_explain(spec, ov, "?").explore.name)
            name = f"{top}/{env.replace('/', '-')}/{method_dir}/seed{seed}"
            ov["run_dir"] = str(Path(root) / name)
            cfg = resolve_or_explain(spec, ov, name)
            runs.append(PlannedRun(name, env, method_dir, seed, cfg, ov))
    # seed-major order: a sweep stopped part-way (or still running) has every method at the
    # same seeds, so its partial results compare like with like
    rank = {seed: i for i, seed in enumerate(spec.seeds)}
    runs.sort(key=lambda r: rank[r.seed])
    names = [r.name for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{spec.source}: two runs would share the directory {dupes[0]}: give the "
                          "named override sets distinct names")
    return runs


ONLY_FIELDS = ("env", "method", "seed")


def _seed_ranges(text: str, where: str) -> list[tuple[str, int, int]]:
    """``"0,2-4"`` -> [("0", 0, 0), ("2-4", 2, 4)]; a malformed or reversed range is an error."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        lo, dash, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi if dash else lo)
        except ValueError:
            first, last = 0, -1
        if first > last or first < 0:
            raise ConfigError(f"{where}: seeds are numbers or ranges LOW-HIGH, e.g. seed=0,2 or seed=0-2; "
                              f"got {part!r}")
        out.append((part, first, last))
    return out


def select_runs(runs: list[PlannedRun], only: list[str]) -> list[PlannedRun]:
    """The runs passing every ``FIELD=V1,V2`` filter in ``only`` (``mimex sweep --only``), in
    their sweep order. FIELD is ``env`` (``pixmc/KukaReach``, globs such as ``pixmc/*Reach``),
    ``method`` (the run's method directory: ``mimex``, ``l5-fixed-0.7``, globs) or ``seed``
    (``0,2`` or ``0-2``). Within a filter the values are alternatives; the filters must all
    hold. A value that matches no run of the sweep, or filters that leave no run, are an
    error naming the valid values: a typo must not quietly run nothing."""
    keep = list(runs)
    for item in only:
        where = f"--only {item}"
        field, eq, values = item.partition("=")
        field = field.strip()
        if not eq or field not in ONLY_FIELDS or not values.strip():
            raise ConfigError(f"{where}: expected FIELD=VALUES with FIELD one of {', '.join(ONLY_FIELDS)}, "
                              "e.g. --only env=pixmc/KukaReach --only method=none,mimex --only seed=0-1")
        if field == "seed":
            ranges = _seed_ranges(values, where)
            have = sorted({r.seed for r in runs})
            missing = [part for part, lo, hi in ranges if not any(lo <= h <= hi for h in have)]
            keep = [r for r in keep if any(lo <= r.seed <= hi for _, lo, hi in ranges)]
        else:
            pats = [v.strip() for v in values.split(",") if v.strip()]
            have = sorted({getattr(r, field) for r in runs})
            missing = [pat for pat in pats if not any(fnmatch.fnmatchcase(h, pat) for h in have)]
            keep = [r for r in keep if any(fnmatch.fnmatchcase(getattr(r, field), pat) for pat in pats)]
        if missing:
            raise ConfigError(f"{where}: no run has {field} {', '.join(missing)}; this sweep's "
                              f"{field}s: {', '.join(map(str, have))}")
    if runs and not keep:
        raise ConfigError(f"--only {' '.join(only)}: no run passes all of these filters together")
    return keep


def _preset_env(preset: str | None) -> str:
    return resolve_config(preset).env.name


def _key_line(spec: Spec, key: str) -> int | None:
    """The line of the spec that sets ``key`` (or its alias), in YAML or TOML form."""
    for k in [key] + [a for a, full in ALIASES.items() if full == key]:
        for needle in (f"{k}:", f"{k} =", f'"{k}"'):
            line = _line_of(spec.text, needle)
            if line:
                return line
    return None


def resolve_or_explain(spec: Spec, overrides: dict[str, Any], name: str) -> RunConfig:
    """``resolve_config`` of one run; a ConfigError names the run and, when the message
    names a key the spec sets (in full, or its last part), that key's line."""
    try:
        return resolve_config(spec.preset, overrides)
    except ConfigError as exc:
        msg = str(exc)
        keys = sorted(overrides, key=len, reverse=True)
        named = [k for k in keys if k in msg] or [
            k for k in keys if re.search(rf"\b{re.escape(k.split('.')[-1])}\b", msg)]
        line = _key_line(spec, named[0]) if named else None
        where = f"{spec.source}, line {line}" if line else spec.source
        raise ConfigError(f"{where}: run {name}: {msg}") from None
