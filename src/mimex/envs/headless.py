"""Choose MuJoCo's OpenGL back end before ``mujoco`` is first imported.

MuJoCo reads ``MUJOCO_GL`` once, at import. Without a display, its default (GLFW) cannot
render, so the MuJoCo-based suites call :func:`choose_gl` first: a value the user set is
kept; otherwise EGL (GPU or Mesa, fast) when ``libEGL`` can be found, else GLFW on a desktop
(``DISPLAY`` set), else OSMesa (pure software, slower). ``PYOPENGL_PLATFORM`` follows for
EGL and OSMesa, as dm_control needs it to match. Finding ``libEGL`` does not prove that an
EGL display opens (a container without a GPU driver or Mesa's EGL): if rendering then fails
at the first frame, set ``MUJOCO_GL=osmesa``.
"""

from __future__ import annotations

import ctypes.util
import os


def choose_gl() -> str:
    """Set ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``) if unset; returns the back end in use."""
    backend = os.environ.get("MUJOCO_GL")
    if backend is None:
        if ctypes.util.find_library("EGL"):
            backend = "egl"
        else:
            backend = "glfw" if os.environ.get("DISPLAY") else "osmesa"
        os.environ["MUJOCO_GL"] = backend
    if backend in ("egl", "osmesa"):
        os.environ.setdefault("PYOPENGL_PLATFORM", backend)
    return backend
