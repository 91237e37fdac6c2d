"""On which scale final scores of different tasks can be pooled (the aggregate IQM).

rliable's interquartile mean pools the scores of every run on every task, so the scores must
share a scale: success rates do (0 to 1 everywhere); returns do not (a Private Eye score of
100 and a Venture score of 100 mean different things) until each is normalised by the task's
reference scores, as Atari results are (human-normalised: 0 = a random policy, 1 = the human
tester of the DQN papers).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# (random policy, human tester) episodic returns, from the DQN papers' evaluation protocol
# (Mnih et al. 2015; the tables dqn_zoo and rliable use). Games of the paper's appendix A.5
# and of the tests; add a game here to pool its returns.
ATARI_RANDOM_HUMAN = {
    "PrivateEye": (24.9, 69571.3),
    "Venture": (0.0, 1187.5),
    "Breakout": (1.7, 30.5),
    "Pong": (-20.7, 14.6),
    "MontezumaRevenge": (0.0, 4753.3),
}
RETURN_METRICS = ("charts/episodic_return", "eval/episodic_return")

Normaliser = Callable[[np.ndarray], np.ndarray]


def normaliser(env: str, metric: str) -> tuple[Normaliser, str] | None:
    """(function mapping float[n] final scores of ``metric`` on ``env`` to a scale shared by
    every task, its name: "" for raw scores) or None when there is no such scale."""
    if metric.endswith("success_rate"):
        return (lambda x: x), ""
    suite, _, game = env.partition("/")
    if metric in RETURN_METRICS and suite == "atari" and game in ATARI_RANDOM_HUMAN:
        random, human = ATARI_RANDOM_HUMAN[game]
        return (lambda x: (x - random) / (human - random)), "human-normalised "
    return None


def shared_scale(envs: list[str], metric: str) -> tuple[dict[str, Normaliser], str] | str:
    """The normalisers that put ``metric`` on one scale on all ``envs`` and the scale's name,
    or why there is none. A single task is its own scale."""
    if len(envs) == 1:
        return {envs[0]: lambda x: x}, ""
    found = {e: normaliser(e, metric) for e in envs}
    missing = [e for e, n in found.items() if n is None]
    if missing:
        return (f"{metric} has no scale shared by {', '.join(missing)} and the other tasks: "
                "no aggregate IQM (the probability of improvement, which compares runs within a task, is still drawn)")
    names = {n[1] for n in found.values()}
    return {e: n[0] for e, n in found.items()}, names.pop() if len(names) == 1 else "normalised "
