"""Training throughput per suite, observation kind and explorer: the table behind the hour
estimates of ``mimex sweep --dry-run``.

Each number is environment steps per second of one training run (``perf/sps``: rollout,
bonus, GAE and PPO update of an iteration, median over the measured iterations after the
first), with one torch thread, as ``mimex sweep`` runs it. Re-measure on your machine with
``python -m mimex.run.speeds`` (a few minutes) and edit ``SPEEDS``.
"""

from __future__ import annotations

import fnmatch
import statistics
import tempfile
import time
from dataclasses import dataclass
from typing import Any

MEASURED_ON = "not measured yet"


@dataclass(frozen=True)
class Speed:
    """Steps/s of runs whose ``env.name`` matches ``env`` (a glob), ``env.obs`` is ``obs``
    (``*`` = any) and ``explore.name`` is ``explore`` (``*`` = any)."""

    env: str
    obs: str
    explore: str
    steps_per_s: float
    how: str = ""


SPEEDS: tuple[Speed, ...] = ()
# MIMEx with K maskings per sequence costs more than nm1 (one batched pass, larger batch).
N_MASKS_COST = {1: 1.0}
FALLBACK = Speed("*", "*", "*", 1000.0, "no measurement for this suite: a guess")


def speed_for(env: str, obs: str | None, explore: str, n_masks: int = 1) -> Speed:
    """The first row of ``SPEEDS`` matching the run (``FALLBACK`` if none), its steps/s
    divided by the cost of ``n_masks`` maskings for MIMEx."""
    kind = obs or "default"
    for s in SPEEDS:
        if fnmatch.fnmatch(env, s.env) and s.obs in ("*", kind) and s.explore in ("*", explore):
            break
    else:
        s = FALLBACK
    if explore == "mimex" and n_masks > 1:
        cost = N_MASKS_COST.get(n_masks, max(N_MASKS_COST.values()) * n_masks / max(N_MASKS_COST))
        return Speed(s.env, s.obs, s.explore, s.steps_per_s / cost, f"{s.how}; nm{n_masks} cost x{cost:.2f}")
    return s


def run_hours(cfg: Any, remaining_steps: int) -> float:
    """Estimated hours of one run (a RunConfig) with ``remaining_steps`` steps to go."""
    s = speed_for(cfg.env.name, cfg.env.obs, cfg.explore.name, cfg.explore.mimex.n_masks)
    return remaining_steps / s.steps_per_s / 3600.0


# What `python -m mimex.run.speeds` measures: (preset, dotted overrides).
CASES: list[tuple[str, dict[str, Any]]] = [
    *[("pixmc-paper", {"env.name": f"pixmc/{t}", "env.obs": "state", "explore.input": "auto",
                       "explore.name": e})
      for t in ("FrankaReach", "KukaReach", "FrankaPick", "KukaPick") for e in ("none", "mimex")],
    *[("pixmc-paper", {"env.name": "pixmc/FrankaReach", "env.obs": "state", "explore.input": "auto",
                       "explore.name": e}) for e in ("icm", "rnd")],
    ("pixmc-paper", {"env.name": "pixmc/FrankaReach", "env.obs": "state", "explore.input": "auto",
                     "explore.name": "mimex", "explore.mimex.n_masks": 5}),
    *[("pixmc-paper", {"env.name": f"pixmc/{t}", "explore.name": e, "env.num_envs": 32})
      for t in ("FrankaReach", "KukaReach") for e in ("none", "mimex")],
    *[("atari", {"explore.name": e}) for e in ("none", "mimex")],
    *[("demo", {"explore.name": e}) for e in ("none", "mimex")],
]


def measure(preset: str, overrides: dict[str, Any], iterations: int = 3) -> float:
    """Median ``perf/sps`` of iterations 2..``iterations`` of a fresh run of ``preset`` with
    ``overrides`` and one torch thread (the first iteration is warm-up)."""
    from mimex.config.overrides import resolve_config
    from mimex.run.logger import read_metrics
    from mimex.run.train import train

    with tempfile.TemporaryDirectory() as tmp:
        probe = resolve_config(preset, overrides)
        batch = probe.env.num_envs * probe.ppo.num_steps
        cfg = resolve_config(preset, {**overrides, "steps": batch * iterations, "run_dir": tmp,
                                      "progress": False, "tensorboard": False, "threads": 1,
                                      "checkpoint_minutes": 1e9})
        train(cfg)
        return statistics.median(r["perf/sps"] for r in read_metrics(tmp)[1:])


def main() -> None:
    print(f"# measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, one torch thread")
    for preset, ov in CASES:
        t0 = time.time()
        sps = measure(preset, ov)
        print(f"{preset:12s} {ov}  {sps:9.1f} steps/s  ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
