"""Pure functions of PPO: returns, advantages and the clipped losses.

Shapes: ``S`` rollout steps, ``N`` environments.
"""

from __future__ import annotations

import torch


def bootstrap_truncated(rewards: torch.Tensor, truncated: torch.Tensor, terminated: torch.Tensor,
                        final_values: torch.Tensor, gamma: float) -> torch.Tensor:
    """Add ``gamma * V(o_final)`` to the reward of steps cut by a time limit.

    Args:
        rewards: float[S, N]; truncated, terminated: bool[S, N];
        final_values: float[S, N], V of the true next observation (used where truncated).

    Returns:
        float[S, N]. A true terminal (terminated) is never bootstrapped.
    """
    cut = (truncated & ~terminated).to(rewards.dtype)
    return rewards + gamma * final_values * cut


def gae(rewards: torch.Tensor, values: torch.Tensor, last_value: torch.Tensor,
        dones: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al., 2016).

    Args:
        rewards: float[S, N], already bootstrapped at truncations.
        values: float[S, N], V(o_t) for each step.
        last_value: float[N], V of the observation after the last step.
        dones: bool[S, N], the episode ended at step t (no value flows across it).

    Returns:
        (advantages float[S, N], returns float[S, N] = advantages + values).
    """
    steps = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(steps)):
        alive = 1.0 - dones[t].to(rewards.dtype)
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


def ppo_losses(new_logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
               new_values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               clip: float, clip_value: bool, value_loss: str = "half_mse") -> dict[str, torch.Tensor]:
    """Clipped surrogate and value losses for a minibatch (all float[B]).

    ``value_loss``: ``"half_mse"`` = mean 0.5 * squared error (CleanRL, SB3), ``"mse"`` = mean
    squared error (MVP, where the official ``value_loss_coef=2`` multiplies it).

    Returns:
        policy_loss, value_loss (optionally clipped), approx_kl
        (the low-variance ``(r - 1) - log r`` estimator) and clip_fraction.
    """
    log_ratio = new_logp - old_logp
    ratio = log_ratio.exp()
    pg = torch.max(-advantages * ratio, -advantages * ratio.clamp(1 - clip, 1 + clip)).mean()
    v_err = (new_values - returns).pow(2)
    if clip_value:
        v_clipped = old_values + (new_values - old_values).clamp(-clip, clip)
        v_err = torch.max(v_err, (v_clipped - returns).pow(2))
    with torch.no_grad():
        approx_kl = ((ratio - 1) - log_ratio).mean()
        clip_frac = ((ratio - 1).abs() > clip).float().mean()
    scale = {"half_mse": 0.5, "mse": 1.0}[value_loss]
    return {"policy_loss": pg, "value_loss": scale * v_err.mean(), "approx_kl": approx_kl,
            "clip_fraction": clip_frac}
