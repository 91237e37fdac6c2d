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
        "explore.mimex.reward_norm": "step",
    },
    # Atari with a trainable Nature CNN (CleanRL-style PPO settings, rewards clipped to [-1, 1]
    # for learning). Every explorer's bonus is divided by a running std of its discounted
    # return, as the RND paper did (the paper's Atari agent is unspecified, notes 7), so one
    # beta weighs them alike; beta 0.5 is the RND paper's intrinsic:extrinsic weighting (1:2).
    # Raw bonuses differ by 100x and more between methods here (ICM's forward error on its own
    # features fell to 3e-4 per step in 100k steps, MIMEx's to 0.13: docs/results.md), so one
    # beta on raw bonuses would leave ICM no weight at all. ICM is the MIMEx release's (notes
    # 4.1: a linear phi, the forward loss on detached features): from the frozen image features
    # its inverse model cannot tell the 18 actions apart (loss stays at ln 18 = 2.89), and the
    # 2-layer ReLU phi of the default ICM then collapses to a constant (its std across states
    # fell to 0 within 100 updates on Private Eye, with and without detach_forward), leaving no
    # bonus; the linear phi stays a live projection (std 0.10; docs/results.md).
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
        "ppo.reward_clip": 1.0,
        "explore.beta": 0.5,
        "explore.icm.reward_norm": "return",
        "explore.icm.linear_encoder": True,
        "explore.icm.detach_forward": True,
        "explore.rnd.reward_norm": "return",
        "explore.mimex.reward_norm": "return",
    },
    # PixMC as the official code ran it (notes 2, 4, 5.3), as far as our rebuild allows:
    # 512 envs x 32 steps, 10 epochs x 4 sequential minibatches, advantages standardised over
    # the batch, value loss 2 * MSE, Adam eps 1e-8, observations clipped (by the env) but not
    # normalised, cosine lr, SELU [256,128,64] heads on frozen image features; the explorer
    # sees the 384-d image feature only, trains on the whole rollout with one step per
    # iteration, on sequences ending at o_t with zero padding; ICM and RND as released (raw
    # bonuses); beta 0.05 for every explorer. lr and steps follow env.name (PIXMC_TASKS).
    # Not copied (docs/pixmc.md): time-limit ends as true terminals, the all-zero sequence at
    # terminal steps, the squared policy std.
    "pixmc-paper": {
        "env.name": "pixmc/FrankaReach",
        "env.reward": "sparse",
        "env.obs": "pixels+state",
        "env.num_envs": 512,
        "ppo.num_steps": 32,
        "ppo.epochs": 10,
        "ppo.minibatches": 4,
        "ppo.sampler": "sequential",
        "ppo.norm_adv": "batch",
        "ppo.value_loss": "mse",
        "ppo.value_coef": 2.0,
        "ppo.adam_eps": 1e-8,
        "ppo.norm_obs": False,
        "ppo.lr_schedule": "cos",
        "ppo.clip": 0.1,
        "ppo.ent_coef": 0.0,
        "ppo.max_grad_norm": 1.0,
        "ppo.gamma": 0.99,
        "ppo.gae_lambda": 0.95,
        "ppo.hidden": (256, 128, 64),
        "ppo.activation": "selu",
        "ppo.encoder": "frozen",
        "ppo.feature_dim": 384,
        "ppo.init_std": 1.0,
        "explore.beta": 0.05,
        "explore.input": "auto",  # the image feature with pixels (the paper), the state without
        "explore.batch_size": 0,
        "explore.seq_end": "current",
        "explore.mimex.pad": "zeros",
        "explore.icm.linear_encoder": True,
        "explore.icm.detach_forward": True,
        "explore.rnd.output_dim": 288,
        "explore.rnd.obs_norm": False,
        "explore.rnd.reward_norm": "none",
        "explore.rnd.predictor_extra_layer": False,
    },
}

