"""A small pre-LN transformer (ViT-style block) with fused attention.

Used by the MIMEx sequence autoencoder. Attention goes through
``torch.nn.functional.scaled_dot_product_attention`` so every backend's fused kernel applies.
An optional key mask lets padded steps be excluded from the context.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_table(length: int, dim: int) -> torch.Tensor:
    """Fixed sin/cos position table (Vaswani et al.).

    Returns:
        float32[length, dim]: ``pe[p, 2i] = sin(p / 10000^(2i/dim))``, ``pe[p, 2i+1] = cos(...)``.
    """
    pos = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return pe.float()


# On CPU, sequences of at most this many tokens (every MIMEx configuration: T <= 10 plus cls)
# use explicit bmm + softmax attention: the fused SDPA kernel is slower for a handful of tokens
# (measured with benchmarks/bench_explorers.py). Same maths; results agree to float rounding.
EXPLICIT_MAX_TOKENS = 16


class SelfAttention(nn.Module):
    """Multi-head self-attention with a fused kernel and an optional key mask."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"attention width {dim} must be divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attend over tokens.

        Args:
            x: float[B, L, dim].
            key_mask: bool[B, L] or None; True marks a token that may be attended to.
        """
        b, n, d = x.shape
        h = self.num_heads
        qkv = self.qkv(x).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        if x.device.type == "cpu" and n <= EXPLICIT_MAX_TOKENS:
            scores = (qkv[0] @ qkv[1].transpose(-2, -1)) * (d // h) ** -0.5
            if key_mask is not None:
                scores = scores.masked_fill(~key_mask[:, None, None, :], float("-inf"))
            out = scores.softmax(dim=-1) @ qkv[2]
        else:
            attn_mask = None if key_mask is None else key_mask[:, None, None, :]
            out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attn_mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-LN transformer block: ``x + Attn(LN x)``, then ``x + MLP(LN x)`` (GELU, ratio 4)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SelfAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), key_mask)
        return x + self.mlp(self.norm2(x))


class Stack(nn.Module):
    """``depth`` blocks followed by a final LayerNorm."""

    def __init__(self, dim: int, depth: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x, key_mask)
        return self.norm(x)


def init_mae_weights(module: nn.Module) -> None:
    """MAE initialisation: xavier-uniform Linear weights, zero biases, unit LayerNorms."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
