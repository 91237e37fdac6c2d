"""SequenceTracker: window alignment, episode boundaries, no aliasing, round trip."""

import pytest
import torch

from mimex.errors import ConfigError, InputError
from mimex.explore import SequenceTracker


def z(*values):
    """float32[N, 1] embeddings whose value names the step."""
    return torch.tensor(values, dtype=torch.float32).unsqueeze(1)


def test_windows_end_at_the_newest_observation_with_pre_episode_padding():
    """Default windows end at o_{t+1}, with pre-episode steps zero and marked in pad."""
    tr = SequenceTracker(num_envs=1, seq_len=3, dim=1)
    tr.reset(z(0))
    seq, pad = tr.step(z(1), torch.tensor([False]))
    assert seq[0, :, 0].tolist() == [0, 0, 1] and pad[0].tolist() == [True, False, False]
    seq, pad = tr.step(z(2), torch.tensor([False]))
    assert seq[0, :, 0].tolist() == [0, 1, 2] and not pad.any()
    seq, _ = tr.step(z(3), torch.tensor([False]))
    assert seq[0, :, 0].tolist() == [1, 2, 3]


def test_current_convention_ends_at_o_t():
    """end='current' windows end at o_t."""
    tr = SequenceTracker(num_envs=1, seq_len=3, dim=1, end="current")
    tr.reset(z(0))
    seq, pad = tr.step(z(1), torch.tensor([False]))
    assert seq[0, :, 0].tolist() == [0, 0, 0] and pad[0].tolist() == [True, True, False]
    seq, _ = tr.step(z(2), torch.tensor([False]))
    assert seq[0, :, 0].tolist() == [0, 0, 1]


def test_episode_end_keeps_the_final_observation_and_starts_clean():
    """An episode's last window holds its real final observation; the next starts from z_reset with no carry-over."""
    tr = SequenceTracker(num_envs=2, seq_len=3, dim=1)
    tr.reset(z(0, 10))
    tr.step(z(1, 11), torch.tensor([False, False]))
    seq, pad = tr.step(z(2, 12), torch.tensor([True, False]), z_reset=z(100, 999))
    assert seq[0, :, 0].tolist() == [0, 1, 2]  # the real final observation, not zeros
    seq, pad = tr.step(z(101, 13), torch.tensor([False, False]))
    assert seq[0, :, 0].tolist() == [0, 100, 101] and pad[0].tolist() == [True, False, False]
    assert seq[1, :, 0].tolist() == [11, 12, 13] and not pad[1].any()


def test_returned_windows_are_not_views_of_the_tracker():
    """A returned window does not change when the tracker later changes."""
    tr = SequenceTracker(num_envs=1, seq_len=2, dim=1)
    tr.reset(z(0))
    seq, _ = tr.step(z(1), torch.tensor([True]), z_reset=z(5))
    kept = seq.clone()
    tr.step(z(6), torch.tensor([False]))
    tr.history.fill_(-1)
    assert torch.equal(seq, kept)


def test_misuse_is_reported():
    """step before reset, a missing z_reset, wrong shapes and a bad end option raise clear errors."""
    tr = SequenceTracker(num_envs=2, seq_len=3, dim=1)
    with pytest.raises(InputError, match="environment 0 has no current episode: call reset"):
        tr.step(z(1, 1), torch.tensor([False, False]))
    tr.reset(z(0, 0))
    tr.step(z(1, 1), torch.tensor([True, False]))  # no z_reset
    with pytest.raises(InputError, match="environment 0 has no current episode"):
        tr.step(z(2, 2), torch.tensor([False, False]))
    with pytest.raises(InputError, match=r"z_next must have shape \[2, 1\], got \[3, 1\]"):
        tr.step(z(1, 2, 3), torch.tensor([False, False]))
    with pytest.raises(ConfigError, match="end must be 'next'"):
        SequenceTracker(1, 2, 1, end="previous")


def test_state_dict_round_trip():
    """A restored tracker returns the same windows as the original."""
    a = SequenceTracker(num_envs=2, seq_len=3, dim=1)
    a.reset(z(0, 5))
    a.step(z(1, 6), torch.tensor([False, True]), z_reset=z(0, 50))
    b = SequenceTracker(num_envs=2, seq_len=3, dim=1)
    b.load_state_dict(a.state_dict())
    for t in range(3):
        sa = a.step(z(t, t), torch.tensor([False, False]))
        sb = b.step(z(t, t), torch.tensor([False, False]))
        assert torch.equal(sa[0], sb[0]) and torch.equal(sa[1], sb[1])


def test_current_convention_across_an_episode_end_and_partial_resets():
    """end='current': the last window of an episode ends at o_t; the next episode starts with
    its reset embedding only; reset(env_mask) restarts just the chosen environments."""
    tr = SequenceTracker(num_envs=2, seq_len=3, dim=1, end="current")
    tr.reset(z(0, 10))
    tr.step(z(1, 11), torch.tensor([False, False]))
    seq, _ = tr.step(z(2, 12), torch.tensor([True, False]), z_reset=z(100, -1))
    assert seq[:, :, 0].tolist() == [[0, 0, 1], [0, 10, 11]]
    seq, pad = tr.step(z(101, 13), torch.tensor([False, False]))
    assert seq[:, :, 0].tolist() == [[0, 0, 100], [10, 11, 12]]
    assert pad.tolist() == [[True, True, False], [False, False, False]]
    tr.reset(z(7, -2), env_mask=torch.tensor([False, True]))
    seq, pad = tr.step(z(102, 8), torch.tensor([False, False]))
    assert seq[:, :, 0].tolist() == [[0, 100, 101], [0, 0, -2]]
    assert pad.tolist() == [[True, False, False], [True, True, False]]


def test_tracker_windows_feed_an_explorer():
    """Windows and pad masks from the tracker are valid explorer input from the first step on,
    and the pad mask keeps pre-episode content out of the reward."""
    from mimex.explore import make_explorer

    ex = make_explorer("mimex", input_dim=2, seq_len=3, mask_ratio=0.5, embed_dim=16, depth=1,
                       num_heads=2, decoder_embed_dim=8, decoder_num_heads=2)
    tr = SequenceTracker(num_envs=4, seq_len=3, dim=2)
    g = torch.Generator().manual_seed(0)
    tr.reset(torch.randn(4, 2, generator=g))
    for t in range(4):
        seq, pad = tr.step(torch.randn(4, 2, generator=g), torch.tensor([t == 1, False, False, False]),
                           z_reset=torch.randn(4, 2, generator=g))
        r = ex.reward(seq, pad_mask=pad, update=True)
        assert r.shape == (4,) and torch.isfinite(r).all()
        assert not seq[pad].any()  # padded steps hold zeros, not a previous episode
