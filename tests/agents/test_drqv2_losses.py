"""DrQ-v2's pure functions: n-step returns against hand-computed cases, the target, the
augmentation against the official grid_sample implementation."""

import torch
import torch.nn.functional as F

from mimex.agents.drqv2_losses import (
    actor_loss,
    critic_loss,
    critic_target,
    nstep_return,
    soft_update,
)
from mimex.agents.drqv2_networks import noisy_action, random_shift


def test_nstep_return_hand_computed():
    r = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    terminal = torch.tensor([[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=torch.bool)
    ended = torch.tensor([[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.bool)
    ret, discount, steps = nstep_return(r, terminal, ended, gamma=0.5)
    # no end: 1 + .5*2 + .25*3; terminal at k=1: 1 + .5*2, no bootstrap; truncated at k=0:
    # 1, bootstrap with gamma^1; terminal at the last step: 4 + 2.5 + 1.5, no bootstrap
    assert ret.tolist() == [2.75, 2.0, 1.0, 8.0]
    assert discount.tolist() == [0.125, 0.0, 0.5, 0.0]
    assert steps.tolist() == [3, 2, 1, 3]


def test_nstep_return_one_step_is_the_plain_transition():
    ret, discount, steps = nstep_return(torch.tensor([[3.0]]), torch.tensor([[False]]),
                                        torch.tensor([[False]]), gamma=0.99)
    assert ret.item() == 3.0 and abs(discount.item() - 0.99) < 1e-7 and steps.item() == 1


def test_target_and_losses():
    target = critic_target(torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.0]),
                           torch.tensor([4.0, 9.0]), torch.tensor([6.0, 1.0]))
    assert target.tolist() == [3.0, 2.0]
    q1, q2 = torch.tensor([1.0, 1.0]), torch.tensor([0.0, 2.0])
    assert critic_loss(q1, q2, torch.tensor([1.0, 1.0])).item() == 0.0 + 1.0
    assert actor_loss(q1, q2).item() == -0.5


def test_soft_update_moves_tau_of_the_way():
    net, tgt = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    before = tgt.weight.detach().clone()
    soft_update(net, tgt, 0.25)
    assert torch.allclose(tgt.weight, 0.75 * before + 0.25 * net.weight)


def test_noisy_action_is_clipped_and_stays_inside():
    mean = torch.full((1000, 2), 0.95)
    a = noisy_action(mean, std=5.0, clip=0.3)
    assert (a <= 1.0).all() and (a >= mean - 0.3 - 1e-6).all()


def _official_shift(x, pad, shift):
    """drqv2.py RandomShiftsAug.forward with given integer shifts (n, 2) = (rows, cols)."""
    n, _, h, _ = x.shape
    x = F.pad(x, (pad,) * 4, "replicate")
    eps = 1.0 / (h + 2 * pad)
    arange = torch.linspace(-1.0 + eps, 1.0 - eps, h + 2 * pad)[:h]
    arange = arange.unsqueeze(0).repeat(h, 1).unsqueeze(2)
    base_grid = torch.cat([arange, arange.transpose(1, 0)], dim=2).unsqueeze(0).repeat(n, 1, 1, 1)
    s = torch.stack([shift[:, 1], shift[:, 0]], dim=1).float().view(n, 1, 1, 2) * 2.0 / (h + 2 * pad)
    return F.grid_sample(x, base_grid + s, padding_mode="zeros", align_corners=False)


def test_random_shift_equals_the_official_augmentation():
    x = torch.randint(0, 256, (6, 9, 20, 20), dtype=torch.uint8)
    torch.manual_seed(3)
    ours = random_shift(x, 4)
    torch.manual_seed(3)
    shift = torch.randint(0, 9, (6, 2))
    theirs = _official_shift(x.float(), 4, shift)
    assert ours.dtype == torch.uint8
    assert torch.allclose(ours.float(), theirs, atol=1e-3)
