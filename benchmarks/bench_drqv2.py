"""DrQ-v2 speed on DMC pixels: seconds per update and environment steps per second, for
explore in {none, mimex, icm, rnd}, at batch 256 and 1024, side by side in one run (plus
none and mimex with ``drqv2.bf16``; their ratio column is against ``none bf16``).

One agent per explorer on ``dmc/cartpole_swingup_sparse`` (84x84, frame stack 3, action
repeat 2, the ``dmc`` preset). Each first acts for ``--fill`` environment steps (random
actions, the replay's inserts, the stored embeddings: that is the env steps/s column), then
updates are timed round-robin over the explorers so that load from other processes hits
each alike; the median is reported. MIMEx reads per-step embeddings stored at insertion
(``drqv2.explore_input=stored``, the cheap path); ``--official`` adds MIMEx on the conv
encoder's 39,200-d output of T=5 windows, as the official code. ``none (plain)`` is the
baseline of a plain implementation timed alongside: the official encoder layout (NCHW,
out-of-place ReLU) and augmentation (float ``grid_sample``).

Usage::

    python benchmarks/bench_drqv2.py                  # ~5 minutes on 2 cores
    python benchmarks/bench_drqv2.py --quick          # smoke run (small images, batch 32)
    python benchmarks/bench_drqv2.py --profile none   # where the time of one update goes
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import tempfile
import time
import types

os.environ.setdefault("MUJOCO_GL", "egl")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import mimex.agents.drqv2 as drqv2_module  # noqa: E402
from mimex.agents import make_agent  # noqa: E402
from mimex.config.overrides import resolve_config  # noqa: E402
from mimex.run.train import make_vec_env, seed_everything  # noqa: E402

VARIANTS = {
    "none (plain)": {"explore.name": "none"},
    "none": {"explore.name": "none"},
    "none bf16": {"explore.name": "none", "drqv2.bf16": True},
    "mimex bf16": {"explore.name": "mimex", "drqv2.explore_input": "stored", "drqv2.bf16": True},
    "mimex": {"explore.name": "mimex", "drqv2.explore_input": "stored"},
    "icm": {"explore.name": "icm", "drqv2.explore_input": "stored"},
    "rnd": {"explore.name": "rnd", "drqv2.explore_input": "stored", "explore.beta": 0.01},
}
OFFICIAL = {"mimex (encoder)": {"explore.name": "mimex", "drqv2.explore_input": "encoder"}}


def official_shift(x: torch.Tensor, pad: int) -> torch.Tensor:
    """The official RandomShiftsAug: float conversion, replicate pad, bilinear grid_sample."""
    x = x.float()
    n, _, h, _ = x.shape
    x = F.pad(x, (pad,) * 4, "replicate")
    eps = 1.0 / (h + 2 * pad)
    arange = torch.linspace(-1.0 + eps, 1.0 - eps, h + 2 * pad)[:h].unsqueeze(0).repeat(h, 1).unsqueeze(2)
    base = torch.cat([arange, arange.transpose(1, 0)], dim=2).unsqueeze(0).repeat(n, 1, 1, 1)
    shift = torch.randint(0, 2 * pad + 1, size=(n, 1, 1, 2)).float() * 2.0 / (h + 2 * pad)
    return F.grid_sample(x, base + shift, padding_mode="zeros", align_corners=False)


def make_plain(agent) -> None:
    """Turn an agent's encoder into the plain (official) layout: NCHW, out-of-place ReLU."""
    enc = agent.encoder
    enc.to(memory_format=torch.contiguous_format)
    for m in enc.convnet:
        if isinstance(m, nn.ReLU):
            m.inplace = False
    enc.forward = types.MethodType(lambda self, obs: self.convnet(obs.float() / 255.0 - 0.5).flatten(1), enc)


def timed_update(name: str, agent) -> float:
    """Seconds of one update (the plain variant with the official augmentation)."""
    plain = name.endswith("(plain)")
    if plain:
        drqv2_module.random_shift = official_shift
    try:
        t0 = time.perf_counter()
        agent.update()
        return time.perf_counter() - t0
    finally:
        drqv2_module.random_shift = ours_shift


ours_shift = drqv2_module.random_shift


def build(name: str, sets: dict, image: int, fill: int, run_dir: str):
    cfg = resolve_config("dmc", {"progress": False, "run_dir": f"{run_dir}/{name}", "env.options": {"image_size": image},
                                 "drqv2.replay_capacity": max(10_000, fill + 10), "drqv2.eval_every": 0,
                                 "drqv2.expl_steps": fill, "drqv2.seed_steps": fill + 1, **sets})
    seed_everything(0, deterministic=False)
    envs = make_vec_env(cfg)
    agent = make_agent(cfg, envs, torch.device("cpu"))
    if name.endswith("(plain)"):
        make_plain(agent)
    agent.start(envs)
    cfg.drqv2.steps_per_iteration = agent.batch = fill
    t0 = time.perf_counter()
    agent.iterate(envs)  # random actions, replay inserts, stored embeddings; no updates yet
    sps = fill / (time.perf_counter() - t0)
    return agent, envs, sps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", default="256,1024", help="batch sizes, comma-separated")
    ap.add_argument("--rounds", type=int, default=5, help="timed updates per explorer and batch")
    ap.add_argument("--fill", type=int, default=600, help="environment steps before updating")
    ap.add_argument("--image", type=int, default=84, help="image size")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--official", action="store_true", help="also MIMEx on the conv encoder's output (official)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 32x32 images, batch 32, 2 rounds")
    ap.add_argument("--profile", metavar="EXPLORER", help="cProfile of 3 updates of this explorer at the first batch size")
    ap.add_argument("--out", help="write the results as JSON")
    a = ap.parse_args()
    if a.quick:
        a.batches, a.rounds, a.fill, a.image = "32", 2, 120, 32
    if a.threads:
        torch.set_num_threads(a.threads)
    batches = [int(b) for b in a.batches.split(",")]
    variants = {**VARIANTS, **(OFFICIAL if a.official else {})}
    if a.profile:
        variants = {a.profile: {**VARIANTS, **OFFICIAL}[a.profile]}
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}, "
          f"image {a.image}x{a.image}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        agents = {v: build(v, s, a.image, a.fill, tmp) for v, s in variants.items()}
        if a.profile:
            agent = agents[a.profile][0]
            agent.cfg.drqv2.batch_size = batches[0]
            agent.update()
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(3):
                agent.update()
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
            return
        times = {(v, b): [] for v in variants for b in batches}
        for b in batches:
            for v, (agent, _, _) in agents.items():  # warm-up at this batch size
                agent.cfg.drqv2.batch_size = b
                timed_update(v, agent)
            for _ in range(a.rounds):
                for v, (agent, _, _) in agents.items():
                    times[(v, b)].append(timed_update(v, agent))
        for _, envs, _ in agents.values():
            envs.close()
    rows = []
    print("\n| explore | env steps/s | " + " | ".join(f"s/update @{b} | updates/s @{b} | x none @{b}" for b in batches) + " |")
    print("|---|---|" + "---|---|---|" * len(batches))
    for v in variants:
        cells, row = [], {"explore": v, "env_steps_per_s": agents[v][2]}
        for b in batches:
            base_name = "none bf16" if "bf16" in v else "none"
            med, base = statistics.median(times[(v, b)]), statistics.median(times[(base_name, b)])
            cells.append(f"{med:.3f} | {1 / med:.2f} | {med / base:.2f}")
            row[f"s_per_update_{b}"] = med
        rows.append(row)
        print(f"| {v} | {agents[v][2]:.1f} | " + " | ".join(cells) + " |")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
