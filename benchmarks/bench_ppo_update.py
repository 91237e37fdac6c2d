"""The PPO update alone, eager vs ``ppo.compile``: seconds per iteration's update (``epochs``
x ``minibatches`` steps of forward, loss, backward, gradient clip and fused Adam) for the
PixMC actor-critic (``pixmc`` preset: 384-d frozen image features + proprioception, SELU
[256, 128, 64] heads), at the rollout sizes of 64 and 512 environments x 32 steps.

Usage::

    python benchmarks/bench_ppo_update.py --threads 2 --rounds 5

Eager and compiled alternate (ABAB...) so that load from other processes hits both alike;
median (min-max) seconds per update and the eager/compiled ratio per round.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from mimex.agents.networks import ActorCritic
from mimex.agents.ppo import compiled_loss
from mimex.config.overrides import resolve_config
from mimex.nets.optim import adam

STATE_DIM = 23  # FrankaReach proprioception (pixels+state)
ACTION_DIM = 9


def make(compile_: bool, batch: int):
    p = resolve_config("pixmc", {"ppo.compile": compile_}).ppo
    torch.manual_seed(0)
    net = ActorCritic({"feat": (384,), "vec": (STATE_DIM,)}, ACTION_DIM, False, p)
    opt = adam(net.parameters(), lr=p.lr, eps=p.adam_eps)
    g = torch.Generator().manual_seed(1)
    data = {"inputs": {"feat": torch.randn(batch, 384, generator=g), "vec": torch.randn(batch, STATE_DIM, generator=g)},
            "actions": torch.randn(batch, ACTION_DIM, generator=g),
            **{k: torch.randn(batch, generator=g) for k in ("logp", "adv", "values", "returns")}}
    return p, net, opt, compiled_loss(p), data


def update(p, net, opt, loss_fn, b) -> None:
    """One iteration's PPO update, as PPOAgent._update runs it (shuffled minibatches)."""
    n = b["actions"].shape[0]
    mb = n // p.minibatches
    for _ in range(p.epochs):
        order = torch.randperm(n)
        for start in range(0, n, mb):
            idx = order[start:start + mb]
            loss, out = loss_fn(net, {k: v[idx] for k, v in b["inputs"].items()}, b["actions"][idx],
                                b["logp"][idx], b["adv"][idx], b["values"][idx], b["returns"][idx], None, p)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), p.max_grad_norm)
            opt.step()
            [float(v) for v in out.values()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--envs", type=int, nargs="+", default=[64, 512])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch threads {a.threads}; seconds per update (10 epochs x 4 minibatches), median (min-max)")
    print("| rollout | minibatch | eager s | compiled s | eager / compiled |")
    print("|---|---|---|---|---|")
    for envs in a.envs:
        batch = envs * 32
        runs = {c: make(c, batch) for c in (False, True)}
        for c in (False, True):  # warm-up (the compiled one compiles here)
            update(*runs[c])
        t: dict[bool, list[float]] = {False: [], True: []}
        for r in range(a.rounds):
            for c in ((False, True) if r % 2 == 0 else (True, False)):
                t0 = time.perf_counter()
                update(*runs[c])
                t[c].append(time.perf_counter() - t0)
        ratios = [e / c for e, c in zip(t[False], t[True], strict=True)]
        fmt = lambda xs: f"{statistics.median(xs):.3f} ({min(xs):.3f}-{max(xs):.3f})"  # noqa: E731
        print(f"| {envs} envs x 32 | {batch // 4} | {fmt(t[False])} | {fmt(t[True])} | "
              f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) |", flush=True)


if __name__ == "__main__":
    main()
