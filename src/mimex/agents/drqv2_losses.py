"""Pure functions of DrQ-v2: n-step returns, the clipped double-Q target, the losses.

Shapes: ``B`` sampled transitions, ``n`` the n-step horizon.
"""

from __future__ import annotations

import torch
from torch import nn


def nstep_return(rewards: torch.Tensor, terminal: torch.Tensor, ended: torch.Tensor,
                 gamma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Discounted sum of up to ``n`` rewards, cut at the episode's end.

    Args:
        rewards: float[B, n], r_t .. r_{t+n-1} (entries after the episode's end are ignored).
        terminal: bool[B, n], step t+k ended the episode at a true terminal.
        ended: bool[B, n], step t+k ended the episode (terminal or time-limit truncation).
        gamma: discount.

    Returns:
        ``(ret, discount, steps)``: ret float[B] = sum_{k<m} gamma^k r_{t+k}; discount float[B]
        = gamma^m, or 0 if the episode terminated within those m steps (a truncation is
        bootstrapped); steps int64[B] = m, the steps taken (n, or fewer at an episode end).
        The target is then ``ret + discount * Q(s_{t+m}, .)``.
    """
    b, n = rewards.shape
    before_end = torch.cumsum(ended.long(), dim=1) - ended.long()  # ends strictly before k
    alive = before_end == 0  # step t+k belongs to the transition's episode
    powers = gamma ** torch.arange(n, dtype=rewards.dtype, device=rewards.device)
    ret = (rewards * alive * powers).sum(1)
    steps = alive.sum(1)
    term = (terminal & alive).any(1)
    discount = torch.where(term, torch.zeros_like(ret), gamma ** steps.to(rewards.dtype))
    return ret, discount, steps


def critic_target(reward: torch.Tensor, discount: torch.Tensor, next_q1: torch.Tensor,
                  next_q2: torch.Tensor) -> torch.Tensor:
    """``reward + discount * min(Q1', Q2')`` (all float[B]; ``reward`` already holds any
    exploration bonus). Clipped double Q (Fujimoto et al., 2018)."""
    return reward + discount * torch.min(next_q1, next_q2)


def critic_loss(q1: torch.Tensor, q2: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum of both critics' mean squared errors against the (detached) target, float[]."""
    target = target.detach()
    return (q1 - target).pow(2).mean() + (q2 - target).pow(2).mean()


def actor_loss(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """DDPG actor loss: ``-mean(min(Q1, Q2))`` at the actor's (noisy) action, float[]."""
    return -torch.min(q1, q2).mean()


@torch.no_grad()
def soft_update(net: nn.Module, target: nn.Module, tau: float) -> None:
    """``target <- tau * net + (1 - tau) * target``, parameter by parameter."""
    for p, tp in zip(net.parameters(), target.parameters(), strict=True):
        tp.lerp_(p, tau)
