"""MIMEx behaviour: what is scored, padding, K maskings, learning, update semantics."""

import copy

import torch

from mimex.explore.masking import plan_time_mask
from mimex.explore.mimex_model import masked_sequence_error


def _x(b=16, t=5, d=6, seed=0):
    return torch.randn(b, t, d, generator=torch.Generator().manual_seed(seed))


def test_masked_sequence_error_by_hand():
    """Per-step and per-element masked errors equal hand-computed values."""
    pred = torch.zeros(1, 3, 2)
    target = torch.tensor([[[1.0, 1.0], [2.0, 0.0], [3.0, 3.0]]])
    score = torch.tensor([[False, True, True]])
    # step 1: mean(4, 0) = 2; step 2: mean(9, 9) = 9; mean over scored steps = 5.5
    assert masked_sequence_error(pred, target, score).item() == 5.5
    elems = torch.zeros(1, 3, 2, dtype=torch.bool)
    elems[0, 2, 0] = True
    assert masked_sequence_error(pred, target, elems).item() == 9.0


def test_reward_is_the_error_on_masked_steps_only(small_mimex):
    """With a fixed mask, the reward equals the reconstruction error of the masked steps."""
    ex = small_mimex(mask="fixed", n_visible=2)
    x = _x()
    r = ex.reward(x)
    plan = plan_time_mask(16, 5, 2, "fixed", None, None, torch.device("cpu"))
    with torch.no_grad():
        pred = ex.model(x, plan)
    by_hand = (pred - x).pow(2).mean(-1)[:, 2:].mean(1)
    assert torch.allclose(r, by_hand, atol=1e-6)
    # a reconstruction error on a visible step is not scored: perturbing the prediction there
    # (by hand) leaves the score unchanged
    pred2 = pred.clone()
    pred2[:, :2] += 10.0
    assert torch.allclose(masked_sequence_error(pred2, x, plan.target), by_hand, atol=1e-6)


def test_padded_steps_change_nothing(small_mimex):
    """Padded content leaves the reward bit-identical; pad='zeros' scores them and differs from pad='mask'."""
    pad = torch.zeros(16, 5, dtype=torch.bool)
    pad[:, :2] = True
    pad[:4, :4] = True
    x = _x()
    x_other = x.clone()
    x_other[pad] = torch.randn(int(pad.sum()), 6) * 100
    a = small_mimex(seed=3).reward(x, pad_mask=pad)
    b = small_mimex(seed=3).reward(x_other, pad_mask=pad)
    assert torch.equal(a, b)
    # the official zero padding scores the padded (zero) steps: a different reward
    z = small_mimex(seed=3, pad="zeros").reward(x, pad_mask=pad)
    assert not torch.allclose(a, z)
    z_other = small_mimex(seed=3, pad="zeros").reward(x_other, pad_mask=pad)
    assert torch.equal(z, z_other)


def test_k_maskings_reduce_the_variance_across_calls(small_mimex):
    """Averaging n_masks=5 maskings cuts the call-to-call variance of the reward for fixed input and weights."""
    x = _x(b=32)
    nm1, nm5 = small_mimex(seed=0, n_masks=1), small_mimex(seed=0, n_masks=5)
    r1 = torch.stack([nm1.reward(x) for _ in range(20)])
    r5 = torch.stack([nm5.reward(x) for _ in range(20)])
    assert r5.var(0).mean() < 0.5 * r1.var(0).mean()


def test_fixed_mask_is_deterministic(small_mimex):
    """mask='fixed' gives identical rewards on repeated no-update calls; the uniform mask does not."""
    ex = small_mimex(mask="fixed")
    x = _x()
    assert torch.equal(ex.reward(x), ex.reward(x))
    uniform = small_mimex()
    assert not torch.equal(uniform.reward(x), uniform.reward(x))


def test_trained_sequences_score_lower_than_unseen_ones(small_mimex):
    """After training on a small fixed set, those sequences score well below fresh ones from the same distribution."""
    ex = small_mimex(seed=1, lr=1e-3, n_masks=4)
    seen = _x(b=8, seed=10)
    for _ in range(300):
        ex.reward(seen, update=True)
    unseen = _x(b=8, seed=11)
    r_seen = torch.stack([ex.reward(seen) for _ in range(5)]).mean()
    r_unseen = torch.stack([ex.reward(unseen) for _ in range(5)]).mean()
    assert r_seen < 0.5 * r_unseen


