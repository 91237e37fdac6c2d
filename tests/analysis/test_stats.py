"""Statistics against hand-computed cases."""

import numpy as np
import pytest

from mimex.analysis import stats
from mimex.errors import InputError


def test_iqm_drops_a_quarter_from_each_end():
    assert stats.iqm(np.arange(1, 9)) == 4.5                      # mean(3, 4, 5, 6)
    assert stats.iqm(np.array([[1.0, 2.0], [3.0, 4.0]])) == 2.5    # runs x tasks, flattened: mean(2, 3)
    assert stats.iqm([1, 2, 3, 4, 100]) == 3.0                     # int(1.25) = 1 cut each end
    assert stats.iqm([7.0]) == 7.0


def test_bootstrap_ci_of_the_mean_hand_cases():
    assert stats.bootstrap_ci_mean(np.array([0.3])) == (0.3, 0.3, 0.3)  # one seed: no spread
    m, lo, hi = stats.bootstrap_ci_mean(np.full(5, 2.0))
    assert (m, lo, hi) == (2.0, 2.0, 2.0)
    # [0, 0, 0, 1]: the resample mean is k/4 with k ~ Binomial(4, 1/4); CDF at k = 0..4 is
    # .316, .738, .949, .996, 1, so the 2.5% quantile is 0 and the 97.5% one is 3/4.
    m, lo, hi = stats.bootstrap_ci_mean(np.array([0.0, 0.0, 0.0, 1.0]), reps=20000)
    assert (m, lo, hi) == (0.25, 0.0, 0.75)
    # [0, 1]: k/2 with k ~ Binomial(2, 1/2): quantiles 0 and 1.
    assert stats.bootstrap_ci_mean(np.array([0.0, 1.0]), reps=20000)[1:] == (0.0, 1.0)


def test_bootstrap_over_curves_resamples_whole_seeds():
    curves = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])  # [seeds, points]
    m, lo, hi = stats.bootstrap_ci_mean(curves, reps=5000)
    assert m.shape == lo.shape == hi.shape == (3,)
    np.testing.assert_allclose(m, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(hi - lo, [2.0, 2.0, 2.0])  # the same draw at every point
    again = stats.bootstrap_ci_mean(curves, reps=5000)
    np.testing.assert_array_equal(lo, again[1])             # seeded: reproducible


def test_stratified_bootstrap_resamples_within_tasks():
    rng = np.random.default_rng(0)
    scores = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    for _ in range(20):
        r = stats.stratified_resample(scores, rng)
        assert set(r[:, 0]) <= {1.0, 2.0, 3.0} and set(r[:, 1]) <= {10.0, 20.0, 30.0}
    # one run per task: every resample is the data; IQM of 3 scores cuts int(0.75) = 0
    point, lo, hi = stats.stratified_bootstrap_ci(np.array([[0.2, 0.4, 0.9]]))
    assert point == lo == hi == pytest.approx(0.5)
    point, lo, hi = stats.stratified_bootstrap_ci(scores, np.mean)
    assert point == pytest.approx(11.0) and lo < point < hi


def test_probability_of_improvement_hand_case():
    x = np.array([[1.0], [2.0]])
    y = np.array([[0.0], [2.0]])
    # pairs (1,0) win, (1,2) loss, (2,0) win, (2,2) tie -> (2 + 0.5) / 4
    assert stats.probability_of_improvement(x, y) == 0.625
    assert stats.probability_of_improvement(y, x) == 0.375
    two_tasks = stats.probability_of_improvement(np.array([[1.0, 5.0]]), np.array([[0.0, 6.0]]))
    assert two_tasks == 0.5  # task 1: 1, task 2: 0
    p, lo, hi = stats.probability_of_improvement_ci(np.array([[1.0], [1.0]]), np.array([[0.0], [0.0]]))
    assert p == lo == hi == 1.0
    with pytest.raises(InputError, match="same tasks"):
        stats.probability_of_improvement(np.ones((2, 2)), np.ones((2, 3)))


def test_auc_interpolation_and_last_episodes():
    assert stats.auc([0, 1, 2], [0.0, 1.0, 1.0]) == 0.75     # (0.5 + 1) / 2
    assert stats.auc([5], [0.3]) == 0.3
    np.testing.assert_allclose(stats.interpolate([0, 10], [0.0, 1.0], [0, 5, 10, 20]), [0, 0.5, 1, 1])
    means, counts = np.array([1.0, 0.0, 0.5]), np.array([100, 150, 100])
    # last 200: all 100 of the last row at 0.5, then 100 of the 150 at 0.0
    assert stats.last_episodes_mean(means, counts, 200) == 0.25
    assert stats.last_episodes_mean(means, counts, 1000) == pytest.approx(150 / 350)
    assert np.isnan(stats.last_episodes_mean(np.array([0.5]), np.array([0]), 200))
    np.testing.assert_allclose(stats.running_episodes_mean(means, counts, 200),
                               [1.0, 50 / 200, 0.25])  # row 2: 150 at 0 + 50 at 1
