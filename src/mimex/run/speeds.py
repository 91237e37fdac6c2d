"""Training throughput per suite, observation kind and explorer: the table behind the hour
estimates of ``mimex sweep --dry-run``.

Each number is environment steps per second of one training run (``perf/sps``: rollout,
bonus, GAE and PPO update of an iteration, median over the measured iterations after the
first), with one torch thread, as ``mimex sweep`` runs it. Re-measure on your machine with
``python -m mimex.run.speeds`` (a few minutes) and edit ``SPEEDS``.
"""

from __future__ import annotations

import fnmatch
import json
import math
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEASURED_ON = ("measured 2026-11-26 on a shared 2-core CPU VM, no GPU, 1 torch thread per run; "
               "a GPU machine renders and trains faster by an unmeasured factor")


@dataclass(frozen=True)
class Speed:
    """Steps/s of runs whose ``env.name`` matches ``env`` and observation kind matches ``obs``
    (globs) and whose ``explore.name`` is ``explore`` (``*`` = any)."""

    env: str
    obs: str
    explore: str
    steps_per_s: float
    how: str = "measured"


# `python -m mimex.run.speeds`: PixMC state rows 2026-11-26 09:26-09:35 UTC (after the
# batched PixMC vector env landed), toy/dmc rows 08:16-08:40 UTC; other jobs shared the
# 2 cores then: read these as pessimistic. pixmc-paper preset (512 envs x 32 steps, 10
# epochs); state rows with --obs state. Pixels+state rows: see below. First match wins.
SPEEDS: tuple[Speed, ...] = (
    Speed("pixmc/FrankaReach", "state", "none", 4618.0),
    Speed("pixmc/FrankaReach", "state", "icm", 2820.0),
    Speed("pixmc/FrankaReach", "state", "rnd", 3021.0),
    Speed("pixmc/FrankaReach", "state", "mimex", 2064.0),
    Speed("pixmc/KukaReach", "state", "none", 2305.0),
    Speed("pixmc/KukaReach", "state", "mimex", 1259.0),
    Speed("pixmc/Franka*", "state", "none", 2766.0, "FrankaPick measured, used for Cabinet/Move"),
    Speed("pixmc/Franka*", "state", "mimex", 1273.0, "FrankaPick measured, used for Cabinet/Move"),
    Speed("pixmc/Kuka*", "state", "none", 1844.0, "KukaPick measured, used for Cabinet/Move"),
    Speed("pixmc/Kuka*", "state", "mimex", 1036.0, "KukaPick measured, used for Cabinet/Move"),
    # pixels+state rows: 2026-11-26 16:15-16:21 UTC, 512 envs, 1 thread, beside one other
    # 1-thread training run (as with --workers 2): Reach and Pick measured, Pick used for
    # Cabinet and Move
    Speed("pixmc/FrankaReach", "pixels*", "none", 1712.0),
    Speed("pixmc/FrankaReach", "pixels*", "mimex", 1175.0),
    Speed("pixmc/KukaReach", "pixels*", "none", 1279.0),
    Speed("pixmc/KukaReach", "pixels*", "mimex", 951.0),
    Speed("pixmc/Franka*", "pixels*", "none", 1652.0, "FrankaPick measured, used for Cabinet/Move"),
    Speed("pixmc/Franka*", "pixels*", "mimex", 1208.0, "FrankaPick measured, used for Cabinet/Move"),
    Speed("pixmc/Kuka*", "pixels*", "none", 1242.0, "KukaPick measured, used for Cabinet/Move"),
    Speed("pixmc/Kuka*", "pixels*", "mimex", 976.0, "KukaPick measured, used for Cabinet/Move"),
    Speed("atari/*", "*", "none", 214.0, "atari preset, PrivateEye, measured 16:31 UTC beside 2 runs"),
    Speed("atari/*", "*", "mimex", 208.0, "atari preset, PrivateEye, measured 16:31 UTC beside 2 runs"),
    Speed("atari/*", "*", "*", 211.0, "icm/rnd: between none and mimex, not measured"),
    Speed("toy/*", "*", "none", 5473.0, "demo preset, Corridor, measured"),
    Speed("toy/*", "*", "mimex", 1504.0, "demo preset, Corridor, measured"),
    Speed("dmc/*", "*", "*", 0.1, "dmc preset (DrQ-v2, pixels, cartpole_swingup_sparse, no bonus) "
          "past its seed steps: one 1024-sample update per 2 steps; measured 0.09 with the 2 "
          "cores shared by 6-7 jobs"),
)
# DrQ-v2 runs by (drqv2.batch_size, image size): steps/s past the seed steps per explorer
# ("*" = any); the `dmc` preset's (1024, 84) row is the dmc/* row above.
DRQV2_SPEEDS: dict[tuple[int, int], dict[str, Speed]] = {
    (64, 64): {"*": Speed("dmc/*", "*", "*", 7.7, "dmc-cpu preset, cartpole_swingup_sparse, no bonus: "
                          "7.7 measured (MIMEx on stored embeddings: 8.6, the same within noise)")},
}
# Cost of an explorer relative to no bonus where a task has no row for it: measured on
# FrankaReach (state) against `none` (2820/4618, 3021/4618, 2064/4618); from pixels ICM and
# RND are a small share of a step: none x 0.94 (docs/benchmarks.md ratio).
EXPLORER_FACTOR = {"none": 1.0, "icm": 0.611, "rnd": 0.654, "mimex": 0.447}
EXPLORER_FACTOR_PIXELS = {"none": 1.0, "icm": 0.94, "rnd": 0.94}
# MIMEx with K maskings (one batched pass over K x the sequences) multiplies the bonus's
# time per step (MIMEx's time minus no bonus's): nm5 measured on FrankaReach (state) at
# 393 steps/s against 2064 for nm1 and 4618 without a bonus: (1/393 - 1/4618) /
# (1/2064 - 1/4618) = 8.7. From pixels the bonus is a smaller share of a step: KukaReach,
# a4@cpu (docs/results.md), 5.41 h / 10M for nm5, 2.63 nm1, 1.93 none: (5.41 - 1.93) /
# (2.63 - 1.93) = 5.0.
N_MASKS_OVERHEAD = {1: 1.0, 5: 8.7}
N_MASKS_OVERHEAD_PIXELS = {1: 1.0, 5: 5.0}
FALLBACK = Speed("*", "*", "*", 1000.0, "no measurement for this suite: a guess")