def test_update_returns_the_pre_step_loss_and_no_update_changes_nothing(small_mimex):
    """update=False leaves weights, normaliser and counters unchanged; update=True reports the pre-step loss and changes weights."""
    ex = small_mimex(seed=2, reward_norm=True)
    x = _x()
    twin = copy.deepcopy(ex)
    before = copy.deepcopy(ex.model.state_dict())
    r_eval = twin.reward(x, update=False)
    assert all(torch.equal(before[k], v) for k, v in twin.model.state_dict().items())
    assert twin.norm.per_step.stats.count.item() == ex.norm.per_step.stats.count.item() and twin.n_updates == 0
    r_train = ex.reward(x, update=True)
    raw = ex.last_metrics["explore/reward_raw_mean"]
    assert abs(raw - r_eval.mean().item()) < 1e-5  # same masks, same weights: same error
    assert not all(torch.equal(before[k], v) for k, v in ex.model.state_dict().items())
    assert r_train.requires_grad is False and r_train.dtype == torch.float32


def test_n_masks_takes_exactly_one_optimiser_step_per_call(small_mimex):
    """With n_masks=5 each update call is one optimiser step (n_updates and Adam's step count)."""
    ex = small_mimex(n_masks=5)
    for _ in range(3):
        ex.reward(_x(), update=True)
    steps = {int(s["step"]) for s in ex.optimizer.state_dict()["state"].values()}
    assert ex.n_updates == 3 and steps == {3}


def test_feature_mask_mode_learns_and_respects_padding(small_mimex):
    """Feature-mask mode ignores padded content and its reward falls with training."""
    ex = small_mimex(mask="feature", mask_ratio=0.5, lr=1e-3)
    x = _x()
    pad = torch.zeros(16, 5, dtype=torch.bool)
    pad[:, 0] = True
    x_other = x.clone()
    x_other[:, 0] = 50.0
    assert torch.equal(small_mimex(mask="feature", mask_ratio=0.5).reward(x, pad_mask=pad),
                       small_mimex(mask="feature", mask_ratio=0.5).reward(x_other, pad_mask=pad))
    first = ex.reward(x, update=True)
    for _ in range(100):
        ex.reward(x, update=True)
    assert ex.reward(x).mean() < first.mean()


def test_large_preset_and_overrides(small_mimex):
    """size='large' resolves to decoder 128/2/4; explicit options override the preset."""
    from mimex.explore.mimex import MIMExConfig

    arch = MIMExConfig(size="large").architecture()
    assert (arch["decoder_embed_dim"], arch["decoder_depth"], arch["decoder_num_heads"]) == (128, 2, 4)
    assert arch["embed_dim"] == 128 and arch["depth"] == 4
    assert MIMExConfig(size="large", decoder_depth=3).architecture()["decoder_depth"] == 3


def test_rewards_are_finite_non_negative_float32(small_mimex):
    """Every mask mode returns finite, non-negative float32[B] rewards."""
    for mask in ("uniform", "fixed", "feature"):
        r = small_mimex(mask=mask, norm_loss=True).reward(_x(), update=True)
        assert r.dtype == torch.float32 and r.shape == (16,)
        assert torch.isfinite(r).all() and (r >= 0).all()


def test_target_values_never_reach_the_model_but_change_the_reward(small_mimex):
    """With a fixed mask, a masked step's value does not change any prediction (no leakage);
    it changes the reward only through the target; a visible step changes the predictions."""
    ex = small_mimex(mask="fixed", n_visible=2)
    x = _x()
    plan = plan_time_mask(16, 5, 2, "fixed", None, None, torch.device("cpu"))
    assert plan.target[0].tolist() == [False, False, True, True, True]
    changed_target = x.clone()
    changed_target[:, 3] += 3.0
    with torch.no_grad():
        pred = ex.model(x, plan)
        assert torch.equal(pred, ex.model(changed_target, plan))
    assert (ex.reward(changed_target) != ex.reward(x)).all()
    changed_context = x.clone()
    changed_context[:, 0] += 3.0
    with torch.no_grad():
        assert not torch.allclose(ex.model(changed_context, plan)[:, 2:], pred[:, 2:])


