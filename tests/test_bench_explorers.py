"""Smoke test of benchmarks/bench_explorers.py and the paper-faithful baseline it compares with."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import torch

from mimex.explore import make_explorer

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
CONFIGS = ("ours mimex nm1", "ours mimex nm5", "paper mimex nm1", "paper mimex nm5", "icm", "rnd")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCH))
    return mod


def test_paper_model_matches_ours_in_size_and_gives_finite_per_sample_losses():
    paper = _load("paper_mimex")
    for dim in (8, 50):
        ours = make_explorer("mimex", input_dim=dim, seq_len=5).model
        assert paper.n_params(paper.PaperMIMEx(5, dim)) == paper.n_params(ours)
    torch.manual_seed(0)
    ex = paper.PaperExplorer(5, 8, n_masks=3)
    x = torch.randn(6, 5, 8)
    before = [p.detach().clone() for p in ex.model.parameters()]
    r = ex.reward(x, update=False)
    assert r.shape == (6,) and torch.isfinite(r).all() and (r > 0).all()
    assert all(torch.equal(a, b) for a, b in zip(before, ex.model.parameters(), strict=True))
    r = ex.reward(x, update=True)
    assert r.shape == (6,) and torch.isfinite(r).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, ex.model.parameters(), strict=True))


def test_paper_masking_hides_four_of_five_steps():
    paper = _load("paper_mimex")
    m = paper.PaperMIMEx(5, 8)
    x = torch.zeros(4, 5, 8)
    x[:, 2] = 100.0  # only step 2 is hard to predict: the loss tells whether it was masked
    with torch.no_grad():
        losses = torch.stack([m(x) for _ in range(40)])
    # step 2 is a target in 4/5 of the draws: the loss takes two levels, both seen
    assert (losses > 1000).float().mean() > 0.5 and (losses < 1000).any()


def test_quick_benchmark_reports_positive_numbers(tmp_path):
    out = tmp_path / "r.json"
    cmd = [sys.executable, str(BENCH / "bench_explorers.py"), "--quick", "--batch", "8", "--dims", "8",
           "--threads", "1", "--no-memory", "--markdown", "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "| ratio ours / paper" in res.stdout
    data = json.loads(out.read_text())
    assert data["batch"] == 8 and data["seq_len"] == 5 and data["threads"] == 1
    d = data["dims"]["8"]
    for c in CONFIGS:
        assert d[c]["update"] > 0 and d[c]["reward_only"] > 0
    for k in ("nm1", "nm5"):
        r = d[f"ratio ours/paper {k}"]
        assert r["update"] > 0 and r["reward_only"] > 0
    assert d["params"]["ours"] == d["params"]["paper"]


def test_memory_probe_returns_a_non_negative_number():
    bench = _load("bench_explorers")
    bench.BATCH = 4
    assert bench.probe_memory("ours mimex nm1", 8, 5, "cpu") >= 0.0
    assert bench.probe_memory("paper mimex nm5", 8, 5, "cpu") >= 0.0
