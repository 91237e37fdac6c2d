"""State-dict round trips, and clear errors for bad input and bad options."""

import io

import pytest
import torch

from mimex.errors import CheckpointError, ConfigError, InputError
from mimex.explore import list_explorers, make_explorer

SMALL = {"mimex": dict(embed_dim=32, depth=1, num_heads=2, decoder_embed_dim=16, decoder_num_heads=2,
                       reward_norm=True),
         "icm": {}, "rnd": {}, "none": {}}


def _batch(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(8, 5, 6, generator=g), torch.randn(8, 5, 2, generator=g)


@pytest.mark.parametrize("via_file", [True, False])
@pytest.mark.parametrize("name", list_explorers())
def test_state_dict_round_trip_gives_identical_rewards(name, via_file):
    """Every explorer restored (through torch.save/torch.load(weights_only=True), or in memory)
    into a differently seeded one gives bit-identical update and later rewards; the in-memory
    case also checks that the two explorers share no optimiser state afterwards."""
    ex = make_explorer(name, input_dim=6, action_dim=2, seed=0, **SMALL[name])
    for i in range(3):
        ex.reward(*_batch(i)[:1], actions=_batch(i)[1], update=True)
    restored = make_explorer(name, input_dim=6, action_dim=2, seed=99, **SMALL[name])
    if via_file:
        buf = io.BytesIO()
        torch.save(ex.state_dict(), buf)
        buf.seek(0)
        restored.load_state_dict(torch.load(buf, weights_only=True))
    else:  # in memory: load at once (state dicts hold live tensors, as in torch)
        restored.load_state_dict(ex.state_dict())
    assert restored.n_updates == ex.n_updates == 3
    for i in range(3, 6):
        x, a = _batch(i)
        assert torch.equal(ex.reward(x, actions=a, update=True), restored.reward(x, actions=a, update=True))
        assert torch.equal(ex.reward(x, actions=a), restored.reward(x, actions=a))


def test_mismatched_state_dicts_are_refused():
    """State dicts of another kind, input_dim or config raise CheckpointError saying what differs."""
    mimex = make_explorer("mimex", input_dim=6, **SMALL["mimex"])
    with pytest.raises(CheckpointError, match="state dict is for explorer 'rnd', cannot load into 'mimex'"):
        mimex.load_state_dict(make_explorer("rnd", input_dim=6).state_dict())
    with pytest.raises(CheckpointError, match="input_dim=7, this explorer has 6"):
        mimex.load_state_dict(make_explorer("mimex", input_dim=7, **SMALL["mimex"]).state_dict())
    other = make_explorer("mimex", input_dim=6, n_masks=5, **SMALL["mimex"])
    with pytest.raises(CheckpointError, match="n_masks: saved 5 vs now 1"):
        mimex.load_state_dict(other.state_dict())
    with pytest.raises(CheckpointError, match="not an explorer state dict"):
        mimex.load_state_dict({"weights": 1})


def test_bad_inputs_name_the_expected_value():
    """Wrong shapes, dtypes, NaNs and pad masks raise InputError naming the expected value."""
    ex = make_explorer("mimex", input_dim=6, **SMALL["mimex"])
    with pytest.raises(InputError, match=r"obs_seq must have shape \[B, 5, 6\], got \[8, 4, 6\]"):
        ex.reward(torch.zeros(8, 4, 6))
    with pytest.raises(InputError, match=r"obs_seq must have shape \[B, 5, 6\], got \[8, 5\]"):
        ex.reward(torch.zeros(8, 5))
    with pytest.raises(InputError, match="obs_seq must have dtype float32, got torch.float64; convert with .float()"):
        ex.reward(torch.zeros(8, 5, 6, dtype=torch.float64))
    bad = torch.zeros(8, 5, 6)
    bad[3, 1, 2] = float("nan")
    with pytest.raises(InputError, match="obs_seq contains 1 non-finite value.*first in batch row 3"):
        ex.reward(bad)
    with pytest.raises(InputError, match=r"pad_mask must have dtype bool"):
        ex.reward(torch.zeros(8, 5, 6), pad_mask=torch.zeros(8, 5))
    with pytest.raises(InputError, match=r"pad_mask must have shape \[8, 5\], got \[8, 4\]"):
        ex.reward(torch.zeros(8, 5, 6), pad_mask=torch.zeros(8, 4, dtype=torch.bool))
    with pytest.raises(InputError, match="marks the newest step obs_seq\\[:, -1\\] as padding"):
        ex.reward(torch.zeros(8, 5, 6), pad_mask=torch.ones(8, 5, dtype=torch.bool))
    icm = make_explorer("icm", input_dim=6, action_dim=2)
    with pytest.raises(InputError, match=r"actions must have shape \[8, 5, 2\], got \[8, 5, 3\]"):
        icm.reward(torch.zeros(8, 5, 6), actions=torch.zeros(8, 5, 3))


def test_bad_options_are_config_errors_listing_valid_values():
    """Unknown names/options and invalid values raise ConfigError listing what is valid."""
    with pytest.raises(ConfigError, match="unknown explorer 'curiosity'; choose one of: mimex, icm, rnd, none"):
        make_explorer("curiosity", input_dim=4)
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['mask_raito'\] for explorer 'mimex'; valid options are: seq_len, mask_ratio"):
        make_explorer("mimex", input_dim=4, mask_raito=0.5)
    with pytest.raises(ConfigError, match="mask must be one of \\('uniform', 'fixed', 'feature'\\), got 'random'"):
        make_explorer("mimex", input_dim=4, mask="random")
    with pytest.raises(ConfigError, match="seq_len=5 with mask_ratio=0.8"):
        make_explorer("mimex", input_dim=4, mask_ratio=0.8)
    with pytest.raises(ConfigError, match="n_masks must be >= 1, got 0"):
        make_explorer("mimex", input_dim=4, n_masks=0)
    with pytest.raises(ConfigError, match="embed_dim=30 must be even and divisible by num_heads=4"):
        make_explorer("mimex", input_dim=4, embed_dim=30)
    with pytest.raises(ConfigError, match="input_dim must be a positive int, got 0"):
        make_explorer("rnd", input_dim=0)
    with pytest.raises(ConfigError, match=r"update_proportion must be in \(0, 1\], got 0"):
        make_explorer("rnd", input_dim=4, update_proportion=0)
    with pytest.raises(ConfigError, match=r"beta must be in \[0, 1\], got 2"):
        make_explorer("icm", input_dim=4, action_dim=2, beta=2)


def test_numpy_inputs_are_accepted():
    """NumPy float32 arrays are accepted like tensors."""
    import numpy as np

    ex = make_explorer("rnd", input_dim=3)
    assert ex.reward(np.zeros((4, 1, 3), dtype=np.float32)).shape == (4,)


def test_architecture_mismatch_is_a_checkpoint_error_not_a_torch_error():
    """Loading weights of another width or depth says which architecture differs."""
    base = dict(SMALL["mimex"])
    for mask in ("uniform", "feature"):
        mine = make_explorer("mimex", input_dim=6, mask=mask, mask_ratio=0.5, **base)
        for change in (dict(embed_dim=64), dict(decoder_embed_dim=32), dict(depth=2)):
            other = make_explorer("mimex", input_dim=6, mask=mask, mask_ratio=0.5, **{**base, **change})
            with pytest.raises(CheckpointError, match="saved with architecture"):
                mine.load_state_dict(other.state_dict())
    # the same resolved architecture under another spelling loads fine
    a = make_explorer("mimex", input_dim=6, size="large", embed_dim=32, depth=1, num_heads=2,
                      decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2)
    b = make_explorer("mimex", input_dim=6, **{k: v for k, v in SMALL["mimex"].items() if k != "reward_norm"})
    b.load_state_dict(a.state_dict())
    x = torch.randn(4, 5, 6)
    assert torch.equal(a.reward(x), b.reward(x))


def test_icm_action_dim_mismatch_is_a_checkpoint_error():
    """An ICM trained for 3 actions cannot be loaded into one for 2."""
    two = make_explorer("icm", input_dim=6, action_dim=2)
    with pytest.raises(CheckpointError, match="action_dim=3, this explorer has 2"):
        two.load_state_dict(make_explorer("icm", input_dim=6, action_dim=3).state_dict())


@pytest.mark.parametrize("name", list_explorers())
def test_scoring_without_update_changes_no_state(name):
    """update=False leaves weights, optimiser, normalisers and counters exactly as they were
    (apart from the mask generator, which only draws masks)."""
    ex = make_explorer(name, input_dim=6, action_dim=2, seed=0, **SMALL[name])
    x, a = _batch(0)
    ex.reward(x, actions=a, update=True)
    before = ex.state_dict()
    for i in range(3):
        x, a = _batch(10 + i)
        ex.reward(x * 50 + 3, actions=a)
    after = ex.state_dict()
    before.pop("generator", None), after.pop("generator", None)
    assert _same(before, after)


def _same(a, b):
    """Exact equality of nested state dicts (tensors compared bit for bit)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_list_explorers_names_the_four_kinds():
    """The registry offers exactly mimex, icm, rnd and none; tags filter them."""
    assert list_explorers() == ["mimex", "icm", "rnd", "none"]
    assert list_explorers("needs-actions") == ["icm"]
    assert set(list_explorers("learned")) == {"mimex", "icm", "rnd"}
