"""DrQ-v2 through the runner: every explorer on DMC pixels, exact resume with the replay,
evaluation during training and ``mimex eval`` of a drqv2 run."""

import json

import pytest
import torch

from mimex.config.overrides import resolve_config
from mimex.run.evaluate import evaluate
from mimex.run.logger import read_metrics
from mimex.run.train import train

DEBUG_DRQ = {"agent": "drqv2", "env.num_envs": 1, "threads": 1, "progress": False, "tensorboard": False,
             "drqv2.batch_size": 8, "drqv2.hidden_dim": 32, "drqv2.feature_dim": 16,
             "drqv2.seed_steps": 20, "drqv2.expl_steps": 20, "drqv2.steps_per_iteration": 20,
             "drqv2.replay_capacity": 200, "drqv2.eval_every": 0, "drqv2.stored_dim": 16,
             "explore.rnd.reward_norm": "none"}


@pytest.fixture(autouse=True)
def _keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def drq_config(run_dir, **overrides):
    return resolve_config("debug", {**DEBUG_DRQ, "run_dir": str(run_dir), **overrides})


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


@pytest.mark.parametrize(("explore", "explore_input"), [
    ("mimex", "stored"), ("icm", "encoder"), ("rnd", "actor_feat"), ("none", "auto")])
def test_every_explorer_runs_on_dmc_pixels(tmp_path, explore, explore_input):
    cfg = drq_config(tmp_path / "run", **{"env.name": "dmc/cartpole_swingup_sparse", "env.obs": "pixels",
                                          "env.options": {"image_size": 32}, "explore.name": explore,
                                          "drqv2.explore_input": explore_input, "steps": 40})
    summary = train(cfg)
    rows = read_metrics(cfg.run_dir)
    assert summary["step"] == 40 and rows[-1]["train/updates"] == 11  # at steps 20, 22, ..., 40
    assert all(v == v for r in rows for v in r.values() if isinstance(v, float))  # no NaN
    if explore != "none":
        assert rows[-1]["explore/reward_mean"] > 0 and rows[-1]["explore/bonus_mean"] > 0


def test_resume_is_exact_including_the_replay(tmp_path):
    sets = {"env.name": "testing/PointGoal", "env.obs": "pixels", "env.num_envs": 2,
            "env.options": {"horizon": 7}, "explore.name": "mimex", "drqv2.nstep": 3,
            "drqv2.replay_capacity": 40, "drqv2.eval_every": 40, "drqv2.eval_episodes": 2}
    straight = drq_config(tmp_path / "a", steps=120, **sets)
    train(straight)
    first = drq_config(tmp_path / "b", steps=60, **sets)
    train(first)
    replay_files = sorted(p.name for p in (tmp_path / "b" / "replay").glob("*.npz"))
    assert replay_files  # finished episodes were written once, append-only
    train(drq_config(tmp_path / "b", steps=120, **sets))
    a, b = read_metrics(tmp_path / "a"), read_metrics(tmp_path / "b")
    assert _strip(a) == _strip(b)
    assert any("eval/episodic_return" in r for r in a)
    ca = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)["agent"]["net"]
    cb = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["agent"]["net"]
    assert all(torch.equal(ca[k], cb[k]) for k in ca)
    result = evaluate(tmp_path / "b", episodes=2)
    assert result["episodes"] == 2 and result["step"] == 120
    assert json.loads((tmp_path / "b" / "eval.json").read_text())["episodes"] == 2


def test_drqv2_from_state_and_its_refusals(tmp_path):
    cfg = drq_config(tmp_path / "s", **{"env.name": "dmc/cartpole_swingup", "env.obs": "state",
                                        "explore.name": "icm", "steps": 30})
    assert train(cfg)["step"] == 30
    from mimex.errors import ConfigError

    with pytest.raises(ConfigError, match="reward_norm=step"):
        resolve_config("debug", {"agent": "drqv2", "explore.name": "rnd"})
    with pytest.raises(ConfigError, match="continuous"):
        train(drq_config(tmp_path / "d", **{"env.name": "testing/PointGoal", "env.options": {"discrete": True}}))
