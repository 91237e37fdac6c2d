"""The MIMEx networks: masked autoencoders over short sequences of embeddings.

``TimeMAE`` masks whole time steps (the paper's method): a linear input projection, fixed
sinusoidal time embeddings, an encoder over the visible steps (plus an optional cls token),
learned mask tokens, a decoder over all steps, and a linear output back to the input width.
``FeatureMAE`` masks individual elements over time x feature (paper Fig. 5 "(a)"): masked
elements are zeroed and a single transformer stack reconstructs them.

Both return predictions ``[B, T, D]``; scoring lives in :func:`masked_sequence_error`.
"""

from __future__ import annotations

import torch
from torch import nn

from mimex.explore.masking import TimeMaskPlan
from mimex.nets.transformer import Stack, init_mae_weights, sinusoidal_table


def masked_sequence_error(
    pred: torch.Tensor, target: torch.Tensor, score: torch.Tensor, norm_loss: bool = False
) -> torch.Tensor:
    """Per-sequence mean squared error over scored positions.

    Args:
        pred: float[B, T, D] reconstructions.
        target: float[B, T, D] inputs to reconstruct.
        score: bool[B, T] (whole steps scored, error averaged over D then over scored steps)
            or bool[B, T, D] (elements scored, error averaged over scored elements).
        norm_loss: standardise each target step over its features first (MAE's norm_pix_loss).

    Returns:
        float[B]: the error of each sequence; every row must score at least one position.
    """
    if norm_loss:
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1e-6).sqrt()
    sq = (pred - target).pow(2)
    w = score.to(sq.dtype)
    if score.dim() == 2:
        return (sq.mean(dim=-1) * w).sum(1) / w.sum(1)
    return (sq * w).flatten(1).sum(1) / w.flatten(1).sum(1)


class TimeMAE(nn.Module):
    """Masked autoencoder over time steps (the official ``BERT`` class, rebuilt)."""

    def __init__(
        self,
        input_dim: int,
        seq_len: int,
        embed_dim: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        decoder_embed_dim: int = 64,
        decoder_depth: int = 1,
        decoder_num_heads: int = 2,
        mlp_ratio: float = 4.0,
        use_cls: bool = True,
    ) -> None:
        super().__init__()
        self.use_cls = use_cls
        self.encoder_embed = nn.Linear(input_dim, embed_dim)
        self.register_buffer("enc_pos", sinusoidal_table(seq_len, embed_dim), persistent=False)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if use_cls else None
        self.encoder = Stack(embed_dim, depth, num_heads, mlp_ratio)
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.register_buffer(
            "dec_pos", sinusoidal_table(seq_len, decoder_embed_dim), persistent=False
        )
        self.decoder = Stack(decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio)
        self.decoder_pred = nn.Linear(decoder_embed_dim, input_dim)
        init_mae_weights(self)
        nn.init.normal_(self.mask_token, std=0.02)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=0.02)

    def forward(self, x: torch.Tensor, plan: TimeMaskPlan) -> torch.Tensor:
        """Reconstruct every step of ``x`` (float[B, T, D]) from the plan's visible steps."""
        b, t, _ = x.shape
        tokens = self.encoder_embed(x) + self.enc_pos
        e = tokens.shape[-1]
        kept = torch.gather(tokens, 1, plan.ids_keep.unsqueeze(-1).expand(-1, -1, e))
        enc_mask = None
        if plan.keep_active is not None:
            enc_mask = plan.keep_active
            if self.cls_token is None:  # a row with nothing to attend to: its output is unused
                enc_mask = enc_mask | ~enc_mask.any(1, keepdim=True)
        if self.cls_token is not None:
            kept = torch.cat([self.cls_token.expand(b, -1, -1), kept], dim=1)
            if enc_mask is not None:
                enc_mask = torch.cat([enc_mask.new_ones(b, 1), enc_mask], dim=1)
        latent = self.decoder_embed(self.encoder(kept, enc_mask))
        if self.cls_token is not None:
            cls_out, latent = latent[:, :1], latent[:, 1:]
        if plan.keep_active is not None:
            latent = torch.where(plan.keep_active.unsqueeze(-1), latent, self.mask_token)
        n_mask = t - latent.shape[1]
        full = torch.cat([latent, self.mask_token.expand(b, n_mask, -1)], dim=1)
        d = full.shape[-1]
        full = torch.gather(full, 1, plan.ids_restore.unsqueeze(-1).expand(-1, -1, d))
        full = full + self.dec_pos
        dec_mask = plan.valid
        if self.cls_token is not None:
            full = torch.cat([cls_out, full], dim=1)
            if dec_mask is not None:
                dec_mask = torch.cat([dec_mask.new_ones(b, 1), dec_mask], dim=1)
        out = self.decoder_pred(self.decoder(full, dec_mask))
        return out[:, 1:] if self.cls_token is not None else out


class FeatureMAE(nn.Module):
    """Element-masking autoencoder (the official ``MAE`` class, rebuilt): one stack, no encoder."""

    def __init__(
        self,
        input_dim: int,
        seq_len: int,
        decoder_embed_dim: int = 64,
        decoder_depth: int = 1,
        decoder_num_heads: int = 2,
        mlp_ratio: float = 4.0,
        use_cls: bool = True,
    ) -> None:
        super().__init__()
        self.embed = nn.Linear(input_dim, decoder_embed_dim)
        self.register_buffer("pos", sinusoidal_table(seq_len, decoder_embed_dim), persistent=False)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim)) if use_cls else None
        self.stack = Stack(decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio)
        self.pred = nn.Linear(decoder_embed_dim, input_dim)
        init_mae_weights(self)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=0.02)

    def forward(
        self, x: torch.Tensor, hidden: torch.Tensor, valid: torch.Tensor | None
    ) -> torch.Tensor:
        """Reconstruct ``x`` (float[B, T, D]) with ``hidden`` (bool[B, T, D]) elements zeroed."""
        b = x.shape[0]
        tokens = self.embed(x.masked_fill(hidden, 0.0)) + self.pos
        mask = valid
        if self.cls_token is not None:
            tokens = torch.cat([self.cls_token.expand(b, -1, -1), tokens], dim=1)
            if mask is not None:
                mask = torch.cat([mask.new_ones(b, 1), mask], dim=1)
        out = self.pred(self.stack(tokens, mask))
        return out[:, 1:] if self.cls_token is not None else out
