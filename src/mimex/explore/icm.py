"""ICM (Pathak et al., 2017): forward-model prediction error in a learned feature space.

Transition alignment: with ``obs_seq[:, -2] = o_t``, ``actions[:, -2] = a_t`` and
``obs_seq[:, -1] = o_{t+1}``, the bonus of the transition is
``eta * mean_f (f(phi(o_t), a_t) - phi(o_{t+1}))^2``. The features ``phi`` are shaped by an
inverse model that predicts ``a_t`` from ``(phi(o_t), phi(o_{t+1}))``; the joint loss is
``(1 - beta) * L_inverse + beta * L_forward`` (beta = 0.2, as in the paper). Continuous actions
use a squared-error inverse loss; discrete actions (int64) a cross-entropy loss.

The MIMEx release's ICM (notes 4.1) is two options away: ``linear_encoder=True`` (phi is one
Linear layer) and ``detach_forward=True`` (the forward loss trains the forward model only, on
detached features, so phi is shaped by the inverse loss alone; under Adam the two losses'
weights then hardly matter, as the release's two separate optimisers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mimex import errors
from mimex.config.fields import check, opt
from mimex.explore.base import (
    RewardNorm,
    check_actions,
    check_obs_seq,
    check_pad_mask,
    check_reward_norm_options,
    check_update,
    reward_norm_keys,
)
from mimex.explore.training import (
    check_chunk_size,
    check_update_proportion,
    chunks,
    set_lr,
    train_weights,
)
from mimex.nets.optim import adam, load_optimizer_state


@dataclass
class ICMConfig:
    """Options of the ICM explorer."""

    feature_dim: int = opt(288, "width of the learned feature phi")
    hidden_dim: int = opt(256, "hidden width of the encoder, inverse and forward models")
    beta: float = opt(0.2, "weight of the forward loss against the inverse loss, in [0, 1]")
    eta: float = opt(1.0, "scale of the bonus (the forward error)")
    lr: float = opt(1e-3, "Adam learning rate")
    reward_norm: str | bool = opt("none", "'none'; 'step': divide by a running std of the raw per-step rewards (updated on training batches); 'return': by a running std of the discounted intrinsic return (the RND paper; applied per rollout by normalize_rollout, so on-policy only). True/False (older configs) mean step/none")
    return_gamma: float = opt(0.99, "discount of the intrinsic return used by reward_norm='return'")
    linear_encoder: bool = opt(False, "phi is a single Linear layer (the MIMEx release) instead of a 2-layer MLP")
    detach_forward: bool = opt(False, "the forward loss does not train phi (the MIMEx release); phi learns from the inverse loss only")
    update_proportion: float = opt(1.0, "fraction of each training batch the models learn from (all are scored)")
    seed: int = opt(0, "seed of the weights and of the update subsampling")
    device: str = opt("cpu", "torch device")

    def __post_init__(self) -> None:
        check(0.0 <= self.beta <= 1.0, f"beta must be in [0, 1], got {self.beta}")
        check_reward_norm_options(self)  # a bool reward_norm: a config saved before 'return'
        check(self.feature_dim >= 1 and self.hidden_dim >= 1,
              f"feature_dim and hidden_dim must be >= 1, got {self.feature_dim}, {self.hidden_dim}")
        check(self.lr > 0 and self.eta > 0, f"lr and eta must be > 0, got {self.lr}, {self.eta}")
        check_update_proportion(self.update_proportion)


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
                "encoder": nn.Linear(input_dim, f) if config.linear_encoder else _mlp(input_dim, h, f),
                "inverse_model": _mlp(2 * f, h, action_dim),
                "forward_model": _mlp(f + action_dim, h, f),
            }).to(self.device)
        self.optimizer = adam(self.model.parameters(), lr=config.lr)
        self.norm = RewardNorm(config.reward_norm, config.return_gamma, self.device)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(config.seed + 1)
        self.n_updates = 0
        self.last_metrics: dict[str, float] = {}
        self.last_raw = torch.zeros(0, device=self.device)

    def reward(self, obs_seq: Any, actions: Any = None, pad_mask: Any = None,
               update: bool = False, chunk_size: int | None = None) -> torch.Tensor:
        """Forward-model error of the transition ``(obs_seq[:,-2], actions[:,-2], obs_seq[:,-1])``.

        Args:
            obs_seq: float32[B, T, D], T >= 2.
            actions: float32[B, T, A] or int64[B, T]; ``actions[:, t]`` was taken at ``obs_seq[:, t]``.
            pad_mask: bool[B, T] or None; a padded ``obs_seq[:, -2]`` gives a zero bonus.
            update: also take one optimiser step on the joint loss.
            chunk_size: with ``update``, at most this many transitions per forward and backward
                pass, gradients accumulated (one step for the whole batch).

        Returns:
            float32[B], >= 0.
        """
        check_chunk_size(chunk_size)
        update = check_update(update)
        x = check_obs_seq(obs_seq, self.input_dim, None, 2, self.device)
        b, t, _ = x.shape
        if actions is None:
            raise errors.InputError(
                "ICM needs actions: pass actions=float32[B, T, A] or int64[B, T] aligned with obs_seq"
            )
        a = check_actions(actions, b, t, self.action_dim, self.device)[:, -2]
        pad = check_pad_mask(pad_mask, b, t, self.device)
        real = torch.ones(b, dtype=torch.bool, device=self.device) if pad is None else ~pad[:, -2]
        weights = real.float()
        if update:
            weights = weights * train_weights(b, self.config.update_proportion, self.generator, self.device)
        n_train = weights.sum()
        update = update and bool(n_train > 0)
        if update:
            self.optimizer.zero_grad(set_to_none=True)
        raws, inv_sum, fwd_sum = [], 0.0, 0.0
        for sl in chunks(b, chunk_size):
            with torch.set_grad_enabled(update):
                fwd_err, inv_err = self._errors(x[sl], a[sl], update)
                if update:
                    w = weights[sl]
                    inv, fwd = (inv_err * w).sum() / n_train, (fwd_err * w).sum() / n_train
                    ((1 - self.config.beta) * inv + self.config.beta * fwd).backward()
                    inv_sum, fwd_sum = inv_sum + float(inv.detach()), fwd_sum + float(fwd.detach())
            raws.append(self.config.eta * fwd_err.detach())
        raw = torch.cat(raws) * real
        if update:
            self.optimizer.step()
            self.n_updates += 1
            self.last_metrics = {"explore/inverse_loss": inv_sum, "explore/forward_loss": fwd_sum}
        self.last_raw = raw.float()
        out = self.norm.step(raw.float(), update)
        self.last_metrics.update({
            "explore/reward_raw_mean": float(raw.mean()), "explore/reward_mean": float(out.mean())
        })
        return out

    def _errors(self, x: torch.Tensor, a: torch.Tensor, inverse: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per-transition forward error float[b] and (when ``inverse``) inverse error float[b]."""
        discrete = a.dtype == torch.int64
        a_in = F.one_hot(a, self.action_dim).float() if discrete else a
        phi = self.model["encoder"](x[:, -2:])
        phi_t, phi_next = phi[:, 0], phi[:, 1]
        if self.config.detach_forward:
            phi_t, phi_next = phi_t.detach(), phi_next.detach()
        pred_next = self.model["forward_model"](torch.cat([phi_t, a_in], dim=-1))
        fwd_err = (pred_next - phi_next).pow(2).mean(-1)
        if not inverse:
            return fwd_err, None
        logits = self.model["inverse_model"](torch.cat([phi[:, 0], phi[:, 1]], dim=-1))
        if discrete:
            inv_err = F.cross_entropy(logits, a, reduction="none")
        else:
            inv_err = (logits - a).pow(2).mean(-1)
        return fwd_err, inv_err

    def normalize_rollout(self, rewards: torch.Tensor, update: bool = False) -> torch.Tensor:
        """With ``reward_norm="return"``: float[S, N] rewards (steps x envs, from ``reward``)
        divided by the running std of their discounted return; otherwise unchanged."""
        return self.norm.rollout(rewards, update)

    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser, reward normaliser, counters and the config."""
        return {
            "kind": self.name, "config": asdict(self.config), "input_dim": self.input_dim,
            "action_dim": self.action_dim, "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            **self.norm.state_dict(), "n_updates": self.n_updates,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        from mimex.explore.registry import check_state_matches

        check_state_matches(self, sd, ("feature_dim", "hidden_dim", "beta", "eta",
                                       "linear_encoder", "detach_forward") + reward_norm_keys(self.config))
        if sd.get("action_dim") != self.action_dim:
            raise errors.CheckpointError(
                f"state dict has action_dim={sd.get('action_dim')}, this explorer has {self.action_dim}"
            )
        self.model.load_state_dict(sd["model"])
        load_optimizer_state(self.optimizer, sd["optimizer"])  # copies: never share Adam moments
        set_lr(self.optimizer, self.config.lr)  # the configured learning rate wins
        self.norm.load_state_dict(sd)
        self.n_updates = int(sd["n_updates"])
        if "generator" in sd:
            self.generator.set_state(sd["generator"].cpu())
