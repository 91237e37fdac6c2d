"""Whole-training-loop speed: environment steps per second of PPO with each bonus.

For one state task and one pixel task, builds PPO agents with explore in
{none, mimex nm1, mimex nm5, icm, rnd} and times full iterations (rollout, bonus,
explorer training, PPO update) interleaved round-robin, so that load from other
processes hits every configuration alike. Reports the median steps/s per configuration
and its ratio to ``none`` (the paper: MIMEx nm1 costs +2% wall-clock, nm5 +18%).

Usage::

    python benchmarks/bench_training.py                       # both tasks, ~5 minutes
    python benchmarks/bench_training.py --quick               # smoke run
    python benchmarks/bench_training.py --markdown --out results.json
    python benchmarks/bench_training.py --profile "mimex nm1"   # cProfile of 5 pixel-task iterations
    python benchmarks/bench_training.py --compare pix64 state512 pix512 --rounds 3
        # issue 10: PixMC old path vs new path (generic VecEnv + per-env renderers vs
        # PixmcRunnerVecEnv), ABBA-interleaved, median and spread
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import torch  # noqa: E402

from mimex.agents.ppo import PPOAgent  # noqa: E402
from mimex.config.overrides import resolve_config  # noqa: E402
from mimex.run.train import make_vec_env, seed_everything  # noqa: E402

VARIANTS = {
    "none": ["explore.name=none"],
    "mimex nm1": ["explore.name=mimex", "explore.mimex.n_masks=1"],
    "mimex nm5": ["explore.name=mimex", "explore.mimex.n_masks=5"],
    # the trained fraction (issue 10): score every sequence, learn from a quarter of them
    "mimex nm1 p0.25": ["explore.name=mimex", "explore.mimex.n_masks=1", "explore.mimex.update_proportion=0.25"],
    "mimex nm5 p0.25": ["explore.name=mimex", "explore.mimex.n_masks=5", "explore.mimex.update_proportion=0.25"],
    "icm": ["explore.name=icm"],
    "rnd": ["explore.name=rnd"],
    # ppo.compile: the minibatch loss through torch.compile (issue 10)
    "none compiled": ["explore.name=none", "ppo.compile=true"],
    "mimex nm1 compiled": ["explore.name=mimex", "explore.mimex.n_masks=1", "ppo.compile=true"],
}
BASE_VARIANTS = [v for v in VARIANTS if "compiled" not in v]  # bench_task's table


def build(env: str, obs: str, variant: str, num_envs: int, num_steps: int, device: str,
          path: str = "new", preset: str | None = None):
    """A started PPO agent and its envs. ``path="old"``: the PixMC envs as before issue 10
    (the generic VecEnv, one renderer per env, MuJoCo's default capsule tessellation);
    ``"new"``: what ``make_vec_env`` gives now (``PixmcRunnerVecEnv`` for ``pixmc/*``)."""
    sets = [f"env.name={env}", f"env.obs={obs}", f"env.num_envs={num_envs}",
            f"ppo.num_steps={num_steps}", f"device={device}", *VARIANTS[variant]]
    if preset is None:
        sets += ["ppo.minibatches=4", "ppo.epochs=4"]
    cfg = resolve_config(preset, {"progress": False}, sets)
    seed_everything(0, deterministic=False)
    if path == "old":
        os.environ["MIMEX_PIXMC_VECTOR"] = "0"
        try:
            envs = make_vec_env(cfg)
        finally:
            del os.environ["MIMEX_PIXMC_VECTOR"]
        if env.startswith("pixmc/"):
            from bench_pixmc import old_tessellation
            for e in envs.envs:
                old_tessellation(e.unwrapped.model)
    else:
        envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, torch.device(device))
    agent.start(envs)
    return agent, envs


# The issue-10 rows: (label, env, obs, explore variant, envs, steps per env, paths).
COMPARE_ROWS = {
    "pix64": [("pixels+state FrankaReach 64x32", "pixmc/FrankaReach", "pixels+state", v, 64, 32)
              for v in ("none", "none compiled", "mimex nm1", "mimex nm1 compiled")],
    "pix512": [("pixels+state FrankaReach 512x32", "pixmc/FrankaReach", "pixels+state", v, 512, 32)
               for v in ("none", "none compiled", "mimex nm1", "mimex nm1 p0.25")],
    "state512": [("state FrankaReach 512x32", "pixmc/FrankaReach", "state", v, 512, 32)
                 for v in ("none", "none compiled", "mimex nm1", "mimex nm1 compiled", "mimex nm5",
                           "mimex nm1 p0.25", "mimex nm5 p0.25")],
}


def compare(groups: list[str], rounds: int, device: str, paths: list[str],
            variants: list[str] | None = None) -> list[dict]:
    """Old path vs new path, whole PPO iterations with the ``pixmc`` preset (the paper's
    PixMC setting: PPO 10 epochs x 4 minibatches, frozen 384-d image features), timed in ABBA order per row: one warm-up iteration each, then ``rounds``
    rounds. Returns one dict per (row, path) with every round's steps/s."""
    out = []
    for g in groups:
        for label, env, obs, variant, n, steps in COMPARE_ROWS[g]:
            if variants and variant not in variants:
                continue
            runs = {p: build(env, obs, variant, n, steps, device, p, preset="pixmc")
                    for p in paths}
            for agent, envs in runs.values():
                agent.iterate(envs)
            sps: dict[str, list[float]] = {p: [] for p in paths}
            for r in range(rounds):
                for p in (paths if r % 2 == 0 else paths[::-1]):
                    agent, envs = runs[p]
                    t0 = time.perf_counter()
                    agent.iterate(envs)
                    sps[p].append(n * steps / (time.perf_counter() - t0))
            for _, envs in runs.values():
                envs.close()
            row = {"row": label, "explore": variant, "sps": sps, "load": os.getloadavg()[0]}
            med = {p: statistics.median(v) for p, v in sps.items()}
            text = " | ".join(f"{p} {med[p]:,.0f} ({min(sps[p]):,.0f}-{max(sps[p]):,.0f})" for p in paths)
            if len(paths) == 2:
                ratios = [b / a for a, b in zip(sps["old"], sps["new"], strict=True)]
                row["ratio"] = ratios
                text += f" | new/old {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            print(f"| {label} | {variant} | {text} | load {row['load']:.1f} |", flush=True)
            out.append(row)
    return out


def bench_task(env: str, obs: str, rounds: int, num_envs: int, num_steps: int, device: str) -> dict:
    runs = {v: build(env, obs, v, num_envs, num_steps, device) for v in BASE_VARIANTS}
    for agent, envs in runs.values():  # warm-up iteration
        agent.iterate(envs)
    times: dict[str, list[float]] = {v: [] for v in BASE_VARIANTS}
    for r in range(rounds):
        for v, (agent, envs) in runs.items():
            t0 = time.perf_counter()
            agent.iterate(envs)
            times[v].append(time.perf_counter() - t0)
        print(f"  {env} ({obs}) round {r + 1}/{rounds}", flush=True)
    batch = num_envs * num_steps
    sps = {v: batch / statistics.median(t) for v, t in times.items()}
    for _, envs in runs.values():
        envs.close()
    return {v: {"sps": s, "ratio_to_none": s / sps["none"],
                "wall_clock_overhead_pct": 100.0 * (sps["none"] / s - 1.0)} for v, s in sps.items()}


def profile(env: str, obs: str, variant: str, num_envs: int, num_steps: int, device: str) -> None:
    """cProfile of 5 iterations of one configuration (after a warm-up one), top 25 by time."""
    import pstats

    agent, envs = build(env, obs, variant, num_envs, num_steps, device)
    agent.iterate(envs)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        agent.iterate(envs)
    prof.disable()
    envs.close()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--state-env", default="toy/Corridor")
    ap.add_argument("--pixel-env", default="dmc/cartpole_swingup_sparse")
    ap.add_argument("--pixel-obs", default="pixels")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--num-envs", type=int, default=16)
    ap.add_argument("--num-steps", type=int, default=64)
    ap.add_argument("--pixel-num-steps", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 rounds of small rollouts")
    ap.add_argument("--skip-pixels", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--profile", choices=list(VARIANTS), help="profile this variant on the pixel task instead")
    ap.add_argument("--compare", nargs="+", choices=list(COMPARE_ROWS),
                    help="issue-10 rows: old vs new PixMC path side by side (ABBA), e.g. "
                         "--compare pix64 state512 pix512")
    ap.add_argument("--paths", nargs="+", default=["old", "new"], choices=["old", "new"],
                    help="with --compare: which paths (pix512 old opens one GL context per env)")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS),
                    help="with --compare: only these explore variants of the rows")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.compare:
        print(f"torch threads {a.threads}, load average before {os.getloadavg()[0]:.2f}; "
              "cells: median steps/s (min-max) over rounds")
        rows = compare(a.compare, a.rounds, a.device, a.paths, a.variants)
        if a.out:
            with open(a.out, "w") as f:
                json.dump(rows, f, indent=2)
        print(f"load average after {os.getloadavg()[0]:.2f}")
        return
    if a.profile:
        profile(a.pixel_env, a.pixel_obs, a.profile, a.num_envs, a.pixel_num_steps, a.device)
        return
    if a.quick:
        a.rounds, a.num_envs, a.num_steps, a.pixel_num_steps = 2, 4, 16, 8
    tasks = [(a.state_env, "state", a.num_steps)]
    if not a.skip_pixels:
        tasks.append((a.pixel_env, a.pixel_obs, a.pixel_num_steps))
    results = {"threads": a.threads, "device": a.device, "num_envs": a.num_envs,
               "rounds": a.rounds, "tasks": {}}
    for env, obs, steps in tasks:
        results["tasks"][f"{env} ({obs})"] = bench_task(env, obs, a.rounds, a.num_envs, steps, a.device)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2)
    for task, rows in results["tasks"].items():
        if a.markdown:
            print(f"\n**{task}**, {a.num_envs} envs\n\n| explore | env steps/s | ratio to none | wall-clock overhead |")
            print("|---|---|---|---|")
            for v, r in rows.items():
                print(f"| {v} | {r['sps']:.0f} | {r['ratio_to_none']:.3f} | {r['wall_clock_overhead_pct']:+.1f}% |")
        else:
            print(f"\n{task}")
            for v, r in rows.items():
                print(f"  {v:<10} {r['sps']:8.0f} steps/s  ratio {r['ratio_to_none']:.3f}  "
                      f"overhead {r['wall_clock_overhead_pct']:+.1f}%")


if __name__ == "__main__":
    main()
