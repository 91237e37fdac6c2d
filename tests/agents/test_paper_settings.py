"""The PixMC presets resolve to the official numbers per task, and the PPO options they use
do what the official code does (whole-rollout explorer step, sequential minibatches, MSE
value loss, executed actions for ICM, bonus size and episode-end logging)."""

import numpy as np
import pytest
import torch

from mimex.agents import ppo as ppo_module
from mimex.agents.losses import ppo_losses
from mimex.agents.ppo import PPOAgent, bonus_metrics, end_fractions
from mimex.config.overrides import resolve_config
from mimex.run.train import make_vec_env

# notes 5.3: task -> (lr, sparse env steps, dense env steps)
OFFICIAL = {
    "FrankaReach": (1e-3, 8_192_000, 8_192_000),
    "KukaReach": (1.5e-3, 16_384_000, 8_192_000),
    "FrankaCabinet": (1e-3, 24_576_000, 16_384_000),
    "KukaCabinet": (5e-4, 32_768_000, 16_384_000),
    "FrankaPick": (1e-3, 65_536_000, 32_768_000),
    "KukaPick": (5e-4, 65_536_000, 32_768_000),
    "FrankaMove": (1.5e-3, 65_536_000, 32_768_000),
    "KukaMove": (5e-4, 65_536_000, 32_768_000),
}


@pytest.mark.parametrize("preset", ["pixmc-paper", "pixmc"])
@pytest.mark.parametrize("task", sorted(OFFICIAL))
def test_pixmc_presets_follow_the_task(preset, task):
    lr, sparse_steps, dense_steps = OFFICIAL[task]
    cfg = resolve_config(preset, {"env.name": f"pixmc/{task}"})
    assert (cfg.ppo.lr, cfg.steps) == (lr, sparse_steps)
    dense = resolve_config(preset, {"env.name": f"pixmc/{task}", "env.reward": "dense"})
    assert (dense.ppo.lr, dense.steps) == (lr, dense_steps)
    mine = resolve_config(preset, {"env.name": f"pixmc/{task}", "steps": 1234}, ["ppo.lr=0.01"])
    assert (mine.ppo.lr, mine.steps) == (0.01, 1234)  # what the user gives wins
    # a shorter run is the paper's run cut short: its lr schedule still spans the budget
    assert (cfg.ppo.schedule_steps, dense.ppo.schedule_steps, mine.ppo.schedule_steps) == (
        sparse_steps, dense_steps, sparse_steps)
    longer = resolve_config(preset, {"env.name": f"pixmc/{task}", "steps": 2 * sparse_steps})
    assert longer.ppo.schedule_steps == 2 * sparse_steps  # a schedule never ends before the run
    own = resolve_config(preset, {"env.name": f"pixmc/{task}", "steps": 1234}, ["ppo.schedule_steps=0"])
    assert own.ppo.schedule_steps == 0 and own.steps_only_end_the_run() is False


def test_pixmc_paper_preset_is_the_official_setting():
    c = resolve_config("pixmc-paper")
    p, e = c.ppo, c.explore
    assert (c.env.num_envs, p.num_steps, p.epochs, p.minibatches) == (512, 32, 10, 4)
    assert (p.sampler, p.norm_adv, p.value_loss, p.value_coef, p.adam_eps) == ("sequential", "batch", "mse", 2.0, 1e-8)
    assert (p.norm_obs, p.lr_schedule, p.clip, p.ent_coef, p.max_grad_norm) == (False, "cos", 0.1, 0.0, 1.0)
    assert (p.hidden, p.activation, p.encoder, p.feature_dim) == ((256, 128, 64), "selu", "frozen", 384)
    assert (e.beta, e.input, e.batch_size, e.seq_end, e.mimex.pad) == (0.05, "auto", 0, "current", "zeros")
    assert (e.mimex.seq_len, e.mimex.mask_ratio, e.mimex.n_masks, e.mimex.lr, e.mimex.use_cls) == (5, 0.7, 1, 1e-4, True)
    assert (e.icm.linear_encoder, e.icm.detach_forward, e.icm.feature_dim, e.icm.lr) == (True, True, 288, 1e-3)
    assert (e.rnd.obs_norm, e.rnd.reward_norm, e.rnd.predictor_extra_layer, e.rnd.output_dim) == (False, "none", False, 288)
    ours = resolve_config("pixmc")
    assert (ours.explore.seq_end, ours.explore.mimex.pad, ours.explore.rnd.reward_norm) == ("next", "mask", "return")
    assert ours.env.num_envs == 512 and ours.explore.batch_size == 0


def _agent(sets, explore="mimex", obs="state"):
    cfg = resolve_config("debug", {"env.name": "testing/PointGoal", "env.obs": obs,
                                   "explore.name": explore, "progress": False}, sets)
    envs = make_vec_env(cfg)
    agent = PPOAgent(cfg, envs, torch.device("cpu"))
    agent.start(envs)
    return agent, envs


