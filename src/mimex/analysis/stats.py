"""Statistics for learning curves over seeds and tasks, as rliable computes them.

Small pure functions on numpy arrays; shapes are in the docstrings. Confidence intervals are
percentile bootstrap intervals (rliable's default): resample with replacement ``reps``
times, compute the statistic on each resample, and take the ``(1-level)/2`` and
``(1+level)/2`` quantiles. Pass ``seed`` for reproducible intervals.
"""

from __future__ import annotations

import numpy as np

from mimex.errors import InputError


def _as_2d(scores: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(scores, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError(f"{name} must have shape (num_runs, num_tasks) with both >= 1, got {a.shape}")
    return a


def bootstrap_ci_mean(x: np.ndarray, level: float = 0.95, reps: int = 2000,
                      seed: int | None = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds and its percentile bootstrap interval.

    Args:
        x: float[num_seeds, ...]: one value (or curve, ``[num_seeds, num_points]``) per seed.
        level: interval coverage (0.95: 95%).
        reps: bootstrap resamples (seeds drawn with replacement, the same draw for every point).
        seed: RNG seed of the resampling.

    Returns:
        (mean, lo, hi), each float[...] (scalars for 1-d ``x``). One seed gives lo = hi = mean.
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 1 or a.shape[0] < 1:
        raise InputError(f"x must have shape (num_seeds, ...) with num_seeds >= 1, got {a.shape}")
    mean = a.mean(axis=0)
    n = a.shape[0]
    idx = np.random.default_rng(seed).integers(0, n, size=(reps, n))
    means = a[idx].mean(axis=1)  # [reps, ...]
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return mean, lo, hi


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% of all scores (rliable's
    ``aggregate_iqm``, ``scipy.stats.trim_mean(..., 0.25, axis=None)``): with n scores sorted,
    drop ``int(0.25 * n)`` from each end.

    Args:
        scores: float[num_runs, num_tasks] (or any shape; it is flattened).
    """
    a = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    if a.size == 0:
        raise InputError("iqm needs at least one score")
    cut = int(0.25 * a.size)
    return float(a[cut:a.size - cut].mean())


def stratified_resample(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One stratified bootstrap resample: runs drawn with replacement within each task.

    Args:
        scores: float[num_runs, num_tasks].

    Returns:
        float[num_runs, num_tasks]: column m holds num_runs draws from column m.
    """
    a = _as_2d(scores, "scores")
    n, m = a.shape
    idx = rng.integers(0, n, size=(n, m))
    return np.take_along_axis(a, idx, axis=0)


def stratified_bootstrap_ci(scores: np.ndarray, statistic=iqm, level: float = 0.95,
                            reps: int = 2000, seed: int | None = 0) -> tuple[float, float, float]:
    """An aggregate over tasks and its stratified bootstrap interval (rliable's
    ``get_interval_estimates``).

    Args:
        scores: float[num_runs, num_tasks]: score of run n on task m.
        statistic: float[num_runs, num_tasks] -> float, e.g. ``iqm`` or ``np.mean``.

    Returns:
        (point estimate on ``scores``, lo, hi).
    """
    a = _as_2d(scores, "scores")
    rng = np.random.default_rng(seed)
    stats = np.array([statistic(stratified_resample(a, rng)) for _ in range(reps)])
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(statistic(a)), float(lo), float(hi)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y): the probability that a run of method X scores higher than a run of Y on a
    task drawn uniformly, ties counting one half (the Mann-Whitney U statistic over
    n_x * n_y pairs per task, averaged over tasks; rliable's ``probability_of_improvement``).

    Args:
        x: float[num_runs_x, num_tasks].
        y: float[num_runs_y, num_tasks] (the same tasks, in the same order).
    """
    a, b = _as_2d(x, "x"), _as_2d(y, "y")
    if a.shape[1] != b.shape[1]:
        raise InputError(f"x and y must score the same tasks, got {a.shape[1]} and {b.shape[1]} tasks")
    diff = a[:, None, :] - b[None, :, :]  # [n_x, n_y, tasks]
    per_task = (diff > 0).mean(axis=(0, 1)) + 0.5 * (diff == 0).mean(axis=(0, 1))
    return float(per_task.mean())


def probability_of_improvement_ci(x: np.ndarray, y: np.ndarray, level: float = 0.95,
                                  reps: int = 2000, seed: int | None = 0) -> tuple[float, float, float]:
    """``probability_of_improvement(x, y)`` and its interval, both methods' runs resampled
    within each task (stratified), independently.

    Args:
        x: float[num_runs_x, num_tasks]; y: float[num_runs_y, num_tasks].

    Returns:
        (P(X > Y), lo, hi).
    """
    a, b = _as_2d(x, "x"), _as_2d(y, "y")
    rng = np.random.default_rng(seed)
    stats = [probability_of_improvement(stratified_resample(a, rng), stratified_resample(b, rng))
             for _ in range(reps)]
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return probability_of_improvement(a, b), float(lo), float(hi)


def auc(steps: np.ndarray, values: np.ndarray) -> float:
    """Normalised area under a curve: the trapezoid integral over ``steps`` divided by the
    step range, i.e. the curve's average height (in the metric's units; 1.0 = a success rate
    of 1 from the first point on). A single point gives its value.

    Args:
        steps: float[num_points], increasing.
        values: float[num_points].
    """
    s, v = np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if s.shape != v.shape or s.ndim != 1 or s.size == 0:
        raise InputError(f"steps and values must be 1-d of the same length >= 1, got {s.shape}, {v.shape}")
    if s.size == 1 or s[-1] == s[0]:
        return float(v.mean())
    return float(np.sum((v[1:] + v[:-1]) * np.diff(s)) / 2.0 / (s[-1] - s[0]))


def interpolate(steps: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A curve linearly interpolated onto ``grid`` (held constant outside its steps).

    Args:
        steps: float[num_points], increasing; values: float[num_points]; grid: float[num_grid].

    Returns:
        float[num_grid].
    """
    return np.interp(np.asarray(grid, dtype=np.float64), np.asarray(steps, dtype=np.float64),
                     np.asarray(values, dtype=np.float64))


def last_episodes_mean(means: np.ndarray, counts: np.ndarray, window: int = 200) -> float:
    """Mean of a per-episode quantity over the last ``window`` finished episodes, from log
    rows that each hold the mean over their episodes and how many there were (the PixMC
    success statistic: the mean of the last 200 episodes' success).

    Rows are taken from the last backwards, weighted by their episode counts; the row that
    crosses the window contributes only the episodes still needed, at its mean (a row keeps
    only its mean, not each episode). Fewer than ``window`` episodes in all: their mean.

    Args:
        means: float[num_rows]: per-row mean over the row's episodes.
        counts: float[num_rows]: episodes finished in the row (>= 0; 0-count rows are skipped).
    """
    m, c = np.asarray(means, dtype=np.float64), np.asarray(counts, dtype=np.float64)
    if m.shape != c.shape or m.ndim != 1:
        raise InputError(f"means and counts must be 1-d of the same length, got {m.shape}, {c.shape}")
    taken = np.zeros_like(c)
    need = float(window)
    for i in range(len(c) - 1, -1, -1):
        if need <= 0:
            break
        taken[i] = min(c[i], need)
        need -= taken[i]
    if taken.sum() == 0:
        return float("nan")
    return float(np.sum(m * taken) / taken.sum())


def running_episodes_mean(means: np.ndarray, counts: np.ndarray, window: int = 200) -> np.ndarray:
    """``last_episodes_mean`` at every row: the curve of the mean over the last ``window``
    episodes finished by that row (NaN before the first episode).

    Args:
        means: float[num_rows]; counts: float[num_rows].

    Returns:
        float[num_rows].
    """
    m, c = np.asarray(means, dtype=np.float64), np.asarray(counts, dtype=np.float64)
    return np.array([last_episodes_mean(m[:i + 1], c[:i + 1], window) for i in range(len(m))])
