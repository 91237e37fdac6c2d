"""Optimisers built (and restored) one way everywhere.

``adam`` uses PyTorch's fused Adam kernel when every parameter lives on a device that has one
(CPU and CUDA floating-point tensors): one kernel for all parameters instead of a loop of
small ops. Measured on 2 CPU cores for the default MIMEx model (0.86 M parameters): 0.8 ms
per step fused, 4.3 ms with the default per-tensor loop, about 4% of a whole nm1 update of a
512-sequence batch. The update rule is Adam's either way; the two differ by float rounding
(about 1e-8 after 20 steps), so runs are bit-reproducible for one choice, not across both.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch

FUSED_DEVICES = ("cpu", "cuda")


def can_fuse(params: list[torch.Tensor]) -> bool:
    """Whether PyTorch's fused Adam supports every tensor in ``params``."""
    return bool(params) and all(p.device.type in FUSED_DEVICES and p.is_floating_point()
                                for p in params)


def adam(params: Iterable[torch.nn.Parameter], lr: float, eps: float = 1e-8) -> torch.optim.Adam:
    """``torch.optim.Adam`` over ``params``, fused where the device supports it (falls back
    to the per-tensor loop where this torch build refuses the fused kernel)."""
    params = list(params)
    if can_fuse(params):
        try:
            return torch.optim.Adam(params, lr=lr, eps=eps, fused=True)
        except (RuntimeError, ValueError):
            pass
    return torch.optim.Adam(params, lr=lr, eps=eps)


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """Load ``state`` (an optimiser ``state_dict``) into ``optimizer`` without sharing its
    tensors, keeping ``optimizer``'s own choice of kernel.

    ``Optimizer.load_state_dict`` copies every saved group option, ``fused`` included, so a
    checkpoint written by a per-tensor Adam would silently switch a fused one back (and the
    other way round). The saved groups take the current ``fused`` flag before loading, which
    also makes PyTorch put the ``step`` counters where that kernel wants them.
    """
    state = copy.deepcopy(state)
    # a group-count mismatch is left to load_state_dict, which names it
    for saved, group in zip(state.get("param_groups", []), optimizer.param_groups, strict=False):
        saved["fused"] = group.get("fused")
    optimizer.load_state_dict(state)
