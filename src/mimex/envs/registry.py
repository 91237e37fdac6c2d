"""The environment registry: the names users type, with tags, mapped to lazy factories.

Suites are imported only when one of their tasks is made, so ``import mimex.envs`` stays
light and a missing optional dependency (dm_control, ale-py) fails with a message that
names the extra to install.

A factory is ``factory(reward=..., obs=..., seed=..., **kwargs) -> gymnasium.Env``; with a
seed, the first ``reset()`` without a seed is deterministic.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any

from mimex import errors

OBS_KINDS = ("state", "pixels", "pixels+state")
REWARD_LEVELS = ("dense", "sparse", "sparser")


@dataclass(frozen=True)
class EnvSpec:
    """A registered task.

    Attributes:
        name: the name users type, ``suite/Task``.
        entry_point: ``"module:function"`` of the factory.
        tags: labels for filtering, e.g. ``("pixmc", "franka", "sparse-capable")``.
        rewards: accepted ``reward=`` levels; empty when the task has a single reward.
        obs: accepted ``obs=`` kinds.
        default_obs: the kind used when ``obs`` is not given (None: the first of ``obs``).
        default_reward: the level used when ``reward`` is not given.
        extra: the pip extra that provides the suite's dependencies, for error messages.
        kwargs: fixed keyword arguments for the factory.
    """

    name: str
    entry_point: str
    tags: tuple[str, ...] = ()
    rewards: tuple[str, ...] = ()
    obs: tuple[str, ...] = ("state",)
    default_obs: str | None = None
    default_reward: str | None = None
    extra: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, EnvSpec] = {}
# Suites whose task names are open-ended (e.g. any dm_control domain_task): prefix -> spec maker.
_PREFIX_HANDLERS: dict[str, str] = {}
_SUITES_LOADED = False


def register_env(spec: EnvSpec) -> None:
    """Add a task; registering the same name twice is an error."""
    if spec.name in _REGISTRY:
        raise errors.ConfigError(f"environment {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec


def register_prefix(prefix: str, resolver: str) -> None:
    """Route unregistered names ``prefix/...`` to ``resolver`` ("module:function" -> EnvSpec)."""
    _PREFIX_HANDLERS[prefix] = resolver


def _load_suites() -> None:
    global _SUITES_LOADED
    if not _SUITES_LOADED:
        _SUITES_LOADED = True
        importlib.import_module("mimex.envs.catalog")


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def env_spec(name: str) -> EnvSpec:
    """The spec of ``name``; an unknown name lists the registered ones."""
    _load_suites()
    if name in _REGISTRY:
        return _REGISTRY[name]
    prefix = name.split("/", 1)[0]
    if prefix in _PREFIX_HANDLERS and "/" in name:
        spec = _resolve(_PREFIX_HANDLERS[prefix])(name)
        if spec is not None:
            return spec
    raise errors.ConfigError(
        errors.UNKNOWN_NAME.format(kind="environment", name=name, choices=", ".join(list_envs()))
    )


def list_envs(tag: str | None = None) -> list[str]:
    """Registered task names, optionally only those tagged ``tag`` (e.g. "pixmc", "dmc")."""
    _load_suites()
    return sorted(k for k, v in _REGISTRY.items() if tag is None or tag in v.tags)


def make_env(name: str, reward: str | None = None, obs: str | None = None, seed: int | None = None,
             **kwargs: Any):
    """Make a registered task as a ``gymnasium.Env``.

    Args:
        name: e.g. ``"pixmc/FrankaReach"``, ``"dmc/cartpole_swingup_sparse"``, ``"atari/Venture"``.
        reward: a reward level the task accepts (``spec.rewards``); None for its default.
        obs: ``"state"``, ``"pixels"`` or ``"pixels+state"``, as the task accepts; None for
            its default (``pixels+state`` for pixmc: ``state`` hands the agent goal and object
            positions, a privileged option).
        seed: seeds the first ``reset()``.
        **kwargs: task options (e.g. ``image_size``).
    """
    spec = env_spec(name)
    if reward is None:
        reward = spec.default_reward
    elif not spec.rewards:
        raise errors.ConfigError(f"environment {name!r} has a single reward; got reward={reward!r}")
    elif reward not in spec.rewards:
        raise errors.ConfigError(
            f"environment {name!r} has no reward level {reward!r}; choose one of: {', '.join(spec.rewards)}"
        )
    if obs is None:
        obs = spec.default_obs or spec.obs[0]
    if obs not in spec.obs:
        raise errors.ConfigError(
            f"environment {name!r} has no observation kind {obs!r}; choose one of: {', '.join(spec.obs)}"
        )
    try:
        factory = _resolve(spec.entry_point)
    except ImportError as exc:
        hint = f"; install it with: pip install 'mimex[{spec.extra}]'" if spec.extra else ""
        raise errors.ConfigError(f"environment {name!r} needs a missing package ({exc}){hint}") from exc
    options = {**spec.kwargs, **kwargs}
    if spec.rewards:
        options["reward"] = reward
    if kwargs:
        _check_options(name, factory, kwargs)
    try:
        return factory(obs=obs, seed=seed, **options)
    except (TypeError, ValueError) as exc:
        if not kwargs:
            raise
        if isinstance(exc, errors.MimexError):
            raise errors.ConfigError(f"environment {name!r}: {exc} (env.options {kwargs})") from None
        raise errors.ConfigError(
            f"environment {name!r} rejected its options {kwargs}: {exc}. Check env.options") from exc


_FIXED = ("obs", "seed", "reward")


def option_names(factory: Any) -> list[str] | None:
    """The task options a factory takes, from its signature; None if it takes ``**kwargs``."""
    params = inspect.signature(factory).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.name not in _FIXED and p.kind is not p.VAR_POSITIONAL]


def _check_options(name: str, factory: Any, kwargs: dict[str, Any]) -> None:
    valid = option_names(factory)
    unknown = sorted(k for k in kwargs if k in _FIXED or (valid is not None and k not in valid))
    if unknown:
        choices = ", ".join(valid or []) or "none"
        raise errors.ConfigError(errors.UNKNOWN_OPTION.format(
            names=", ".join(map(repr, unknown)), kind=f"environment {name!r}", choices=choices))
