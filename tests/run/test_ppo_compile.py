"""``ppo.compile``: the compiled minibatch loss computes what the eager one does, a compiled run
is deterministic and resumes exactly, and a failed compile is a clear config error."""

import shutil

import pytest
import torch
import torch._dynamo.utils

from mimex.agents import ppo as ppo_module
from mimex.agents.networks import ActorCritic
from mimex.agents.ppo import compiled_loss, minibatch_loss
from mimex.config.overrides import resolve_config
from mimex.errors import ConfigError
from mimex.run.logger import read_metrics
from mimex.run.train import train


@pytest.fixture(autouse=True)
def _restore_distribution_checks():
    """torch.compile's first use turns off torch.distributions argument checks for the whole
    process (``torch/_dynamo/eval_frame.py``); other tests expect them on."""
    before = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(before)


needs_compiler = pytest.mark.skipif(not (shutil.which("g++") or shutil.which("clang++")),
                                    reason="torch.compile on CPU needs a C++ compiler")


def _batch(b=64, feat=16, vec=5, act=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = {"feat": torch.randn(b, feat, generator=g), "vec": torch.randn(b, vec, generator=g)}
    rest = [torch.randn(b, generator=g) for _ in range(4)]  # old logp, adv, old values, returns
    return inputs, torch.randn(b, act, generator=g), rest


@needs_compiler
@pytest.mark.parametrize("std", [None, 0.4])
def test_compiled_loss_and_gradients_match_eager(std):
    p = resolve_config("pixmc", {"ppo.compile": True}).ppo
    torch.manual_seed(0)
    net = ActorCritic({"feat": (16,), "vec": (5,)}, 3, False, p)
    inputs, actions, (old_logp, adv, old_v, ret) = _batch()
    std_t = None if std is None else torch.tensor(std)
    compiled = compiled_loss(p)
    assert compiled is not minibatch_loss
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    grads, terms = [], []
    for fn in (minibatch_loss, compiled):
        net.zero_grad(set_to_none=True)
        loss, out = fn(net, inputs, actions, old_logp, adv, old_v, ret, std_t, p)
        loss.backward()
        grads.append(torch.cat([q.grad.flatten() for q in net.parameters() if q.grad is not None]))
        terms.append(out)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > graphs  # it did compile
    assert set(terms[0]) == {"policy_loss", "value_loss", "approx_kl", "clip_fraction", "entropy"}
    for k in terms[0]:
        torch.testing.assert_close(terms[1][k], terms[0][k], rtol=1e-4, atol=1e-5)
    assert grads[0].abs().sum() > 0
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-3, atol=1e-5)


def _strip_timing(rows):
    return [{k: v for k, v in r.items() if not k.startswith("perf/")} for r in rows]


@needs_compiler
def test_compiled_run_is_deterministic_resumes_exactly_and_stays_near_eager(tiny_config):
    sets = ["ppo.compile=true"]
    a = train(tiny_config(name="a", steps=128, sets=sets))
    b = train(tiny_config(name="b", steps=64, sets=sets))
    b = train(tiny_config(name="b", steps=128, sets=sets))
    rows_a, rows_b = _strip_timing(read_metrics(a["run_dir"])), _strip_timing(read_metrics(b["run_dir"]))
    assert rows_a == rows_b
    eager = _strip_timing(read_metrics(train(tiny_config(name="eager", steps=128))["run_dir"]))
    # the first update starts from the same weights: its terms agree to float rounding
    assert rows_a[0]["losses/value_loss"] == pytest.approx(eager[0]["losses/value_loss"], rel=1e-4)
    assert rows_a[0]["losses/policy_loss"] == pytest.approx(eager[0]["losses/policy_loss"], rel=1e-3, abs=1e-6)


def test_a_failed_compile_is_a_config_error_that_says_what_to_do(tiny_config, monkeypatch):
    def broken(fn, **kwargs):
        def call(*args):
            raise RuntimeError("no C++ compiler found")
        return call

    monkeypatch.setattr(ppo_module.torch, "compile", broken)
    with pytest.raises(ConfigError, match=r"ppo.compile=true but torch.compile could not compile or run .*"
                                          r"no C\+\+ compiler found.*or set ppo.compile=false"):
        train(tiny_config(name="broken", steps=64, sets=["ppo.compile=true"]))


def test_compile_is_refused_for_drqv2():
    with pytest.raises(ConfigError, match="ppo.compile applies to agent ppo only"):
        resolve_config("dmc-cpu", {"ppo.compile": True})
