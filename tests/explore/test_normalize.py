"""Running statistics and reward scaling: compared with NumPy on random batches."""

import numpy as np
import torch

from mimex.explore.base import RewardScaler
from mimex.explore.normalize import RunningMeanStd


def test_running_mean_std_matches_numpy_over_uneven_batches():
    """Folding batches of different sizes gives numpy's mean and (biased) variance of all data."""
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 4)) * np.array([1, 10, 0.1, 1]) for n in (1, 7, 64, 3, 200)]
    stats = RunningMeanStd((4,), eps=1e-12)
    for b in batches:
        stats.update(torch.as_tensor(b, dtype=torch.float32))
    data = np.concatenate(batches).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(stats.mean.numpy(), data.mean(0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(stats.var.numpy(), data.var(0), rtol=1e-6)
    np.testing.assert_allclose(stats.std.numpy(), np.sqrt(data.var(0) + 1e-8), rtol=1e-6)
    assert abs(stats.count.item() - len(data)) < 1e-6


def test_running_mean_std_prior_pseudo_count_is_small():
    """With the default eps the prior (mean 0, var 1) barely weighs against one real batch."""
    x = torch.randn(100, generator=torch.Generator().manual_seed(1)) * 5 + 7
    stats = RunningMeanStd(())
    stats.update(x)
    assert torch.allclose(stats.mean, x.double().mean(), rtol=1e-5)
    assert torch.allclose(stats.var, x.double().var(unbiased=False), rtol=1e-5)


def test_running_mean_std_state_round_trip_and_shape_check():
    """state_dict copies the statistics; a wrong shape is refused."""
    a = RunningMeanStd((3,))
    a.update(torch.randn(10, 3))
    sd = a.state_dict()
    b = RunningMeanStd((3,))
    b.load_state_dict(sd)
    a.update(torch.randn(10, 3))  # later changes to a do not leak into b
    assert torch.equal(b.mean, sd["mean"]) and not torch.equal(b.mean, a.mean)
    try:
        RunningMeanStd((2,)).load_state_dict(sd)
    except ValueError as e:
        assert "expected (2,)" in str(e)
    else:
        raise AssertionError("a shape mismatch must be refused")


def test_reward_scaler_divides_by_the_running_std_of_raw_rewards():
    """Scaled reward = raw / running std; the std moves only on update=True."""
    g = torch.Generator().manual_seed(0)
    scaler = RewardScaler(True, torch.device("cpu"))
    reference = RunningMeanStd(())
    for _ in range(5):
        raw = torch.rand(32, generator=g) * 40
        reference.update(raw)
        out = scaler(raw, update=True)
        assert out.dtype == torch.float32
        assert torch.allclose(out, (raw.double() / reference.std).float(), rtol=1e-6)
    frozen = scaler.stats.state_dict()
    raw = torch.rand(32, generator=g) * 1000
    out = scaler(raw, update=False)
    assert torch.allclose(out, (raw.double() / reference.std).float(), rtol=1e-6)
    assert all(torch.equal(frozen[k], v) for k, v in scaler.stats.state_dict().items())
    # scaling is real: the result is not the raw reward
    assert not torch.allclose(out, raw)


def test_disabled_reward_scaler_is_the_identity():
    """reward_norm=False returns the raw reward itself."""
    raw = torch.rand(8) * 10
    assert torch.equal(RewardScaler(False, torch.device("cpu"))(raw, update=True), raw)
