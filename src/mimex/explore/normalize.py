"""Running statistics used to normalise intrinsic rewards and observations."""

from __future__ import annotations

import torch


class RunningMeanStd:
    """Streaming mean and variance (parallel Welford / Chan et al. update) in float64.

    Args:
        shape: the shape of one sample, ``()`` for scalars.
        eps: initial pseudo-count, so the first update is not divided by zero.
    """

    def __init__(self, shape: tuple[int, ...] = (), eps: float = 1e-4, device: str | torch.device = "cpu"):
        self.mean = torch.zeros(shape, dtype=torch.float64, device=device)
        self.var = torch.ones(shape, dtype=torch.float64, device=device)
        self.count = torch.tensor(eps, dtype=torch.float64, device=device)

    def update(self, x: torch.Tensor) -> None:
        """Fold in a batch ``x`` of shape ``[N, *shape]``."""
        x = x.detach().to(torch.float64).reshape(-1, *self.mean.shape)
        n = x.shape[0]
        if n == 0:
            return
        b_mean = x.mean(0)
        b_var = x.var(0, unbiased=False)
        delta = b_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + b_var * n + delta.pow(2) * self.count * n / total
        self.var = m2 / total
        self.count = total

    @property
    def std(self) -> torch.Tensor:
        """Standard deviation ``sqrt(var + 1e-8)``: a constant feature maps to 0, not to noise / 1e-8."""
        return (self.var + 1e-8).sqrt()

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"mean": self.mean.clone(), "var": self.var.clone(), "count": self.count.clone()}

    def load_state_dict(self, sd: dict[str, torch.Tensor]) -> None:
        dev = self.mean.device
        for k in ("mean", "var", "count"):
            want = getattr(self, k).shape
            got = sd[k].shape
            if want != got:
                raise ValueError(f"running-stat {k!r} has shape {tuple(got)}, expected {tuple(want)}")
            setattr(self, k, sd[k].to(dev, torch.float64).clone())