# `pixmc`: the same scale and PPO, with our corrections (docs/pixmc.md lists each key):
# sequences end at the new observation o_t+1 (the bonus scores the outcome of a_t), padded
# steps are masked rather than zeros, ICM and RND as their papers (normalised RND inputs and
# return-normalised RND bonus, a 2-layer ICM encoder trained by both losses), shuffled PPO
# minibatches with per-minibatch advantage normalisation, proprioception normalised by
# running statistics. Time-limit truncations are bootstrapped in both presets.
PRESETS["pixmc"] = {
    **PRESETS["pixmc-paper"],
    "ppo.sampler": "shuffle",
    "ppo.norm_adv": "minibatch",
    "ppo.norm_obs": True,
    "explore.seq_end": "next",
    "explore.mimex.pad": "mask",
    "explore.icm.linear_encoder": False,
    "explore.icm.detach_forward": False,
    "explore.rnd.output_dim": 288,
    "explore.rnd.obs_norm": True,
    "explore.rnd.reward_norm": "return",
    "explore.rnd.predictor_extra_layer": True,
}

# `dmc`: DrQ-v2 + explorer as the MIMEx paper ran DMC (notes 3 and 6). Steps are agent steps
# (action repeat 2): 1.55 M steps = 3.1 M frames, 2,000 seed steps = 4,000 frames, one update
# every 2 steps, evaluation every 5,000 steps = 10k frames over 10 episodes. The explorer sees
# the current conv encoder's output (39,200-d) on windows of T=5 frame stacks ending at o_t,
# zero-padded before the episode start (`pad2`). beta 0.05 is the MIMEx/ICM value; with
# explore=rnd both DMC presets set the paper's 0.01 (task_settings). quadruped_run keeps 100k transitions
# (task_settings). A 1M-step replay of 84x84 frames takes about 21 GB of memory.
PRESETS["dmc"] = {
    "agent": "drqv2",
    "env.name": "dmc/cartpole_swingup_sparse",
    "env.obs": "pixels",
    "env.num_envs": 1,
    "steps": 1_550_000,
    "drqv2.batch_size": 1024,
    "drqv2.nstep": 1,
    "drqv2.gamma": 0.99,
    "drqv2.lr": 1e-4,
    "drqv2.feature_dim": 50,
    "drqv2.hidden_dim": 1024,
    "drqv2.critic_tau": 0.01,
    "drqv2.update_every": 2,
    "drqv2.seed_steps": 2000,
    "drqv2.expl_steps": 2000,
    "drqv2.std_schedule": "linear(1.0,0.1,500000)",
    "drqv2.std_clip": 0.3,
    "drqv2.augment_pad": 4,
    "drqv2.replay_capacity": 1_000_000,
    "drqv2.eval_every": 5000,
    "drqv2.eval_episodes": 10,
    "drqv2.explore_input": "encoder",
    "explore.name": "mimex",
    "explore.beta": 0.05,
    "explore.seq_end": "current",
    "explore.mimex.seq_len": 5,
    "explore.mimex.mask_ratio": 0.7,
    "explore.mimex.n_masks": 1,
    "explore.mimex.lr": 1e-4,
    "explore.mimex.pad": "zeros",
    "explore.mimex.use_cls": True,
    "explore.icm.lr": 1e-3,
    "explore.icm.linear_encoder": True,
    "explore.icm.detach_forward": True,
    "explore.rnd.lr": 1e-3,
    "explore.rnd.output_dim": 288,
    "explore.rnd.obs_norm": False,
    "explore.rnd.reward_norm": "none",
    "explore.rnd.predictor_extra_layer": False,
    "checkpoint_minutes": 30.0,
}

