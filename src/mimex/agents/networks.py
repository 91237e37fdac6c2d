"""The PPO actor-critic: shared input encoders, then separate actor and critic MLPs.

Inputs are a dict (see :class:`~mimex.agents.observations.ObsPipeline`):

* ``vec`` float[B, S]: a state vector (identity, or ``Linear(S, 128)`` next to image features);
* ``image`` uint8[B, C, H, W]: a trainable Nature CNN;
* ``feat`` float[B, F]: frozen image features, through ``LayerNorm`` and ``Linear(F, 128)``
  (the MVP actor-critic of the paper).

Continuous actions: a diagonal Gaussian with a state-independent log-std (the std is
``exp(log_std)``; with ``ppo.std_squared`` it is ``exp(log_std)^2`` as in the official code,
notes 2.4), or a scheduled std (squared too with ``std_squared``). Discrete actions: a
categorical distribution.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Categorical, Normal

from mimex.config.schema import PPOConfig
from mimex.nets.encoders import NatureCNN, layer_init, mlp

PROJ_DIM = 128


class ActorCritic(nn.Module):
    """Policy and value function for one observation layout and action space."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], action_dim: int, discrete: bool,
                 cfg: PPOConfig) -> None:
        super().__init__()
        self.discrete = discrete
        enc: dict[str, nn.Module] = {}
        width = 0
        if "image" in shapes:
            c, h, w = shapes["image"]
            enc["image"] = NatureCNN(c, (h, w), cfg.feature_dim)
            width += cfg.feature_dim
        if "feat" in shapes:
            enc["feat"] = nn.Sequential(nn.LayerNorm(shapes["feat"][0]),
                                        layer_init(nn.Linear(shapes["feat"][0], PROJ_DIM)))
            width += PROJ_DIM
        if "vec" in shapes:
            s = int(math.prod(shapes["vec"]))
            if len(shapes) > 1:
                enc["vec"] = nn.Sequential(nn.Flatten(), layer_init(nn.Linear(s, PROJ_DIM)))
                width += PROJ_DIM
            else:
                enc["vec"] = nn.Flatten()
                width += s
        self.encoders = nn.ModuleDict(enc)
        self.actor = mlp(width, cfg.hidden, action_dim, cfg.activation, out_gain=0.01)
        self.critic = mlp(width, cfg.hidden, 1, cfg.activation, out_gain=1.0)
        self.std_power = 2 if cfg.std_squared else 1
        self.log_std = None if discrete else nn.Parameter(
            torch.full((action_dim,), math.log(cfg.init_std) / self.std_power)
        )

    def features(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([self.encoders[k](inputs[k]) for k in self.encoders], dim=-1)

    def value(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """float[B] state values."""
        return self.critic(self.features(inputs)).squeeze(-1)

    def distribution(self, h: torch.Tensor, std: float | torch.Tensor | None = None):
        """The action distribution; ``std`` (a float or 0-d tensor) replaces the learned std."""
        out = self.actor(h)
        if self.discrete:
            return Categorical(logits=out)
        return Normal(out, self.action_std(std, out.dtype).expand_as(out))

    def action_std(self, std: float | torch.Tensor | None = None,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The Gaussian's std, float[A] (learned) or float[] (a given ``std``), after the
        parametrisation's power (``exp(log_std)`` or, with ``std_squared``, its square). The
        plain parametrisation adds no operation to the graph (compiled runs round as before)."""
        if std is None:
            return self.log_std.exp() if self.std_power == 1 else (2 * self.log_std).exp()
        given = torch.as_tensor(std, dtype=dtype, device=self.log_std.device)
        return given if self.std_power == 1 else given.square()

    def act(self, inputs: dict[str, torch.Tensor], std: float | None = None,
            deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample actions. Returns (action [B, A] or [B], log-prob [B], value [B])."""
        h = self.features(inputs)
        dist = self.distribution(h, std)
        if deterministic:
            action = dist.probs.argmax(-1) if self.discrete else dist.mean
        else:
            action = dist.sample()
        return action, self.log_prob(dist, action), self.critic(h).squeeze(-1)

    def evaluate(self, inputs: dict[str, torch.Tensor], action: torch.Tensor,
                 std: float | torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log-prob [B], entropy [B], value [B]) of given actions."""
        h = self.features(inputs)
        dist = self.distribution(h, std)
        ent = dist.entropy() if self.discrete else dist.entropy().sum(-1)
        return self.log_prob(dist, action), ent, self.critic(h).squeeze(-1)

    def log_prob(self, dist, action: torch.Tensor) -> torch.Tensor:
        lp = dist.log_prob(action)
        return lp if self.discrete else lp.sum(-1)
