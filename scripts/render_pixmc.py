"""Render a third-person and an egocentric picture of every PixMC task into docs/img/pixmc/.

Usage: MUJOCO_GL=egl python scripts/render_pixmc.py [--out docs/img/pixmc] [--size 224]
       [--robots franka kuka] [--steps N]
Each task is reset with seed 0 and, with --steps > 0, driven by its scripted policy for N steps
first, so the pictures show the task in progress.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mujoco
import numpy as np
from PIL import Image

from mimex.envs.pixmc.env import PixmcEnv
from mimex.envs.pixmc.scripted import scripted_policy

TASKS = ("reach", "cabinet", "pick", "move")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="docs/img/pixmc")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--robots", nargs="+", default=["franka", "kuka"])
    p.add_argument("--steps", type=int, default=40)
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for robot in args.robots:
        for task in TASKS:
            env = PixmcEnv(robot, task, obs="state", seed=0, image_size=args.size)
            obs, _ = env.reset()
            try:
                policy = scripted_policy(env)
            except NotImplementedError:          # no oracle yet: hold the default pose
                def policy(_obs, n=env.action_space.shape[0]):
                    return np.zeros(n, np.float32)
            for _ in range(args.steps):
                obs, *_ = env.step(policy(obs))
            renderer = mujoco.Renderer(env.model, args.size, args.size)
            third = env.render_camera("third_person", renderer)
            ego = env.render_camera(env.info.camera, renderer)
            renderer.close()
            env.close()
            name = f"{robot}_{task}"
            Image.fromarray(np.concatenate([third, ego], axis=1)).save(out / f"{name}.png")
            print(f"wrote {out / name}.png (left: third person, right: egocentric)")


if __name__ == "__main__":
    main()
