"""PixMC sweeps: every (task, reward level, observation kind) through the env checker,
the scripted oracle's success rate over seeds, and random-policy sparsity over long runs.

All of it takes about 45 s on 2 cores (measured 2026-11-25), so it is part of the default run."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest  # noqa: E402

from mimex.envs.check import check_env  # noqa: E402
from mimex.envs.pixmc import PixmcEnv, scripted_policy  # noqa: E402

ROBOTS = {"Franka": "franka", "Kuka": "kuka"}
TASKS = {"Reach": "reach", "Cabinet": "cabinet", "Pick": "pick", "Move": "move"}
NAMES = [f"pixmc/{r}{t}" for r in ROBOTS for t in TASKS]
# Oracle successes out of 10 seeds measured 10/10/10/9 (Franka Reach/Cabinet/Pick/Move) and
# 10/10/10/10 (Kuka, Allegro hand; 2026-11-26); the Franka thresholds leave a margin of one or
# two, the Kuka ones ask 9/10 (test_pixmc_kuka.py checks more seed ranges).
MIN_ORACLE_SUCCESS = {("franka", "reach"): 10, ("franka", "cabinet"): 8, ("franka", "pick"): 8,
                      ("franka", "move"): 8, ("kuka", "reach"): 10, ("kuka", "cabinet"): 9,
                      ("kuka", "pick"): 9, ("kuka", "move"): 9}


@pytest.mark.parametrize("obs", ["state", "pixels", "pixels+state"])
@pytest.mark.parametrize("reward", ["dense", "sparse", "sparser"])
@pytest.mark.parametrize("name", NAMES)
def test_check_env_every_combination(name, reward, obs):
    """All 24 (task, reward level) pairs x 3 observation kinds pass the env checker."""
    check_env(name, n_steps=30, seed=0, reward=reward, obs=obs)


def _run_oracle(robot: str, task: str, seed: int) -> bool:
    env = PixmcEnv(robot, task, reward="sparse", seed=seed)
    obs, _ = env.reset()
    policy = scripted_policy(env)
    info = {"success": False}
    for _ in range(env.max_steps):
        obs, _, term, trunc, info = env.step(policy(obs))
        if info["success"] or term or trunc:
            break
    env.close()
    return bool(info["success"])


@pytest.mark.parametrize("robot,task", sorted(MIN_ORACLE_SUCCESS))
def test_scripted_policy_success_rate(robot, task):
    """The oracle solves most seeds (Reach every seed)."""
    wins = sum(_run_oracle(robot, task, seed) for seed in range(10))
    assert wins >= MIN_ORACLE_SUCCESS[(robot, task)], f"{robot} {task}: {wins}/10"


@pytest.mark.parametrize("robot", ["franka", "kuka"])
@pytest.mark.parametrize("task", ["reach", "cabinet", "pick", "move"])
def test_random_policy_rarely_rewarded_under_sparse(robot, task):
    """5,000 random steps: never a success, and a task reward (anything but the action penalty)
    on under 2% of steps, except Franka Cabinet, whose original around-handle bonus has no
    distance condition (notes 5.2), so only its open bonus must stay silent. Kuka Cabinet's
    open-distance term (6 x opening, no threshold, as the original) is left out of the count:
    the random Allegro hand brushes the handle and leaves the drawer a few mm open; its open
    bonus (> 1 cm) must stay silent."""
    env = PixmcEnv(robot, task, reward="sparse", seed=0)
    env.action_space.seed(0)
    env.reset()
    ignored = {"action_penalty"} | ({"open_dist"} if (robot, task) == ("kuka", "cabinet") else set())
    rewarded = 0
    for _ in range(5000):
        _, _, term, trunc, info = env.step(env.action_space.sample())
        assert not info["success"]
        terms = {k: v for k, v in info["terms"].items() if k not in ignored and v != 0}
        rewarded += bool(terms)
        if task == "cabinet":
            assert info["terms"]["open_bonus"] == 0.0
        if term or trunc:
            env.reset()
    env.close()
    if not (robot == "franka" and task == "cabinet"):
        assert rewarded / 5000 < 0.02
