"""How every explorer trains on a batch: chunks, the trained fraction, one optimiser step.

``reward(..., update=True, chunk_size=C)`` runs the batch through the model ``C`` sequences
at a time, accumulating gradients, and takes **one** optimiser step at the end: the same
update as one pass over the whole batch (up to float rounding), with the memory of one
chunk. The official PixMC code trains MIMEx on a whole 16,384-sequence rollout in one step;
with ``n_masks=5`` a single graph over it needs about 15 GiB, chunks of 2,048 well under 2.

``update_proportion`` (every explorer) trains on a random fraction of each batch, as the
RND paper does (0.25 there); all samples are still scored.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from mimex.config.fields import check


def check_update_proportion(p: float) -> None:
    check(0.0 < p <= 1.0, f"update_proportion must be in (0, 1], got {p}")


def check_chunk_size(chunk_size: int | None) -> None:
    """``chunk_size`` is None (the whole batch at once) or a positive int."""
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        from mimex import errors

        raise errors.InputError(f"chunk_size must be None or an int >= 1, got {chunk_size!r}")


def chunks(batch: int, chunk_size: int | None) -> Iterator[slice]:
    """Consecutive slices covering ``range(batch)``, each at most ``chunk_size`` long."""
    size = batch if chunk_size is None else max(1, chunk_size)
    for start in range(0, batch, max(size, 1)):
        yield slice(start, min(start + size, batch))


def train_weights(batch: int, proportion: float, generator: torch.Generator,
                  device: torch.device) -> torch.Tensor:
    """float32[B]: 1 on the samples the update learns from, 0 elsewhere.

    All ones when ``proportion == 1`` (no random numbers drawn, so the explorer's other
    random streams are unchanged); otherwise each sample is kept with that probability.
    """
    if proportion >= 1.0:
        return torch.ones(batch, device=device)
    keep = torch.rand(batch, generator=generator, device=device) < proportion
    return keep.float()


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Put ``lr`` in every parameter group (a loaded optimiser state keeps its saved one)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
