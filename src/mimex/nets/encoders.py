"""Image encoders and MLPs for the policy and for exploration features."""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "selu": nn.SELU, "gelu": nn.GELU}


def layer_init(layer: nn.Linear | nn.Conv2d, gain: float = math.sqrt(2)) -> nn.Module:
    """Orthogonal weights with ``gain``, zero bias (the PPO convention)."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, activation: str, out_gain: float) -> nn.Sequential:
    """An MLP with orthogonal init; the output layer uses ``out_gain`` (0.01 for a policy head)."""
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [layer_init(nn.Linear(in_dim, h)), act()]
        in_dim = h
    layers.append(layer_init(nn.Linear(in_dim, out_dim), out_gain))
    return nn.Sequential(*layers)


NATURE_MIN_SIZE = 36  # the smallest image the 8/4/3 Nature trunk accepts


class NatureCNN(nn.Module):
    """The DQN-Nature convolutional trunk: uint8[B, C, H, W] -> float[B, out_dim].

    Pixels are scaled to [0, 1] inside. Images smaller than 36x36 (tiny test tasks) get a
    trunk of three 3x3 stride-2 convolutions instead.
    """

    def __init__(self, in_channels: int, image_hw: tuple[int, int], out_dim: int = 512) -> None:
        super().__init__()
        if min(image_hw) >= NATURE_MIN_SIZE:
            shapes = [(in_channels, 32, 8, 4), (32, 64, 4, 2), (64, 64, 3, 1)]
        else:
            shapes = [(in_channels, 32, 3, 2), (32, 64, 3, 2), (64, 64, 3, 1)]
        layers: list[nn.Module] = []
        for c_in, c_out, k, stride in shapes:
            layers += [layer_init(nn.Conv2d(c_in, c_out, k, stride=stride)), nn.ReLU()]
        self.conv = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            n_flat = self.conv(torch.zeros(1, in_channels, *image_hw)).shape[1]
        self.head = nn.Sequential(layer_init(nn.Linear(n_flat, out_dim)), nn.ReLU())
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x.float() / 255.0))


class FrozenEncoder(nn.Module):
    """A frozen image encoder: features are computed once per step and never trained.

    Without pretrained weights it is a randomly initialised Nature CNN (random features,
    as in Burda et al.'s large-scale curiosity study); ``load_pretrained`` swaps in weights
    saved by ``mimex pretrain-encoder``. Output float[B, out_dim].
    """

    def __init__(self, in_channels: int, image_hw: tuple[int, int], out_dim: int = 256,
                 seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.net = NatureCNN(in_channels, image_hw, out_dim)
        self.out_dim = out_dim
        self.requires_grad_(False)
        self.eval()

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
