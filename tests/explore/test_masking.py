"""Mask counts and mask plans: the official counts, padding rules, fixed and feature masks."""

import pytest
import torch

from mimex.errors import ConfigError
from mimex.explore.masking import (
    feature_keep_count,
    plan_feature_mask,
    plan_time_mask,
    time_mask_counts,
)

# (seq_len, mask_ratio) -> (visible, masked), every configuration the paper and its code use.
PAPER_COUNTS = {
    (2, 0.5): (1, 1), (3, 0.6): (1, 2), (4, 0.7): (1, 3), (5, 0.7): (1, 4), (6, 0.7): (1, 5),
    (10, 0.7): (3, 7), (5, 0.2): (4, 1), (5, 0.5): (2, 3),
}


@pytest.mark.parametrize(("key", "counts"), PAPER_COUNTS.items())
def test_ratio_rule_reproduces_the_official_counts(key, counts):
    """int(T * (1 - ratio)) truncation gives the paper's effective (visible, masked) counts."""
    assert time_mask_counts(*key) == counts


@pytest.mark.parametrize(("seq_len", "ratio"), [(5, 0.8), (2, 0.7), (3, 0.7)])
def test_nothing_visible_is_a_clear_error(seq_len, ratio):
    """A ratio that leaves no visible step is a ConfigError telling the valid n_visible range."""
    with pytest.raises(ConfigError, match=r"leaves 0 visible .* pass n_visible between 1 and"):
        time_mask_counts(seq_len, ratio)


def test_explicit_counts_and_their_errors():
    """n_masked / n_visible override the ratio; impossible or conflicting counts are ConfigErrors."""
    assert time_mask_counts(5, n_masked=2) == (3, 2)
    assert time_mask_counts(5, n_visible=4) == (4, 1)
    with pytest.raises(ConfigError, match="leaves 5 visible and 0 masked"):
        time_mask_counts(5, n_masked=0)
    with pytest.raises(ConfigError, match="give n_masked or n_visible, not both"):
        time_mask_counts(5, n_masked=1, n_visible=1)
    with pytest.raises(ConfigError, match="mask_ratio must be in \\(0, 1\\), got 1.5"):
        time_mask_counts(5, 1.5)
    with pytest.raises(ConfigError, match="seq_len >= 2"):
        time_mask_counts(1, 0.5)


def test_uniform_plan_masks_exactly_the_count_and_varies():
    """Uniform plans mask exactly n_masked steps, show the ids_keep positions, and cover every position."""
    g = torch.Generator().manual_seed(0)
    plan = plan_time_mask(256, 5, 1, "uniform", None, g, torch.device("cpu"))
    assert (plan.target.sum(1) == 4).all()
    shown = ~plan.target
    assert torch.equal(shown.nonzero()[:, 1], plan.ids_keep[:, 0])
    # every position is shown sometimes: the draw is uniform, not fixed
    assert (shown.float().mean(0) > 0.1).all()


def test_fixed_plan_always_masks_the_newest_steps():
    """The fixed plan shows the oldest n_visible steps and masks the newest ones, identically for every row."""
    plan = plan_time_mask(4, 5, 2, "fixed", None, None, torch.device("cpu"))
    assert plan.target.tolist() == [[False, False, True, True, True]] * 4


def test_padded_steps_are_never_shown_nor_scored():
    """Padded steps are neither context nor targets; a sequence always keeps one real target."""
    pad = torch.tensor([[True, True, True, False, False],
                        [True, True, True, True, False],
                        [False] * 5])
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        plan = plan_time_mask(3, 5, 3, "uniform", pad, g, torch.device("cpu"))
        assert not (plan.target & pad).any()
        shown_pos = torch.gather(pad, 1, plan.ids_keep) & plan.keep_active
        assert not shown_pos.any()
        # a sequence with n real steps shows at most n - 1 of them: one is always scored
        assert plan.target.sum(1).tolist()[:2] == [1, 1]
        assert plan.keep_active.sum(1).tolist() == [1, 0, 3]


def test_feature_counts_and_padded_elements():
    """Feature masking keeps int(T*D*(1-ratio)) elements (of the real ones when padded); padded elements are never targets."""
    assert feature_keep_count(5, 384, 0.8) == 383
    assert feature_keep_count(5, 384, 0.95) == 96
    with pytest.raises(ConfigError, match="keeps 0"):
        feature_keep_count(2, 2, 0.9)
    g = torch.Generator().manual_seed(0)
    hidden = plan_feature_mask(2, 5, 10, 0.8, None, g, torch.device("cpu"))
    # the official truncation: int(50 * (1 - 0.8)) = int(9.999999999999998) = 9 kept, 41 hidden
    assert hidden.flatten(1).sum(1).tolist() == [41, 41]
    pad = torch.tensor([[True, True, False, False, False], [False] * 5])
    hidden = plan_feature_mask(2, 5, 10, 0.8, pad, g, torch.device("cpu"))
    assert not hidden[0, :2].any()
    assert hidden[0].sum() == 30 - 5 and hidden[1].sum() == 41  # 3 real steps: 30 elements, 5 kept
