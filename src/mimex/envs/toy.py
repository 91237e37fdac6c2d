"""Tiny hard-exploration tasks for fast tests: a corridor (continuous) and a chain (discrete).

Both put a single reward at the far end of a line of ``length`` cells, start the agent at
cell 0 (a wall on the left) and truncate after ``horizon`` steps. Reaching the end gives
reward 1, terminates, and sets ``info["success"]``. Novel positions look novel: the state
observation codes the position with overlapping radial bumps, and the pixel observation
draws the agent in a 1-row "corridor" image.

Defaults: corridor 30 cells in 100 steps, chain 40 cells in 120 steps. Difficulty
(``python -m mimex.envs.toy``, 200,000 episodes each): an untrained PPO policy (actions
N(0, 1) clipped to [-1, 1]) reaches the end of the corridor in about 0.003% of episodes,
a uniform random one almost never (at 20 cells: 0.75% and 0.08%); a uniform random policy
ends 0.04% of chain episodes at the goal. Moving right every step needs ``length`` steps.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from mimex.envs.action_checks import StepGuard
from mimex.errors import ConfigError

N_BUMPS = 16
CORRIDOR_LENGTH, CORRIDOR_HORIZON = 30, 100
CHAIN_LENGTH, CHAIN_HORIZON = 40, 120  # +-1 steps spread faster than the corridor's
IMAGE = 32  # pixel observations are uint8[3, 32, 32]


class LineWorld(gym.Env):
    """Shared dynamics of ``toy/Corridor`` and ``toy/Chain``.

    Args:
        discrete: actions {0: left, 1: right} moving one cell, else a float in [-1, 1]
            moving that many cells.
        length: cells from the start to the goal.
        horizon: steps before truncation.
        obs: ``"state"`` (float32[N_BUMPS + 1]: bumps over the position, and position /
            length) or ``"pixels"`` (uint8[3, 32, 32]).
    """

    metadata = {"render_modes": []}

    def __init__(self, discrete: bool, length: int = CORRIDOR_LENGTH, horizon: int = CORRIDOR_HORIZON,
                 obs: str = "state") -> None:
        for key, value, least in (("length", length, 2), ("horizon", horizon, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise ConfigError(f"option {key} must be an integer >= {least}, got {value!r}")
        self.discrete, self.length, self.horizon, self.obs_kind = discrete, length, horizon, obs
        if obs == "state":
            self.observation_space = gym.spaces.Box(0.0, 1.0, (N_BUMPS + 1,), np.float32)
        elif obs == "pixels":
            self.observation_space = gym.spaces.Box(0, 255, (3, IMAGE, IMAGE), np.uint8)
        else:
            raise ConfigError(f"obs must be 'state' or 'pixels', got {obs!r}")
        self.action_space = gym.spaces.Discrete(2) if discrete else gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.centres = np.linspace(0.0, 1.0, N_BUMPS)
        self.pos = 0.0
        self.t = 0
        self.guard = StepGuard("toy/Chain" if discrete else "toy/Corridor", self.action_space)

    def _obs(self) -> np.ndarray:
        frac = self.pos / self.length
        if self.obs_kind == "state":
            bumps = np.exp(-0.5 * ((frac - self.centres) * N_BUMPS) ** 2)
            return np.append(bumps, frac).astype(np.float32)
        img = np.zeros((3, IMAGE, IMAGE), dtype=np.uint8)
        img[2, IMAGE // 2 - 3:IMAGE // 2 + 3, :] = 60  # the corridor floor
        img[1, :, IMAGE - 2:] = 255  # the goal wall
        col = int(round(frac * (IMAGE - 3)))
        img[0, IMAGE // 2 - 2:IMAGE // 2 + 2, col:col + 3] = 255
        return img

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos, self.t = 0.0, 0
        self.guard.started()
        return self._obs(), {"success": False}

    def step(self, action: Any):
        action = self.guard.check(action)  # NaN, wrong shape, before reset, after the end
        if self.discrete:
            move = 1.0 if action == 1 else -1.0
        else:
            move = float(np.clip(np.asarray(action, dtype=np.float32)[0], -1.0, 1.0))
        self.pos = float(np.clip(self.pos + move, 0.0, self.length))
        self.t += 1
        success = self.pos >= self.length
        truncated = self.t >= self.horizon and not success
        self.guard.finished(success, truncated)
        return self._obs(), float(success), success, truncated, {"success": success}

    def get_state(self) -> dict[str, Any]:
        return {"pos": self.pos, "t": self.t, "rng": self.np_random.bit_generator.state,
                "guard": self.guard.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        self.pos, self.t = float(state["pos"]), int(state["t"])
        self.np_random.bit_generator.state = state["rng"]
        self.guard.restore(state.get("guard"))


def make_corridor(obs: str = "state", seed: int | None = None, length: int = CORRIDOR_LENGTH,
                  horizon: int = CORRIDOR_HORIZON) -> gym.Env:
    env = LineWorld(discrete=False, length=length, horizon=horizon, obs=obs)
    env.reset(seed=seed)
    return env


def make_chain(obs: str = "state", seed: int | None = None, length: int = CHAIN_LENGTH,
               horizon: int = CHAIN_HORIZON) -> gym.Env:
    env = LineWorld(discrete=True, length=length, horizon=horizon, obs=obs)
    env.reset(seed=seed)
    return env


def random_success_rate(discrete: bool, length: int, horizon: int, episodes: int,
                        policy: str = "uniform", seed: int = 0) -> float:
    """Fraction of episodes a random policy finishes, simulated for all episodes at once.

    ``policy``: ``"uniform"`` (uniform over the action space) or ``"gaussian"`` (N(0, 1)
    clipped to [-1, 1], an untrained PPO policy; continuous only).
    """
    rng = np.random.default_rng(seed)
    pos, won = np.zeros(episodes), np.zeros(episodes, bool)
    for _ in range(horizon):
        if discrete:
            move = rng.choice([-1.0, 1.0], episodes)
        elif policy == "gaussian":
            move = np.clip(rng.normal(0.0, 1.0, episodes), -1.0, 1.0)
        else:
            move = rng.uniform(-1.0, 1.0, episodes)
        pos = np.where(won, pos, np.clip(pos + move, 0.0, length))
        won |= pos >= length
    return float(won.mean())


if __name__ == "__main__":
    n = 200_000
    for length in (20, CORRIDOR_LENGTH):
        for policy in ("gaussian", "uniform"):
            rate = random_success_rate(False, length, CORRIDOR_HORIZON, n, policy)
            print(f"toy/Corridor length {length}, {policy} policy: {100 * rate:.4f}% of {n} episodes")
    rate = random_success_rate(True, CHAIN_LENGTH, CHAIN_HORIZON, n)
    print(f"toy/Chain, uniform policy: {100 * rate:.4f}% of {n} episodes")
