"""Shared test set-up: headless rendering and small thread counts for 2-core machines."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

import torch  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))
