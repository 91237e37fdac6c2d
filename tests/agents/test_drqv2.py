"""The DrQ-v2 agent: the exploration bonus enters the critic target, windows feed the
explorer, the surface the runner uses."""

import pytest
import torch

import mimex.agents.drqv2 as drqv2_module
from mimex.agents import make_agent
from mimex.config.overrides import resolve_config
from mimex.run.train import make_vec_env


def _agent(tmp_path, explore="mimex", **sets):
    cfg = resolve_config("debug", {
        "agent": "drqv2", "env.name": "testing/PointGoal", "env.num_envs": 1, "explore.name": explore,
        "explore.beta": 0.5, "run_dir": str(tmp_path), "drqv2.batch_size": 16, "drqv2.hidden_dim": 32,
        "drqv2.seed_steps": 10_000, "drqv2.steps_per_iteration": 60, "drqv2.eval_every": 0,
        "explore.rnd.reward_norm": "none", "steps": 1000, **sets})
    envs = make_vec_env(cfg)
    agent = make_agent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    agent.iterate(envs)  # 60 steps of random actions, no updates (seed_steps)
    return agent


@pytest.mark.parametrize("explore", ["mimex", "icm", "rnd"])
def test_bonus_reaches_the_critic_target(tmp_path, monkeypatch, explore):
    agent = _agent(tmp_path, explore)
    seen = {}
    real_reward, real_target = agent.explorer.reward, drqv2_module.critic_target

    def reward(seq, actions, pad, update, chunk_size):
        seen["seq"], seen["actions"] = seq, actions
        seen["r_int"] = real_reward(seq, actions, pad, update=update, chunk_size=chunk_size)
        return seen["r_int"]

    def target(reward, discount, q1, q2):
        seen["reward"] = reward
        return real_target(reward, discount, q1, q2)

    real_sample = agent.replay.sample

    def sample(*args, **kwargs):
        seen["batch"] = real_sample(*args, **kwargs)
        return seen["batch"]

    monkeypatch.setattr(agent.explorer, "reward", reward)
    monkeypatch.setattr(agent.replay, "sample", sample)
    monkeypatch.setattr(drqv2_module, "critic_target", target)
    n_before = agent.explorer.n_updates
    metrics = agent.update()
    r_ext = seen["batch"]["reward"]
    assert seen["r_int"].abs().sum() > 0
    assert torch.allclose(seen["reward"], r_ext + 0.5 * seen["r_int"])  # r = r_ext + beta * r_int
    assert agent.explorer.n_updates == n_before + 1  # one explorer step per update
    t = agent.cfg.explore.seq_len
    assert seen["seq"].shape == (16, t, 4)  # windows of states
    if explore == "icm":  # a_t sits next to o_t
        assert torch.equal(seen["actions"][:, -2], seen["batch"]["action"])
    assert metrics["explore/bonus_mean"] > 0


def test_agent_surface_and_state_round_trip(tmp_path):
    agent = _agent(tmp_path, "none")
    assert agent.global_step == 60 and agent.iteration == 1 and agent.batch == 60
    sd = agent.state_dict()
    other = _agent(tmp_path / "other", "none")
    other.load_state_dict(sd)
    assert other.global_step == 60
    assert all(torch.equal(a, b) for a, b in zip(agent.net.parameters(), other.net.parameters(), strict=True))
    assert agent.act_deterministic(agent.obs).shape == (1, 2)


def test_dmc_presets_hold_the_paper_settings():
    paper = resolve_config("dmc", {"env.name": "dmc/quadruped_walk"})
    d, ex = paper.drqv2, paper.explore
    assert paper.agent == "drqv2" and paper.env.obs == "pixels" and paper.steps * 2 == 3_100_000
    assert (d.batch_size, d.nstep, d.update_every, d.seed_steps * 2, d.lr, d.feature_dim) == (1024, 1, 2, 4000, 1e-4, 50)
    assert (d.std_schedule, d.std_clip, d.eval_every * 2, d.eval_episodes) == ("linear(1.0,0.1,500000)", 0.3, 10_000, 10)
    assert (ex.beta, ex.seq_end, ex.mimex.seq_len, ex.mimex.mask_ratio, ex.mimex.pad) == (0.05, "current", 5, 0.7, "zeros")
    assert d.replay_capacity == 1_000_000
    assert resolve_config("dmc", {"env.name": "dmc/quadruped_run"}).drqv2.replay_capacity == 100_000
    cpu = resolve_config("dmc-cpu", {})
    assert cpu.env.options["image_size"] == 64 and cpu.drqv2.batch_size < d.batch_size
    assert cpu.drqv2.replay_capacity * 3 * 64 * 64 < 2e9  # the pixel replay fits in memory
    for preset in ("dmc", "dmc-cpu"):  # k_expl: 0.01 for RND, 0.05 for MIMEx and ICM; user keys win
        beta = {e: resolve_config(preset, {"explore.name": e}).explore.beta for e in ("rnd", "icm", "mimex")}
        assert beta == {"rnd": 0.01, "icm": 0.05, "mimex": 0.05}
        assert resolve_config(preset, {"explore.name": "rnd"}, ["explore.beta=0.2"]).explore.beta == 0.2


def test_bf16_runs_the_convolutions_only_and_keeps_q_values_float32(tmp_path):
    """bf16 keeps 8 significant bits: a Q-value near 50 would move in steps of 0.25, coarser
    than most TD errors. With drqv2.bf16 the encoder runs in bfloat16, the Q heads in float32."""
    cfg = resolve_config("debug", {
        "agent": "drqv2", "env.name": "dmc/cartpole_swingup", "env.obs": "pixels", "env.num_envs": 1,
        "env.options": {"image_size": 32}, "explore.name": "none", "run_dir": str(tmp_path),
        "drqv2.batch_size": 8, "drqv2.hidden_dim": 32, "drqv2.seed_steps": 10_000, "drqv2.bf16": True,
        "drqv2.steps_per_iteration": 20, "drqv2.eval_every": 0, "steps": 1000})
    envs = make_vec_env(cfg)
    agent = make_agent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    agent.iterate(envs)
    dtypes = {}

    def record(name):
        def hook(module, inputs, output):
            dtypes.setdefault(name, output.dtype)
        return hook

    hooks = [mod.register_forward_hook(record(name))
             for name, mod in (("conv", agent.encoder.convnet[0]), ("q_head", agent.critic.q1[-1]),
                               ("actor_head", agent.actor.policy[-1]))]
    agent.update()
    for h in hooks:
        h.remove()
    envs.close()
    assert dtypes == {"conv": torch.bfloat16, "q_head": torch.float32, "actor_head": torch.float32}
