"""ICM (Pathak et al., 2017): forward-model prediction error in a learned feature space.

Transition alignment: with ``obs_seq[:, -2] = o_t``, ``actions[:, -2] = a_t`` and
``obs_seq[:, -1] = o_{t+1}``, the bonus of the transition is
``eta * mean_f (f(phi(o_t), a_t) - phi(o_{t+1}))^2``. The features ``phi`` are shaped by an
inverse model that predicts ``a_t`` from ``(phi(o_t), phi(o_{t+1}))``; the joint loss is
``(1 - beta) * L_inverse + beta * L_forward`` (beta = 0.2, as in the paper). Continuous actions
use a squared-error inverse loss; discrete actions (int64) a cross-entropy loss.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mimex import errors
from mimex.config.fields import check, opt
from mimex.explore.base import RewardScaler, check_actions, check_obs_seq, check_pad_mask
from mimex.nets.optim import adam, load_optimizer_state


@dataclass
class ICMConfig:
    """Options of the ICM explorer."""

    feature_dim: int = opt(288, "width of the learned feature phi")
    hidden_dim: int = opt(256, "hidden width of the encoder, inverse and forward models")
    beta: float = opt(0.2, "weight of the forward loss against the inverse loss, in [0, 1]")
    eta: float = opt(1.0, "scale of the bonus (the forward error)")
    lr: float = opt(1e-3, "Adam learning rate")
    reward_norm: bool = opt(False, "divide rewards by a running std of the raw rewards")
    seed: int = opt(0, "seed of the weights")
    device: str = opt("cpu", "torch device")

    def __post_init__(self) -> None:
        check(0.0 <= self.beta <= 1.0, f"beta must be in [0, 1], got {self.beta}")
        check(self.feature_dim >= 1 and self.hidden_dim >= 1,
              f"feature_dim and hidden_dim must be >= 1, got {self.feature_dim}, {self.hidden_dim}")
        check(self.lr > 0 and self.eta > 0, f"lr and eta must be > 0, got {self.lr}, {self.eta}")


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


class ICMExplorer:
    """Curiosity from forward-model error. Build with ``make_explorer("icm", ...)``."""

    name = "icm"

    def __init__(self, input_dim: int, action_dim: int | None, config: ICMConfig) -> None:
        if action_dim is None or action_dim < 1:
            raise errors.ConfigError(
                f"ICM needs action_dim >= 1 (the action width, or the number of discrete "
                f"actions), got {action_dim}"
            )
        self.config, self.input_dim, self.action_dim = config, input_dim, action_dim
        self.device = torch.device(config.device)
        f, h = config.feature_dim, config.hidden_dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = nn.ModuleDict({
                "encoder": _mlp(input_dim, h, f),
                "inverse_model": _mlp(2 * f, h, action_dim),
                "forward_model": _mlp(f + action_dim, h, f),
            }).to(self.device)
        self.optimizer = adam(self.model.parameters(), lr=config.lr)
        self.scaler = RewardScaler(config.reward_norm, self.device)
        self.n_updates = 0
        self.last_metrics: dict[str, float] = {}

    def reward(self, obs_seq: Any, actions: Any = None, pad_mask: Any = None,
               update: bool = False) -> torch.Tensor:
        """Forward-model error of the transition ``(obs_seq[:,-2], actions[:,-2], obs_seq[:,-1])``.

        Args:
            obs_seq: float32[B, T, D], T >= 2.
            actions: float32[B, T, A] or int64[B, T]; ``actions[:, t]`` was taken at ``obs_seq[:, t]``.
            pad_mask: bool[B, T] or None; a padded ``obs_seq[:, -2]`` gives a zero bonus.
            update: also take one optimiser step on the joint loss.

        Returns:
            float32[B], >= 0.
        """
        x = check_obs_seq(obs_seq, self.input_dim, None, 2, self.device)
        b, t, _ = x.shape
        if actions is None:
            raise errors.InputError(
                "ICM needs actions: pass actions=float32[B, T, A] or int64[B, T] aligned with obs_seq"
            )
        a = check_actions(actions, b, t, self.action_dim, self.device)[:, -2]
        pad = check_pad_mask(pad_mask, b, t, self.device)
        real = torch.ones(b, dtype=torch.bool, device=self.device) if pad is None else ~pad[:, -2]
        discrete = a.dtype == torch.int64
        a_in = F.one_hot(a, self.action_dim).float() if discrete else a
        with torch.set_grad_enabled(update):
            phi = self.model["encoder"](x[:, -2:])
            phi_t, phi_next = phi[:, 0], phi[:, 1]
            pred_next = self.model["forward_model"](torch.cat([phi_t, a_in], dim=-1))
            fwd_err = (pred_next - phi_next).pow(2).mean(-1)
            raw = self.config.eta * fwd_err.detach() * real
            if update and real.any():
                logits = self.model["inverse_model"](torch.cat([phi_t, phi_next], dim=-1))
                if discrete:
                    inv = F.cross_entropy(logits[real], a[real])
                else:
                    inv = (logits[real] - a[real]).pow(2).mean()
                fwd = fwd_err[real].mean()
                loss = (1 - self.config.beta) * inv + self.config.beta * fwd
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.n_updates += 1
                self.last_metrics = {"explore/inverse_loss": float(inv.detach()),
                                     "explore/forward_loss": float(fwd.detach())}
        out = self.scaler(raw.float(), update)
        self.last_metrics.update({
            "explore/reward_raw_mean": float(raw.mean()), "explore/reward_mean": float(out.mean())
        })
        return out

    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser, reward normaliser, counters and the config."""
        return {
            "kind": self.name, "config": asdict(self.config), "input_dim": self.input_dim,
            "action_dim": self.action_dim, "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(), "n_updates": self.n_updates,
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        from mimex.explore.registry import check_state_matches

        check_state_matches(self, sd, ("feature_dim", "hidden_dim"))
        if sd.get("action_dim") != self.action_dim:
            raise errors.CheckpointError(
                f"state dict has action_dim={sd.get('action_dim')}, this explorer has {self.action_dim}"
            )
        self.model.load_state_dict(sd["model"])
        load_optimizer_state(self.optimizer, sd["optimizer"])  # copies: never share Adam moments
        self.scaler.load_state_dict(sd["scaler"])
        self.n_updates = int(sd["n_updates"])
