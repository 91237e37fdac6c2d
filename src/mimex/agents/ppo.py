"""PPO with an exploration bonus, readable top to bottom.

One iteration: collect ``num_steps`` steps from every environment; compute each
transition's intrinsic reward while training the explorer on the rollout, in minibatches
of ``explore.batch_size`` or (``batch_size=0``, the official code) as one batch with one
optimiser step, computed in chunks (the reward of a sequence is the explorer's loss on it
before the step, so one forward pass serves both); add ``beta * r_int`` to the extrinsic
reward *before* GAE; bootstrap time-limit truncations with ``V(o_final)`` (never true
terminals); then ``epochs`` passes of clipped-surrogate updates over minibatches (shuffled,
or consecutive rollout steps as MVP does).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from mimex import errors
from mimex.agents.losses import bootstrap_truncated, gae, ppo_losses
from mimex.agents.networks import ActorCritic
from mimex.agents.observations import ObsPipeline
from mimex.agents.schedules import parse_schedule
from mimex.config.schema import PPOConfig, RunConfig
from mimex.envs.vector import VecEnv
from mimex.errors import CheckpointError, ConfigError
from mimex.explore import SequenceTracker, make_explorer
from mimex.nets.optim import adam, load_optimizer_state


class NonFiniteError(FloatingPointError):
    """A reward, loss or gradient became NaN or inf; the message names the metric and step."""


def _check_finite(name: str, value: torch.Tensor, step: int) -> None:
    if not torch.isfinite(value).all():
        raise NonFiniteError(f"{name} is not finite (NaN or inf) at environment step {step}")


def minibatch_loss(net: ActorCritic, inputs: dict[str, torch.Tensor], actions: torch.Tensor,
                   old_logp: torch.Tensor, adv: torch.Tensor, old_values: torch.Tensor,
                   returns: torch.Tensor, std: torch.Tensor | None,
                   p: PPOConfig) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The PPO loss of one minibatch of B samples (``old_logp``, ``adv``, ``old_values``,
    ``returns``: float[B]; ``std``: None for the learned std, else a 0-d tensor).

    Returns (the scalar loss to minimise, the detached terms: policy_loss, value_loss,
    approx_kl, clip_fraction, entropy). With ``ppo.compile`` this whole function is compiled.
    """
    logp, ent, value = net.evaluate(inputs, actions, std)
    if p.norm_adv == "minibatch" and adv.numel() > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    out = ppo_losses(logp, old_logp, adv, value, old_values, returns, p.clip, p.clip_value_loss,
                     p.value_loss)
    entropy = ent.mean()
    loss = out["policy_loss"] + p.value_coef * out["value_loss"] - p.ent_coef * entropy
    out["entropy"] = entropy
    return loss, {k: v.detach() for k, v in out.items()}


def compiled_loss(p: PPOConfig):
    """``minibatch_loss``, through ``torch.compile`` when ``p.compile`` (one graph per minibatch
    shape; the first call and the first backward compile, a few seconds)."""
    if not p.compile:
        return minibatch_loss
    # a fresh cache per agent: a long-lived process (a Ray worker running trial after trial)
    # would otherwise hit dynamo's recompile limit after a few configs and fall back to eager
    # without a word, changing a run's float rounding mid-sweep. Another live agent in this
    # process only recompiles (the same graph) on its next call.
    torch.compiler.reset()
    return torch.compile(minibatch_loss, dynamic=False)


@contextlib.contextmanager
def compile_errors(pending: bool):
    """Around the first compiled minibatch step (forward and backward, where inductor builds
    both graphs): a failure there becomes a ConfigError that says what to do."""
    if not pending:
        yield
        return
    try:
        yield
    except NonFiniteError:
        raise
    except Exception as exc:  # inductor and its compilers raise many types
        raise ConfigError(errors.COMPILE_FAILED.format(error=f"{type(exc).__name__}: {exc}")) from exc


