"""Phases of a run read off its episode lengths: when it fell into a crash-early optimum,
whether it stayed there, and when it last succeeded.

On the PixMC tasks every step costs an action penalty and arm contact ends the episode, so a
PPO run can learn to end its episodes early on purpose (the "crash phase", docs/results.md).
Its success curve is flat at 0 then and says nothing; these numbers say when a run entered
the phase, whether it left it, and what it still found. All inputs are one run's rows of
``metrics.jsonl`` (one row per logged iteration), in step order.

``scripts/episode_phases.py`` prints them as markdown tables, per run and per method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

LENGTH = "charts/episodic_length"
RETURN = "charts/episodic_return"
BONUS = "explore/bonus_mean"
STEP_SUCCESS = "charts/step_success_rate"
EPISODES = "charts/episodes"


@dataclass
class Phases:
    """One run's phases (steps are environment steps; None where it never happened)."""

    steps: int                    # the last logged step
    entered: int | None           # first iteration whose episodes average under ``below`` steps
    left: int | None              # first iteration after ``entered`` back at ``above`` or more
    sustained: int | None         # from here to the end every iteration averages under ``sustained_below``
    success_iterations: int       # iterations in which any episode succeeded
    last_success: int | None      # the last of them
    final_length: float           # mean episode length of the last logged iteration with episodes
    early_extrinsic: float        # extrinsic reward per step over the first iterations (early_rates)
    early_bonus: float            # bonus (beta x intrinsic reward) per step over the same iterations


def series(rows: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps int[n], values float[n]) of the rows that hold a finite ``key``."""
    pairs = [(int(r["step"]), float(r[key])) for r in rows
             if key in r and r[key] is not None and np.isfinite(float(r[key]))]
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    steps, values = zip(*pairs, strict=True)
    return np.asarray(steps, dtype=np.int64), np.asarray(values, dtype=float)


def first_below(steps: np.ndarray, values: np.ndarray, below: float) -> int | None:
    """The first step whose value is under ``below``; None if none is."""
    hit = np.flatnonzero(values < below)
    return int(steps[hit[0]]) if hit.size else None


def first_at_or_above_after(steps: np.ndarray, values: np.ndarray, after: int | None,
                            above: float) -> int | None:
    """The first step later than ``after`` whose value is ``above`` or more; None if ``after``
    is None or no later value is."""
    if after is None:
        return None
    hit = np.flatnonzero((steps > after) & (values >= above))
    return int(steps[hit[0]]) if hit.size else None


def below_to_the_end(steps: np.ndarray, values: np.ndarray, below: float) -> int | None:
    """The smallest step from which every later value (its own included) is under ``below``;
    None if the last value is not."""
    if values.size == 0 or values[-1] >= below:
        return None
    above = np.flatnonzero(values >= below)
    return int(steps[above[-1] + 1]) if above.size else int(steps[0])


def early_rates(rows: list[dict[str, Any]], first: int = 16) -> tuple[float, float]:
    """(extrinsic reward per step, bonus per step) averaged over the ``first`` rows that
    finished episodes: per row, the episodes' mean return over their mean length, and
    ``explore/bonus_mean`` (0 without a bonus). Before a crash phase they say whether living
    pays: on the PixMC tasks the extrinsic rate is about the action penalty until a goal is
    found, and an episode that ends early stops paying it. NaN if no row finished an episode."""
    w = [r for r in rows if r.get(LENGTH) and r.get(RETURN) is not None][:first]
    if not w:
        return float("nan"), float("nan")
    extrinsic = float(np.mean([float(r[RETURN]) / float(r[LENGTH]) for r in w]))
    return extrinsic, float(np.mean([float(r.get(BONUS, 0.0)) for r in w]))


def run_phases(rows: list[dict[str, Any]], below: float = 30.0, above: float = 100.0,
               sustained_below: float = 50.0, num_envs: int = 1, min_episodes: int = 1) -> Phases:
    """The phases of one run from its ``metrics.jsonl`` rows (see ``Phases``). ``below``,
    ``above`` and ``sustained_below`` are mean episode lengths in steps; the defaults suit
    the 200-step Reach and 500-step Pick tasks, whose crashes come after about 20 steps.

    Rows before each of the ``num_envs`` envs has taken ``above`` steps are left out of the
    phases: until then only short episodes can have finished, so a short mean length there
    says nothing (512 envs: the first 51,200 steps). So are rows that finished fewer than
    ``min_episodes`` episodes (``charts/episodes``): one 15-step episode among 512 envs that
    otherwise all run on is no crash."""
    if not below <= above:
        raise ValueError(f"below ({below}) must not exceed above ({above})")
    all_steps, all_lengths = series(rows, LENGTH)
    steps, lengths = series([r for r in rows if float(r.get(EPISODES, min_episodes)) >= min_episodes], LENGTH)
    settled = steps >= num_envs * above
    steps, lengths = steps[settled], lengths[settled]
    s_steps, success = series(rows, STEP_SUCCESS)
    hits = s_steps[success > 0]
    entered = first_below(steps, lengths, below)
    early = early_rates(rows)
    return Phases(
        steps=int(rows[-1]["step"]) if rows else 0,
        entered=entered,
        left=first_at_or_above_after(steps, lengths, entered, above),
        sustained=below_to_the_end(steps, lengths, sustained_below),
        success_iterations=int(hits.size),
        last_success=int(hits[-1]) if hits.size else None,
        final_length=float(all_lengths[-1]) if all_lengths.size else float("nan"),
        early_extrinsic=early[0], early_bonus=early[1])


def millions(step: int | None) -> str:
    """A step count as '0.33M', or '-' for None."""
    return "-" if step is None else f"{step / 1e6:.2f}M"


def latest(values: list[int | None]) -> int | None:
    """The largest of the steps that are not None; None if all are."""
    got = [v for v in values if v is not None]
    return max(got) if got else None


def span(values: list[int | None]) -> str:
    """'0.29-0.66M (5 of 5)' over the runs where it happened, '-' where none did."""
    got = [v for v in values if v is not None]
    if not got:
        return f"- (0 of {len(values)})"
    lo, hi = min(got), max(got)
    text = millions(lo) if lo == hi else f"{lo / 1e6:.2f}-{hi / 1e6:.2f}M"
    return f"{text} ({len(got)} of {len(values)})"
