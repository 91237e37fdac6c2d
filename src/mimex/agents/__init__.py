"""RL backbones that consume exploration bonuses: ``make_agent(cfg, envs, device)`` picks one
by ``cfg.agent``. Every agent offers the surface the runner uses: ``start(envs)``,
``iterate(envs) -> metrics``, ``state_dict()``/``load_state_dict()``, ``act_deterministic(obs)``,
``net`` (its trained modules), and the counters ``global_step``, ``iteration``, ``batch``
(environment steps per iteration)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def make_agent(cfg: Any, envs: Any, device: Any, eval_envs: Callable[[], Any] | None = None) -> Any:
    """The agent ``cfg.agent`` names (``ppo`` or ``drqv2``). ``eval_envs``: a factory of
    evaluation environments, for agents that evaluate during training (drqv2)."""
    if cfg.agent == "drqv2":
        from mimex.agents.drqv2 import DrQv2Agent

        return DrQv2Agent(cfg, envs, device, eval_envs)
    from mimex.agents.ppo import PPOAgent

    return PPOAgent(cfg, envs, device)
