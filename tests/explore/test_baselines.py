"""ICM and RND behave as curiosity and novelty should; "none" is zero."""

import pytest
import torch

from mimex.errors import ConfigError, InputError
from mimex.explore import make_explorer


def _dynamics_batch(n, d, a_dim, sign, g, discrete=False):
    w = torch.randn(a_dim, d, generator=torch.Generator().manual_seed(123))
    o = torch.randn(n, d, generator=g)
    if discrete:
        a = torch.randint(0, a_dim, (n,), generator=g)
        move = w[a]
        actions = torch.stack([a, torch.zeros_like(a)], dim=1)
    else:
        a = torch.randn(n, a_dim, generator=g)
        move = a @ w
        actions = torch.stack([a, torch.zeros_like(a)], dim=1)
    return torch.stack([o, o + sign * move], dim=1), actions


@pytest.mark.parametrize("discrete", [False, True])
def test_icm_rewards_broken_dynamics_more_than_learned_ones(discrete):
    """After training on o' = o + W a, transitions with other dynamics (o' = o - W a) earn a much larger bonus; continuous and discrete actions."""
    g = torch.Generator().manual_seed(0)
    ex = make_explorer("icm", input_dim=8, action_dim=4, feature_dim=32, hidden_dim=64, seed=0)
    for _ in range(150):
        seq, act = _dynamics_batch(64, 8, 4, +1.0, g, discrete)
        ex.reward(seq, actions=act, update=True)
    follow, a1 = _dynamics_batch(256, 8, 4, +1.0, g, discrete)
    broken, a2 = _dynamics_batch(256, 8, 4, -1.0, g, discrete)
    r_follow = ex.reward(follow, actions=a1).mean()
    r_broken = ex.reward(broken, actions=a2).mean()
    assert r_broken > 2.0 * r_follow
    assert "explore/inverse_loss" in ex.last_metrics


def test_icm_uses_the_action_beside_o_t_and_zero_for_padded_o_t():
    """The bonus uses (o_t, a_t, o_{t+1}) with a_t = actions[:, -2]; a padded o_t gives zero and leaves other rows alone."""
    ex = make_explorer("icm", input_dim=3, action_dim=2, seed=0)
    seq = torch.randn(4, 3, 3)
    act = torch.randn(4, 3, 2)
    base = ex.reward(seq, actions=act)
    act2 = act.clone()
    act2[:, -1] += 5.0  # the action at the newest step has no effect yet
    assert torch.equal(base, ex.reward(seq, actions=act2))
    act2[:, -2] += 5.0
    assert not torch.equal(base, ex.reward(seq, actions=act2))
    pad = torch.zeros(4, 3, dtype=torch.bool)
    pad[0, :2] = True
    r = ex.reward(seq, actions=act, pad_mask=pad)
    assert r[0] == 0 and torch.equal(r[1:], base[1:])


def test_icm_needs_actions_and_an_action_dim():
    """ICM without action_dim or without actions, or with out-of-range discrete actions, is a clear error."""
    with pytest.raises(ConfigError, match="ICM needs action_dim >= 1"):
        make_explorer("icm", input_dim=3)
    ex = make_explorer("icm", input_dim=3, action_dim=2)
    with pytest.raises(InputError, match="ICM needs actions"):
        ex.reward(torch.zeros(2, 2, 3))
    with pytest.raises(InputError, match=r"discrete actions must lie in \[0, 2\), got values in \[0, 5\]"):
        ex.reward(torch.zeros(2, 2, 3), actions=torch.tensor([[0, 5], [1, 1]]))


def test_rnd_reward_falls_with_visitation():
    """Training on one cluster of states drops their reward, well below a far-away unvisited cluster."""
    g = torch.Generator().manual_seed(0)
    ex = make_explorer("rnd", input_dim=8, seed=0, reward_norm=False)
    visited = lambda n: torch.randn(n, 1, 8, generator=g) * 0.3 + 1.0  # noqa: E731
    elsewhere = lambda n: torch.randn(n, 1, 8, generator=g) * 0.3 - 1.0  # noqa: E731
    ex.reward(visited(256), update=True)  # fit the input statistics
    start = ex.reward(visited(256)).mean()
    for _ in range(200):
        ex.reward(visited(128), update=True)
    assert ex.reward(visited(256)).mean() < 0.2 * start
    assert ex.reward(elsewhere(256)).mean() > 5 * ex.reward(visited(256)).mean()


def test_rnd_normalises_inputs_and_per_step_rewards():
    """Inputs are standardised by running statistics; reward_norm='step' divides rewards by
    their running std."""
    ex = make_explorer("rnd", input_dim=4, seed=0, reward_norm="step")
    x = torch.randn(512, 1, 4) * 1000 + 50
    r = ex.reward(x, update=True)
    assert torch.isfinite(r).all()
    assert torch.allclose(ex.obs_stats.mean.float(), x[:, -1].mean(0), rtol=1e-3)
    assert 0.1 < r.std() < 10  # scaled by its running std, not by 1000^2


def test_none_is_zero_with_the_right_shape():
    """The 'none' explorer returns float32 zeros, one per sequence."""
    ex = make_explorer("none", input_dim=3)
    r = ex.reward(torch.ones(7, 4, 3), update=True)
    assert r.shape == (7,) and not r.any() and r.dtype == torch.float32
