"""PixMC render pass size: environment steps per second of ``PixmcRunnerVecEnv`` (random
actions, pixels+state FrankaReach) with ``render_batch`` envs drawn per GL pass, on a grid of
up to ``GRID_COLS`` (16) viewports per row. All sizes built in one process and timed
interleaved (ABBA), median of rounds 2-4 of 16 steps each.

Usage::

    python benchmarks/bench_render_pass.py --num-envs 512 --sizes 16 64 128
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from mimex.envs import make_env  # noqa: E402
from mimex.envs.pixmc.vector import PixmcRunnerVecEnv  # noqa: E402


def build(num_envs: int, render_batch: int, env: str) -> PixmcRunnerVecEnv:
    def make(i, model):
        extra = {} if model is None else {"model": model}
        return make_env(env, reward="sparse", obs="pixels+state", seed=i, **extra)

    vec = PixmcRunnerVecEnv(make, num_envs, render_batch=render_batch)
    vec.reset()
    return vec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-envs", type=int, default=512)
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 128])
    ap.add_argument("--env", default="pixmc/FrankaReach")
    ap.add_argument("--rounds", type=int, default=4)
    a = ap.parse_args()
    envs = {k: build(a.num_envs, k, a.env) for k in a.sizes}
    rng = np.random.default_rng(0)
    n_act = envs[a.sizes[0]].single_action_space.shape[0]
    sps: dict[int, list[float]] = {k: [] for k in a.sizes}
    for r in range(a.rounds):
        for k in (a.sizes if r % 2 == 0 else a.sizes[::-1]):
            t0 = time.perf_counter()
            for _ in range(16):
                envs[k].step(rng.uniform(-1, 1, (a.num_envs, n_act)).astype(np.float32))
            sps[k].append(16 * a.num_envs / (time.perf_counter() - t0))
    for k in a.sizes:
        print(f"| {a.env} | {a.num_envs} envs | {k} per pass | {statistics.median(sps[k][1:]):,.0f} steps/s "
              f"({min(sps[k][1:]):,.0f}-{max(sps[k][1:]):,.0f}) |", flush=True)
        envs[k].close()
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
