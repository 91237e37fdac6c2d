"""The explorer registry: names users type, mapped to an explorer class and its config."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from mimex import errors
from mimex.config.fields import build
from mimex.explore.icm import ICMConfig, ICMExplorer
from mimex.explore.mimex import MIMExConfig, MIMExExplorer
from mimex.explore.none import NoneConfig, NoneExplorer
from mimex.explore.rnd import RNDConfig, RNDExplorer


class Explorer(Protocol):
    """What every explorer offers."""

    name: str
    n_updates: int
    last_metrics: dict[str, float]

    last_raw: torch.Tensor  # float32[B]: the raw (unnormalised) rewards of the last call

    def reward(self, obs_seq: Any, actions: Any = None, pad_mask: Any = None,
               update: bool = False, chunk_size: int | None = None) -> torch.Tensor: ...

    def normalize_rollout(self, rewards: torch.Tensor, update: bool = False) -> torch.Tensor: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, sd: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class ExplorerSpec:
    """A registered explorer: its class, config dataclass, one-line summary and tags."""

    cls: type
    config: type
    summary: str
    tags: tuple[str, ...]


_REGISTRY: dict[str, ExplorerSpec] = {
    "mimex": ExplorerSpec(MIMExExplorer, MIMExConfig,
                          "masked sequence reconstruction error (Lin & Jabri 2023)",
                          ("sequence", "learned")),
    "icm": ExplorerSpec(ICMExplorer, ICMConfig,
                        "forward-model error in an inverse-model feature space (Pathak et al. 2017)",
                        ("transition", "needs-actions", "learned")),
    "rnd": ExplorerSpec(RNDExplorer, RNDConfig,
                        "error of predicting a fixed random network (Burda et al. 2019)",
                        ("single-step", "learned")),
    "none": ExplorerSpec(NoneExplorer, NoneConfig, "zero bonus (action-noise baseline)", ()),
}


def list_explorers(tag: str | None = None) -> list[str]:
    """Registered explorer names, optionally only those carrying ``tag``."""
    return [k for k, v in _REGISTRY.items() if tag is None or tag in v.tags]


def explorer_spec(name: str) -> ExplorerSpec:
    """The registry entry of ``name``; an unknown name lists the choices."""
    if name not in _REGISTRY:
        raise errors.ConfigError(
            errors.UNKNOWN_NAME.format(kind="explorer", name=name, choices=", ".join(_REGISTRY))
        )
    return _REGISTRY[name]


def make_explorer(name: str, input_dim: int, action_dim: int | None = None, **options: Any) -> Explorer:
    """Build an explorer by name.

    Args:
        name: one of ``list_explorers()``: "mimex", "icm", "rnd", "none".
        input_dim: width D of each step's embedding.
        action_dim: action width A (continuous) or number of actions (discrete); ICM needs it.
        **options: fields of the explorer's config dataclass (e.g. ``seq_len``, ``mask_ratio``,
            ``n_masks``, ``mask`` for MIMEx); an unknown key is an error that lists the valid ones.
    """
    spec = explorer_spec(name)
    if not isinstance(input_dim, int) or isinstance(input_dim, bool) or input_dim < 1:
        raise errors.ConfigError(f"input_dim must be a positive int, got {input_dim!r}")
    config = build(spec.config, f"explorer {name!r}", options)
    return spec.cls(input_dim, action_dim, config)


def check_state_matches(explorer: Any, sd: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Refuse a state dict saved by another kind of explorer or an incompatible config."""
    if not isinstance(sd, dict) or "kind" not in sd:
        raise errors.CheckpointError(
            f"not an explorer state dict (expected a dict with a 'kind' key, got {type(sd).__name__})"
        )
    if sd["kind"] != explorer.name:
        raise errors.CheckpointError(
            f"state dict is for explorer {sd['kind']!r}, cannot load into {explorer.name!r}"
        )
    if sd.get("input_dim") != explorer.input_dim:
        raise errors.CheckpointError(
            f"state dict has input_dim={sd.get('input_dim')}, this explorer has {explorer.input_dim}"
        )
    mine = vars(explorer.config)
    # a key missing from an older state dict held its default then
    defaults = {f.name: f.default for f in dataclasses.fields(explorer.config)}
    saved = {k: sd["config"].get(k, defaults.get(k)) for k in keys}
    try:  # the config's own spelling (e.g. an old bool reward_norm=True is today's "step")
        canon = dataclasses.replace(explorer.config, **saved)
        saved = {k: getattr(canon, k) for k in keys}
    except (errors.ConfigError, TypeError):
        pass  # compared as saved: the mismatch message below names it
    diff = {k: (saved[k], mine[k]) for k in keys if saved[k] != mine[k]}
    if diff:
        detail = ", ".join(f"{k}: saved {a!r} vs now {b!r}" for k, (a, b) in diff.items())
        raise errors.CheckpointError(
            f"explorer state dict does not match the config ({detail}); these options change "
            "what the model computes: load it with the saved settings, or start a fresh explorer")
