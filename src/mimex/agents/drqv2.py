"""DrQ-v2 with an exploration bonus, readable top to bottom.

One iteration: ``drqv2.steps_per_iteration`` environment steps. Each step acts (uniformly
random for the first ``expl_steps``, then the actor's mean plus scheduled Gaussian noise),
stores the transition in the episode replay, and, once ``seed_steps`` have passed, runs one
update every ``update_every`` steps:

1. sample a batch: n-step transitions and the window of the last T steps of each;
2. the explorer scores the windows and takes one optimiser step on them (the bonus is
   recomputed every time a transition is sampled, as the paper and URLB do);
   ``r = r_ext(n-step) + beta * r_int`` enters the critic target;
3. augment o_t and o_{t+m} with random shifts; the encoder learns through the critic loss
   (clipped double Q, target action with clipped noise); the actor learns on detached
   features; the target critic follows by soft updates.

Evaluation: every ``eval_every`` steps, ``eval_episodes`` episodes with the mean action, on a
fresh environment with a fixed seed (``eval/episodic_return``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mimex.agents.drqv2_losses import actor_loss, critic_loss, critic_target, soft_update
from mimex.agents.drqv2_networks import (
    Actor,
    Critic,
    PixelEncoder,
    StateEncoder,
    noisy_action,
    random_shift,
)
from mimex.agents.ppo import NonFiniteError, bonus_metrics, episode_metrics
from mimex.agents.replay import EpisodeReplay
from mimex.agents.schedules import parse_schedule
from mimex.config.schema import RunConfig
from mimex.envs.vector import VecEnv
from mimex.errors import CheckpointError, ConfigError
from mimex.explore import make_explorer
from mimex.nets.encoders import FrozenEncoder
from mimex.nets.optim import adam, load_optimizer_state

REPLAY_DIR = "replay"


class DrQv2Agent:
    """The DrQ-v2 learner, its replay and its explorer. ``iterate(envs)`` runs one iteration."""

    def __init__(self, cfg: RunConfig, envs: VecEnv, device: torch.device,
                 eval_envs: Callable[[], VecEnv] | None = None) -> None:
        self.cfg, self.device, self.eval_envs = cfg, device, eval_envs
        d, ex = cfg.drqv2, cfg.explore
        space, obs_space = envs.single_action_space, envs.single_observation_space
        if not isinstance(space, gym.spaces.Box):
            raise ConfigError(f"DrQ-v2 needs continuous (Box) actions, got {space}: use --agent ppo")
        if isinstance(obs_space, gym.spaces.Dict):
            raise ConfigError("DrQ-v2 takes pixels or a state vector, not both: set env.obs=pixels or state")
        self.action_dim = int(space.shape[0])
        self.low, self.high = space.low.astype(np.float32), space.high.astype(np.float32)
        if not (np.isfinite(self.low).all() and np.isfinite(self.high).all()):
            raise ConfigError(f"DrQ-v2's tanh actor needs a bounded action space, got {space}: use --agent ppo")
        self.pixels = len(obs_space.shape) == 3 and obs_space.dtype == np.uint8
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            encoder = PixelEncoder(obs_space.shape) if self.pixels else StateEncoder(int(obs_space.shape[0]))
            actor = Actor(encoder.repr_dim, self.action_dim, d.feature_dim, d.hidden_dim)
            critic = Critic(encoder.repr_dim, self.action_dim, d.feature_dim, d.hidden_dim)
        self.net = nn.ModuleDict({"encoder": encoder, "actor": actor, "critic": critic}).to(device)
        self.encoder, self.actor, self.critic = self.net["encoder"], self.net["actor"], self.net["critic"]
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        self.encoder_opt = adam(self.encoder.parameters(), lr=d.lr) if self.pixels else None
        self.actor_opt = adam(self.actor.parameters(), lr=d.lr)
        self.critic_opt = adam(self.critic.parameters(), lr=d.lr)
        self.std_schedule = parse_schedule(d.std_schedule, "drqv2.std_schedule")

        # the explorer's per-step input (see DrQv2Config.explore_input)
        kind = d.explore_input if d.explore_input != "auto" else ("stored" if self.pixels else "encoder")
        self.explore_input = "encoder" if kind == "stored" and not self.pixels else kind
        self.frozen = None
        if self.explore_input == "stored" and ex.name != "none":  # no explorer: nothing to embed
            c, h, w = obs_space.shape
            self.frozen = FrozenEncoder(c, (h, w), d.stored_dim, seed=cfg.seed + 7919).to(device)
        dims = {"encoder": encoder.repr_dim, "actor_feat": d.feature_dim, "stored": d.stored_dim}
        self.explorer = None
        if ex.name != "none":
            options = vars(getattr(ex, ex.name)).copy()
            options.update(seed=cfg.seed + 1000, device=str(device))
            self.explorer = make_explorer(ex.name, dims[self.explore_input], self.action_dim, **options)
        k = getattr(envs.envs[0].unwrapped, "k", 1) if self.pixels else 1
        self.replay = EpisodeReplay(envs.num_envs, d.replay_capacity, tuple(obs_space.shape), obs_space.dtype,
                                    self.action_dim, frame_stack=k,
                                    embed_dim=d.stored_dim if self.frozen is not None else 0,
                                    directory=Path(cfg.run_dir) / REPLAY_DIR, seed=cfg.seed + 17)
        self.num_envs = envs.num_envs
        self.batch = math.ceil(d.steps_per_iteration / envs.num_envs) * envs.num_envs
        self.global_step = self.iteration = self.n_updates = 0
        self.obs: np.ndarray | None = None

    # ---------------------------------------------------------------- acting
    def start(self, envs: VecEnv) -> None:
        """Reset the environments and start their episodes in the replay."""
        if self.global_step == 0:
            self.replay.clear_directory()
        self.obs = envs.reset()
        self.replay.start(self.obs, self._embed(self.obs))

    def to_env(self, action: np.ndarray) -> np.ndarray:
        """Actions in [-1, 1] (the actor's, stored in the replay) -> the env's [low, high]."""
        action = np.clip(action, -1.0, 1.0)
        if (self.low == -1.0).all() and (self.high == 1.0).all():  # dmc: as is, no rounding
            return action
        return self.low + (action + 1.0) * 0.5 * (self.high - self.low)

    def current_std(self) -> float:
        return self.std_schedule(self.global_step)

    def _obs_tensor(self, obs: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(obs), device=self.device)

    @torch.no_grad()
    def _embed(self, obs: np.ndarray) -> np.ndarray | None:
        """Stored per-step embeddings, float32[N, stored_dim] (None unless explore_input=stored)."""
        if self.frozen is None:
            return None
        f = self.frozen(self._obs_tensor(obs))
        return F.layer_norm(f, f.shape[-1:]).cpu().numpy()

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Training actions in [-1, 1]: uniform during ``expl_steps``, then mean + noise."""
        mean = self.actor(self._encode(self._obs_tensor(obs)))
        if self.global_step < self.cfg.drqv2.expl_steps:
            action = torch.empty_like(mean).uniform_(-1.0, 1.0)
        else:
            action = noisy_action(mean, self.current_std())
        return action.cpu().numpy()

    @torch.no_grad()
    def act_deterministic(self, obs: Any) -> np.ndarray:
        """The actor's mean action for a batch of raw observations, in the env's bounds (evaluation)."""
        return self.to_env(self.actor(self._encode(self._obs_tensor(obs))).cpu().numpy())

    def _encode(self, obs: torch.Tensor) -> torch.Tensor:
        """The encoder's float32 features, at one precision everywhere (acting, the update, the
        explorer's windows): bf16 convolutions when ``drqv2.bf16``, see :meth:`_autocast`."""
        with self._autocast():
            return self.encoder(obs).float()

    # ---------------------------------------------------------------- one iteration
    def iterate(self, envs: VecEnv) -> dict[str, float]:
        """``steps_per_iteration`` environment steps with their updates; returns the metrics."""
        d = self.cfg.drqv2
        n_vec = min(self.batch, self.cfg.steps - self.global_step) // self.num_envs
        sums: dict[str, float] = {}
        n_up, episodes, evals = 0, [], {}
        for _ in range(max(1, n_vec)):
            action = self.act(self.obs)
            res = envs.step(self.to_env(action))
            if not np.isfinite(res.reward).all():
                raise NonFiniteError(f"extrinsic reward is not finite at environment step {self.global_step}")
            self.replay.add(action, res.reward, res.terminated, res.truncated, res.next_obs,
                            self._embed(res.next_obs))
            done = res.terminated | res.truncated
            if done.any():
                self.replay.start(res.obs, self._embed(res.obs), lanes=done)
            self.obs = res.obs
            episodes += res.episodes
            prev, self.global_step = self.global_step, self.global_step + self.num_envs
            if self.global_step >= d.seed_steps:
                for _ in range(self.global_step // d.update_every - prev // d.update_every):
                    for k, v in self.update().items():
                        sums[k] = sums.get(k, 0.0) + v
                    n_up += 1
            if d.eval_every and self.eval_envs is not None and self.global_step // d.eval_every > prev // d.eval_every:
                evals = self.evaluate()
        self.iteration += 1
        metrics = {"step": self.global_step, "iteration": self.iteration,
                   **{k: v / n_up for k, v in sums.items()}, **evals,
                   "train/updates": float(self.n_updates), "policy/std": self.current_std()}
        if episodes:
            metrics.update(episode_metrics(episodes))
        return metrics

    def update(self) -> dict[str, float]:
        """One DrQ-v2 update on a sampled batch (with the explorer's step). Returns metrics."""
        d, ex = self.cfg.drqv2, self.cfg.explore
        # ICM scores (o_t, a_t, o_t+1) whatever seq_end says, as the official DMC code (notes 4.1)
        seq_end = "next" if ex.name == "icm" else ex.seq_end
        b = self.replay.sample(d.batch_size, d.nstep, d.gamma, ex.seq_len, seq_end,
                               window_obs=self.explorer is not None and self.explore_input != "stored",
                               device=self.device)
        r_int, metrics = self._intrinsic(b)
        reward = b["reward"] + ex.beta * r_int
        metrics.update(bonus_metrics(b["reward"], ex.beta * r_int))
        obs, next_obs = b["obs"], b["next_obs"]
        if self.pixels:
            obs, next_obs = random_shift(obs, d.augment_pad), random_shift(next_obs, d.augment_pad)
        std = self.current_std()
        h = self._encode(obs)
        with torch.no_grad():
            h_next = self._encode(next_obs)
            next_action = noisy_action(self.actor(h_next), std, d.std_clip)
            target = critic_target(reward, b["discount"], *self.target_critic(h_next, next_action))
        q1, q2 = self.critic(h, b["action"])
        c_loss = critic_loss(q1, q2, target)
        if not torch.isfinite(c_loss):
            raise NonFiniteError(f"critic loss is not finite (NaN or inf) at environment step {self.global_step}")
        opts = [o for o in (self.encoder_opt, self.critic_opt) if o is not None]
        for o in opts:
            o.zero_grad(set_to_none=True)
        c_loss.backward()
        for o in opts:
            o.step()

        h = h.detach()
        q1_pi, q2_pi = self.critic(h, noisy_action(self.actor(h), std, d.std_clip))
        a_loss = actor_loss(q1_pi, q2_pi)
        self.actor_opt.zero_grad(set_to_none=True)
        a_loss.backward()
        self.actor_opt.step()
        soft_update(self.critic, self.target_critic, d.critic_tau)
        self.n_updates += 1
        metrics.update({"losses/critic_loss": float(c_loss.detach()), "losses/actor_loss": float(a_loss.detach()),
                        "losses/critic_q": float(q1.detach().mean()), "losses/critic_target": float(target.mean()),
                        "losses/batch_reward": float(b["reward"].mean())})
        return metrics

    def _intrinsic(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """The bonus of each sampled transition, float[B], after one explorer step on the batch."""
        if self.explorer is None:
            return torch.zeros_like(b["reward"]), {}
        if self.explore_input == "stored":
            seq = b["window_embed"]
        else:  # the current encoder (no gradient) on the window, shifted jointly as the official code
            w = b["window_obs"]
            n, t = w.shape[:2]
            if self.pixels:
                w = random_shift(w.reshape(n, t * w.shape[2], *w.shape[3:]), self.cfg.drqv2.augment_pad)
            with torch.no_grad():
                seq = self._encode(w.reshape(n * t, *b["obs"].shape[1:]))
                if self.explore_input == "actor_feat":
                    seq = self.actor.trunk(seq)
            seq = seq.reshape(n, t, -1)
        pad = b["pad"] if bool(b["pad"].any()) else None
        actions = b["window_action"] if self.explorer.name == "icm" else None
        r = self.explorer.reward(seq, actions, pad, update=True, chunk_size=self.cfg.explore.chunk_size)
        if not torch.isfinite(r).all():
            raise NonFiniteError(f"intrinsic reward is not finite at environment step {self.global_step}")
        metrics = dict(self.explorer.last_metrics)
        metrics["explore/reward_max"] = float(r.max())
        metrics["explore/updates"] = float(self.explorer.n_updates)
        return r, metrics

    def _autocast(self) -> torch.autocast:
        """bfloat16 autocast of the pixel encoder's convolutions when ``drqv2.bf16`` (else a
        no-op). Never the trunks and Q heads: bf16 keeps 8 significant bits, so a Q-value
        near 50 moves in steps of 0.25, coarser than most TD errors, and the critic stalls."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.drqv2.bf16)

    def evaluate(self) -> dict[str, float]:
        """``eval_episodes`` episodes with the mean action on a fresh, fixed-seed environment."""
        envs = self.eval_envs()
        try:
            obs, done_eps = envs.reset(), []
            while len(done_eps) < self.cfg.drqv2.eval_episodes:
                res = envs.step(self.act_deterministic(obs))
                obs = res.obs
                done_eps += res.episodes
        finally:
            envs.close()
        done_eps = done_eps[:self.cfg.drqv2.eval_episodes]
        return {"eval/episodic_return": float(np.mean([e["return"] for e in done_eps])),
                "eval/episodic_length": float(np.mean([e["length"] for e in done_eps])),
                "eval/success_rate": float(np.mean([e["success"] for e in done_eps]))}

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Weights, optimisers, explorer, the replay (file positions + unfinished episodes),
        the current observations and counters."""
        opt = lambda o: None if o is None else o.state_dict()  # noqa: E731
        return {"net": self.net.state_dict(), "critic_target": self.target_critic.state_dict(),
                "encoder_opt": opt(self.encoder_opt), "actor_opt": self.actor_opt.state_dict(),
                "critic_opt": self.critic_opt.state_dict(),
                "explorer": None if self.explorer is None else self.explorer.state_dict(),
                "replay": self.replay.state_dict(), "obs": np.asarray(self.obs).copy(),
                "global_step": self.global_step, "iteration": self.iteration, "n_updates": self.n_updates}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; ``sd["replay"] = None`` skips the replay (evaluation)."""
        try:
            self.net.load_state_dict(sd["net"])
            self.target_critic.load_state_dict(sd["critic_target"])
        except RuntimeError as err:
            raise CheckpointError(f"the checkpoint's DrQ-v2 networks do not fit this configuration: {err}") from None
        for o, key in ((self.encoder_opt, "encoder_opt"), (self.actor_opt, "actor_opt"), (self.critic_opt, "critic_opt")):
            if o is not None:
                load_optimizer_state(o, sd[key])
        if self.explorer is not None and sd.get("explorer") is not None:
            self.explorer.load_state_dict(sd["explorer"])
        if sd.get("replay") is not None:
            self.replay.load_state_dict(sd["replay"])
        self.obs = np.asarray(sd["obs"]).copy()
        self.global_step, self.iteration = int(sd["global_step"]), int(sd["iteration"])
        self.n_updates = int(sd["n_updates"])
