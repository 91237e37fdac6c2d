"""PixMC rewards of 512 environments per step: the per-env functions (``rewards.py``, one
call per env, as every task but Reach ran before) vs the batched ones (``batch_rewards.py``,
what ``PixmcRunnerVecEnv`` runs now), side by side on the same states and actions.

Usage::

    python benchmarks/bench_pixmc_rewards.py [--num-envs 512] [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from mimex.envs.pixmc.vector import PixmcVecEnv

TASKS = [("franka", "reach"), ("kuka", "reach"), ("franka", "cabinet"), ("kuka", "cabinet"),
         ("franka", "pick"), ("kuka", "pick"), ("franka", "move"), ("kuka", "move")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-envs", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=30)
    a = ap.parse_args()
    print("| task | per-env ms / step | batched ms / step | per-env / batched |")
    print("|---|---|---|---|")
    for robot, task in TASKS:
        env = PixmcVecEnv(robot, task, a.num_envs, obs="state", seed=0, threads=1)
        env.reset()
        rng = np.random.default_rng(0)
        for _ in range(3):  # move off the reset pose
            env.step(rng.uniform(-1, 1, env.action_space.shape))
        act = rng.uniform(-1, 1, env.action_space.shape)
        ts: dict[str, list[float]] = {"per-env": [], "batched": []}
        for r in range(a.repeats):
            for how in (("per-env", "batched") if r % 2 == 0 else ("batched", "per-env")):
                t0 = time.perf_counter()
                if how == "per-env":
                    for i, e in enumerate(env.envs):
                        e._reward_and_flags(act[i])
                else:
                    env._task_rewards(act)
                ts[how].append(time.perf_counter() - t0)
        old, new = (statistics.median(ts[k]) * 1e3 for k in ("per-env", "batched"))
        print(f"| {robot} {task} | {old:.2f} | {new:.2f} | {old / new:.1f}x |", flush=True)
        env.close()


if __name__ == "__main__":
    main()
