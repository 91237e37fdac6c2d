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


class ReturnScaler:
    """Divide intrinsic rewards by a running std of their discounted return (the RND paper).

    Per environment the filter keeps ``R <- gamma * R + r_t`` over consecutive rollout
    steps (not reset at episode ends: the RND paper treats the intrinsic return as
    non-episodic); the std of all those ``R`` values so far scales the rewards. Statistics
    move only when ``update`` is True.
    """

    def __init__(self, gamma: float = 0.99, device: str | torch.device = "cpu") -> None:
        self.gamma = gamma
        self.stats = RunningMeanStd((), device=device)
        self.returns: torch.Tensor | None = None

    def __call__(self, rewards: torch.Tensor, update: bool) -> torch.Tensor:
        """Scale float[S, N] rewards (step-major, one column per environment)."""
        if rewards.dim() != 2:
            raise ValueError(f"rewards must be float[S, N] (steps x envs), got shape {list(rewards.shape)}")
        if update:
            running = self.returns
            if running is None or running.shape != rewards.shape[1:]:
                running = torch.zeros(rewards.shape[1], dtype=torch.float64, device=rewards.device)
            seen = []
            for r_t in rewards.to(torch.float64):
                running = self.gamma * running + r_t
                seen.append(running)
            self.returns = running
            self.stats.update(torch.stack(seen))
        return (rewards / self.stats.std.to(rewards.dtype)).to(rewards.dtype)

    def state_dict(self) -> dict[str, torch.Tensor | None]:
        return {**self.stats.state_dict(), "returns": None if self.returns is None else self.returns.clone()}

    def load_state_dict(self, sd: dict[str, torch.Tensor | None]) -> None:
        self.stats.load_state_dict({k: sd[k] for k in ("mean", "var", "count")})
        ret = sd.get("returns")
        self.returns = None if ret is None else ret.to(self.stats.mean.device, torch.float64).clone()
