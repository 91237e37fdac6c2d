"""Environment steps per second of the PixMC tasks on MuJoCo (CPU, one process), old path vs
new path side by side.

Usage: MUJOCO_GL=egl python benchmarks/bench_pixmc.py [--task reach] [--repeats 3]
       [--cells pix1 state512] [--robots franka kuka] [--path both|old|new]

Paths:
    old: what the runner used before issue 10: the generic ``mimex.envs.vector.VecEnv`` over
        ``make_env`` (one env after the other; each env compiles its own model and opens its
        own ``mujoco.Renderer``), MuJoCo's default capsule tessellation (28 slices, 16 stacks,
        4 quads).
    new: ``PixmcRunnerVecEnv`` (what ``make_vec_env`` gives for ``pixmc/*`` now): one shared
        model with coarse tessellation, one ``BatchRenderer`` (16 envs per GL pass), physics in
        ``MIMEX_PIXMC_THREADS`` threads (default: the CPU count).
Cells: ``pix1`` = one env, 64x64 ego pixels (+ proprioception); ``pix64`` = 64 envs with
pixels; ``state512`` = 512 envs, state observations. Random actions in [-1, 1], auto-resets
included. Both paths are built once, then timed in ABBA order (old, new, new, old, ...);
prints per-cell medians, spread (min-max) and the median of the per-round new/old ratios.
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
from mimex.envs.vector import VecEnv  # noqa: E402

MUJOCO_DEFAULT_TESSELLATION = {"numslices": 28, "numstacks": 16, "numquads": 4}
CELLS = {"pix1": (1, "pixels+state"), "pix64": (64, "pixels+state"), "state512": (512, "state")}


def old_tessellation(model) -> None:
    """MuJoCo's default tessellation (before the first render context of ``model``)."""
    for k, v in MUJOCO_DEFAULT_TESSELLATION.items():
        setattr(model.vis.quality, k, v)


def build(path: str, name: str, num_envs: int, obs: str):
    """A runner vector env of ``num_envs`` copies of ``name`` on the old or the new path."""
    if path == "old":
        vec = VecEnv([lambda i=i: make_env(name, obs=obs, seed=i) for i in range(num_envs)])
        for env in vec.envs:
            old_tessellation(env.model)
        return vec

    def make(i, model):
        return make_env(name, obs=obs, seed=i, **({} if model is None else {"model": model}))

    return PixmcRunnerVecEnv(make, num_envs)


def time_steps(vec, rng: np.random.Generator, steps: int) -> float:
    """Env steps per second (all envs counted) over ``steps`` vector steps."""
    shape = (vec.num_envs, *vec.single_action_space.shape)
    actions = rng.uniform(-1, 1, (steps, *shape))
    t0 = time.perf_counter()
    for a in actions:
        vec.step(a)
    return steps * vec.num_envs / (time.perf_counter() - t0)


def measure_cell(name: str, num_envs: int, obs: str, repeats: int, env_steps: int,
                 paths: list[str]) -> dict[str, list[float]]:
    vecs = {p: build(p, name, num_envs, obs) for p in paths}
    rng = np.random.default_rng(0)
    steps = max(env_steps // num_envs, 10)
    for vec in vecs.values():
        vec.reset()
        time_steps(vec, rng, 3)  # warm-up (first renders, thread pool)
    out: dict[str, list[float]] = {p: [] for p in paths}
    for r in range(repeats):
        order = paths if r % 2 == 0 else paths[::-1]  # ABBA
        for p in order:
            out[p].append(time_steps(vecs[p], rng, steps))
    for vec in vecs.values():
        vec.close()
    return out


def fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):,.0f} ({min(xs):,.0f}-{max(xs):,.0f})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="reach", choices=["reach", "cabinet", "pick", "move"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--env-steps", type=int, default=3000, help="env steps per timed segment (pixels)")
    p.add_argument("--state-env-steps", type=int, default=20000, help="env steps per timed segment (state)")
    p.add_argument("--cells", nargs="+", default=["pix1", "state512"], choices=list(CELLS))
    p.add_argument("--robots", nargs="+", default=["franka", "kuka"])
    p.add_argument("--path", default="both", choices=["both", "old", "new"])
    args = p.parse_args()
    paths = ["old", "new"] if args.path == "both" else [args.path]
    print(f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}, physics threads (new path): "
          f"{os.environ.get('MIMEX_PIXMC_THREADS', os.cpu_count())}, load average before: "
          f"{os.getloadavg()[0]:.2f}")
    print("| robot | task | cell | " + " | ".join(f"{q} steps/s median (min-max)" for q in paths)
          + (" | new/old (median of rounds) |" if len(paths) == 2 else " |"))
    print("|---|---|---|" + "---|" * len(paths) + ("---|" if len(paths) == 2 else ""))
    for robot in args.robots:
        name = f"pixmc/{robot.capitalize()}{args.task.capitalize()}"
        for cell in args.cells:
            n, obs = CELLS[cell]
            steps = args.state_env_steps if obs == "state" else args.env_steps
            res = measure_cell(name, n, obs, args.repeats, steps, paths)
            row = f"| {robot} | {args.task} | {cell} | " + " | ".join(fmt(res[q]) for q in paths)
            if len(paths) == 2:
                ratios = [b / a for a, b in zip(res["old"], res["new"], strict=True)]
                row += f" | {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            print(row + " |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