def _match(s: Speed, env: str, kind: str, explore: str) -> bool:
    return fnmatch.fnmatch(env, s.env) and fnmatch.fnmatch(kind, s.obs) and s.explore in ("*", explore)


def speed_for(env: str, obs: str | None, explore: str, n_masks: int = 1) -> Speed:
    """The first row of ``SPEEDS`` matching the run; without one for this explorer, the
    task's ``none`` row times ``EXPLORER_FACTOR`` (``_PIXELS`` for image inputs; ``FALLBACK``
    if no row matches); MIMEx with ``n_masks`` > 1: its bonus time scaled by
    ``N_MASKS_OVERHEAD`` (``_PIXELS`` for image inputs)."""
    kind = obs or "default"
    pixels = kind.startswith("pixels")
    s = next((s for s in SPEEDS if _match(s, env, kind, explore)), None)
    if s is None:  # no row for this explorer: the task's `none` row times the explorer's cost
        base = next((b for b in SPEEDS if _match(b, env, kind, "none")), FALLBACK)
        factors = EXPLORER_FACTOR_PIXELS if pixels and explore in EXPLORER_FACTOR_PIXELS else EXPLORER_FACTOR
        factor = factors.get(explore, 1.0)
        source = "pixels" if factors is EXPLORER_FACTOR_PIXELS else "FrankaReach"
        s = Speed(base.env, base.obs, explore, base.steps_per_s * factor,
                  f"{base.how}; x{factor} for {explore} ({source} ratio)")
    if explore == "mimex" and n_masks > 1:
        none = next((b for b in SPEEDS if _match(b, env, kind, "none")), FALLBACK)
        table = N_MASKS_OVERHEAD_PIXELS if pixels else N_MASKS_OVERHEAD
        k = table.get(n_masks, table[5] * n_masks / 5)
        extra = max(1 / s.steps_per_s - 1 / none.steps_per_s, 0.0)
        rate = 1 / (1 / none.steps_per_s + k * extra)
        return Speed(s.env, s.obs, s.explore, rate, f"{s.how}; nm{n_masks}: bonus time x{k:g}")
    return s


# DrQ-v2's seed steps (random actions, no updates) run at the environment's speed: dmc
# pixels stepped at 446 steps/s (docs/benchmarks.md).
SEED_STEPS_PER_S = 446.0


def table_speed(cfg: Any) -> Speed:
    """The row of the table (or ``DRQV2_SPEEDS``) that a run (a RunConfig) is estimated at;
    for DrQ-v2, its speed past the seed steps."""
    obs = cfg.env.obs
    if obs is None:  # the task's default kind
        try:
            from mimex.envs import env_spec

            spec = env_spec(cfg.env.name)
            obs = spec.default_obs or spec.obs[0]
        except Exception:  # noqa: BLE001 - an estimate must not fail a dry run
            obs = None
    s = speed_for(cfg.env.name, obs, cfg.explore.name, cfg.explore.mimex.n_masks)
    if cfg.agent == "drqv2":
        rows = DRQV2_SPEEDS.get((cfg.drqv2.batch_size, int((cfg.env.options or {}).get("image_size", 84))), {})
        s = rows.get(cfg.explore.name, rows.get("*", s))
    return s


def run_hours(cfg: Any, remaining_steps: int, pace: float = 1.0) -> float:
    """Estimated hours of one run (a RunConfig) with ``remaining_steps`` steps to go, at
    ``pace`` times the table's speed (1: the table; DrQ-v2's seed steps are not scaled)."""
    seed_left = 0
    if cfg.agent == "drqv2":
        seed_left = min(remaining_steps, max(0, cfg.drqv2.seed_steps - (cfg.steps - remaining_steps)))
    s = table_speed(cfg)
    return ((remaining_steps - seed_left) / (s.steps_per_s * pace) + seed_left / SEED_STEPS_PER_S) / 3600.0


