"""When PixMC runs fell into the crash-early optimum, whether they left it, and their last
success: the "crash phase" and "last success" columns of docs/results.md, per method and per
run (mimex.analysis.phases says how each is read off the episode lengths), and whether
living paid before it: the extrinsic reward and the bonus per step over each run's first 16
logged iterations with finished episodes.

Usage::

    python scripts/episode_phases.py runs/studies/fig7-cpu [--finished] [--below 30] [--above 100]
"""

from __future__ import annotations

import argparse
import sys

from mimex.analysis.curves import find_runs, group_runs
from mimex.analysis.phases import latest, millions, run_phases, span
from mimex.errors import MimexError


def envs(run) -> int:
    """The run's number of parallel envs."""
    return int(run.config.get("env.num_envs", 1))


def mean_of(values: list[float]) -> str:
    """The mean over the runs that have a value, with 4 decimals; '-' if none has."""
    got = [v for v in values if v == v]
    return f"{sum(got) / len(got):+.4f}" if got else "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", help="run directories or folders that hold them")
    p.add_argument("--finished", action="store_true", help="only runs that reached their step budget")
    p.add_argument("--below", type=float, default=30.0,
                   help="mean episode length (steps) under which an iteration counts as crashing")
    p.add_argument("--above", type=float, default=100.0,
                   help="mean episode length (steps) at which a crashing run counts as having left")
    p.add_argument("--sustained-below", type=float, default=50.0,
                   help="mean episode length (steps) a run must stay under to the end to count as stuck")
    p.add_argument("--min-episodes", type=int, metavar="N",
                   help="leave out iterations that finished fewer episodes (default: the run's envs / 16)")
    p.add_argument("--per-run", action="store_true", help="also print one row per run")
    p.add_argument("--until", type=int, metavar="STEPS", help="read every run as it stood at this step")
    a = p.parse_args(argv)
    if a.below > a.above:
        p.error(f"--below ({a.below:g}) must not exceed --above ({a.above:g})")
    try:
        groups = group_runs(find_runs(a.paths, a.finished, a.until))
    except MimexError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for env in sorted({g.env for g in groups}):
        print(f"\n### {env}\n")
        print(f"| method | seeds | steps | crash phase from (< {a.below:g} steps) | left it (>= {a.above:g}) | "
              f"stuck to the end (< {a.sustained_below:g}) from | iterations with a success | last success | "
              "early extrinsic / step | early bonus / step |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        per_run = []
        for g in (g for g in groups if g.env == env):
            ph = [run_phases(r.rows, a.below, a.above, a.sustained_below, envs(r),
                             a.min_episodes if a.min_episodes is not None else max(1, envs(r) // 16))
                  for r in g.runs]
            steps = sorted({p.steps for p in ph})
            steps_text = millions(steps[0]) if len(steps) == 1 else f"{millions(steps[0])}-{millions(steps[-1])}"
            print(f"| {g.method} | {len(ph)} | {steps_text} | {span([p.entered for p in ph])} | "
                  f"{span([p.left for p in ph])} | {span([p.sustained for p in ph])} | "
                  f"{sum(p.success_iterations for p in ph)} | {millions(latest([p.last_success for p in ph]))} | "
                  f"{mean_of([p.early_extrinsic for p in ph])} | {mean_of([p.early_bonus for p in ph])} |")
            per_run += [(g.method, r.seed, p) for r, p in zip(g.runs, ph, strict=True)]
        if a.per_run:
            print("\n| method | seed | steps | crash from | left | stuck from | success iterations | last success | "
                  "final episode length |")
            print("|---|---|---|---|---|---|---|---|---|")
            for method, seed, p in per_run:
                print(f"| {method} | {seed} | {millions(p.steps)} | {millions(p.entered)} | {millions(p.left)} | "
                      f"{millions(p.sustained)} | {p.success_iterations} | {millions(p.last_success)} | "
                      f"{p.final_length:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
