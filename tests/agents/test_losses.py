"""PPO's pure functions against hand computations and a reference loop."""

import torch

from mimex.agents.losses import bootstrap_truncated, gae, ppo_losses


def test_gae_single_step_is_td_error():
    """With one step, the advantage is r + gamma * V' - V, and nothing flows across a done."""
    r = torch.tensor([[1.0, 2.0]])
    v = torch.tensor([[0.5, 0.5]])
    last = torch.tensor([2.0, 2.0])
    done = torch.tensor([[False, True]])
    adv, ret = gae(r, v, last, done, gamma=0.9, lam=0.95)
    assert torch.allclose(adv, torch.tensor([[1.0 + 0.9 * 2.0 - 0.5, 2.0 - 0.5]]))
    assert torch.allclose(ret, adv + v)


def test_gae_matches_discounted_sum_when_lambda_is_one():
    """lambda = 1 gives Monte-Carlo returns: sum_k gamma^k r_{t+k} + gamma^S V_last."""
    torch.manual_seed(0)
    r = torch.randn(6, 3)
    v = torch.randn(6, 3)
    last = torch.randn(3)
    done = torch.zeros(6, 3, dtype=torch.bool)
    _, ret = gae(r, v, last, done, gamma=0.9, lam=1.0)
    expected = torch.zeros(6, 3)
    acc = last.clone()
    for t in reversed(range(6)):
        acc = r[t] + 0.9 * acc
        expected[t] = acc
    assert torch.allclose(ret, expected, atol=1e-5)


def test_gae_stops_at_episode_end():
    """Rewards after a done do not leak into advantages before it."""
    r = torch.tensor([[0.0], [0.0], [100.0]])
    v = torch.zeros(3, 1)
    done = torch.tensor([[False], [True], [False]])
    adv, _ = gae(r, v, torch.zeros(1), done, gamma=0.99, lam=0.95)
    assert adv[0, 0] == 0.0 and adv[1, 0] == 0.0 and adv[2, 0] == 100.0


def test_truncation_bootstraps_but_termination_does_not():
    """Time-limit cuts add gamma * V(final obs); true terminals add nothing."""
    r = torch.tensor([[1.0, 1.0, 1.0]])
    trunc = torch.tensor([[True, False, True]])
    term = torch.tensor([[False, True, True]])
    fv = torch.tensor([[10.0, 10.0, 10.0]])
    out = bootstrap_truncated(r, trunc, term, fv, gamma=0.5)
    assert out.tolist() == [[6.0, 1.0, 1.0]]


def test_ppo_clip_limits_policy_gain():
    """Beyond the clip range, a larger ratio brings no further decrease in the loss."""
    adv = torch.ones(4)
    old = torch.zeros(4)
    v = torch.zeros(4)
    a = ppo_losses(torch.full((4,), 0.5), old, adv, v, v, v, clip=0.2, clip_value=False)
    b = ppo_losses(torch.full((4,), 1.0), old, adv, v, v, v, clip=0.2, clip_value=False)
    assert torch.isclose(a["policy_loss"], torch.tensor(-1.2))
    assert torch.isclose(b["policy_loss"], torch.tensor(-1.2))
    assert a["clip_fraction"] == 1.0
    c = ppo_losses(old, old, adv, v, v, v, clip=0.2, clip_value=False)
    assert torch.isclose(c["policy_loss"], torch.tensor(-1.0)) and c["approx_kl"] == 0


def test_value_loss_is_half_mse_and_clipping_takes_the_max():
    new_v, old_v, ret = torch.tensor([2.0]), torch.tensor([0.0]), torch.tensor([0.0])
    lp = torch.zeros(1)
    plain = ppo_losses(lp, lp, lp, new_v, old_v, ret, clip=0.2, clip_value=False)
    assert torch.isclose(plain["value_loss"], torch.tensor(2.0))
    ret2 = torch.tensor([3.0])  # unclipped error 1, clipped (0.2 -> 3) error 2.8^2
    clipped = ppo_losses(lp, lp, lp, new_v, old_v, ret2, clip=0.2, clip_value=True)
    assert torch.isclose(clipped["value_loss"], torch.tensor(0.5 * 2.8**2))
