"""How explorers train on a batch: chunked gradient accumulation (one step), the trained
fraction, RND's return normalisation, and state dicts that refuse another meaning."""

import subprocess
import sys
import textwrap

import pytest
import torch

from mimex.errors import CheckpointError, ConfigError, InputError
from mimex.explore import make_explorer
from mimex.explore.normalize import ReturnScaler

SMALL = dict(embed_dim=32, depth=1, num_heads=2, decoder_embed_dim=16, decoder_num_heads=2)


def _make(name, **kw):
    if name.startswith("mimex"):  # "mimex" (uniform time masks) or "mimex-feature"
        mask = "feature" if name == "mimex-feature" else "uniform"
        return make_explorer("mimex", input_dim=6, seq_len=4, mask=mask, n_masks=3, **SMALL, **kw)
    if name == "icm":
        return make_explorer("icm", input_dim=6, action_dim=2, **kw)
    return make_explorer("rnd", input_dim=6, **kw)


def _params(ex):
    model = ex.predictor if ex.name == "rnd" else ex.model
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _grads(ex):
    """The gradients of the last update (kept until the next one zeroes them)."""
    model = ex.predictor if ex.name == "rnd" else ex.model
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


@pytest.mark.parametrize("name", ["mimex", "mimex-feature", "icm", "rnd"])
def test_chunked_update_is_one_step_equal_to_the_whole_batch(name):
    """chunk_size splits the forward/backward passes, not the update: the same random masks
    (n_masks=3), the same rewards, one optimiser step from the same gradient (float rounding
    aside)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(50, 4, 6, generator=g)
    acts = torch.randn(50, 4, 2, generator=g).clamp(-1, 1)
    pad = torch.zeros(50, 4, dtype=torch.bool)
    pad[:7, :2] = True
    a_arg = acts if name == "icm" else None
    whole, chunked = _make(name), _make(name)
    r1 = whole.reward(x, a_arg, pad, update=True)
    r2 = chunked.reward(x, a_arg, pad, update=True, chunk_size=8)
    assert whole.n_updates == chunked.n_updates == 1
    torch.testing.assert_close(r1, r2, rtol=1e-5, atol=1e-6)
    g_whole, g_chunked = _grads(whole), _grads(chunked)
    torch.testing.assert_close(g_chunked, g_whole, rtol=1e-4, atol=1e-5 * float(g_whole.abs().max()))
    assert not torch.equal(_params(whole), _params(_make(name)))  # it did train


@pytest.mark.parametrize("name", ["mimex", "icm", "rnd"])
def test_update_proportion_trains_on_a_fraction_but_scores_everything(name):
    x = torch.randn(64, 4, 6)
    acts = torch.randn(64, 4, 2).clamp(-1, 1) if name == "icm" else None
    full, part = _make(name), _make(name, update_proportion=0.25)
    r_full = full.reward(x, acts, update=True)
    r_part = part.reward(x, acts, update=True)
    torch.testing.assert_close(r_full, r_part)  # scored before the step, on every sample
    assert not torch.allclose(_params(full), _params(part))
    with pytest.raises(ConfigError, match=r"update_proportion must be in \(0, 1\]"):
        _make(name, update_proportion=0.0)


def test_a_trained_fraction_backpropagates_through_the_kept_sequences_only(monkeypatch):
    """update_proportion < 1 scores all sequences without a graph and learns from the kept
    ones: the gradient of the mean error over exactly those (fixed masks: no noise to share)."""
    import mimex.explore.mimex as mimex_module

    keep = torch.zeros(64)
    keep[::3] = 1.0
    monkeypatch.setattr(mimex_module, "train_weights", lambda b, p, g, d: keep.clone() if p < 1 else torch.ones(b))
    x = torch.randn(64, 4, 6)
    opts = dict(input_dim=6, seq_len=4, mask="fixed", **SMALL)
    part = make_explorer("mimex", update_proportion=0.25, **opts)
    ref = make_explorer("mimex", **opts)
    r = part.reward(x, update=True, chunk_size=10)
    ref.reward(x[keep.bool()], update=True)
    torch.testing.assert_close(_grads(part), _grads(ref), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(r, make_explorer("mimex", **opts).reward(x))  # all scored, before the step


@pytest.mark.parametrize("mask", ["uniform", "feature"])
def test_a_trained_fraction_keeps_each_sequences_masks(monkeypatch, mask):
    """With random masks (n_masks=3, padding, chunks), the kept sequences are backpropagated
    with the very masks they were scored with: the gradient of the weighted mean of the
    whole batch's errors, as one graph over the batch would give."""
    import mimex.explore.mimex as mimex_module

    keep = torch.zeros(40)
    keep[1::4] = 1.0
    monkeypatch.setattr(mimex_module, "train_weights", lambda b, p, g, d: keep.clone())
    x = torch.randn(40, 4, 6)
    pad = torch.zeros(40, 4, dtype=torch.bool)
    pad[:9, :2] = True
    opts = dict(input_dim=6, seq_len=4, mask=mask, n_masks=3, **SMALL)
    part = make_explorer("mimex", update_proportion=0.5, **opts)
    ref = make_explorer("mimex", **opts)
    ref_gen = ref.generator.get_state()
    r = part.reward(x, None, pad, update=True, chunk_size=7)
    # the reference: the same noise, one graph over the whole batch, weighted by keep
    ref.generator.set_state(ref_gen)
    xp = x.masked_fill(pad.unsqueeze(-1), 0.0)
    noise = ref._mask_noise(40)
    errors = ref._chunk_errors(xp, pad, noise, slice(None))
    ((errors * keep).sum() / keep.sum()).backward()
    torch.testing.assert_close(r, errors.detach())
    torch.testing.assert_close(_grads(part), _grads(ref), rtol=1e-4, atol=1e-6)