class PPOAgent:
    """The PPO learner and its explorer. ``iterate(envs)`` runs one iteration."""

    def __init__(self, cfg: RunConfig, envs: VecEnv, device: torch.device) -> None:
        self.cfg, self.device = cfg, device
        p, ex = cfg.ppo, cfg.explore
        space = envs.single_action_space
        self.discrete = isinstance(space, gym.spaces.Discrete)
        if not self.discrete and not isinstance(space, gym.spaces.Box):
            raise ConfigError(f"PPO supports Box or Discrete actions, got {space}")
        self.action_dim = int(space.n) if self.discrete else int(space.shape[0])
        if not self.discrete:
            self.low, self.high = space.low.astype(np.float32), space.high.astype(np.float32)
        if self.discrete and p.action_std != "learned":
            raise ConfigError("ppo.action_std schedules apply to continuous actions only; "
                              "this task has discrete actions: use ppo.action_std=learned")
        self.std_schedule = None if p.action_std == "learned" else parse_schedule(p.action_std)
        default_enc = "cnn" if cfg.env.name.startswith("atari/") else "frozen"
        self.pipeline = ObsPipeline(envs.single_observation_space, p, cfg.seed, device, default_enc,
                                    explore_input=ex.input)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.net = ActorCritic(self.pipeline.policy_shapes, self.action_dim, self.discrete, p).to(device)
        self.optimizer = adam(self.net.parameters(), lr=p.lr, eps=p.adam_eps)
        self._loss = compiled_loss(p)
        self._compile_pending = p.compile  # until the first minibatch step has run
        self.explorer = None
        self.tracker = None
        if ex.name != "none":
            options = vars(getattr(ex, ex.name)).copy()
            options.update(seed=cfg.seed + 1000, device=str(device))
            self.explorer = make_explorer(ex.name, self.pipeline.explore_dim, self.action_dim, **options)
            # ICM scores (obs[-2], a_t, obs[-1]): (o_t, a_t, o_t+1) with seq_end=next; with
            # seq_end=current it gets the release's misaligned (o_t-1, a_t, o_t) (notes 4.1)
            self.tracker = SequenceTracker(envs.num_envs, ex.seq_len, self.pipeline.explore_dim,
                                           ex.seq_end, device)
        self.batch = envs.num_envs * p.num_steps
        # the horizon of the lr schedule and the beta anneal: this run, or a longer one it begins
        self.schedule_steps = p.schedule_steps or cfg.steps
        self.max_iterations = max(1, math.ceil(self.schedule_steps / self.batch))
        self.global_step = 0
        self.iteration = 0
        self.policy_in: dict[str, torch.Tensor] | None = None

    # ---------------------------------------------------------------- acting
    def start(self, envs: VecEnv) -> None:
        """Reset the environments and the sequence windows (a fresh run)."""
        self.policy_in, z = self.pipeline(envs.reset(), update_stats=True)
        if self.tracker is not None:
            self.tracker.reset(z)

    def current_std(self) -> float | None:
        return None if self.std_schedule is None else self.std_schedule(self.global_step)

    def env_action(self, action: torch.Tensor) -> np.ndarray:
        a = action.cpu().numpy()
        return a if self.discrete else np.clip(a, self.low, self.high)

    # ---------------------------------------------------------------- one iteration
    def iterate(self, envs: VecEnv) -> dict[str, float]:
        """Collect a rollout, add the bonus, update the policy. Returns this iteration's metrics."""
        p, ex, dev = self.cfg.ppo, self.cfg.explore, self.device
        S, N = p.num_steps, envs.num_envs
        std = self.current_std()
        inputs = {k: torch.zeros((S, N, *v.shape[1:]), dtype=v.dtype, device=dev)
                  for k, v in self.policy_in.items()}
        act_shape = (S, N) if self.discrete else (S, N, self.action_dim)
        actions = torch.zeros(act_shape, dtype=torch.int64 if self.discrete else torch.float32, device=dev)
        executed = torch.zeros_like(actions)  # what the envs ran: clipped to the action space
        logps, values, rew_ext, final_values = (torch.zeros(S, N, device=dev) for _ in range(4))
        term, trunc = (torch.zeros(S, N, dtype=torch.bool, device=dev) for _ in range(2))
        seqs, pads, episodes, successes = [], [], [], []
        for t in range(S):
            with torch.no_grad():
                action, logp, value = self.net.act(self.policy_in, std)
            for k, v in self.policy_in.items():
                inputs[k][t] = v
            actions[t], logps[t], values[t] = action, logp, value
            env_action = self.env_action(action)
            executed[t] = torch.as_tensor(env_action, device=dev)
            res = envs.step(env_action)
            self.global_step += N
            if not np.isfinite(res.reward).all():
                env_i = int(np.flatnonzero(~np.isfinite(res.reward))[0])
                raise NonFiniteError(f"extrinsic reward of env {env_i} is not finite "
                                     f"({res.reward[env_i]}) at environment step {self.global_step}")
            rew_ext[t] = torch.as_tensor(res.reward, device=dev)
            if p.reward_clip > 0:  # what PPO learns from; episode returns stay the game's score
                rew_ext[t].clamp_(-p.reward_clip, p.reward_clip)
            term[t] = torch.as_tensor(res.terminated, device=dev)
            trunc[t] = torch.as_tensor(res.truncated, device=dev)
            done = term[t] | trunc[t]
            next_in, z = self.pipeline(res.obs, update_stats=True)
            z_next = z
            if done.any():
                rows = done.nonzero().squeeze(1).cpu().numpy()
                final_in, z_final = self.pipeline(_take(res.next_obs, rows), update_stats=False)
                z_next = z.clone()
                z_next[done] = z_final
                with torch.no_grad():
                    final_values[t, done] = self.net.value(final_in)
            if self.tracker is not None:
                seq, pad = self.tracker.step(z_next, done, z_reset=z)
                seqs.append(seq)
                pads.append(pad)
            self.policy_in = next_in
            episodes += res.episodes
            successes.append(res.success)
        with torch.no_grad():
            last_value = self.net.value(self.policy_in)

        r_int, explore_metrics = self._intrinsic(seqs, pads, executed)
        beta = ex.beta * (1.0 - min(1.0, self.global_step / self.schedule_steps)) if ex.beta_anneal else ex.beta
        explore_metrics.update(bonus_metrics(rew_ext, beta * r_int))
        rewards = bootstrap_truncated(rew_ext + beta * r_int, trunc, term, final_values, p.gamma)
        adv, returns = gae(rewards, values, last_value, term | trunc, p.gamma, p.gae_lambda)
        if p.norm_adv == "batch":  # MVP: once over the whole rollout
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        flat = lambda x: x.reshape(S * N, *x.shape[2:])  # noqa: E731
        batch = {"inputs": {k: flat(v) for k, v in inputs.items()}, "actions": flat(actions),
                 "logp": flat(logps), "values": flat(values), "adv": flat(adv), "returns": flat(returns)}
        train_metrics = self._update(batch, std)
        self.iteration += 1

        metrics = {"step": self.global_step, "iteration": self.iteration, **train_metrics, **explore_metrics}
        metrics["explore/beta"] = beta
        metrics["charts/step_success_rate"] = float(np.mean(successes))
        if episodes:
            metrics.update(episode_metrics(episodes))
            metrics.update(end_fractions(episodes))
        if not self.discrete:
            metrics["policy/std"] = float(self.net.action_std(std, torch.float64).detach().mean())
        return metrics

    def _intrinsic(self, seqs: list[torch.Tensor], pads: list[torch.Tensor],
                   actions: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Intrinsic reward of every transition, float[S, N], training the explorer on the way.

        ``actions``: the actions the environments executed (ICM learns from these).
        """
        S, N = actions.shape[:2]
        if self.explorer is None:
            return torch.zeros(S, N, device=self.device), {"explore/reward_mean": 0.0}
        ex = self.cfg.explore
        seq = torch.stack(seqs).reshape(S * N, *seqs[0].shape[1:])
        pad = torch.stack(pads).reshape(S * N, -1)
        act_seq = None
        if self.explorer.name == "icm":  # a_t sits at position -2, next to o_t
            flat_a = actions.reshape(S * N, *actions.shape[2:])
            act_seq = torch.zeros((S * N, seq.shape[1], *flat_a.shape[1:]), dtype=flat_a.dtype, device=self.device)
            act_seq[:, -2] = flat_a
        r = torch.zeros(S * N, device=self.device)
        raw = torch.zeros(S * N, device=self.device)
        for epoch in range(ex.epochs):
            if ex.batch_size == 0:  # the whole rollout, one optimiser step (computed in chunks)
                out = self.explorer.reward(seq, act_seq, pad, update=True, chunk_size=ex.chunk_size)
                if epoch == 0:
                    r, raw = out, self.explorer.last_raw
                continue
            order = torch.randperm(S * N, device=self.device)
            for start in range(0, S * N, ex.batch_size):
                idx = order[start:start + ex.batch_size]
                out = self.explorer.reward(seq[idx], None if act_seq is None else act_seq[idx],
                                           pad[idx], update=True)
                if epoch == 0:
                    r[idx], raw[idx] = out, self.explorer.last_raw
        r = self.explorer.normalize_rollout(r.reshape(S, N), update=True)
        _check_finite("intrinsic reward", r, self.global_step)
        metrics = {k: v for k, v in self.explorer.last_metrics.items()
                   if not k.startswith("explore/reward")}  # per-call losses; rewards: whole rollout
        metrics.update({"explore/reward_mean": float(r.mean()), "explore/reward_max": float(r.max()),
                        "explore/reward_raw_mean": float(raw.mean()),
                        "explore/updates": float(self.explorer.n_updates)})
        return r, metrics

    def _lr(self, epoch: int) -> float:
        p = self.cfg.ppo
        progress = (self.iteration + epoch / p.epochs) / self.max_iterations
        if p.lr_schedule == "linear":
            return p.lr * max(0.0, 1.0 - progress)
        if p.lr_schedule == "cos":
            return p.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
        return p.lr

    def _update(self, b: dict[str, Any], std: float | None) -> dict[str, float]:
        p = self.cfg.ppo
        mb_size = self.batch // p.minibatches
        sums: dict[str, float] = {}
        n = 0
        # a tensor, so a compiled loss is not specialised (and recompiled) on each std value
        std_t = None if std is None else torch.tensor(float(std), device=self.device)
        stopped, kl_at_stop = False, 0.0
        for epoch in range(p.epochs):
            if stopped:
                break
            for g in self.optimizer.param_groups:
                g["lr"] = self._lr(epoch)
            if p.sampler == "sequential":  # consecutive steps x all envs, the same split each epoch
                order = torch.arange(self.batch, device=self.device)
            else:
                order = torch.randperm(self.batch, device=self.device)
            for start in range(0, self.batch, mb_size):
                idx = order[start:start + mb_size]
                with compile_errors(self._compile_pending):
                    loss, out = self._loss(self.net, {k: v[idx] for k, v in b["inputs"].items()},
                                           b["actions"][idx], b["logp"][idx], b["adv"][idx],
                                           b["values"][idx], b["returns"][idx], std_t, p)
                    _check_finite("loss", loss.detach(), self.global_step)
                    if p.target_kl > 0 and not stopped:
                        kl = float(out["approx_kl"])
                        if kl > 1.5 * p.target_kl:  # far enough from the rollout's policy: no step
                            stopped, kl_at_stop = True, kl  # (but at least one, n > 0 below)
                    if stopped and n > 0:
                        break
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                self._compile_pending = False
                grad_norm = nn.utils.clip_grad_norm_(self.net.parameters(), p.max_grad_norm)
                self.optimizer.step()
                out["grad_norm"] = grad_norm
                for k, v in out.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach())
                n += 1
        metrics = {f"losses/{k}": v / n for k, v in sums.items()}
        if p.target_kl > 0:
            metrics["losses/update_fraction"] = n / (p.epochs * p.minibatches)
            metrics["losses/kl_stop"] = float(stopped)
            metrics["losses/kl_at_stop"] = kl_at_stop
        metrics["charts/learning_rate"] = self.optimizer.param_groups[0]["lr"]
        return metrics

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimisers, explorer, windows, counters."""
        return {
            "net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
            "pipeline": self.pipeline.state_dict(),
            "explorer": None if self.explorer is None else self.explorer.state_dict(),
            "tracker": None if self.tracker is None else self.tracker.state_dict(),
            "policy_in": {k: v.clone() for k, v in self.policy_in.items()},
            "global_step": self.global_step, "iteration": self.iteration,
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; a checkpoint whose shapes do not fit is a CheckpointError."""
        saved = {k: tuple(v.shape[1:]) for k, v in sd["policy_in"].items()}
        now = {k: tuple(v) for k, v in self.pipeline.policy_shapes.items()}
        if saved != now:
            raise CheckpointError(
                f"the checkpoint was written for per-step policy inputs {saved}, but the "
                f"environment now gives {now}: the task's observations changed since (another "
                "mimex version or env options). Train into a new run directory.")
        try:
            self.net.load_state_dict(sd["net"])
        except RuntimeError as err:
            raise CheckpointError(f"the checkpoint's policy network does not fit this configuration: {err}") from None
        load_optimizer_state(self.optimizer, sd["optimizer"])  # copies: never share Adam moments
        self.pipeline.load_state_dict(sd["pipeline"])
        if self.explorer is not None:
            self.explorer.load_state_dict(sd["explorer"])
            self.tracker.load_state_dict(sd["tracker"])
        self.policy_in = {k: v.to(self.device) for k, v in sd["policy_in"].items()}
        self.global_step, self.iteration = int(sd["global_step"]), int(sd["iteration"])

    @torch.no_grad()
    def act_deterministic(self, obs: Any) -> np.ndarray:
        """Greedy actions for a batch of raw observations (evaluation)."""
        inputs, _ = self.pipeline(obs, update_stats=False)
        action, _, _ = self.net.act(inputs, self.current_std(), deterministic=True)
        return self.env_action(action)


def bonus_metrics(r_ext: torch.Tensor, bonus: torch.Tensor) -> dict[str, float]:
    """How large the weighted bonus ``beta * r_int`` is next to the extrinsic reward (both
    float[S, N]): its mean, and the ratio of mean absolute values (a ratio far below 0.01
    means the bonus cannot change what the agent does; not logged when no extrinsic reward
    at all came in the rollout)."""
    ext = float(r_ext.abs().mean())
    out = {"explore/bonus_mean": float(bonus.mean())}
    if ext > 0:
        out["explore/bonus_to_extrinsic"] = float(bonus.abs().mean()) / ext
    return out


def episode_metrics(episodes: list[dict[str, Any]]) -> dict[str, float]:
    """Means over an iteration's finished episodes (at least one): ``charts/episodic_return``,
    ``episodic_length``, ``success_rate``, the count ``episodes``, and ``dense_return`` where
    the env reports a dense-level reward (PixMC)."""
    out = {"charts/episodic_return": float(np.mean([e["return"] for e in episodes])),
           "charts/episodic_length": float(np.mean([e["length"] for e in episodes])),
           "charts/success_rate": float(np.mean([e["success"] for e in episodes])),
           "charts/episodes": len(episodes)}
    dense = [e["dense_return"] for e in episodes if "dense_return" in e]
    if dense:
        out["charts/dense_return"] = float(np.mean(dense))
    return out


END_REASONS = ("collision", "dropped", "unstable", "timeout", "terminal")


def end_fractions(episodes: list[dict[str, Any]]) -> dict[str, float]:
    """``charts/end_<reason>``: the fraction of this iteration's finished episodes that ended
    by each reason (``collision``, ``dropped``, ``unstable``, ``timeout``, ``terminal``)."""
    n = len(episodes)
    return {f"charts/end_{k}": sum(e.get("end") == k for e in episodes) / n for k in END_REASONS}


def _take(obs: Any, rows: np.ndarray) -> Any:
    """Rows of a batched observation (array or dict of arrays)."""
    if isinstance(obs, dict):
        return {k: v[rows] for k, v in obs.items()}
    return obs[rows]
