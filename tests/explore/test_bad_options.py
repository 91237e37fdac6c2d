"""Explorer options of the wrong type are refused at construction; ``update`` must be a bool;
finite but huge inputs are refused before they can make a NaN or poison the model."""

import io
import re

import numpy as np
import pytest
import torch

from mimex import errors
from mimex.errors import ConfigError, InputError
from mimex.explore import list_explorers, make_explorer
from mimex.explore.base import MAX_ABS_INPUT

SMALL = {"mimex": dict(embed_dim=32, depth=1, num_heads=2, decoder_embed_dim=16, decoder_num_heads=2),
         "icm": {}, "rnd": {}, "none": {}}


def _make(name, **options):
    return make_explorer(name, input_dim=6, action_dim=2, **{**SMALL[name], **options})


def _batch(seed, t=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(8, t, 6, generator=g), torch.randn(8, t, 2, generator=g)


@pytest.mark.parametrize("name,option,value,expected", [
    ("mimex", "lr", "abc", "a number (int or float)"),
    ("mimex", "seq_len", "5", "an int"),
    ("mimex", "seq_len", 5.0, "an int"),
    ("mimex", "n_masks", True, "an int"),
    ("mimex", "n_masked", 2.5, "an int or None"),
    ("mimex", "use_cls", 1, "a bool (True or False)"),
    ("mimex", "norm_loss", "yes", "a bool (True or False)"),
    ("mimex", "mask", 3, "a string"),
    ("icm", "beta", "0.2", "a number (int or float)"),
    ("icm", "detach_forward", 0, "a bool (True or False)"),
    ("rnd", "reward_norm", 1, "a string or a bool (True or False)"),  # a bool: an old config
    ("rnd", "update_proportion", None, "a number (int or float)"),
    ("none", "device", 0, "a string"),
])
def test_options_of_the_wrong_type_name_option_type_and_value(name, option, value, expected):
    with pytest.raises(ConfigError) as err:
        _make(name, **{option: value})
    msg = errors.OPTION_BAD_TYPE.format(name=option, kind=f"explorer {name!r}", expected=expected,
                                        value=value, got=type(value).__name__)
    assert str(err.value) == msg


def test_options_of_compatible_types_are_accepted():
    ex = _make("mimex", lr=1, seed=np.int64(3), n_masked=None, use_cls=np.bool_(True), mask_ratio=0.6)
    assert ex.config.lr == 1 and ex.config.seed == 3
    _make("rnd", lr=np.float32(1e-3), hidden_dim=np.int32(16))


@pytest.mark.parametrize("name", list_explorers())
@pytest.mark.parametrize("update", ["yes", "no", 1, 0, None, torch.tensor(True)])
def test_update_must_be_a_bool(name, update):
    ex = _make(name)
    x, a = _batch(0)
    with pytest.raises(InputError, match=re.escape(f"update must be True or False, got {update!r}")):
        ex.reward(x, actions=a, update=update)
    assert ex.n_updates == 0
    ex.reward(x, actions=a, update=np.bool_(True))
    assert ex.n_updates == 1


def _state_bytes(ex):
    buf = io.BytesIO()
    torch.save(ex.state_dict(), buf)
    return buf.getvalue()


@pytest.mark.parametrize("name,options", [("mimex", {}), ("mimex", {"reward_norm": True}),
                                          ("mimex", {"mask": "feature"}), ("icm", {}), ("rnd", {}),
                                          ("none", {})])
def test_huge_inputs_are_refused_and_the_explorer_still_works(name, options):
    ex = _make(name, **options)
    x, a = _batch(1)
    ex.reward(x, actions=a, update=True)
    before = _state_bytes(ex)
    huge_x, huge_a = x.clamp(-1, 1) * 1e19, a.clamp(-1, 1) * 1e19
    huge_x[3, -1, 2] = huge_a[3, -1, 1] = 1e20
    for big_x, big_a, arg in ((huge_x, a, "obs_seq"), (x, huge_a, "actions")):
        if arg == "actions" and name != "icm":
            continue  # only ICM reads actions
        for update in (True, False):
            with pytest.raises(InputError, match=f"{arg} has values up to 1e\\+20 in absolute value "
                                                 "\\(first in batch row 0\\); explorers take \\|x\\| <= 1e\\+06"):
                ex.reward(big_x, actions=big_a, update=update)
    assert _state_bytes(ex) == before  # nothing was updated: weights, optimiser, statistics
    r = ex.reward(x, actions=a, update=True)
    assert torch.isfinite(r).all() and (r >= 0).all()


@pytest.mark.parametrize("name", list_explorers())
def test_inputs_at_the_bound_stay_finite_and_do_not_poison_the_model(name):
    """|x| = MAX_ABS_INPUT trains without overflow, and later ordinary batches score finitely."""
    ex = _make(name)
    x, a = _batch(2)
    for _ in range(3):
        r = ex.reward(x.sign() * MAX_ABS_INPUT, actions=a.sign() * MAX_ABS_INPUT, update=True)
        assert torch.isfinite(r).all()
    for update in (True, False):
        assert torch.isfinite(ex.reward(x, actions=a, update=update)).all()
    assert all(torch.isfinite(p).all() for m in _modules(ex) for p in m.parameters())


def _modules(ex):
    return [v for v in vars(ex).values() if isinstance(v, torch.nn.Module)]


@pytest.mark.parametrize("name", ["rnd", "none", "icm"])
def test_pad_mask_is_validated_like_mimex(name):
    ex = _make(name)
    x, a = _batch(3)
    with pytest.raises(InputError, match="pad_mask must have dtype bool"):
        ex.reward(x, actions=a, pad_mask=torch.zeros(8, 5))
    with pytest.raises(InputError, match=r"pad_mask must have shape \[8, 5\], got \[8, 4\]"):
        ex.reward(x, actions=a, pad_mask=torch.zeros(8, 4, dtype=torch.bool))
    newest = torch.zeros(8, 5, dtype=torch.bool)
    newest[2, -1] = True
    with pytest.raises(InputError, match="marks the newest step"):
        ex.reward(x, actions=a, pad_mask=newest)