def test_a_trained_fraction_that_keeps_nothing_takes_no_step(monkeypatch):
    import mimex.explore.mimex as mimex_module

    monkeypatch.setattr(mimex_module, "train_weights", lambda b, p, g, d: torch.zeros(b))
    ex = make_explorer("mimex", input_dim=6, seq_len=4, update_proportion=0.1, **SMALL)
    before = _params(ex)
    ex.reward(torch.randn(8, 4, 6), update=True)
    assert ex.n_updates == 0 and torch.equal(_params(ex), before)


def test_bad_chunk_size_is_a_clear_error():
    with pytest.raises(InputError, match="chunk_size must be None or an int >= 1"):
        _make("rnd").reward(torch.zeros(3, 1, 6), update=True, chunk_size=0)


def test_return_scaler_matches_a_hand_computed_case():
    """R <- gamma R + r per env over steps; rewards are divided by the std of all R seen."""
    scaler = ReturnScaler(gamma=0.5)
    r = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = scaler(r, update=True)
    returns = torch.tensor([1.0, 2.0, 0.5 * 1 + 3, 0.5 * 2 + 4], dtype=torch.float64)  # 1, 2, 3.5, 5
    # running stats start at (mean 0, var 1, count 1e-4): a negligible prior
    var = returns.var(unbiased=False)
    torch.testing.assert_close(out, (r / var.sqrt()).float(), rtol=1e-3, atol=1e-4)
    # the next rollout continues each env's return: R = 0.5 * 5 + 1 for env 1
    scaler(torch.tensor([[0.0, 1.0]]), update=True)
    assert scaler.returns.tolist() == [1.75, 3.5]


def test_rnd_return_normalisation_is_applied_per_rollout():
    ex = make_explorer("rnd", input_dim=3, seed=0)  # reward_norm="return" by default
    x = torch.randn(40, 1, 3) * 100
    raw = ex.reward(x, update=True)
    torch.testing.assert_close(raw, ex.last_raw)  # reward() alone is the raw error
    out = ex.normalize_rollout(raw.reshape(8, 5), update=True)
    assert out.shape == (8, 5) and 0.01 < float(out.std()) < 100
    step = make_explorer("rnd", input_dim=3, seed=0, reward_norm="step")
    torch.testing.assert_close(step.normalize_rollout(raw.reshape(8, 5)), raw.reshape(8, 5))
    assert make_explorer("rnd", input_dim=3, reward_norm=True).config.reward_norm == "step"


@pytest.mark.parametrize(("option", "other"), [("pad", "zeros"), ("norm_loss", True),
                                                ("mask_ratio", 0.5), ("n_masked", 2)])
def test_mimex_state_dict_with_another_meaning_is_refused(option, other):
    base = dict(input_dim=6, seq_len=4, **SMALL)
    sd = make_explorer("mimex", **base).state_dict()
    with pytest.raises(CheckpointError, match="does not match the config"):
        make_explorer("mimex", **base, **{option: other}).load_state_dict(sd)


def test_mimex_ratio_with_the_same_counts_loads():
    """mask_ratio 0.7 and 0.75 both show 1 of 4 steps: the same model."""
    base = dict(input_dim=6, seq_len=4, **SMALL)
    sd = make_explorer("mimex", mask_ratio=0.7, **base).state_dict()
    make_explorer("mimex", mask_ratio=0.75, **base).load_state_dict(sd)


@pytest.mark.parametrize("name", ["mimex", "icm", "rnd"])
def test_configured_learning_rate_wins_over_the_saved_one(name):
    sd = _make(name, lr=1e-2).state_dict()
    ex = _make(name, lr=1e-4)
    ex.load_state_dict(sd)
    assert all(g["lr"] == 1e-4 for g in ex.optimizer.param_groups)


def test_icm_and_rnd_state_dicts_with_another_meaning_are_refused():
    with pytest.raises(CheckpointError, match="detach_forward"):
        _make("icm", detach_forward=True).load_state_dict(_make("icm").state_dict())
    with pytest.raises(CheckpointError, match="reward_norm"):
        _make("rnd", reward_norm="none").load_state_dict(_make("rnd").state_dict())


def test_release_icm_phi_learns_from_the_inverse_loss_only():
    """detach_forward: the forward loss never reaches phi (the MIMEx release's wiring)."""
    ex = make_explorer("icm", input_dim=6, action_dim=2, linear_encoder=True, detach_forward=True)
    assert isinstance(ex.model["encoder"], torch.nn.Linear)
    x, a = torch.randn(32, 2, 6), torch.randn(32, 2, 2)
    fwd, _ = ex._errors(x, a[:, -2], inverse=False)
    fwd.sum().backward()
    assert all(p.grad is None for p in ex.model["encoder"].parameters())


@pytest.mark.slow
def test_whole_rollout_nm5_at_paper_scale_fits_in_a_few_gib():
    """nm5 on one 16,384-sequence rollout of 384-d features (the official batch) with one
    optimiser step: chunks keep the peak resident memory under 3 GiB (one graph over all of it
    would need about 15 GiB). About 40 s on 2 idle cores."""
    code = textwrap.dedent("""
        import resource, torch
        torch.set_num_threads(2)
        from mimex.explore import make_explorer
        ex = make_explorer("mimex", input_dim=384, seq_len=5, n_masks=5)
        x = torch.randn(16384, 5, 384)
        r = ex.reward(x, update=True, chunk_size=1024)
        assert r.shape == (16384,) and ex.n_updates == 1
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    peak_gib = float(out.stdout.strip().splitlines()[-1])
    assert peak_gib < 3.0, f"peak RSS {peak_gib:.2f} GiB"
