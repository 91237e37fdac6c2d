"""The OpenGL back end is chosen before MuJoCo loads: the user's choice, else EGL, else OSMesa."""

import ctypes.util

import pytest

from mimex.envs import headless


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    return monkeypatch


def _libs(*found):
    return lambda name: f"lib{name}.so" if name in found else None


def test_a_value_the_user_set_is_kept(clean_env):
    clean_env.setenv("MUJOCO_GL", "osmesa")
    clean_env.setattr(ctypes.util, "find_library", _libs("EGL"))
    assert headless.choose_gl() == "osmesa"
    import os
    assert os.environ["PYOPENGL_PLATFORM"] == "osmesa"


def test_egl_when_found_else_osmesa(clean_env):
    import os
    clean_env.setattr(ctypes.util, "find_library", _libs("EGL"))
    assert headless.choose_gl() == "egl" and os.environ["PYOPENGL_PLATFORM"] == "egl"
    clean_env.delenv("MUJOCO_GL")
    clean_env.delenv("PYOPENGL_PLATFORM")
    clean_env.setattr(ctypes.util, "find_library", _libs())
    assert headless.choose_gl() == "osmesa" and os.environ["MUJOCO_GL"] == "osmesa"


def test_a_desktop_without_egl_uses_glfw(clean_env):
    clean_env.setenv("DISPLAY", ":0")
    clean_env.setattr(ctypes.util, "find_library", _libs())
    assert headless.choose_gl() == "glfw"
