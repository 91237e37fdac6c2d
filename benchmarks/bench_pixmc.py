"""Environment steps per second of the PixMC tasks on MuJoCo (CPU, one process).

Usage: MUJOCO_GL=egl python benchmarks/bench_pixmc.py [--task reach] [--steps 300]
       [--envs 1 16] [--robots franka kuka]
Random actions in [-1, 1], auto-resets included; "pixels" = 64x64 egocentric RGB rendered
every step for every env (one shared mujoco.Renderer). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from mimex.envs.pixmc import PixmcVecEnv


def measure(robot: str, task: str, num_envs: int, obs: str, steps: int, image_size: int = 64) -> float:
    """Env steps per second (all envs counted) over ``steps`` vector steps after a warm-up."""
    vec = PixmcVecEnv(robot, task, num_envs, reward="sparse", obs=obs, seed=0, image_size=image_size)
    rng = np.random.default_rng(0)
    vec.reset()
    shape = vec.action_space.shape
    for _ in range(5):
        vec.step(rng.uniform(-1, 1, shape))
    t0 = time.perf_counter()
    for _ in range(steps):
        vec.step(rng.uniform(-1, 1, shape))
    dt = time.perf_counter() - t0
    vec.close()
    return steps * num_envs / dt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--task", default="reach", choices=["reach", "cabinet", "pick", "move"])
    p.add_argument("--steps", type=int, default=300, help="vector steps per measurement (state)")
    p.add_argument("--envs", type=int, nargs="+", default=[1, 16])
    p.add_argument("--robots", nargs="+", default=["franka", "kuka"])
    args = p.parse_args()
    print(f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}, load average before: {os.getloadavg()[0]:.2f}")
    print("| robot | task | envs | state steps/s | 64x64 pixels steps/s |")
    print("|---|---|---|---|---|")
    for robot in args.robots:
        for n in args.envs:
            state = measure(robot, args.task, n, "state", max(args.steps // n, 20))
            pix = measure(robot, args.task, n, "pixels", max(args.steps // (2 * n), 10))
            print(f"| {robot} | {args.task} | {n} | {state:,.0f} | {pix:,.0f} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
