"""Intrinsic-reward throughput: samples/s of reward-with-update and reward-only.

Measures our MIMEx (nm1, nm5), ICM and RND, and a plain re-implementation of the paper's
MIMEx (``paper_mimex.py``: K separate forward passes for nm=K), at batch 512, T=5, input
dims 50 and 384. Configurations are timed interleaved round-robin (A, B, C, A, B, C, ...)
and each reports its median, so load from other processes affects all alike. Peak memory
is measured per configuration in a fresh subprocess (``--memory``): the growth of the
process's peak resident set over 5 training steps (CPU), or ``max_memory_allocated`` (CUDA).

Usage::

    python benchmarks/bench_explorers.py                   # full run, a few minutes
    python benchmarks/bench_explorers.py --quick           # smoke run
    python benchmarks/bench_explorers.py --markdown --memory --out results.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paper_mimex import PaperExplorer  # noqa: E402

from mimex.explore import make_explorer  # noqa: E402

CONFIGS = ("ours mimex nm1", "ours mimex nm5", "paper mimex nm1", "paper mimex nm5", "icm", "rnd")
ACTION_DIM = 6


def build(name: str, dim: int, seq_len: int, device: str):
    """(callable reward(update) -> tensor) for configuration ``name``."""
    torch.manual_seed(0)
    x = torch.randn(BATCH, seq_len, dim, device=device)
    if name.startswith("paper"):
        ex = PaperExplorer(seq_len, dim, n_masks=int(name[-1]))
        ex.model.to(device)
        return lambda update: ex.reward(x, update)
    if name.startswith("ours"):
        ex = make_explorer("mimex", input_dim=dim, seq_len=seq_len, n_masks=int(name[-1]), device=device)
        return lambda update: ex.reward(x, update=update)
    ex = make_explorer(name, input_dim=dim, action_dim=ACTION_DIM, device=device)
    acts = torch.randn(BATCH, seq_len, ACTION_DIM, device=device)
    return lambda update: ex.reward(x, actions=acts, update=update)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_all(dim: int, seq_len: int, device: str, rounds: int, iters: int, warmup: int) -> dict:
    fns = {c: build(c, dim, seq_len, device) for c in CONFIGS}
    out = {}
    for update in (True, False):
        samples: dict[str, list[float]] = {c: [] for c in CONFIGS}
        for fn in fns.values():
            for _ in range(warmup):
                fn(update)
        for _ in range(rounds):
            for c, fn in fns.items():
                _sync(device)
                t0 = time.perf_counter()
                for _ in range(iters):
                    fn(update)
                _sync(device)
                samples[c].append(BATCH * iters / (time.perf_counter() - t0))
        for c in CONFIGS:
            out.setdefault(c, {})["update" if update else "reward_only"] = statistics.median(samples[c])
    return out


def probe_memory(name: str, dim: int, seq_len: int, device: str) -> float:
    """Peak memory growth (MiB) of 5 training steps, in this (fresh) process."""
    fn = build(name, dim, seq_len, device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        for _ in range(5):
            fn(True)
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(5):
        fn(True)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024.0


def memory_all(dim: int, seq_len: int, device: str, threads: int) -> dict[str, float]:
    out = {}
    for c in CONFIGS:
        cmd = [sys.executable, __file__, "--probe", c, "--dims", str(dim), "--seq-len", str(seq_len),
               "--device", device, "--threads", str(threads), "--batch", str(BATCH)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[c] = float(res.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    global BATCH
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dims", default="50,384")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--seq-len", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory", action="store_true", help="also measure peak memory per config")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    BATCH = a.batch
    dims = [int(d) for d in a.dims.split(",")]
    if a.probe:
        print(probe_memory(a.probe, dims[0], a.seq_len, a.device))
        return
    if a.quick:
        a.rounds, a.iters, a.warmup = 2, 1, 1
    results = {"batch": BATCH, "seq_len": a.seq_len, "threads": a.threads, "device": a.device,
               "rounds": a.rounds, "iters": a.iters, "load_avg_before": os.getloadavg()[0], "dims": {}}
    for d in dims:
        res = time_all(d, a.seq_len, a.device, a.rounds, a.iters, a.warmup)
        if a.memory:
            for c, mib in memory_all(d, a.seq_len, a.device, a.threads).items():
                res[c]["peak_mib"] = mib
        for k in ("nm1", "nm5"):
            res[f"ratio ours/paper {k}"] = {
                m: res[f"ours mimex {k}"][m] / res[f"paper mimex {k}"][m] for m in ("update", "reward_only")}
        results["dims"][str(d)] = res
    results["load_avg_after"] = os.getloadavg()[0]
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=2))
    for d, res in results["dims"].items():
        if a.markdown:
            print(f"\n**D = {d}**, batch {BATCH}, T = {a.seq_len}\n")
            print("| explorer | reward + update (samples/s) | reward only (samples/s) | peak memory (MiB) |")
            print("|---|---|---|---|")
            for c in CONFIGS:
                mem = f"{res[c]['peak_mib']:.0f}" if "peak_mib" in res[c] else "-"
                print(f"| {c} | {res[c]['update']:,.0f} | {res[c]['reward_only']:,.0f} | {mem} |")
        else:
            print(f"\nD = {d}")
            for c in CONFIGS:
                mem = f"  peak {res[c]['peak_mib']:.0f} MiB" if "peak_mib" in res[c] else ""
                print(f"  {c:<16} update {res[c]['update']:9,.0f}/s   reward-only {res[c]['reward_only']:9,.0f}/s{mem}")
        for k in ("nm1", "nm5"):
            r = res[f"ratio ours/paper {k}"]
            verdict = "at least as fast" if min(r.values()) >= 1.0 else "SLOWER"
            print(f"ratio ours/paper {k} at D={d}: update {r['update']:.2f}x, reward-only "
                  f"{r['reward_only']:.2f}x ({verdict})")


BATCH = 512

if __name__ == "__main__":
    main()