# `dmc-cpu`: learning visible on 2 CPU cores within an hour (docs/drqv2.md). What it changes
# from `dmc`, and why: 64x64 images and batch 64 (an 84x84 batch-1024 update takes 2.7 s on
# 2 idle cores, 7-12 s on shared ones; 64x64 at batch 64 is ~50x cheaper), bfloat16 autocast (~2x faster convolutions on
# AMX CPUs), n-step 3 (upstream DrQ-v2's default: faster credit assignment with few updates),
# 40k steps = 80k frames with the noise decaying over 50k steps (the paper: 500k), 1,000
# seed and random steps, a 100k-step replay (1.2 GB at 64x64; 1M at 84x84 is 21 GB), the
# explorer on 64-d embeddings stored at insertion by a frozen random CNN (no encoder pass
# over T=5 windows per update), evaluation every 5k steps over 5 episodes.
PRESETS["dmc-cpu"] = {
    **PRESETS["dmc"],
    "env.options": {"image_size": 64},
    "steps": 40_000,
    "drqv2.batch_size": 64,
    "drqv2.nstep": 3,
    "drqv2.update_every": 2,
    "drqv2.bf16": True,
    "drqv2.seed_steps": 1000,
    "drqv2.expl_steps": 1000,
    "drqv2.std_schedule": "linear(1.0,0.1,50000)",
    "drqv2.replay_capacity": 100_000,
    "drqv2.eval_episodes": 5,
    "drqv2.explore_input": "stored",
    "drqv2.stored_dim": 64,
    "checkpoint_minutes": 10.0,
}

# Per-task settings of the official PixMC train configs (notes 5.3): learning rate (dense =
# sparse) and PPO iterations of 16,384 steps (dense, sparse; "sparser" runs the sparse budget).
PIXMC_TASKS: dict[str, tuple[float, int, int]] = {
    "pixmc/FrankaReach": (1e-3, 500, 500),
    "pixmc/KukaReach": (1.5e-3, 500, 1000),
    "pixmc/FrankaCabinet": (1e-3, 1000, 1500),
    "pixmc/KukaCabinet": (5e-4, 1000, 2000),
    "pixmc/FrankaPick": (1e-3, 2000, 4000),
    "pixmc/KukaPick": (5e-4, 2000, 4000),
    "pixmc/FrankaMove": (1.5e-3, 2000, 4000),
    "pixmc/KukaMove": (5e-4, 2000, 4000),
}
PAPER_ITERATION_STEPS = 512 * 32
TASK_FOLLOWING_PRESETS = ("pixmc", "pixmc-paper")


def task_settings(preset: str | None, env_name: str, reward: str | None,
                  explore: str | None = None, steps: int | None = None) -> dict[str, Any]:
    """Keys a preset sets from the task and bonus: for the PixMC presets, ``ppo.lr`` and
    ``steps`` of the official config of ``env_name`` at ``reward`` (the paper's budget:
    iterations x 16,384), and ``ppo.schedule_steps`` = that budget (or the user's ``steps``
    where larger: a schedule never ends before the run); for the DMC presets, the
    official ``k_expl`` of RND (0.01 where MIMEx and ICM use 0.05, notes 6) and quadruped_run's
    100k replay. Empty for other presets and tasks. User-given keys win over these."""
    if preset in ("dmc", "dmc-cpu"):
        out: dict[str, Any] = {"explore.beta": 0.01} if explore == "rnd" else {}
        if preset == "dmc" and env_name == "dmc/quadruped_run":  # the official task config
            out["drqv2.replay_capacity"] = 100_000
        return out
    if preset not in TASK_FOLLOWING_PRESETS or env_name not in PIXMC_TASKS:
        return {}
    lr, dense_iters, sparse_iters = PIXMC_TASKS[env_name]
    budget = (dense_iters if reward == "dense" else sparse_iters) * PAPER_ITERATION_STEPS
    # the lr schedule spans the paper's budget even when --steps is smaller: a shorter run is
    # the paper's run cut short (and extends exactly), not a run with a compressed schedule
    return {"ppo.lr": lr, "steps": budget, "ppo.schedule_steps": max(budget, steps or 0)}
