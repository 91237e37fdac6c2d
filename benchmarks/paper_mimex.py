"""A plain re-implementation of the paper's MIMEx model, as the official code runs it.

Written from the description of the official ``BERT`` class (notes section 1): pre-LN
blocks whose attention is an explicit ``softmax(q k^T / sqrt(d)) v`` (as timm's Block did),
MAE random masking by argsort of uniform noise keeping ``int(T * (1 - ratio))`` steps, a cls
token, a decoder with mask tokens, and the per-sample masked MSE. ``n_masks=K`` runs K
separate forward passes (the PixMC code's loop), averages the losses, and takes one Adam
step. It is the baseline that ``bench_explorers.py`` measures our MIMEx against.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sincos(length: int, dim: int) -> torch.Tensor:
    pos = torch.arange(length).float().unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe.unsqueeze(0)


class PlainAttention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class PlainBlock(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn = PlainAttention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PaperMIMEx(nn.Module):
    """The official model's forward: returns the per-sample masked loss, float[B]."""

    def __init__(self, seq_len: int, dim: int, embed: int = 128, depth: int = 4, heads: int = 4,
                 dec_embed: int = 64, dec_depth: int = 1, dec_heads: int = 2, mask_ratio: float = 0.7):
        super().__init__()
        self.mask_ratio = mask_ratio
        self.encoder_embed = nn.Linear(dim, embed)
        self.register_buffer("pe", sincos(seq_len, embed))
        self.cls_token = nn.Parameter(torch.randn(1, 1, embed) * 0.02)
        self.blocks = nn.ModuleList(PlainBlock(embed, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(embed, eps=1e-6)
        self.decoder_embed = nn.Linear(embed, dec_embed)
        self.mask_token = nn.Parameter(torch.randn(1, 1, dec_embed) * 0.02)
        self.register_buffer("dec_pe", sincos(seq_len, dec_embed))
        self.decoder_blocks = nn.ModuleList(PlainBlock(dec_embed, dec_heads) for _ in range(dec_depth))
        self.decoder_norm = nn.LayerNorm(dec_embed, eps=1e-6)
        self.decoder_pred = nn.Linear(dec_embed, dim)
        for m in self.modules():  # the official init: xavier-uniform Linear weights, zero biases
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        h = self.encoder_embed(x) + self.pe
        keep = int(n * (1 - self.mask_ratio))
        noise = torch.rand(b, n, device=x.device)
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        h = torch.gather(h, 1, ids_shuffle[:, :keep].unsqueeze(-1).expand(-1, -1, h.shape[-1]))
        mask = torch.ones(b, n, device=x.device)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        h = torch.cat([self.cls_token.expand(b, -1, -1), h], dim=1)
        for blk in self.blocks:
            h = blk(h)
        h = self.decoder_embed(self.norm(h))
        tokens = torch.cat([h[:, 1:], self.mask_token.expand(b, n - keep, -1)], dim=1)
        tokens = torch.gather(tokens, 1, ids_restore.unsqueeze(-1).expand(-1, -1, h.shape[-1]))
        h = torch.cat([h[:, :1], tokens + self.dec_pe], dim=1)
        for blk in self.decoder_blocks:
            h = blk(h)
        pred = self.decoder_pred(self.decoder_norm(h))[:, 1:]
        err = (pred - x).pow(2).mean(-1)
        return (err * mask).sum(1) / mask.sum(1)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class PaperExplorer:
    """The official reward/update step: K forward passes, averaged, one Adam step."""

    def __init__(self, seq_len: int, dim: int, n_masks: int = 1, lr: float = 1e-4) -> None:
        self.model = PaperMIMEx(seq_len, dim)
        self.n_masks = n_masks
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)

    def reward(self, x: torch.Tensor, update: bool = False) -> torch.Tensor:
        with torch.set_grad_enabled(update):
            loss = sum(self.model(x) for _ in range(self.n_masks)) / self.n_masks
            if update:
                self.optimizer.zero_grad()
                loss.mean().backward()
                self.optimizer.step()
        return loss.detach()
