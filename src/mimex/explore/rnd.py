"""RND (Burda et al., 2019): error of predicting a fixed random network's output.

Done as in the RND paper, not as the strawman in the MIMEx release: inputs are normalised
by running mean/std and clipped to [-5, 5]; the reward is divided by a running std of the
discounted intrinsic return (``reward_norm="return"``: needs the rollout's time order, so it
is applied by :meth:`RNDExplorer.normalize_rollout` on float[S, N] rewards, which PPO calls;
``reward()`` alone then returns the raw error); the predictor is one layer deeper than the
target. The bonus of a sequence scores its newest step ``obs_seq[:, -1]``.

The MIMEx release's RND (notes 4.2): ``obs_norm=False, reward_norm="none",
predictor_extra_layer=False, output_dim=288``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from mimex.config.fields import check, opt
from mimex.explore.base import (
    RewardNorm,
    check_obs_seq,
    check_pad_mask,
    check_reward_norm_options,
    check_update,
    reward_norm_keys,
)
from mimex.explore.normalize import RunningMeanStd
from mimex.explore.training import (
    check_chunk_size,
    check_update_proportion,
    chunks,
    set_lr,
    train_weights,
)
from mimex.nets.optim import adam, load_optimizer_state


@dataclass
class RNDConfig:
    """Options of the RND explorer."""

    output_dim: int = opt(128, "width of the random target's output")
    hidden_dim: int = opt(256, "hidden width of target and predictor")
    lr: float = opt(1e-3, "Adam learning rate of the predictor")
    obs_norm: bool = opt(True, "normalise inputs by a running mean/std and clip to [-5, 5]")
    reward_norm: str | bool = opt("return", "'return': divide by a running std of the discounted intrinsic return (the RND paper; applied per rollout by normalize_rollout); 'step': by a running std of the per-step rewards; 'none'")
    return_gamma: float = opt(0.99, "discount of the intrinsic return used by reward_norm='return'")
    predictor_extra_layer: bool = opt(True, "the predictor has one more hidden layer than the target (the RND paper); False = identical nets (the MIMEx release)")
    update_proportion: float = opt(1.0, "fraction of each training batch the predictor learns from (RND used 0.25)")
    seed: int = opt(0, "seed of the weights and of the update subsampling")
    device: str = opt("cpu", "torch device")

    def __post_init__(self) -> None:
        check_reward_norm_options(self)  # a bool reward_norm: a config saved before 'return'
        check_update_proportion(self.update_proportion)
        check(self.lr > 0, f"lr must be > 0, got {self.lr}")
        check(self.output_dim >= 1 and self.hidden_dim >= 1,
              f"output_dim and hidden_dim must be >= 1, got {self.output_dim}, {self.hidden_dim}")


def _net(i: int, h: int, o: int, extra_layer: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(i, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU()]
    if extra_layer:
        layers += [nn.Linear(h, h), nn.ReLU()]
    layers.append(nn.Linear(h, o))
    net = nn.Sequential(*layers)
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.orthogonal_(m.weight, gain=math.sqrt(2))
            nn.init.zeros_(m.bias)
    return net


class RNDExplorer:
    """Random network distillation. Build with ``make_explorer("rnd", ...)``."""

    name = "rnd"

    def __init__(self, input_dim: int, action_dim: int | None, config: RNDConfig) -> None:
        self.config, self.input_dim = config, input_dim
        self.device = torch.device(config.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.target = _net(input_dim, config.hidden_dim, config.output_dim, False)
            self.predictor = _net(input_dim, config.hidden_dim, config.output_dim,
                                  config.predictor_extra_layer)
        self.target.to(self.device).requires_grad_(False)
        self.predictor.to(self.device)
        self.optimizer = adam(self.predictor.parameters(), lr=config.lr)
        self.obs_stats = RunningMeanStd((input_dim,), device=self.device)
        self.norm = RewardNorm(config.reward_norm, config.return_gamma, self.device)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(config.seed + 1)
        self.n_updates = 0
        self.last_metrics: dict[str, float] = {}
        self.last_raw = torch.zeros(0, device=self.device)

    def reward(self, obs_seq: Any, actions: Any = None, pad_mask: Any = None,
               update: bool = False, chunk_size: int | None = None) -> torch.Tensor:
        """Prediction error on the newest step, float32[B] (>= 0).

        Args:
            obs_seq: float32[B, T, D]; only ``obs_seq[:, -1]`` is used.
            actions: unused. pad_mask: validated like MIMEx's, unused (the newest step is real).
            update: fold the batch into the input statistics, then take one predictor step.
            chunk_size: with ``update``, at most this many samples per forward and backward
                pass, gradients accumulated (one step for the whole batch).
        """
        check_chunk_size(chunk_size)
        update = check_update(update)
        seq = check_obs_seq(obs_seq, self.input_dim, None, 1, self.device)
        check_pad_mask(pad_mask, seq.shape[0], seq.shape[1], self.device)  # validated, unused
        x = seq[:, -1]
        if self.config.obs_norm:
            if update:
                self.obs_stats.update(x)
            mean, std = self.obs_stats.mean.float(), self.obs_stats.std.float()
            x = ((x - mean) / std).clamp(-5.0, 5.0)
        b = x.shape[0]
        weights = train_weights(b, self.config.update_proportion, self.generator, self.device) if update else None
        if update:
            n_train = weights.sum().clamp_min(1.0)  # the loss is the mean over the trained samples
            self.optimizer.zero_grad(set_to_none=True)
        parts = []
        for sl in chunks(b, chunk_size):
            with torch.no_grad():
                goal = self.target(x[sl])
            with torch.set_grad_enabled(update):
                err = (self.predictor(x[sl]) - goal).pow(2).mean(-1)
                if update:
                    ((err * weights[sl]).sum() / n_train).backward()
            parts.append(err.detach())
        if update:
            self.optimizer.step()
            self.n_updates += 1
        raw = torch.cat(parts).float()
        self.last_raw = raw
        out = self.norm.step(raw, update)
        self.last_metrics = {
            "explore/reward_raw_mean": float(raw.mean()), "explore/reward_mean": float(out.mean())
        }
        return out

    def normalize_rollout(self, rewards: torch.Tensor, update: bool = False) -> torch.Tensor:
        """With ``reward_norm="return"``: float[S, N] rewards (steps x envs, from ``reward``)
        divided by the running std of their discounted return; otherwise unchanged."""
        return self.norm.rollout(rewards, update)

    def state_dict(self) -> dict[str, Any]:
        """Target and predictor weights, optimiser, both normalisers, RNG and counters."""
        return {
            "kind": self.name, "config": asdict(self.config), "input_dim": self.input_dim,
            "target": self.target.state_dict(), "predictor": self.predictor.state_dict(),
            "optimizer": self.optimizer.state_dict(), "obs_stats": self.obs_stats.state_dict(),
            **self.norm.state_dict(),
            "n_updates": self.n_updates,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        from mimex.explore.registry import check_state_matches

        check_state_matches(self, sd, ("output_dim", "hidden_dim", "obs_norm",
                                       "predictor_extra_layer") + reward_norm_keys(self.config))
        self.target.load_state_dict(sd["target"])
        self.predictor.load_state_dict(sd["predictor"])
        load_optimizer_state(self.optimizer, sd["optimizer"])  # copies: never share Adam moments
        set_lr(self.optimizer, self.config.lr)  # the configured learning rate wins
        self.obs_stats.load_state_dict(sd["obs_stats"])
        self.norm.load_state_dict(sd)
        self.n_updates = int(sd["n_updates"])
        self.generator.set_state(sd["generator"].cpu())
