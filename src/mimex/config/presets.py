"""Named presets: dotted overrides applied on top of the defaults (``--preset NAME``).

A preset is plain data, so ``mimex train --preset pixmc --help`` style introspection and
``config.json`` always show the resolved values; nothing is hidden in code.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # Any run finishes in seconds: tiny rollouts and a tiny MIMEx.
    "debug": {
        "env.num_envs": 2,
        "ppo.num_steps": 16,
        "ppo.epochs": 2,
        "ppo.minibatches": 2,
        "ppo.feature_dim": 32,
        "steps": 256,
        "explore.batch_size": 16,
        "explore.mimex.embed_dim": 32,
        "explore.mimex.depth": 1,
        "explore.mimex.num_heads": 2,
        "explore.mimex.decoder_embed_dim": 16,
        "explore.mimex.decoder_num_heads": 2,
        "checkpoint_minutes": 60.0,
    },
    # `make run`: PPO+MIMEx on the built-in sparse corridor, a few minutes on a laptop CPU.
    # beta: the normalised bonus (divided by its running std) measured 0.4-1.3 per step, so
    # beta = 0.01 keeps a whole episode's bonus (<= 100 steps) at about the goal's reward of 1
    # or below; with beta = 0.03 (measured: 5 seeds) the agent finds the goal but then prefers
    # wandering to ending the episode there.
    "demo": {
        "env.name": "toy/Corridor",
        "env.num_envs": 16,
        "ppo.num_steps": 64,
        "ppo.epochs": 4,
        "ppo.minibatches": 4,
        "steps": 150_000,
        "explore.name": "mimex",
        "explore.beta": 0.01,
        "explore.mimex.reward_norm": True,
    },
    # The paper's PixMC PPO settings (official configs, notes 5.3), on our MuJoCo rebuild:
    # 32-step rollouts, 10 epochs x 4 minibatches, clip 0.1, value coef 2, no entropy bonus,
    # grad clip 1, cosine lr, SELU [256,128,64] heads, frozen image features (MVP-style).
    "pixmc": {
        "env.name": "pixmc/FrankaReach",
        "env.reward": "sparse",
        "env.obs": "pixels+state",
        "env.num_envs": 16,
        "ppo.num_steps": 32,
        "ppo.epochs": 10,
        "ppo.minibatches": 4,
        "ppo.lr": 1e-3,
        "ppo.lr_schedule": "cos",
        "ppo.clip": 0.1,
        "ppo.value_coef": 2.0,
        "ppo.ent_coef": 0.0,
        "ppo.max_grad_norm": 1.0,
        "ppo.gamma": 0.99,
        "ppo.gae_lambda": 0.95,
        "ppo.hidden": (256, 128, 64),
        "ppo.activation": "selu",
        "ppo.encoder": "frozen",
        "ppo.init_std": 1.0,
        "explore.beta": 0.05,
        "explore.batch_size": 512,
    },
    # Atari with a trainable Nature CNN (CleanRL-style PPO settings).
    "atari": {
        "env.name": "atari/PrivateEye",
        "env.obs": "pixels",
        "env.num_envs": 8,
        "ppo.num_steps": 128,
        "ppo.epochs": 4,
        "ppo.minibatches": 4,
        "ppo.lr": 2.5e-4,
        "ppo.lr_schedule": "linear",
        "ppo.clip": 0.1,
        "ppo.ent_coef": 0.01,
        "ppo.encoder": "cnn",
        "ppo.feature_dim": 512,
        "ppo.hidden": (),
        "explore.beta": 0.05,
    },
}