def test_whole_rollout_batch_is_one_explorer_step_over_every_sequence():
    agent, envs = _agent(["explore.batch_size=0", "explore.chunk_size=5"])
    calls = []
    real = agent.explorer.reward

    def spy(seq, actions=None, pad_mask=None, update=False, chunk_size=None):
        calls.append((seq.shape[0], update, chunk_size))
        return real(seq, actions, pad_mask, update=update, chunk_size=chunk_size)

    agent.explorer.reward = spy
    metrics = agent.iterate(envs)
    s, n = agent.cfg.ppo.num_steps, envs.num_envs
    assert calls == [(s * n, True, 5)]
    assert agent.explorer.n_updates == 1 and metrics["explore/updates"] == 1
    agent.iterate(envs)
    assert agent.explorer.n_updates == 2


def test_raw_bonus_is_averaged_over_the_whole_rollout():
    agent, envs = _agent(["explore.batch_size=8"])
    raws = []
    real = agent.explorer.reward

    def spy(seq, actions=None, pad_mask=None, update=False, chunk_size=None):
        out = real(seq, actions, pad_mask, update=update, chunk_size=chunk_size)
        raws.append(agent.explorer.last_raw.clone())
        return out

    agent.explorer.reward = spy
    metrics = agent.iterate(envs)
    assert len(raws) > 1
    assert metrics["explore/reward_raw_mean"] == pytest.approx(float(torch.cat(raws).mean()), rel=1e-5)


def test_icm_learns_from_the_action_the_environment_executed():
    agent, envs = _agent([], explore="icm")
    seen = []
    real = agent.explorer.reward

    def spy(seq, actions=None, pad_mask=None, update=False, chunk_size=None):
        seen.append(actions[:, -2].clone())
        return real(seq, actions, pad_mask, update=update, chunk_size=chunk_size)

    agent.explorer.reward = spy
    agent.net.log_std.data.fill_(np.log(5.0))  # most samples fall outside [-1, 1]
    agent.iterate(envs)
    a = torch.cat(seen)
    low, high = torch.as_tensor(agent.low), torch.as_tensor(agent.high)
    assert (a >= low).all() and (a <= high).all()
    assert (a.abs() == 1).float().mean() > 0.3  # clipped, not rescaled


def test_bonus_size_and_episode_ends_are_logged():
    agent, envs = _agent([])
    m = agent.iterate(envs)
    assert "explore/bonus_mean" in m and m.get("explore/bonus_to_extrinsic", 0.0) >= 0
    got = bonus_metrics(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.01, 0.03]]))
    assert got == pytest.approx({"explore/bonus_mean": 0.02, "explore/bonus_to_extrinsic": 0.02})
    assert bonus_metrics(torch.zeros(1, 2), torch.ones(1, 2)) == {"explore/bonus_mean": 1.0}
    eps = [{"end": "collision"}, {"end": "timeout"}, {"end": "timeout"}, {"end": "unstable"}]
    fr = end_fractions(eps)
    assert fr["charts/end_timeout"] == 0.5 and fr["charts/end_collision"] == 0.25
    assert fr["charts/end_unstable"] == 0.25 and fr["charts/end_dropped"] == 0.0
    assert sum(fr.values()) == pytest.approx(1.0)


def test_mse_value_loss_is_twice_the_half_mse():
    v, ret = torch.tensor([0.0, 1.0]), torch.tensor([2.0, -1.0])
    z = torch.zeros(2)
    half = ppo_losses(z, z, z, v, v, ret, 0.1, False)["value_loss"]
    full = ppo_losses(z, z, z, v, v, ret, 0.1, False, value_loss="mse")["value_loss"]
    assert float(half) == 2.0 and float(full) == 4.0


def test_sequential_sampler_uses_the_same_consecutive_split_every_epoch(monkeypatch):
    agent, envs = _agent(["ppo.sampler=sequential", "ppo.norm_adv=batch", "explore.batch_size=0"])
    batches = []
    real = agent.net.evaluate

    def spy(inputs, actions, std=None):
        batches.append(actions.clone())
        return real(inputs, actions, std)

    monkeypatch.setattr(agent.net, "evaluate", spy)
    perm = torch.randperm
    monkeypatch.setattr(ppo_module.torch, "randperm", lambda *a, **k: pytest.fail("shuffled"))
    try:
        agent.iterate(envs)
    finally:
        monkeypatch.setattr(ppo_module.torch, "randperm", perm)
    p = agent.cfg.ppo
    assert len(batches) == p.epochs * p.minibatches
    for k in range(p.minibatches):  # epoch 2 sees exactly epoch 1's minibatches, in order
        assert torch.equal(batches[k], batches[p.minibatches + k])


def test_pixmc_default_observation_is_pixels_plus_proprioception():
    """Without --obs (and without a preset) a PixMC task gives the image and proprioception,
    never the privileged state with goal and object positions."""
    from gymnasium import spaces

    from mimex.envs import make_env

    env = make_env("pixmc/FrankaReach", seed=0)
    assert isinstance(env.observation_space, spaces.Dict)
    assert env.observation_space["state"].shape == (18,)  # 9 joint positions + 9 velocities
    env.close()
    cfg = resolve_config(None, {"env.name": "pixmc/FrankaReach"})
    assert cfg.env.obs is None  # the task's default, resolved by make_env
    assert make_env("toy/Corridor").observation_space.shape is not None  # other suites: first kind