def measured_pace(cfg: Any, run_dir: Path) -> float | None:
    """How fast a run went where it trained, as a multiple of its table speed: the mean rate
    of its logged iterations after the file's first row (for DrQ-v2, those wholly past the
    seed steps), i.e. the harmonic mean of their ``perf/sps`` (steps over seconds, so slow
    stretches weigh as the hours they took), over ``table_speed(cfg)``. With ``log_every``
    1 (the default) that is every such iteration; with more, a sample of them. None without
    such an iteration; damaged lines and rates that are not finite positive numbers are
    skipped. Reads ``run_dir/metrics.jsonl``."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return None
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and _finite_positive(row.get("step")):
                rows.append(row)
    seed_steps, batch = (cfg.drqv2.seed_steps, cfg.drqv2.steps_per_iteration) if cfg.agent == "drqv2" else (0, 0)
    rates = iteration_rates(rows, past_step=seed_steps + batch)
    if not rates:
        return None
    return len(rates) / sum(1.0 / r for r in rates) / table_speed(cfg).steps_per_s


def iteration_rates(rows: list[dict[str, Any]], past_step: int = 0) -> list[float]:
    """``perf/sps`` of a run's logged iterations after the first (by ``iteration`` where
    logged, else by position: the first pays the start-up) that end at ``past_step`` or later,
    keeping only finite positive numbers."""
    first = min((row.get("iteration", 1) for row in rows), default=1)
    return [float(row["perf/sps"]) for i, row in enumerate(rows)
            if _finite_positive(row.get("perf/sps")) and row.get("step", 0) >= past_step
            and (row["iteration"] > first if "iteration" in row else i > 0)]


def _finite_positive(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


# What `python -m mimex.run.speeds` measures: (preset, dotted overrides).
CASES: list[tuple[str, dict[str, Any]]] = [
    *[("pixmc-paper", {"env.name": f"pixmc/{t}", "env.obs": "state", "explore.input": "auto",
                       "explore.name": e})
      for t in ("FrankaReach", "KukaReach", "FrankaPick", "KukaPick") for e in ("none", "mimex")],
    *[("pixmc-paper", {"env.name": "pixmc/FrankaReach", "env.obs": "state", "explore.input": "auto",
                       "explore.name": e}) for e in ("icm", "rnd")],
    ("pixmc-paper", {"env.name": "pixmc/FrankaReach", "env.obs": "state", "explore.input": "auto",
                     "explore.name": "mimex", "explore.mimex.n_masks": 5}),
    *[("pixmc-paper", {"env.name": f"pixmc/{t}", "explore.name": e})
      for t in ("KukaReach", "KukaPick", "FrankaPick", "FrankaReach") for e in ("none", "mimex")],
    *[("atari", {"explore.name": e}) for e in ("none", "mimex")],
    *[("demo", {"explore.name": e}) for e in ("none", "mimex")],
    ("dmc", {"explore.name": "none", "drqv2.replay_capacity": 20_000, "drqv2.eval_every": 10**9,
             "drqv2.seed_steps": 40, "drqv2.expl_steps": 40, "drqv2.steps_per_iteration": 20}),
    *[("dmc-cpu", {"explore.name": e, "drqv2.eval_every": 10**9}) for e in ("none", "mimex")],
]


def measure(preset: str, overrides: dict[str, Any], iterations: int = 3) -> float:
    """Median ``perf/sps`` of iterations 2..``iterations`` of a fresh run of ``preset`` with
    ``overrides`` and one torch thread (the first iteration is warm-up)."""
    from mimex.config.overrides import resolve_config
    from mimex.run.logger import read_metrics
    from mimex.run.train import train

    with tempfile.TemporaryDirectory() as tmp:
        probe = resolve_config(preset, overrides)
        batch = (probe.env.num_envs * probe.ppo.num_steps if probe.agent == "ppo"
                 else probe.drqv2.steps_per_iteration)
        cfg = resolve_config(preset, {**overrides, "steps": batch * iterations, "run_dir": tmp,
                                      "progress": False, "tensorboard": False, "threads": 1,
                                      "checkpoint_minutes": 1e9})
        train(cfg)
        return statistics.median(r["perf/sps"] for r in read_metrics(tmp)[1:])


def main(argv: list[str] | None = None) -> None:
    """``python -m mimex.run.speeds [WORD]``: measure the cases whose preset or overrides
    mention WORD (all by default)."""
    import sys

    word = (sys.argv[1:] if argv is None else argv) or [""]
    print(f"# measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, one torch thread")
    for preset, ov in CASES:
        if word[0] not in f"{preset} {ov}":
            continue
        t0 = time.time()
        sps = measure(preset, ov)
        print(f"{preset:12s} {ov}  {sps:9.1f} steps/s  ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
