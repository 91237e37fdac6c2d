"""Three panels of PixMC training runs against environment steps: success rate, episode
length and the share of episodes ended by arm contact (``charts/end_collision``), one line
per run (for one or a few seeds; `mimex plot` draws confidence bands over many). Runs whose
labels share their first word share a colour (one line style per seed).

Usage::

    python scripts/plot_pixmc_runs.py RUN_DIR[=LABEL] ... --out docs/img/results/x.png [--title T] \
        [--panel explore/bonus_to_extrinsic="bonus / extrinsic"]

It also prints, per run: steps reached, hours, the last iteration's success rate, the best
one, the first step with a success, and the mean ``explore/bonus_to_extrinsic``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mimex.analysis.curves import load_run  # noqa: E402

PANELS = [("charts/success_rate", "success rate (episodes)"),
          ("charts/episodic_length", "episode length (steps)"),
          ("charts/end_collision", "episodes ended by contact")]


def read(run: Path) -> list[dict]:
    """The run's rows (a run directory, or its record made by ``mimex archive``)."""
    return load_run(run).rows


def smooth(y: np.ndarray, k: int) -> np.ndarray:
    """Trailing mean over ``k`` iterations (shorter at the start)."""
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(0, idx - k)
    return (c[idx] - c[lo]) / (idx - lo)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="RUN_DIR or RUN_DIR=LABEL")
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="")
    ap.add_argument("--smooth", type=int, default=10, help="trailing mean over this many iterations")
    ap.add_argument("--panel", action="append", default=[], metavar="KEY[=TITLE]",
                    help="one more panel of a metrics.jsonl key (repeatable), e.g. "
                         "explore/bonus_to_extrinsic (drawn with a line at 1: bonus as large as the extrinsic reward)")
    a = ap.parse_args()
    panels = PANELS + [(key, title or key) for key, _, title in (p.partition("=") for p in a.panel)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.35 * len(panels), 3.6))
    colors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for spec in a.runs:
        path, _, label = spec.partition("=")
        rows = read(Path(path))
        label = label or Path(path).name
        # runs whose labels share their first word (a method: "MIMEx s0", "MIMEx s1") share a
        # colour and differ in line style
        method = label.split()[0]
        colors.setdefault(method, f"C{len(colors)}")
        style = ("-", "--", ":", "-.")[seen.get(method, 0) % 4]
        seen[method] = seen.get(method, 0) + 1
        x = np.array([r["step"] for r in rows]) / 1e6
        for ax, (key, name) in zip(axes, panels, strict=True):
            y = np.array([r.get(key, np.nan) for r in rows], dtype=float)
            ok = np.isfinite(y)
            if not ok.any():
                print(f"warning: {path} logs no {key}; its line in that panel is empty")
            ax.plot(x[ok], smooth(y[ok], a.smooth), label=label, color=colors[method], linestyle=style)
            ax.set_title(name)
            ax.set_xlabel("environment steps (millions)")
            ax.grid(alpha=0.3)
        succ = [r.get("charts/success_rate", 0.0) for r in rows]
        first = next((r["step"] for r in rows if r.get("charts/success_rate", 0) > 0), None)
        ratio = [r["explore/bonus_to_extrinsic"] for r in rows if "explore/bonus_to_extrinsic" in r]
        summary = Path(path) / "summary.json"
        hours = json.loads(summary.read_text())["wall_clock_s"] / 3600 if summary.exists() else float("nan")
        print(f"{label}: {rows[-1]['step']:,} steps, {hours:.2f} h (finished runs), last success "
              f"{succ[-1]:.3f}, best {max(succ):.3f}, first success at {first}, mean bonus/extrinsic "
              f"{np.mean(ratio) if ratio else float('nan'):.2f}")
    for ax, (key, _) in zip(axes, panels, strict=True):
        if key == "explore/bonus_to_extrinsic":
            ax.axhline(1.0, color="0.4", linestyle=":", linewidth=1)
    axes[0].legend()
    if a.title:
        fig.suptitle(a.title)
    fig.tight_layout()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=100)
    print(a.out)


if __name__ == "__main__":
    main()