def test_update_reward_equals_the_pre_step_loss_per_sequence(small_mimex):
    """update=True returns the error of the forward pass before the step: the same values as a
    no-update call on a deep copy with the same weights and mask generator state."""
    for mask in ("uniform", "feature"):
        ex = small_mimex(seed=4, mask=mask, mask_ratio=0.5, n_masks=3)
        x = _x(seed=5)
        twin = copy.deepcopy(ex)
        r_train = ex.reward(x, update=True)
        r_eval = twin.reward(x, update=False)
        assert torch.allclose(r_train, r_eval, rtol=1e-5, atol=1e-6)
        # and the step did happen: the next no-update reward differs
        assert not torch.allclose(copy.deepcopy(ex).reward(x), copy.deepcopy(twin).reward(x))


def test_attention_matches_a_hand_written_reference():
    """SelfAttention with a key mask equals softmax(QK^T/sqrt(d_h)) V over the allowed keys,
    with and without gradients, for short and longer sequences."""
    from mimex.nets.transformer import SelfAttention

    torch.manual_seed(0)
    attn = SelfAttention(8, 2)
    for n in (3, 7):
        x = torch.randn(4, n, 8)
        key_mask = torch.rand(4, n) > 0.4
        key_mask[:, 0] = True
        qkv = attn.qkv(x).view(4, n, 3, 2, 4).permute(2, 0, 3, 1, 4)
        scores = qkv[0] @ qkv[1].transpose(-1, -2) / 2.0
        scores = scores.masked_fill(~key_mask[:, None, None, :], float("-inf"))
        ref = attn.proj((scores.softmax(-1) @ qkv[2]).transpose(1, 2).reshape(4, n, 8))
        with torch.no_grad():
            assert torch.allclose(attn(x, key_mask), ref, atol=1e-5)
        assert torch.allclose(attn(x, key_mask), ref, atol=1e-5)
        # a masked key's value has no effect on the output
        x2 = x.clone()
        x2[~key_mask] += 100.0
        keep_rows = key_mask  # outputs at allowed positions only depend on allowed keys
        assert torch.allclose(attn(x2, key_mask)[keep_rows], attn(x, key_mask)[keep_rows], atol=1e-4)


def test_norm_loss_needs_two_features(small_mimex):
    """norm_loss standardises each step over its features: with one feature that is undefined,
    so it is refused at construction rather than returning NaN rewards."""
    import pytest

    from mimex.errors import ConfigError

    with pytest.raises(ConfigError, match="norm_loss needs input_dim >= 2, got 1"):
        small_mimex(input_dim=1, norm_loss=True)
    r = small_mimex(input_dim=1).reward(torch.randn(3, 5, 1))
    assert torch.isfinite(r).all()


def test_padded_steps_are_not_attended_inside_the_model(small_mimex):
    """Even if a padded step's content reached the networks, no prediction at a real step
    would change: padded steps are masked out of encoder and decoder attention."""
    pad = torch.zeros(16, 5, dtype=torch.bool)
    pad[:, :2] = True
    pad[:4, :4] = True
    x = _x()
    x_other = x.clone()
    x_other[pad] = 100.0
    real = ~pad
    for use_cls in (True, False):
        ex = small_mimex(use_cls=use_cls)
        plan = plan_time_mask(16, 5, ex.n_visible, "uniform", pad, torch.Generator().manual_seed(0),
                              torch.device("cpu"))
        with torch.no_grad():
            a, b = ex.model(x, plan), ex.model(x_other, plan)
        assert torch.allclose(a[real], b[real], atol=1e-5)
    feature = small_mimex(mask="feature", mask_ratio=0.5)
    hidden = torch.zeros(16, 5, 6, dtype=torch.bool)
    hidden[:, -1, :3] = True
    with torch.no_grad():
        a = feature.model(x, hidden, real)
        b = feature.model(x_other, hidden, real)
        leaky = feature.model(x_other, hidden, None)
    assert torch.allclose(a[real], b[real], atol=1e-5)
    assert not torch.allclose(a[real], leaky[real], atol=1e-3)  # the check can fail


def test_zero_padding_mode_scores_padded_steps_as_zero_vectors(small_mimex):
    """pad='zeros' is the official behaviour: the same as zero-filling the padded steps and
    passing no pad mask at all (so padded steps can be targets and context)."""
    pad = torch.zeros(16, 5, dtype=torch.bool)
    pad[:, :3] = True
    x = _x()
    zeroed = x.masked_fill(pad.unsqueeze(-1), 0.0)
    with_mask = small_mimex(seed=6, pad="zeros").reward(x, pad_mask=pad)
    by_hand = small_mimex(seed=6, pad="zeros").reward(zeroed)
    assert torch.equal(with_mask, by_hand)
    assert not torch.allclose(with_mask, small_mimex(seed=6).reward(x, pad_mask=pad))
