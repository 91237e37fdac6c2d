"""The run configuration: typed dataclasses, validated at construction.

Every field carries a help string (shown by ``mimex train --help``). A run is fully
described by :class:`RunConfig`; ``config.json`` in the run directory is ``asdict`` of it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from mimex.config.fields import check, opt
from mimex.explore.icm import ICMConfig
from mimex.explore.mimex import MIMExConfig
from mimex.explore.rnd import RNDConfig

AGENTS = ("ppo", "drqv2")
EXPLORERS = ("mimex", "icm", "rnd", "none")
LR_SCHEDULES = ("constant", "linear", "cos")
ENCODERS = ("auto", "mlp", "cnn", "frozen")
SAMPLERS = ("shuffle", "sequential")
ADV_NORMS = ("minibatch", "batch", "off")
VALUE_LOSSES = ("half_mse", "mse")
EXPLORE_INPUTS = ("auto", "features", "state", "features+state")
FEATURE_NORMS = ("standardize", "none")


@dataclass
class EnvConfig:
    """Which task and how many copies."""

    name: str = opt("toy/Corridor", "registered task name (see `mimex check-env --list`)")
    reward: str | None = opt(None, "reward level (pixmc: dense, sparse, sparser); None = the task's default")
    obs: str | None = opt(None, "observation kind: state, pixels or pixels+state; None = the task's default (pixmc: pixels+state; state is privileged: it holds goal and object positions)")
    num_envs: int = opt(8, "environments stepped in parallel")
    options: dict = opt({}, "task keyword options, e.g. {\"length\": 20}")

    def __post_init__(self) -> None:
        check(self.num_envs >= 1, f"env.num_envs must be >= 1, got {self.num_envs}")


@dataclass
class PPOConfig:
    """PPO with GAE, clipped surrogate, and time-limit bootstrapping."""

    num_steps: int = opt(128, "rollout length per environment per iteration")
    epochs: int = opt(4, "optimisation epochs over each rollout")
    minibatches: int = opt(4, "minibatches per epoch; must divide num_envs * num_steps")
    lr: float = opt(3e-4, "Adam learning rate")
    lr_schedule: str = opt("constant", "constant, linear (to 0) or cos (per epoch, as MVP)")
    schedule_steps: int = opt(0, "env steps over which lr_schedule and explore.beta_anneal decay (0: this run's steps). Set to a longer budget, this run is that run's first `steps` steps, and resuming it with a larger --steps continues it exactly")
    gamma: float = opt(0.99, "discount")
    gae_lambda: float = opt(0.95, "GAE lambda")
    clip: float = opt(0.2, "ratio clip range")
    value_coef: float = opt(0.5, "weight of the value loss")
    clip_value_loss: bool = opt(False, "clip the value update like the policy ratio")
    ent_coef: float = opt(0.0, "entropy bonus weight")
    max_grad_norm: float = opt(0.5, "gradient norm clip")
    target_kl: float = opt(0.0, "stop an update's epochs early, before the optimiser step of the first minibatch whose approximate KL to the rollout's policy exceeds 1.5 x target_kl (as SB3, except that the first minibatch always steps); 0 = off (the paper, CleanRL's default). Logged: losses/update_fraction, losses/kl_stop (1 if stopped), losses/kl_at_stop (the KL that stopped it, else 0)")
    reward_clip: float = opt(0.0, "clip the extrinsic reward PPO learns from to [-reward_clip, reward_clip] (Atari: 1, as CleanRL and the RND paper; with integer game scores that is the reward's sign); 0 = off. Logged returns stay unclipped")
    norm_adv: str = opt("minibatch", "standardise advantages per 'minibatch' (CleanRL), over the whole 'batch' once (MVP, the paper's code), or 'off'")
    sampler: str = opt("shuffle", "minibatches: 'shuffle' (random samples each epoch) or 'sequential' (consecutive rollout steps x all envs, the same split every epoch: MVP)")
    value_loss: str = opt("half_mse", "'half_mse' = 0.5 * (V - R)^2 (CleanRL, SB3) or 'mse' = (V - R)^2 (MVP: its value_loss_coef 2 multiplies this)")
    adam_eps: float = opt(1e-5, "Adam epsilon of the policy optimiser (MVP: 1e-8)")
    norm_obs: bool = opt(True, "normalise state observations by a running mean/std, clipped to [-5, 5]")
    hidden: tuple = opt((64, 64), "hidden widths of the actor and critic MLPs")
    activation: str = opt("tanh", "tanh, relu, elu, selu or gelu")
    encoder: str = opt("auto", "pixels: cnn (trainable Nature CNN) or frozen (features computed once per step, MVP-style); auto = cnn for atari, frozen otherwise")
    feature_dim: int = opt(256, "output width of the image encoder")
    feature_norm: str = opt("standardize", "frozen image features: 'standardize' each feature vector over its entries (a fixed map, no learned or running statistics: O(1) features like the paper's ViT) or 'none' (raw random-CNN outputs, std about 0.04)")
    init_std: float = opt(1.0, "initial std of the Gaussian policy (continuous actions)")
    action_std: str = opt("learned", "'learned' (state-independent log-std) or 'linear(start,end,steps)' schedule over env steps")
    std_squared: bool = opt(False, "the official PixMC parametrisation (notes 2.4, 8.10): the policy std is exp(log_std)^2 (a scheduled std is squared too: linear(1.0,0.1,N) decays to 0.01), so Adam moves the log of the std twice as fast; init_std stays the initial std. Off: std = exp(log_std)")
    compile: bool = opt(False, "torch.compile each minibatch's loss (forward, losses, their backward): a 1.08-1.16x faster PPO update on 2 CPU cores, 0.93-1.12x whole loop (docs/benchmarks.md), a few seconds to compile at the start; needs a C++ compiler (CPU) or Triton (CUDA). Float rounding differs from eager, so keep it unchanged within a run")

    def __post_init__(self) -> None:
        check(self.lr_schedule in LR_SCHEDULES, f"ppo.lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        check(self.schedule_steps >= 0, f"ppo.schedule_steps must be >= 0 (0: the run's steps), got {self.schedule_steps}")
        check(self.encoder in ENCODERS, f"ppo.encoder must be one of {ENCODERS}, got {self.encoder!r}")
        from mimex.nets.encoders import ACTIVATIONS

        check(self.activation in ACTIVATIONS,
              f"ppo.activation must be one of {tuple(ACTIVATIONS)}, got {self.activation!r}")
        if isinstance(self.norm_adv, bool):  # config.json of runs made before norm_adv had a scope
            self.norm_adv = "minibatch" if self.norm_adv else "off"
        check(self.norm_adv in ADV_NORMS, f"ppo.norm_adv must be one of {ADV_NORMS}, got {self.norm_adv!r}")
        check(self.sampler in SAMPLERS, f"ppo.sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        check(self.value_loss in VALUE_LOSSES, f"ppo.value_loss must be one of {VALUE_LOSSES}, got {self.value_loss!r}")
        check(self.feature_norm in FEATURE_NORMS, f"ppo.feature_norm must be one of {FEATURE_NORMS}, got {self.feature_norm!r}")
        check(self.adam_eps > 0, f"ppo.adam_eps must be > 0, got {self.adam_eps}")
        check(self.reward_clip >= 0, f"ppo.reward_clip must be >= 0 (0 = off), got {self.reward_clip}")
        check(self.target_kl >= 0, f"ppo.target_kl must be >= 0 (0 = off), got {self.target_kl}")
        check(self.num_steps >= 1 and self.epochs >= 1 and self.minibatches >= 1,
              f"ppo.num_steps, epochs, minibatches must be >= 1, got {self.num_steps}, {self.epochs}, {self.minibatches}")
        check(0 < self.gamma <= 1 and 0 <= self.gae_lambda <= 1,
              f"ppo.gamma must be in (0, 1] and gae_lambda in [0, 1], got {self.gamma}, {self.gae_lambda}")
        check(self.lr > 0 and self.clip > 0 and self.init_std > 0,
              f"ppo.lr, clip, init_std must be > 0, got {self.lr}, {self.clip}, {self.init_std}")
        self.hidden = tuple(int(h) for h in self.hidden)
        from mimex.agents.schedules import parse_schedule

        if self.action_std != "learned":
            parse_schedule(self.action_std, "ppo.action_std")


@dataclass
class ExploreConfig:
    """The exploration bonus: r = r_ext + beta * r_int."""

    name: str = opt("mimex", "mimex, icm, rnd or none (none: only the policy's action noise)")
    beta: float = opt(0.05, "weight of the intrinsic reward")
    beta_anneal: bool = opt(False, "decay beta linearly to 0 over the run")
    input: str = opt("auto", "what the explorer sees per step: 'features' (the frozen image features), 'state' (the state vector, normalised if ppo.norm_obs), 'features+state' (both); 'auto' = features with pixels (the paper), state without")
    batch_size: int = opt(512, "explorer minibatch size when training on a rollout; 0 = the whole rollout as one batch with one optimiser step per epoch (the official code)")
    chunk_size: int = opt(4096, "with batch_size 0: sequences per forward/backward pass, gradients accumulated over the chunks before the one step (bounds memory; the result does not depend on it beyond float rounding)")
    epochs: int = opt(1, "passes of explorer training over each rollout")
    seq_end: str = opt("next", "sequence of transition t ends at o_t+1 ('next', rewards the outcome of a_t) or at o_t ('current', the paper's convention)")
    mimex: MIMExConfig = field(default_factory=MIMExConfig, metadata={"help": "MIMEx options"})
    icm: ICMConfig = field(default_factory=ICMConfig, metadata={"help": "ICM options"})
    rnd: RNDConfig = field(default_factory=RNDConfig, metadata={"help": "RND options"})

    def __post_init__(self) -> None:
        check(self.name in EXPLORERS, f"explore.name must be one of {EXPLORERS}, got {self.name!r}")
        check(self.beta >= 0, f"explore.beta must be >= 0, got {self.beta}")
        check(self.batch_size >= 0 and self.epochs >= 1 and self.chunk_size >= 1,
              f"explore.batch_size must be >= 0 (0 = whole rollout), epochs and chunk_size >= 1, "
              f"got {self.batch_size}, {self.epochs}, {self.chunk_size}")
        check(self.input in EXPLORE_INPUTS, f"explore.input must be one of {EXPLORE_INPUTS}, got {self.input!r}")
        check(self.seq_end in ("next", "current"), f"explore.seq_end must be 'next' or 'current', got {self.seq_end!r}")

    @property
    def seq_len(self) -> int:
        """Steps per sequence the explorer needs."""
        return {"mimex": self.mimex.seq_len, "icm": 2}.get(self.name, 1)


DRQ_EXPLORE_INPUTS = ("auto", "encoder", "actor_feat", "stored")


@dataclass
class DrQv2Config:
    """DrQ-v2 (Yarats et al., 2021): DDPG from pixels with random shifts, n-step returns and
    clipped double Q. Steps are environment (agent) steps: with dmc's action_repeat 2 a step
    is 2 frames."""

    batch_size: int = opt(256, "transitions per update (the MIMEx paper: 1024)")
    nstep: int = opt(3, "n-step returns (the MIMEx paper: 1)")
    gamma: float = opt(0.99, "discount")
    lr: float = opt(1e-4, "Adam learning rate of encoder, actor and critic")
    feature_dim: int = opt(50, "width of the actor's and critic's trunk (Linear + LayerNorm + Tanh)")
    hidden_dim: int = opt(1024, "hidden width of the actor and critic MLPs")
    critic_tau: float = opt(0.01, "soft update rate of the target critic")
    update_every: int = opt(2, "one update every this many environment steps")
    seed_steps: int = opt(2000, "environment steps before the first update (official: 4000 frames)")
    expl_steps: int = opt(2000, "environment steps with uniformly random actions at the start")
    std_schedule: str = opt("linear(1.0,0.1,500000)", "exploration noise std: a number or linear(start,end,steps) over environment steps")
    std_clip: float = opt(0.3, "clip of the noise in the target policy's action")
    augment_pad: int = opt(4, "random-shift augmentation: pad and crop by up to this many pixels (0 = off; ignored for states)")
    replay_capacity: int = opt(1_000_000, "transitions kept in the replay (1M pixel frames of 84x84 take about 21 GB)")
    steps_per_iteration: int = opt(1000, "environment steps per runner iteration (one metrics row)")
    eval_every: int = opt(5000, "evaluate every this many environment steps (0 = never); official: 10k frames")
    eval_episodes: int = opt(10, "episodes per evaluation, deterministic actions")
    explore_input: str = opt("auto", "the explorer's per-step input: 'encoder' (the current conv encoder's output on the augmented window, official), 'actor_feat' (that output through the actor trunk, official use_actor_feat), 'stored' (embeddings stored at insertion by a frozen random CNN: the cheap path), auto = stored with pixels, the state vector without")
    stored_dim: int = opt(64, "width of the stored embeddings (explore_input=stored with pixels)")
    bf16: bool = opt(False, "run the pixel encoder's convolutions under bfloat16 autocast (trunks, Q heads, losses and targets stay float32): ~2x faster convolutions on CPUs with AMX/AVX512-BF16 and on GPUs; off = float32 as the official code")

    def __post_init__(self) -> None:
        check(self.explore_input in DRQ_EXPLORE_INPUTS,
              f"drqv2.explore_input must be one of {DRQ_EXPLORE_INPUTS}, got {self.explore_input!r}")
        check(min(self.batch_size, self.nstep, self.update_every, self.steps_per_iteration,
                  self.eval_episodes, self.feature_dim, self.hidden_dim, self.stored_dim) >= 1,
              "drqv2.batch_size, nstep, update_every, steps_per_iteration, eval_episodes, "
              "feature_dim, hidden_dim and stored_dim must be >= 1")
        check(min(self.seed_steps, self.expl_steps, self.augment_pad, self.eval_every) >= 0,
              "drqv2.seed_steps, expl_steps, augment_pad and eval_every must be >= 0")
        check(self.replay_capacity >= self.batch_size,
              f"drqv2.replay_capacity={self.replay_capacity} must be >= batch_size={self.batch_size}")
        check(0 < self.gamma <= 1 and 0 < self.critic_tau <= 1 and self.lr > 0 and self.std_clip >= 0,
              "drqv2.gamma and critic_tau must be in (0, 1], lr > 0, std_clip >= 0")
        from mimex.agents.schedules import parse_schedule

        parse_schedule(self.std_schedule, "drqv2.std_schedule")


@dataclass
class RunConfig:
    """Everything a training run needs."""

    env: EnvConfig = field(default_factory=EnvConfig, metadata={"help": "environment"})
    agent: str = opt("ppo", "backbone: ppo (on-policy) or drqv2 (off-policy, continuous actions)")
    ppo: PPOConfig = field(default_factory=PPOConfig, metadata={"help": "PPO"})
    drqv2: DrQv2Config = field(default_factory=DrQv2Config, metadata={"help": "DrQ-v2"})
    explore: ExploreConfig = field(default_factory=ExploreConfig, metadata={"help": "exploration bonus"})
    steps: int = opt(100_000, "total environment steps (a resumed run continues to this total)")
    seed: int = opt(0, "seed of everything")
    run_dir: str = opt("runs/default", "where config, metrics, checkpoints and summary go")
    device: str = opt("cpu", "torch device")
    threads: int = opt(0, "torch CPU threads (0 = torch's default)")
    log_every: int = opt(1, "write metrics every this many iterations")
    checkpoint_minutes: float = opt(10.0, "also checkpoint every this many minutes (always at the end and on SIGTERM/SIGINT)")
    tensorboard: bool = opt(True, "write TensorBoard event files")
    progress: bool = opt(True, "show a progress bar")
    deterministic: bool = opt(True, "use deterministic torch algorithms (CPU runs are then bit-reproducible)")

    def __post_init__(self) -> None:
        check(self.agent in AGENTS, f"agent must be one of {AGENTS}, got {self.agent!r}")
        name = self.explore.name
        check(self.agent != "drqv2" or name not in ("icm", "rnd", "mimex")
              or getattr(self.explore, name).reward_norm != "return",
              f"explore.{name}.reward_norm='return' needs on-policy rollouts in time order; with "
              f"agent drqv2 use --set explore.{name}.reward_norm=step (or none, the MIMEx release)")
        check(self.agent == "ppo" or not self.ppo.reward_clip,
              f"ppo.reward_clip applies to agent ppo only; agent {self.agent} does not use it: remove --set ppo.reward_clip")
        check(self.agent == "ppo" or not self.ppo.compile,
              f"ppo.compile applies to agent ppo only; agent {self.agent} does not use it: remove --set ppo.compile=true")
        check(self.steps >= 1, f"steps must be >= 1, got {self.steps}")
        check(not self.schedule_decays() or not 0 < self.ppo.schedule_steps < self.steps,
              f"ppo.schedule_steps={self.ppo.schedule_steps} is below steps={self.steps}: the lr schedule / "
              f"beta anneal would sit at 0 for the last {self.steps - self.ppo.schedule_steps} steps; set "
              "ppo.schedule_steps >= steps (or 0: the run's steps)")
        check(hasattr(self.seed, "__index__") and not isinstance(self.seed, bool) and self.seed >= 0,
              f"seed must be an integer >= 0, got {self.seed!r}")
        todo, bad = [("", dataclasses.asdict(self))], []
        while todo:  # every float of the config, env.options aside, must be finite (lr=inf, nan)
            prefix, node = todo.pop()
            for k, v in node.items():
                if isinstance(v, dict) and k != "options":
                    todo.append((f"{prefix}{k}.", v))
                elif isinstance(v, float) and not math.isfinite(v) and k != "checkpoint_minutes":
                    bad.append(f"{prefix}{k}={v}")
        check(not bad, f"config values must be finite numbers, got {', '.join(sorted(bad))}")
        check(self.log_every >= 1, f"log_every must be >= 1, got {self.log_every}")
        batch = self.env.num_envs * self.ppo.num_steps
        check(batch % self.ppo.minibatches == 0,
              f"ppo.minibatches={self.ppo.minibatches} must divide the rollout of env.num_envs * "
              f"ppo.num_steps = {self.env.num_envs} * {self.ppo.num_steps} = {batch}")

    def schedule_decays(self) -> bool:
        """Whether something in training decays over a horizon of steps: PPO's lr schedule or
        beta anneal (DrQ-v2's schedules count absolute steps)."""
        return self.agent == "ppo" and (self.ppo.lr_schedule != "constant" or self.explore.beta_anneal)

    def steps_only_end_the_run(self) -> bool:
        """Whether ``steps`` only says where the run stops: nothing decays, or it decays over
        ``ppo.schedule_steps`` rather than the run's own steps. Such a run is the exact
        beginning of the same run with more steps, and resuming it with a larger ``steps``
        extends it exactly."""
        return not self.schedule_decays() or self.ppo.schedule_steps > 0


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    return dataclasses.asdict(cfg)


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a config dataclass from ``to_dict`` output, validating as it goes."""
    kwargs = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in data.items():
        if key not in fields:
            from mimex.errors import ConfigError

            raise ConfigError(f"unknown config key {key!r} for {cls.__name__}; valid: {', '.join(fields)}")
        sub = _dataclass_type(fields[key])
        if sub is not None and isinstance(value, dict):
            value = from_dict(sub, value)
        elif (isinstance(fields[key].default, float) and isinstance(value, int)
              and not isinstance(value, bool)):
            value = float(value)  # `beta: 1` in a YAML spec is the same run as `beta: 1.0`
        kwargs[key] = value
    return cls(**kwargs)


def _dataclass_type(f: dataclasses.Field) -> type | None:
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        made = f.default_factory()  # type: ignore[misc]
        return type(made) if dataclasses.is_dataclass(made) else None
    return None
