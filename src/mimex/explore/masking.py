"""Mask counts and mask sampling for MIMEx: small pure functions.

Conventions: sequences are ``[B, T, D]`` with index 0 the oldest step and ``T-1`` the newest.
``pad`` is ``bool[B, T]``, True on padded steps (before the episode start). A *visible* step is
given to the encoder as context; a *target* step is masked and its reconstruction is scored.
Padded steps are never visible and never targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mimex.errors import ConfigError

MASK_KINDS = ("uniform", "fixed", "feature")


def time_mask_counts(
    seq_len: int,
    mask_ratio: float | None = 0.7,
    n_masked: int | None = None,
    n_visible: int | None = None,
) -> tuple[int, int]:
    """Resolve how many whole time steps are visible and masked.

    The ratio rule is the official code's ``n_visible = int(seq_len * (1 - mask_ratio))``
    (truncation, with float rounding as Python does it), so the paper's configurations keep
    their effective counts: T=5 at 0.7 shows 1 step and masks 4; T=10 at 0.7 shows 3, masks 7;
    T=2 at 0.5 and T=3 at 0.6 show 1. ``n_masked`` or ``n_visible`` given directly win over
    the ratio (give at most one of them).

    Returns:
        (n_visible, n_masked), both >= 1, summing to ``seq_len``.

    Raises:
        ConfigError: when nothing would be visible or nothing masked.
    """
    if seq_len < 2:
        raise ConfigError(
            f"time masking needs seq_len >= 2 (one visible step and one masked step), got "
            f"seq_len={seq_len}; use mask='feature' for single steps or a longer sequence"
        )
    if n_masked is not None and n_visible is not None:
        raise ConfigError(
            f"give n_masked or n_visible, not both (got n_masked={n_masked}, n_visible={n_visible})"
        )
    if n_masked is not None:
        n_visible = seq_len - int(n_masked)
    elif n_visible is None:
        if mask_ratio is None or not 0.0 < mask_ratio < 1.0:
            raise ConfigError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
        n_visible = int(seq_len * (1.0 - mask_ratio))
    n_visible = int(n_visible)
    n_mask = seq_len - n_visible
    if n_visible < 1 or n_mask < 1:
        raise ConfigError(
            f"seq_len={seq_len} with mask_ratio={mask_ratio}, n_masked={n_masked} leaves "
            f"{n_visible} visible and {n_mask} masked step(s); MIMEx needs at least one of each: "
            f"pass n_visible between 1 and {seq_len - 1} (or a mask_ratio in "
            f"[{1 / seq_len:.3g}, {1 - 1 / seq_len:.3g}])"
        )
    return n_visible, n_mask


def feature_keep_count(seq_len: int, input_dim: int, mask_ratio: float) -> int:
    """Number of visible elements out of ``seq_len * input_dim`` for feature-level masking.

    Same truncation rule as the official ``MAE`` class: ``int(T * D * (1 - mask_ratio))``.
    """
    if not 0.0 < mask_ratio < 1.0:
        raise ConfigError(f"mask_ratio must be in (0, 1), got {mask_ratio}")
    total = seq_len * input_dim
    keep = int(total * (1.0 - mask_ratio))
    if keep < 1 or keep >= total:
        raise ConfigError(
            f"feature masking of {total} elements at mask_ratio={mask_ratio} keeps {keep}; "
            f"it must keep between 1 and {total - 1}"
        )
    return keep


@dataclass
class TimeMaskPlan:
    """Which steps each sequence shows and scores.

    Attributes:
        ids_keep: int64[B, V], the positions handed to the encoder (V = n_visible).
        ids_restore: int64[B, T], inverse permutation that puts [kept, masked] back in time order.
        keep_active: bool[B, V] or None (all active); False for a kept slot that holds a padded
            step or that was demoted to a target so that the sequence has one.
        target: bool[B, T], steps whose reconstruction error is scored.
        valid: bool[B, T] or None (all valid); False on padded steps.
    """

    ids_keep: torch.Tensor
    ids_restore: torch.Tensor
    keep_active: torch.Tensor | None
    target: torch.Tensor
    valid: torch.Tensor | None


def plan_time_mask(
    batch: int,
    seq_len: int,
    n_visible: int,
    kind: str,
    pad: torch.Tensor | None,
    generator: torch.Generator | None,
    device: torch.device,
    noise: torch.Tensor | None = None,
) -> TimeMaskPlan:
    """Sample (``kind="uniform"``) or fix (``kind="fixed"``) the visible steps of each sequence.

    ``uniform``: ``n_visible`` steps drawn without replacement among the real steps, the
    rest masked (MAE protocol). Padded steps sort last, so they are never chosen; when a
    sequence has ``n_valid <= n_visible`` real steps only ``n_valid - 1`` are shown, so that
    one real step is always scored. ``fixed``: the oldest ``n_visible`` positions are shown
    and the newest ``T - n_visible`` are masked (future prediction, paper A.6). ``noise``
    (float[B, T] in [0, 1)) replaces the draw from ``generator`` (the caller drew it).
    """
    if kind == "fixed":
        ids_shuffle = torch.arange(seq_len, device=device).expand(batch, seq_len)
    else:
        if noise is None:
            noise = torch.rand(batch, seq_len, generator=generator, device=device)
        if pad is not None:
            noise = noise.masked_fill(pad, 2.0)
        ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :n_visible]
    target = torch.ones(batch, seq_len, dtype=torch.bool, device=device)
    target[:, :n_visible] = False
    target = torch.gather(target, 1, ids_restore)
    if pad is None:
        return TimeMaskPlan(ids_keep, ids_restore, None, target, None)
    valid = ~pad
    if kind == "fixed":
        keep_active = torch.gather(valid, 1, ids_keep)
    else:
        n_valid = valid.sum(1, keepdim=True)
        n_active = torch.clamp(torch.minimum(n_valid - 1, torch.full_like(n_valid, n_visible)), 0)
        keep_active = torch.arange(n_visible, device=device).unsqueeze(0) < n_active
    shown = torch.zeros(batch, seq_len, dtype=torch.bool, device=device)
    shown.scatter_(1, ids_keep, keep_active)
    target = valid & ~shown
    return TimeMaskPlan(ids_keep, ids_restore, keep_active, target, valid)


def plan_feature_mask(
    batch: int,
    seq_len: int,
    input_dim: int,
    mask_ratio: float,
    pad: torch.Tensor | None,
    generator: torch.Generator | None,
    device: torch.device,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Element-level mask over time x feature (paper Fig. 5 "(a)", official ``MAE`` class).

    Each sequence with ``n`` real steps keeps ``int(n * D * (1 - mask_ratio))`` of its real
    elements visible, drawn uniformly; the other real elements are targets. ``noise``
    (float[B, T * D]) replaces the draw from ``generator``.

    Returns:
        bool[B, T, D]: True on target (masked) elements; False on visible and padded ones.
    """
    total = seq_len * input_dim
    if noise is None:
        noise = torch.rand(batch, total, generator=generator, device=device)
    if pad is None:
        n_keep = torch.full((batch, 1), int(total * (1.0 - mask_ratio)), device=device)
        valid_el = None
    else:
        valid_el = (~pad).unsqueeze(-1).expand(batch, seq_len, input_dim).reshape(batch, total)
        noise = noise.masked_fill(~valid_el, 2.0)
        n_real = valid_el.sum(1, keepdim=True).double()
        n_keep = torch.floor(n_real * (1.0 - mask_ratio)).long()
    rank = torch.argsort(torch.argsort(noise, dim=1), dim=1)
    target = rank >= n_keep
    if valid_el is not None:
        target &= valid_el
    return target.view(batch, seq_len, input_dim)
