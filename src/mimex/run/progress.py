"""A progress bar with steps/s, episode return and success rate."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """tqdm bar over environment steps; a no-op when disabled."""

    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True,
                            file=sys.stderr, smoothing=0.1)

    def update(self, step: int, metrics: dict[str, Any]) -> None:
        if self.bar is None:
            return
        self.bar.update(step - self.bar.n)
        post = {"sps": f"{metrics.get('perf/sps', 0):.0f}"}
        if "charts/episodic_return" in metrics:
            post["return"] = f"{metrics['charts/episodic_return']:.3g}"
        if "charts/success_rate" in metrics:
            post["success"] = f"{metrics['charts/success_rate']:.2f}"
        if "explore/reward_mean" in metrics:
            post["r_int"] = f"{metrics['explore/reward_mean']:.3g}"
        self.bar.set_postfix(post, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
