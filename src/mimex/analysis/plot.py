"""``mimex plot``: mean curves with 95% bootstrap bands, one panel per environment, one line
per method, and an aggregate over environments (rliable): the interquartile mean of the
final scores with a stratified bootstrap interval, and the probability of improvement
between each pair of methods. Written as PNG and SVG.

The IQM pools final scores across tasks, so it is drawn only where they share a scale
(``mimex.analysis.scales``): success rates as they are, Atari returns human-normalised; for
other returns on several tasks only the probability of improvement (scale-free: it compares
runs within each task) is drawn.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mimex.analysis import stats
from mimex.analysis.curves import Group, final_value, group_curves
from mimex.analysis.scales import Normaliser, shared_scale


def score_matrix(groups: list[Group], method: str, envs: list[str], metric: str,
                 window: int, scale: dict[str, Normaliser] | None = None) -> np.ndarray:
    """float[num_runs, num_tasks]: final scores of ``method`` on ``envs`` (through each task's
    ``scale`` normaliser when given), the same number of runs per task (the smallest seed
    count; seeds in order)."""
    cols = []
    for env in envs:
        g = next(g for g in groups if g.env == env and g.method == method)
        runs = sorted(g.runs, key=lambda r: r.seed)
        col = np.array([final_value(r, metric, window) for r in runs], dtype=np.float64)
        cols.append(scale[env](col) if scale else col)
    n = min(len(c) for c in cols)
    return np.array([c[:n] for c in cols], dtype=np.float64).T


# Up to this many methods, P(X > Y) for every pair; above, each method against the best.
ALL_PAIRS_UP_TO = 5


def aggregate(groups: list[Group], metric: str, window: int = 200, reps: int = 2000) -> dict:
    """IQM with stratified bootstrap CIs per method (where the tasks' scores share a scale),
    and P(X > Y) for every pair (with more than ``ALL_PAIRS_UP_TO`` methods: the best method
    against each other one), over the environments where every method has runs.

    Returns:
        {"envs": [...], "iqm": {method: (point, lo, hi)}, "poi": {(x, y): (p, lo, hi)},
         "scale": the IQM's scale ("" raw, "human-normalised "), "no_iqm": why there is none}.
    """
    methods = sorted({g.method for g in groups})
    envs = sorted(e for e in {g.env for g in groups}
                  if all(any(g.env == e and g.method == m for g in groups) for m in methods))
    out: dict = {"envs": envs, "iqm": {}, "poi": {}, "scale": "", "no_iqm": ""}
    if not envs:
        return out
    scale = shared_scale(envs, metric)
    if isinstance(scale, str):
        out["no_iqm"], scale = scale, None
    else:
        scale, out["scale"] = scale
    scores = {m: score_matrix(groups, m, envs, metric, window, scale) for m in methods}
    scores = {m: s[np.isfinite(s).all(axis=1)] for m, s in scores.items()}
    scores = {m: s for m, s in scores.items() if s.shape[0] > 0}
    if scale is not None:
        for m, s in scores.items():
            out["iqm"][m] = stats.stratified_bootstrap_ci(s, stats.iqm, reps=reps)
    names = list(scores)
    if len(names) <= ALL_PAIRS_UP_TO:
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    else:
        best = max(names, key=lambda m: out["iqm"][m][0] if out["iqm"] else _mean_task_rank(scores, m))
        pairs = [(best, b) for b in names if b != best]
    for a, b in pairs:
        out["poi"][(a, b)] = stats.probability_of_improvement_ci(scores[a], scores[b], reps=reps)
    return out


def _mean_task_rank(scores: dict[str, np.ndarray], method: str) -> float:
    """The mean over tasks of ``method``'s rank (0 = lowest) by mean final score: a choice of
    the best method that needs no shared scale."""
    names = list(scores)
    means = np.array([scores[m].mean(axis=0) for m in names])  # [methods, tasks]
    ranks = means.argsort(axis=0).argsort(axis=0)
    return float(ranks[names.index(method)].mean())


def plot(groups: list[Group], metric: str, out_dir: str | Path, x: str = "steps",
         window: int = 200, name: str | None = None) -> list[Path]:
    """Draw the figure; returns the PNG and SVG paths."""
    fig = figure(groups, metric, x, window)  # first: it says what to do if matplotlib is missing
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or metric.replace("/", "_")
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths


def figure(groups: list[Group], metric: str, x: str = "steps", window: int = 200):
    """The matplotlib Figure: a curve panel per environment, then the IQM and
    probability-of-improvement panels. Method names label the summary bars inside their
    panels, so long names (runs of several studies) never squeeze the curve panels."""
    try:
        import matplotlib
    except ImportError:
        from mimex.errors import ConfigError

        raise ConfigError("mimex plot needs matplotlib: pip install 'mimex[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401 - matplotlib.ticker below

    envs = sorted({g.env for g in groups})
    methods = sorted({g.method for g in groups})
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(methods)}
    agg = aggregate(groups, metric, window) if len(envs) > 1 or len(methods) > 1 else None
    summaries = [] if agg is None else [k for k in ("iqm", "poi") if agg[k]]
    extra = len(summaries)
    n = len(envs) + extra
    cols = min(n, 4)
    rows = -(-n // cols)
    bars = 0 if not extra else max(len(agg["iqm"]), len(agg["poi"]))
    row_height = max(3.4, 0.9 + 0.3 * bars)  # a summary bar and its label take 0.3 in
    # legend entries side by side as far as the figure's width allows (11-point text)
    entry_in = 0.6 + 0.55 * 11 / 72 * max(len(m) for m in methods)
    legend_cols = max(1, min(len(methods), 6, int(4.2 * cols / entry_in)))
    legend_rows = -(-len(methods) // legend_cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, row_height * rows + 0.4 + 0.3 * legend_rows),
                             squeeze=False)
    flat = list(axes.ravel())
    for ax, env in zip(flat, envs, strict=False):
        curves = []
        for g in [g for g in groups if g.env == env]:
            grid, ys = group_curves(g, metric, x, window)
            if grid.size and ys.shape[0]:
                curves.append((g.method, grid, ys))
        seeds = {ys.shape[0] for _, _, ys in curves}
        for i, (method, grid, ys) in enumerate(curves):
            mean, lo, hi = stats.bootstrap_ci_mean(ys)
            ax.plot(grid, mean, color=colors[method], lw=2)
            ax.fill_between(grid, lo, hi, color=colors[method], alpha=0.2, lw=0)
            if len(seeds) > 1:  # seed counts differ: a stack of "n=..." in the lines' colours
                ax.annotate(f"n={ys.shape[0]}", (1, 1), xycoords="axes fraction", xytext=(-4, -4 - 10 * i),
                            textcoords="offset points", fontsize=8, color=colors[method], ha="right", va="top")
        n_seeds = seeds.pop() if len(seeds) == 1 else 0
        ax.set_title(f"{env} ({n_seeds} seed{'s' * (n_seeds > 1)})" if n_seeds else env, fontsize=11)
        ax.set_xlabel(f"environment {x}")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: short_count(v)))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    k = len(envs)
    if "iqm" in summaries:
        rows_iqm = [(shorten(m, 72), *agg["iqm"][m], colors[m]) for m in agg["iqm"]]
        _bar_rows(flat[k], rows_iqm, f"IQM of {agg['scale']}final {metric.split('/')[-1]}",
                  f"aggregate over {len(agg['envs'])} task(s)")
        k += 1
    if "poi" in summaries:
        short = _without_common_folder(sorted({m for pair in agg["poi"] for m in pair}))
        rows_poi = [(f"P({shorten(short[a], 34)} > {shorten(short[b], 34)})", *agg["poi"][(a, b)], "tab:blue")
                    for a, b in agg["poi"]]
        _bar_rows(flat[k], rows_poi, "probability of improvement", "pairwise, over tasks")
        flat[k].axvline(0.5, color="gray", ls="--", lw=1)
        flat[k].set_xlim(-0.02, 1.02)
        flat[k].set_xticks([0, 0.25, 0.5, 0.75, 1])
    for ax in flat[n:]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=colors[m], lw=3) for m in methods]
    height = fig.get_figheight()
    fig.legend(handles, methods, loc="upper center", bbox_to_anchor=(0.5, 1.0),
               ncol=legend_cols, fontsize=11, frameon=False)
    note = f"; no aggregate IQM: {metric} has no scale shared by these tasks" if agg and agg["no_iqm"] else ""
    fig.suptitle(f"{metric}: mean over seeds, 95% bootstrap CI{note}", y=0.01, fontsize=9, va="bottom")
    fig.tight_layout(rect=(0, 0.2 / height, 1, 1 - 0.3 * legend_rows / height))
    return fig


def _bar_rows(ax, rows: list[tuple], xlabel: str, title: str) -> None:
    """One interval bar per row, top to bottom, its label written just above it inside the
    panel. ``rows``: (label, point, lo, hi, color)."""
    longest = max(len(r[0]) for r in rows)
    # about 0.55 em per character; the panel is about 250 points wide (labels are shortened
    # to fit at 6 points)
    fontsize = max(6.0, min(9.0, 250 / (0.55 * longest)))
    for i, (label, point, lo, hi, color) in enumerate(rows):
        y = len(rows) - 1 - i
        ax.plot([lo, hi], [y, y], color=color, lw=6, alpha=0.5, solid_capstyle="butt")
        ax.plot([point], [y], "|", color="black", ms=10)
        text = ax.annotate(label, (0, y), xycoords=("axes fraction", "data"), xytext=(3, 6),
                           textcoords="offset points", fontsize=fontsize, va="bottom", ha="left")
        text.set_in_layout(False)  # sized to fit the panel; never a reason to shrink the others
    ax.set_yticks([])
    ax.set_ylim(-0.5, len(rows) - 0.2)
    import matplotlib.ticker

    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))  # labels of small values stay apart
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3, axis="x")


def _without_common_folder(names: list[str]) -> dict[str, str]:
    """Each name without the ``study/`` prefix (up to a ``/``) that all of them share."""
    shared = os.path.commonprefix(names)
    cut = shared.rfind("/") + 1
    return {n: n[cut:] or n for n in names}


def shorten(name: str, limit: int) -> str:
    """``name`` cut in the middle to ``limit`` characters, with an ellipsis where it was cut."""
    if len(name) <= limit:
        return name
    head = (limit - 1) // 2
    return f"{name[:head]}\u2026{name[len(name) - (limit - 1 - head):]}"


def short_count(v: float) -> str:
    """Tick label for a step count: 0, 500, 25k, 1.5M, 2G."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.0f}"
