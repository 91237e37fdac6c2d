"""Intrinsic-reward throughput: samples/s of reward-with-update and reward-only, and peak memory.

Usage (no Makefile needed; from the repository root, with the venv active)::

    python benchmarks/bench_explorers.py --threads 2                 # full run, ~3-5 min on 2 cores
    python benchmarks/bench_explorers.py --threads 2 --markdown --out results.json
    python benchmarks/bench_explorers.py --quick --batch 16 --dims 8 # smoke run, seconds
    python benchmarks/bench_explorers.py --device cuda               # on a GPU

Measures our MIMEx (nm1, nm5), ICM (6-d continuous actions) and RND, and a plain
re-implementation of the paper's MIMEx (``paper_mimex.py``: K separate forward passes for
nm=K, one Adam step), at batch 512, T=5, input dims 50 and 384. After warm-up, the
pairs (ours nmK, paper nmK) and (ICM, RND) are timed interleaved: ``--rounds`` rounds in ABBA
order (A B, B A, A B, ...), each slot one untimed call then ``--iters`` timed calls, and each
configuration reports the median of its rounds (all rounds are kept in ``--out``). Load from
other processes on a shared machine thus affects both sides of a pair alike; ours and the
paper's model at the same D and K are always measured side by side in one run.

Peak memory (on by default, ``--no-memory`` skips it) is measured for each configuration in a
fresh subprocess. On CPU it is the growth of the process's peak resident set size
(``VmHWM`` in /proc/self/status, reset through /proc/self/clear_refs; ``ru_maxrss`` where that
is unavailable) over 5 calls of ``reward(update=True)``, relative to the resident set right
after the model, optimiser and inputs were built: it is the extra memory the
training step touches (activations, gradients, Adam state), rounded by the allocator to pages
and lower than the true allocation total when the allocator reuses freed blocks. On CUDA it is
``torch.cuda.max_memory_allocated()`` minus the allocation before the 5 calls.
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
from paper_mimex import PaperExplorer, PaperMIMEx, n_params  # noqa: E402

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


# Timed side by side: each group is measured interleaved, round after round, in ABBA order
# (A B, then B A, ...) so that neither side always runs right after the other.
GROUPS = (("ours mimex nm1", "paper mimex nm1"), ("ours mimex nm5", "paper mimex nm5"), ("icm", "rnd"))


def time_all(dim: int, seq_len: int, device: str, rounds: int, iters: int, warmup: int) -> dict:
    out: dict[str, dict] = {}
    for group in GROUPS:
        fns = {c: build(c, dim, seq_len, device) for c in group}
        for update in (True, False):
            samples: dict[str, list[float]] = {c: [] for c in group}
            for fn in fns.values():
                for _ in range(warmup):
                    fn(update)
            for r in range(rounds):
                for c in group if r % 2 == 0 else group[::-1]:
                    fns[c](update)  # untimed: the switch from the other configuration settles
                    _sync(device)
                    t0 = time.perf_counter()
                    for _ in range(iters):
                        fns[c](update)
                    _sync(device)
                    samples[c].append(BATCH * iters / (time.perf_counter() - t0))
            for c in group:
                out.setdefault(c, {})["update" if update else "reward_only"] = statistics.median(samples[c])
                out[c]["rounds_" + ("update" if update else "reward_only")] = samples[c]
    return {c: out[c] for c in CONFIGS}


def probe_memory(name: str, dim: int, seq_len: int, device: str) -> float:
    """Peak memory growth (MiB) of 5 training steps, in this (fresh) process."""
    fn = build(name, dim, seq_len, device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        for _ in range(5):
            fn(True)
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    # Linux: reset the peak-RSS mark (VmHWM) to the current RSS, so that the peak reached while
    # importing torch does not hide the training step's; elsewhere fall back to ru_maxrss.
    try:
        base = _status_kib("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")
        for _ in range(5):
            fn(True)
        return (_status_kib("VmHWM") - base) / 1024.0
    except OSError:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(5):
            fn(True)
        return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024.0


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise OSError(f"{key} not in /proc/self/status")


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
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-memory", dest="memory", action="store_false",
                    help="skip the peak-memory subprocesses")
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
    results = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "machine": machine(a.device),
               "torch": torch.__version__, "batch": BATCH, "seq_len": a.seq_len,
               "threads": torch.get_num_threads(), "device": a.device, "rounds": a.rounds,
               "iters": a.iters, "warmup": a.warmup, "load_avg_before": os.getloadavg(), "dims": {}}
    t_start = time.perf_counter()
    for d in dims:
        ours = make_explorer("mimex", input_dim=d, seq_len=a.seq_len).model
        paper = PaperMIMEx(a.seq_len, d)
        assert n_params(ours) == n_params(paper), (n_params(ours), n_params(paper))
        res = time_all(d, a.seq_len, a.device, a.rounds, a.iters, a.warmup)
        res["params"] = {"ours": n_params(ours), "paper": n_params(paper)}
        if a.memory:
            for c, mib in memory_all(d, a.seq_len, a.device, a.threads).items():
                res[c]["peak_mib"] = mib
        for k in ("nm1", "nm5"):
            res[f"ratio ours/paper {k}"] = {
                m: res[f"ours mimex {k}"][m] / res[f"paper mimex {k}"][m] for m in ("update", "reward_only")}
        results["dims"][str(d)] = res
    results["load_avg_after"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - t_start, 1)
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=2))
    print(f"{results['date_utc']} UTC, {results['machine']}, torch {results['torch']}, "
          f"{results['threads']} threads, load avg before {fmt_load(results['load_avg_before'])}, "
          f"after {fmt_load(results['load_avg_after'])}, {results['seconds']} s")
    for d, res in results["dims"].items():
        print(f"parameters at D={d}: ours {res['params']['ours']:,}, paper {res['params']['paper']:,}")
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
    print()
    if a.markdown:
        print("| ratio ours / paper (samples/s) | reward + update | reward only | at least as fast? |")
        print("|---|---|---|---|")
    for d, res in results["dims"].items():
        for k in ("nm1", "nm5"):
            r = res[f"ratio ours/paper {k}"]
            verdict = "yes" if min(r.values()) >= 1.0 else "NO"
            if a.markdown:
                print(f"| MIMEx {k}, D = {d} | {r['update']:.2f} | {r['reward_only']:.2f} | {verdict} |")
            else:
                print(f"ratio ours/paper {k} at D={d}: update {r['update']:.2f}x, reward-only "
                      f"{r['reward_only']:.2f}x -> ours at least as fast: {verdict}")


def machine(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores visible)"
    except OSError:
        pass
    return f"CPU ({os.cpu_count()} cores visible)"


def fmt_load(load) -> str:
    return "/".join(f"{v:.2f}" for v in load)


BATCH = 512

if __name__ == "__main__":
    main()
