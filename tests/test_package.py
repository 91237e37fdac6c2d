"""The installed package: public names, console script, version pins that matter."""

import subprocess
import sys
from pathlib import Path

import tomllib

import mimex
import mimex.explore
from mimex.explore import list_explorers, make_explorer

ROOT = Path(__file__).resolve().parents[1]


def test_public_names_exist():
    assert set(mimex.explore.__all__) >= {"make_explorer", "list_explorers", "SequenceTracker"}
    from mimex.envs import list_envs, make_env  # noqa: F401

    assert sorted(list_explorers()) == ["icm", "mimex", "none", "rnd"]
    assert isinstance(mimex.__version__, str)


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "mimex.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for cmd in ("train", "eval", "check-env", "sweep", "plot", "report", "bench", "pretrain-encoder"):
        assert cmd in out.stdout


def test_pins_that_are_known_to_matter():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = " ".join(meta["dependencies"] + sum(meta["optional-dependencies"].values(), []))
    assert "mujoco==3.17.*" in deps and "dm_control==1.0.50" in deps
    assert "pandas>=2,<3" in deps and "opencv-python-headless" in deps
    assert meta["scripts"]["mimex"] == "mimex.cli:main"


def test_explorer_runs_on_the_documented_example():
    import torch

    ex = make_explorer("mimex", input_dim=8, seq_len=5, mask_ratio=0.7, n_masks=1, mask="uniform")
    r = ex.reward(torch.zeros(3, 5, 8))
    assert r.shape == (3,) and r.dtype == torch.float32 and (r >= 0).all()
