"""MIMEx: the masked-reconstruction error of a short sequence of embeddings as a bonus.

A small masked autoencoder is trained online on sequences ``z_{t-T+1..t}``; the error of
reconstructing the masked steps is both its training loss and, detached, the intrinsic
reward (Lin & Jabri, NeurIPS 2023). ``n_masks=K`` draws K independent masks in one batched
forward pass, averages the K errors per sequence, and takes one optimiser step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from mimex.config.fields import check, opt
from mimex.errors import CheckpointError, ConfigError
from mimex.explore.base import (
    RewardNorm,
    check_obs_seq,
    check_pad_mask,
    check_reward_norm_options,
    check_update,
    reward_norm_keys,
)
from mimex.explore.masking import (
    MASK_KINDS,
    feature_keep_count,
    plan_feature_mask,
    plan_time_mask,
    time_mask_counts,
)
from mimex.explore.mimex_model import FeatureMAE, TimeMAE, masked_sequence_error
from mimex.explore.training import (
    check_chunk_size,
    check_update_proportion,
    chunks,
    set_lr,
    train_weights,
)
from mimex.nets.optim import adam, load_optimizer_state

# Model sizes: "default" is the paper's (encoder 128/4/4, decoder 64/1/2); "large" doubles
# the decoder's width, depth and heads (paper Fig. 6, official README).
MODEL_SIZES: dict[str, dict[str, int]] = {
    "default": dict(embed_dim=128, depth=4, num_heads=4, decoder_embed_dim=64, decoder_depth=1,
                    decoder_num_heads=2),
    "large": dict(embed_dim=128, depth=4, num_heads=4, decoder_embed_dim=128, decoder_depth=2,
                  decoder_num_heads=4),
}


@dataclass
class MIMExConfig:
    """Options of the MIMEx explorer."""

    seq_len: int = opt(5, "steps per sequence T; obs_seq[:, -1] is the newest")
    mask_ratio: float = opt(0.7, "fraction masked; visible steps = int(T*(1-ratio)) as in the official code (T=5 -> 1 visible, 4 masked)")
    n_masked: int | None = opt(None, "masked steps per sequence (overrides mask_ratio)")
    n_visible: int | None = opt(None, "visible steps per sequence (overrides mask_ratio)")
    n_masks: int = opt(1, "independent maskings averaged per sequence (paper 'nm'); one batched pass, one optimiser step")
    mask: str = opt("uniform", "'uniform' (random steps), 'fixed' (always the newest steps: future prediction), 'feature' (elements over time x feature)")
    pad: str = opt("mask", "'mask': padded steps are never context nor targets; 'zeros': padded steps are zero vectors scored like any other (official code)")
    size: str = opt("default", "model size preset: 'default' or 'large' (decoder doubled); the width/depth/heads options override it")
    embed_dim: int | None = opt(None, "encoder width (default 128)")
    depth: int | None = opt(None, "encoder blocks (default 4)")
    num_heads: int | None = opt(None, "encoder heads (default 4)")
    decoder_embed_dim: int | None = opt(None, "decoder width (default 64)")
    decoder_depth: int | None = opt(None, "decoder blocks (default 1)")
    decoder_num_heads: int | None = opt(None, "decoder heads (default 2)")
    use_cls: bool = opt(True, "prepend a learned cls token to the encoder (official default)")
    norm_loss: bool = opt(False, "standardise each target step over its features before the error")
    lr: float = opt(1e-4, "Adam learning rate")
    reward_norm: str | bool = opt("none", "'none'; 'step': divide by a running std of the raw per-step rewards (updated on training batches); 'return': by a running std of the discounted intrinsic return (the RND paper; applied per rollout by normalize_rollout, so on-policy only). True/False (older configs) mean step/none")
    return_gamma: float = opt(0.99, "discount of the intrinsic return used by reward_norm='return'")
    update_proportion: float = opt(1.0, "fraction of each training batch the model learns from (all are scored)")
    seed: int = opt(0, "seed of the weights and of the mask draws")
    device: str = opt("cpu", "torch device")

    def __post_init__(self) -> None:
        check(self.mask in MASK_KINDS, f"mask must be one of {MASK_KINDS}, got {self.mask!r}")
        check_reward_norm_options(self)  # a bool reward_norm: a config saved before 'return'
        check(self.pad in ("mask", "zeros"), f"pad must be 'mask' or 'zeros', got {self.pad!r}")
        check(self.size in MODEL_SIZES, f"size must be one of {tuple(MODEL_SIZES)}, got {self.size!r}")
        check(self.n_masks >= 1, f"n_masks must be >= 1, got {self.n_masks}")
        check(self.lr > 0, f"lr must be > 0, got {self.lr}")
        check(self.seq_len >= 1, f"seq_len must be >= 1, got {self.seq_len}")
        check_update_proportion(self.update_proportion)
        if self.mask == "feature":
            check(self.n_masked is None and self.n_visible is None,
                  "n_masked/n_visible count whole steps; with mask='feature' give mask_ratio")
        else:
            time_mask_counts(self.seq_len, self.mask_ratio, self.n_masked, self.n_visible)
        for name, value in self.architecture().items():
            check(value >= 1, f"{name} must be >= 1, got {value}")
        arch = self.architecture()
        for w, h in (("embed_dim", "num_heads"), ("decoder_embed_dim", "decoder_num_heads")):
            check(arch[w] % arch[h] == 0 and arch[w] % 2 == 0,
                  f"{w}={arch[w]} must be even and divisible by {h}={arch[h]}")

    def architecture(self) -> dict[str, int]:
        """The resolved widths, depths and heads: the size preset with explicit overrides."""
        arch = dict(MODEL_SIZES[self.size])
        for k in arch:
            if getattr(self, k) is not None:
                arch[k] = getattr(self, k)
        return arch


class MIMExExplorer:
    """Intrinsic reward from masked sequence reconstruction. Build with ``make_explorer``."""

    name = "mimex"

    def __init__(self, input_dim: int, action_dim: int | None, config: MIMExConfig) -> None:
        self.config = config
        self.input_dim = input_dim
        self.device = torch.device(config.device)
        arch = config.architecture()
        if config.norm_loss and input_dim < 2:
            raise ConfigError(
                f"norm_loss needs input_dim >= 2, got {input_dim}: it standardises each step "
                "over its features; use norm_loss=False"
            )
        if config.mask == "feature":
            feature_keep_count(config.seq_len, input_dim, config.mask_ratio)
            self.n_visible = None
        else:
            self.n_visible, _ = time_mask_counts(
                config.seq_len, config.mask_ratio, config.n_masked, config.n_visible
            )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            if config.mask == "feature":
                self.model: torch.nn.Module = FeatureMAE(
                    input_dim, config.seq_len, arch["decoder_embed_dim"], arch["decoder_depth"],
                    arch["decoder_num_heads"], use_cls=config.use_cls,
                )
            else:
                self.model = TimeMAE(input_dim, config.seq_len, use_cls=config.use_cls, **arch)
        self.model.to(self.device)
        self.optimizer = adam(self.model.parameters(), lr=config.lr)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(config.seed + 1)
        self.norm = RewardNorm(config.reward_norm, config.return_gamma, self.device)
        self.n_updates = 0
        self.last_metrics: dict[str, float] = {}
        self.last_raw = torch.zeros(0, device=self.device)

    def reward(
        self,
        obs_seq: Any,
        actions: Any = None,
        pad_mask: Any = None,
        update: bool = False,
        chunk_size: int | None = None,
    ) -> torch.Tensor:
        """Masked-reconstruction error of each sequence, float32[B] (see the module docstring).

        Args:
            obs_seq: float32[B, T, D], T = ``seq_len``; ``obs_seq[:, -1]`` is the newest step.
            actions: unused by MIMEx (accepted for a uniform call).
            pad_mask: bool[B, T] or None; True on padded steps before the episode start.
            update: also take one optimiser step on this batch.
            chunk_size: with ``update``, run at most this many sequences per forward and
                backward pass and accumulate gradients (one step for the whole batch).
        """
        cfg = self.config
        check_chunk_size(chunk_size)
        update = check_update(update)
        x = check_obs_seq(obs_seq, self.input_dim, cfg.seq_len, 1, self.device)
        pad = check_pad_mask(pad_mask, x.shape[0], cfg.seq_len, self.device)
        if pad is not None:
            x = x.masked_fill(pad.unsqueeze(-1), 0.0)
            if cfg.pad == "zeros":
                pad = None
        b = x.shape[0]
        # one draw for the whole batch, laid out [K, B, ...] as one unchunked pass over the
        # K-times repeated batch would draw it: the masks do not depend on chunk_size (nor on
        # update_proportion, whose draw comes after)
        noise = self._mask_noise(b)
        weights = train_weights(b, cfg.update_proportion, self.generator, self.device) if update else None
        if update:
            n_train = weights.sum().clamp_min(1.0)  # the loss is the mean over the trained samples
            self.optimizer.zero_grad(set_to_none=True)
        # a fraction < 1 scores every sequence without a graph, then learns from the kept ones
        # only (forward + backward on the fraction: ~1 + 3p passes instead of 3)
        subset = update and cfg.update_proportion < 1.0
        parts = []
        for sl in chunks(b, chunk_size):
            with torch.set_grad_enabled(update and not subset):
                per_seq = self._chunk_errors(x, pad, noise, sl)
                if update and not subset:  # the mean over the kept samples of the whole batch
                    (per_seq * weights[sl]).sum().div(n_train).backward()
            parts.append(per_seq.detach())
        if subset:
            kept = weights.nonzero().squeeze(1)
            for sl in chunks(kept.numel(), chunk_size):
                self._chunk_errors(x, pad, noise, kept[sl]).sum().div(n_train).backward()
        if update and (not subset or weights.any()):  # no sequence kept: no update at all
            self.optimizer.step()
            self.n_updates += 1
        raw = torch.cat(parts).float()
        self.last_raw = raw
        out = self.norm.step(raw, update)
        self.last_metrics = {
            "explore/reward_raw_mean": float(raw.mean()),
            "explore/reward_mean": float(out.mean()),
        }
        return out

    def _chunk_errors(self, x: torch.Tensor, pad: torch.Tensor | None, noise: torch.Tensor | None,
                      rows: slice | torch.Tensor) -> torch.Tensor:
        """float[n]: the error of sequences ``x[rows]`` (averaged over the K maskings), with
        their rows of the batch's mask noise: the same masks whichever rows go together."""
        cfg = self.config
        xc, pc = x[rows], None if pad is None else pad[rows]
        n = xc.shape[0]
        nc = None if noise is None else noise[:, rows].reshape(cfg.n_masks * n, -1)
        if cfg.n_masks > 1:
            xc = xc.repeat(cfg.n_masks, 1, 1)
            pc = None if pc is None else pc.repeat(cfg.n_masks, 1)
        return self._errors(xc, pc, nc).view(cfg.n_masks, n).mean(0)

    def _mask_noise(self, b: int) -> torch.Tensor | None:
        """The uniform noise that places the masks of a batch of ``b`` sequences,
        float[K, b, T] (time masks) or float[K, b, T * D] (feature masks); None for fixed masks."""
        cfg = self.config
        if cfg.mask == "fixed":
            return None
        width = cfg.seq_len * (self.input_dim if cfg.mask == "feature" else 1)
        noise = torch.rand(cfg.n_masks * b, width, generator=self.generator, device=self.device)
        return noise.view(cfg.n_masks, b, width)

    def _errors(self, x: torch.Tensor, pad: torch.Tensor | None,
                noise: torch.Tensor | None = None) -> torch.Tensor:
        cfg = self.config
        bk, t, d = x.shape
        if cfg.mask == "feature":
            hidden = plan_feature_mask(bk, t, d, cfg.mask_ratio, pad, self.generator, self.device, noise)
            pred = self.model(x, hidden, None if pad is None else ~pad)
            return masked_sequence_error(pred, x, hidden, cfg.norm_loss)
        plan = plan_time_mask(bk, t, self.n_visible, cfg.mask, pad, self.generator, self.device, noise)
        pred = self.model(x, plan)
        return masked_sequence_error(pred, x, plan.target, cfg.norm_loss)

    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser, reward normaliser, update counter, mask RNG and the config."""
        return {
            "kind": self.name,
            "config": asdict(self.config),
            "input_dim": self.input_dim,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            **self.norm.state_dict(),
            "n_updates": self.n_updates,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore everything ``state_dict`` saved; a mismatched config is a clear error."""
        from mimex.explore.registry import check_state_matches

        check_state_matches(self, sd, ("seq_len", "mask", "n_masks", "use_cls", "pad",
                                       "norm_loss") + reward_norm_keys(self.config))
        saved = sd["config"]
        if self.config.mask == "feature":
            now, then = self.config.mask_ratio, saved.get("mask_ratio")
        else:
            now = self.n_visible
            try:
                then = time_mask_counts(saved.get("seq_len"), saved.get("mask_ratio"),
                                        saved.get("n_masked"), saved.get("n_visible"))[0]
            except (ConfigError, TypeError):
                then = None
        if now != then:
            what = "mask_ratio" if self.config.mask == "feature" else "visible steps per sequence"
            raise CheckpointError(
                f"explorer state dict does not match the config ({what}: saved {then!r} vs now "
                f"{now!r}); the model was trained for another masking: use the saved settings "
                "or a fresh explorer")
        saved_arch = dict(MODEL_SIZES.get(saved.get("size"), {}))
        saved_arch.update({k: saved[k] for k in saved_arch if saved.get(k) is not None})
        if saved_arch != self.config.architecture():
            raise CheckpointError(
                f"explorer state dict was saved with architecture {saved_arch}, this explorer "
                f"has {self.config.architecture()}"
            )
        self.model.load_state_dict(sd["model"])
        load_optimizer_state(self.optimizer, sd["optimizer"])  # copies: never share Adam moments
        set_lr(self.optimizer, self.config.lr)  # the configured learning rate wins
        self.norm.load_state_dict(sd)
        self.n_updates = int(sd["n_updates"])
        self.generator.set_state(sd["generator"].cpu())

    def normalize_rollout(self, rewards: torch.Tensor, update: bool = False) -> torch.Tensor:
        """With ``reward_norm="return"``: float[S, N] rewards (steps x envs, from ``reward``)
        divided by the running std of their discounted return; otherwise unchanged."""
        return self.norm.rollout(rewards, update)
