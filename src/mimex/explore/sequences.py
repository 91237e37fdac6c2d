"""Rolling windows of the last T embeddings per environment, for vectorised environments.

Each call to :meth:`SequenceTracker.step` returns a fresh tensor (never a view of the
tracker's memory), so stored sequences cannot be changed by later steps, and an episode's
last sequence holds its real final observation (the official code zeroes it: not here).

By default the sequence of transition t ends at the newest observation ``o_{t+1}``, so the
bonus scores the outcome of ``a_t``; ``end="current"`` gives the paper's convention, ending at
``o_t``. Steps before the episode start are marked in the returned ``pad`` mask (and zero).
"""

from __future__ import annotations

from typing import Any

import torch

from mimex import errors
from mimex.explore.base import as_tensor


class SequenceTracker:
    """Keeps the last ``seq_len`` embeddings of each of ``num_envs`` environments.

    Example::

        tracker = SequenceTracker(num_envs=8, seq_len=5, dim=D)
        tracker.reset(z0)                                   # z0: float32[8, D] after env.reset
        seq, pad = tracker.step(z_next, done, z_reset)      # after env.step; see step()
        r_int = explorer.reward(seq, pad_mask=pad)
    """

    def __init__(self, num_envs: int, seq_len: int, dim: int, end: str = "next",
                 device: str | torch.device = "cpu") -> None:
        if end not in ("next", "current"):
            raise errors.ConfigError(f"end must be 'next' (o_t+1) or 'current' (o_t), got {end!r}")
        if num_envs < 1 or seq_len < 1 or dim < 1:
            raise errors.ConfigError(
                f"num_envs, seq_len and dim must be >= 1, got {num_envs}, {seq_len}, {dim}"
            )
        self.num_envs, self.seq_len, self.dim, self.end = num_envs, seq_len, dim, end
        self.device = torch.device(device)
        self.history = torch.zeros(num_envs, seq_len, dim, device=self.device)
        self.count = torch.zeros(num_envs, dtype=torch.long, device=self.device)

    def reset(self, z0: Any, env_mask: Any = None) -> None:
        """Start new episodes with first embeddings ``z0`` (float32[N, D]) where ``env_mask``."""
        z = self._check(z0, "z0")
        mask = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        if env_mask is not None:
            mask = as_tensor(env_mask, self.device).bool()
        self.history[mask] = 0.0
        self.history[mask, -1] = z[mask]
        self.count[mask] = 1

    def step(self, z_next: Any, done: Any, z_reset: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Record the newest embedding and return each environment's sequence.

        Args:
            z_next: float32[N, D], embedding of o_{t+1} (for a finished episode, its real final
                observation, not the reset one).
            done: bool[N], the episode ended at this step (terminated or truncated).
            z_reset: float32[N, D] or None; first embeddings of the new episodes (rows where
                ``done``). Without it, call :meth:`reset` with ``env_mask=done`` before the next step.

        Returns:
            ``(seq, pad)``: float32[N, T, D] ending at o_{t+1} (or o_t with ``end="current"``),
            and bool[N, T], True on steps before the episode start.
        """
        z = self._check(z_next, "z_next")
        d = as_tensor(done, self.device).bool().reshape(-1)
        if d.shape[0] != self.num_envs:
            raise errors.InputError(errors.BAD_SHAPE.format(arg="done", expected=[self.num_envs], got=list(d.shape)))
        if (self.count == 0).any():
            env = int((self.count == 0).nonzero()[0])
            raise errors.InputError(
                f"environment {env} has no current episode: call reset(z0) first, or pass "
                "z_reset to step() when an episode ends"
            )
        if self.end == "current":
            seq, pad = self._window()
            self._push(z)
        else:
            self._push(z)
            seq, pad = self._window()
        if d.any():
            self.count[d] = 0
            self.history[d] = 0.0
            if z_reset is not None:
                self.reset(self._check(z_reset, "z_reset"), env_mask=d)
        return seq, pad

    def _push(self, z: torch.Tensor) -> None:
        self.history = torch.roll(self.history, shifts=-1, dims=1)
        self.history[:, -1] = z
        self.count = torch.clamp(self.count + 1, max=self.seq_len)

    def _window(self) -> tuple[torch.Tensor, torch.Tensor]:
        pos = torch.arange(self.seq_len, device=self.device)
        pad = pos.unsqueeze(0) < (self.seq_len - self.count).unsqueeze(1)
        return self.history.clone(), pad

    def _check(self, z: Any, name: str) -> torch.Tensor:
        t = as_tensor(z, self.device)
        if tuple(t.shape) != (self.num_envs, self.dim):
            raise errors.InputError(
                errors.BAD_SHAPE.format(arg=name, expected=[self.num_envs, self.dim], got=list(t.shape))
            )
        return t.float()

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The stored windows and step counts (for exact resume)."""
        return {"history": self.history.clone(), "count": self.count.clone()}

    def load_state_dict(self, sd: dict[str, torch.Tensor]) -> None:
        if tuple(sd["history"].shape) != tuple(self.history.shape):
            raise errors.CheckpointError(
                f"sequence tracker state has shape {tuple(sd['history'].shape)}, "
                f"expected {tuple(self.history.shape)}"
            )
        self.history = sd["history"].to(self.device).clone()
        self.count = sd["count"].to(self.device).clone()
