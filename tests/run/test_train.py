"""The training runner: run directory, determinism, exact resume, errors, NaN guard."""

import json
import math

import pytest
import torch

from mimex.agents import ppo as ppo_module
from mimex.errors import CheckpointError, ConfigError
from mimex.explore import list_explorers
from mimex.run.evaluate import evaluate
from mimex.run.logger import read_metrics
from mimex.run.train import make_vec_env, train


def _strip_timing(rows):
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


def test_run_directory_holds_every_promised_file(tiny_config, tmp_path):
    cfg = tiny_config()
    summary = train(cfg)
    run = tmp_path / "run"
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"} <= names
    assert any(n.startswith("events.out.tfevents") for n in names)
    rows = read_metrics(run)
    assert [r["step"] for r in rows] == list(range(32, 257, 32))
    assert all({"step", "explore/reward_mean", "perf/sps"} <= set(r) for r in rows)
    assert any("charts/episodic_return" in r and "charts/success_rate" in r for r in rows)
    saved = json.loads((run / "config.json").read_text())
    assert saved["explore"]["name"] == "mimex" and saved["steps"] == 256
    on_disk = json.loads((run / "summary.json").read_text())
    assert on_disk["step"] == summary["step"] == 256
    assert on_disk["wall_clock_s"] > 0 and on_disk["peak_rss_mib"] > 0


@pytest.mark.parametrize("explore", list_explorers())
@pytest.mark.parametrize("discrete", [False, True])
def test_every_explorer_trains_with_continuous_and_discrete_actions(tiny_config, explore, discrete):
    cfg = tiny_config(name=f"{explore}-{discrete}", explore=explore, steps=96,
                      **{"env.options": {"discrete": discrete}})
    train(cfg)
    rows = read_metrics(cfg.run_dir)
    for r in rows:
        assert all(math.isfinite(v) for v in r.values() if isinstance(v, float)), r
    if explore != "none":
        assert rows[-1]["explore/reward_mean"] > 0


def test_same_seed_gives_identical_metrics(tiny_config):
    a = train(tiny_config(name="a"))
    b = train(tiny_config(name="b"))
    assert a["step"] == b["step"]
    assert _strip_timing(read_metrics(a["run_dir"])) == _strip_timing(read_metrics(b["run_dir"]))
    c = train(tiny_config(name="c", seed=1))
    assert _strip_timing(read_metrics(c["run_dir"])) != _strip_timing(read_metrics(a["run_dir"]))


@pytest.mark.parametrize(("explore", "sets"), [
    ("mimex", ()), ("rnd", ()),
    # every normaliser's running state (and the per-env returns) round-trips; clipped rewards
    ("icm", ("explore.icm.reward_norm=return", "ppo.reward_clip=0.5")),
    ("mimex", ("explore.mimex.reward_norm=return",)),
])
def test_stopped_and_resumed_run_equals_uninterrupted_run(tiny_config, explore, sets):
    """Train 256 steps straight vs 128 + resume to 256: identical metrics (timings aside)."""
    straight = train(tiny_config(name="straight", explore=explore, steps=256, sets=sets))
    train(tiny_config(name="resumed", explore=explore, steps=128, sets=sets))
    resumed = train(tiny_config(name="resumed", explore=explore, steps=256, sets=sets))
    assert resumed["step"] == 256
    assert _strip_timing(read_metrics(resumed["run_dir"])) == _strip_timing(read_metrics(straight["run_dir"]))


