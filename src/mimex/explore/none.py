"""The "none" explorer: a zero bonus, for the action-noise baseline."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from mimex.config.fields import opt
from mimex.explore.base import check_obs_seq, check_pad_mask, check_update
from mimex.explore.training import check_chunk_size


@dataclass
class NoneConfig:
    """Options of the zero bonus."""

    seed: int = opt(0, "accepted so every explorer takes the same call; unused")
    device: str = opt("cpu", "torch device of the returned zeros")


class NoneExplorer:
    """Returns zeros of the right shape (after checking the input like any explorer)."""

    name = "none"

    def __init__(self, input_dim: int, action_dim: int | None, config: NoneConfig) -> None:
        self.config, self.input_dim = config, input_dim
        self.device = torch.device(config.device)
        self.n_updates = 0
        self.last_metrics: dict[str, float] = {}
        self.last_raw = torch.zeros(0, device=self.device)

    def reward(self, obs_seq: Any, actions: Any = None, pad_mask: Any = None,
               update: bool = False, chunk_size: int | None = None) -> torch.Tensor:
        """float32[B] of zeros."""
        check_chunk_size(chunk_size)
        update = check_update(update)
        x = check_obs_seq(obs_seq, self.input_dim, None, 1, self.device)
        check_pad_mask(pad_mask, x.shape[0], x.shape[1], self.device)
        self.n_updates += int(update)
        self.last_raw = torch.zeros(x.shape[0], dtype=torch.float32, device=self.device)
        return self.last_raw.clone()

    def normalize_rollout(self, rewards: torch.Tensor, update: bool = False) -> torch.Tensor:
        return rewards

    def state_dict(self) -> dict[str, Any]:
        return {"kind": self.name, "config": asdict(self.config), "input_dim": self.input_dim,
                "n_updates": self.n_updates}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        from mimex.explore.registry import check_state_matches

        check_state_matches(self, sd, ())
        self.n_updates = int(sd["n_updates"])
