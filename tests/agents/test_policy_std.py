"""The Gaussian policy's std parametrisation: exp(log_std) (ours) or its square (official PixMC)."""

import math

import pytest
import torch

from mimex.agents.networks import ActorCritic
from mimex.config.schema import PPOConfig


def _net(squared: bool, init_std: float = 0.5) -> ActorCritic:
    torch.manual_seed(0)
    return ActorCritic({"vec": (3,)}, 4, False, PPOConfig(init_std=init_std, std_squared=squared))


@pytest.mark.parametrize("squared", [False, True])
def test_init_std_is_the_initial_std_in_both_parametrisations(squared):
    net = _net(squared)
    dist = net.distribution(net.features({"vec": torch.zeros(2, 3)}))
    torch.testing.assert_close(dist.stddev.detach(), torch.full((2, 4), 0.5))
    torch.testing.assert_close(net.log_std.detach(), torch.full((4,), math.log(0.5) / (2 if squared else 1)))


def test_squared_std_squares_a_scheduled_std_as_the_official_code_does():
    h = torch.zeros(1, 3)  # a lone state vector is its own feature
    torch.testing.assert_close(_net(True).distribution(h, 0.1).stddev, torch.full((1, 4), 0.01))
    torch.testing.assert_close(_net(False).distribution(h, 0.1).stddev, torch.full((1, 4), 0.1))
    assert _net(True).action_std(torch.tensor(0.3)).item() == pytest.approx(0.09)


def test_squared_std_moves_the_log_std_twice_as_fast_under_adam():
    """Same loss, same Adam step on the parameter: log(std) moves 2 lr with the square, lr without."""
    moved = {}
    for squared in (False, True):
        net = _net(squared, init_std=1.0)
        opt = torch.optim.Adam([net.log_std], lr=0.01)
        x = torch.zeros(8, 3)
        a = torch.full((8, 4), 3.0)  # far from the mean: the loss wants a larger std
        loss = -net.evaluate({"vec": x}, a)[0].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        moved[squared] = net.action_std().log().mean().item()
    assert moved[False] == pytest.approx(0.01, rel=1e-3)
    assert moved[True] == pytest.approx(0.02, rel=1e-3)