def test_a_run_with_a_longer_schedule_is_the_longer_runs_prefix_and_extends_exactly(tiny_config):
    """``ppo.schedule_steps`` = a longer budget: the lr schedule and beta anneal span that
    budget, so a short run is the long run's beginning and resuming it with the larger
    --steps gives the long run exactly; without it, a short run compresses the schedule."""
    sets = ["ppo.lr_schedule=cos", "explore.beta_anneal=true"]
    long = train(tiny_config(name="long", steps=256, sets=sets))
    train(tiny_config(name="prefix", steps=128, sets=[*sets, "ppo.schedule_steps=256"]))
    extended = train(tiny_config(name="prefix", steps=256, sets=[*sets, "ppo.schedule_steps=256"]))
    assert extended["step"] == 256
    assert _strip_timing(read_metrics(extended["run_dir"])) == _strip_timing(read_metrics(long["run_dir"]))
    short = read_metrics(train(tiny_config(name="short", steps=128, sets=sets))["run_dir"])
    half = [r for r in read_metrics(long["run_dir"]) if r["step"] <= 128]
    assert short[-1]["charts/learning_rate"] < 0.1 * half[-1]["charts/learning_rate"]
    assert short[-1]["explore/beta"] < half[-1]["explore/beta"]


def test_resuming_to_another_total_is_refused_where_the_schedule_spans_the_run(tiny_config):
    """A cosine lr over the run's own steps would jump back up if the total grew part-way:
    refused with the fix, allowed (and warned about) with allow_inexact_resume."""
    sets = ["ppo.lr_schedule=cos"]
    train(tiny_config(name="c", steps=64, sets=sets))
    with pytest.raises(CheckpointError, match=r"started with steps=64 .* ppo.schedule_steps"):
        train(tiny_config(name="c", steps=128, sets=sets))
    assert train(tiny_config(name="c", steps=128, sets=sets), allow_inexact_resume=True)["step"] == 128
    with pytest.raises(ConfigError, match=r"ppo.schedule_steps=64 is below steps=128"):
        tiny_config(name="d", steps=128, sets=[*sets, "ppo.schedule_steps=64"])


def test_resume_with_another_config_names_both_values(tiny_config):
    train(tiny_config(name="r", steps=64))
    with pytest.raises(CheckpointError, match=r"ppo.lr: checkpoint has 0.0003, config has 0.001"):
        train(tiny_config(name="r", steps=128, sets=["ppo.lr=1e-3"]))


def test_corrupt_checkpoint_is_a_clear_error_and_keeps_metrics(tiny_config, tmp_path):
    train(tiny_config(name="c", steps=64))
    run = tmp_path / "c"
    before = (run / "metrics.jsonl").read_text()
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint .* truncated or corrupt"):
        train(tiny_config(name="c", steps=128))
    assert (run / "metrics.jsonl").read_text() == before


def test_nan_reward_stops_the_run_naming_step_and_metric(tiny_config, tmp_path):
    cfg = tiny_config(name="nan", **{"env.options": {"nan_at": 20}})
    # Each env's 20th step falls in iteration 2 (16 steps x 2 envs each), at rollout index 3.
    with pytest.raises(FloatingPointError, match=r"extrinsic reward of env 0 is not finite \(nan\) at environment step 40"):
        train(cfg)
    assert (tmp_path / "nan" / "debug-checkpoint.pt").exists()


def test_intrinsic_bonus_reaches_the_advantages(tiny_config, monkeypatch):
    """The rewards entering GAE are r_ext + beta * r_int (bootstrapped where truncated)."""
    cfg = tiny_config(sets=["explore.beta=0.5"])
    envs = make_vec_env(cfg)
    agent = ppo_module.PPOAgent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    def constant_reward(explorer):
        def reward(seq, actions=None, pad_mask=None, update=False, chunk_size=None):
            explorer.last_raw = torch.full((seq.shape[0],), 2.0)
            return explorer.last_raw.clone()
        return reward

    agent.explorer.reward = constant_reward(agent.explorer)
    seen = {}
    real_gae = ppo_module.gae

    def spy(rewards, values, last_value, dones, gamma, lam):
        seen["rewards"] = rewards.clone()
        adv, ret = real_gae(rewards, values, last_value, dones, gamma, lam)
        seen["adv"] = adv
        return adv, ret

    monkeypatch.setattr(ppo_module, "gae", spy)
    agent.iterate(envs)
    # PointGoal's extrinsic reward is 0 unless the goal is reached: every reward is 0.5 * 2.0.
    assert torch.allclose(seen["rewards"], torch.full_like(seen["rewards"], 1.0))
    with_bonus = seen["adv"]
    cfg0 = tiny_config(name="zero", sets=["explore.beta=0.0"])
    agent0 = ppo_module.PPOAgent(cfg0, make_vec_env(cfg0), torch.device("cpu"))
    envs0 = make_vec_env(cfg0)
    agent0.start(envs0)
    agent0.explorer.reward = constant_reward(agent0.explorer)
    agent0.iterate(envs0)
    assert not torch.allclose(with_bonus, seen["adv"])


