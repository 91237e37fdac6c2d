"""Fused Adam where possible, and optimiser state that survives a change of kernel."""

import torch

from mimex.nets.optim import adam, can_fuse, load_optimizer_state


def _net(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def _train(net, opt, steps, seed=1):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 4, generator=g)
        opt.zero_grad()
        net(x).pow(2).mean().backward()
        opt.step()


def test_cpu_float_parameters_get_the_fused_kernel():
    net = _net()
    opt = adam(net.parameters(), lr=1e-3)
    assert opt.param_groups[0]["fused"] is True
    assert not can_fuse([torch.zeros(2, dtype=torch.int64)]) and not can_fuse([])


def test_fused_and_loop_adam_agree_to_rounding():
    a, b = _net(), _net()
    _train(a, adam(a.parameters(), lr=1e-2), 20)
    _train(b, torch.optim.Adam(b.parameters(), lr=1e-2), 20)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)


def test_old_per_tensor_checkpoint_loads_into_fused_adam_and_keeps_it_fused():
    """A state dict written by the per-tensor Adam (older checkpoints) restores the moments and
    step counts, and the optimiser stays fused (plain ``load_state_dict`` would switch it off)."""
    old_net = _net()
    old = torch.optim.Adam(old_net.parameters(), lr=1e-2)
    _train(old_net, old, 5)
    new_net = _net()
    new_net.load_state_dict(old_net.state_dict())
    new = adam(new_net.parameters(), lr=1e-2)
    load_optimizer_state(new, old.state_dict())
    assert new.param_groups[0]["fused"] is True
    p0 = next(new_net.parameters())
    torch.testing.assert_close(new.state[p0]["exp_avg"], old.state[next(old_net.parameters())]["exp_avg"])
    assert float(new.state[p0]["step"]) == 5.0
    _train(new_net, new, 3, seed=2)
    _train(old_net, old, 3, seed=2)
    for pa, pb in zip(new_net.parameters(), old_net.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)


def test_loaded_state_is_a_copy():
    net = _net()
    opt = adam(net.parameters(), lr=1e-2)
    _train(net, opt, 2)
    saved = opt.state_dict()
    other = adam(_net().parameters(), lr=1e-2)
    load_optimizer_state(other, saved)
    first = next(iter(other.state.values()))["exp_avg"]
    assert first.data_ptr() != next(iter(saved["state"].values()))["exp_avg"].data_ptr()