def test_pixmc_pixel_run_resumes_exactly(tiny_config):
    """The paper's benchmark resumes bit-exactly too: PixMC snapshots its MuJoCo state, so a
    stopped-and-resumed FrankaPick run with pixels logs what an uninterrupted one does."""
    env = {"env.name": "pixmc/FrankaPick", "env.obs": "pixels+state", "tensorboard": False}
    straight = train(tiny_config(name="straight", steps=128, **env))
    train(tiny_config(name="resumed", steps=64, **env))
    resumed = train(tiny_config(name="resumed", steps=128, **env))
    assert resumed["step"] == 128
    assert _strip_timing(read_metrics(resumed["run_dir"])) == _strip_timing(read_metrics(straight["run_dir"]))


def test_checkpoint_for_other_observation_shapes_is_a_clear_error(tiny_config):
    """A checkpoint whose policy inputs no longer match the env (e.g. the task changed between
    versions) names both shapes instead of failing inside torch."""
    from mimex.agents.ppo import PPOAgent

    cfg = tiny_config(name="shapes", explore="none")
    envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    sd = agent.state_dict()
    key = next(iter(sd["policy_in"]))
    sd["policy_in"][key] = torch.zeros(*sd["policy_in"][key].shape[:-1], sd["policy_in"][key].shape[-1] + 3)
    with pytest.raises(CheckpointError, match=r"written for per-step policy inputs .* now gives"):
        agent.load_state_dict(sd)
    envs.close()


def test_success_milestones_from_metric_rows():
    from mimex.run.train import success_milestones

    rows = [{"step": 64, "charts/step_success_rate": 0.0},
            {"step": 128, "charts/step_success_rate": 0.0, "charts/success_rate": 0.0},
            {"step": 192, "charts/step_success_rate": 0.01, "charts/success_rate": 0.25},
            {"step": 256, "charts/success_rate": 0.5}, {"step": 320, "charts/success_rate": 0.3}]
    assert success_milestones(rows) == {"first_success_step": 192, "best_success_rate": 0.5}
    assert success_milestones(rows[:2]) == {"first_success_step": None, "best_success_rate": 0.0}


@pytest.mark.parametrize("level", ["dense", "sparse"])
def test_pixmc_runs_log_the_dense_return_at_every_reward_level(tiny_config, level):
    """``charts/dense_return`` (the episodes' return under the dense reward) is logged beside
    the training return: equal to it at the dense level, and the dense measure (above the
    action-penalty-only sparse return) at the sparse level, so curricula compare on one scale."""
    out = train(tiny_config(name=level, steps=512, explore="none", tensorboard=False,
                            **{"env.name": "pixmc/KukaReach", "env.obs": "state", "env.reward": level}))
    rows = [r for r in read_metrics(out["run_dir"]) if "charts/episodes" in r]
    assert rows and all("charts/dense_return" in r for r in rows)
    for r in rows:
        if level == "dense":
            assert r["charts/dense_return"] == r["charts/episodic_return"]
        else:
            assert r["charts/dense_return"] > r["charts/episodic_return"]
    result = evaluate(out["run_dir"], episodes=2)
    if level == "dense":
        assert result["dense_return_mean"] == result["return_mean"]
    else:
        assert result["dense_return_mean"] > result["return_mean"]
