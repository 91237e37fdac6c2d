"""The batched PixMC rewards equal the per-env ones bit for bit, on inputs that hit every
branch (lifted or not, near the goal, fingers around the handle, drawer open)."""

import numpy as np
import pytest

from mimex.envs.pixmc import batch_rewards, rewards

N = 400


def _inputs(robot, seed):
    rng = np.random.default_rng(seed)
    k = 2 if robot == "franka" else 4
    centre = np.array([0.5, 0.0, 0.45])
    obj = centre + rng.normal(0, 0.03, (N, 3))
    obj[: N // 2, 2] += rng.uniform(0.0, 0.45, N // 2)  # half lifted, some near the 0.8 goal
    # grasp points around the object / handle, from touching (under the floors) to far
    fingers = obj[:, None, :] + rng.normal(0, 1, (N, k, 3)) * rng.choice([0.002, 0.02, 0.1], (N, 1, 1))
    goal = obj + rng.normal(0, 1, (N, 3)) * rng.choice([0.01, 0.05, 0.2], (N, 1))
    opening = rng.uniform(-0.01, 0.45, N)
    action = rng.uniform(-1, 1, (N, 9 if robot == "franka" else 23))
    return fingers, obj, goal, opening, action


@pytest.mark.parametrize("robot", ["franka", "kuka"])
@pytest.mark.parametrize("level", rewards.LEVELS)
def test_every_task_equals_the_per_env_reward(robot, level):
    fingers, obj, goal, opening, action = _inputs(robot, seed=len(level) + len(robot))
    z0 = 0.43
    cases = {
        "reach": (batch_rewards.reach(rewards.scales(robot, "reach", level), fingers[:, 0], goal, action),
                  [rewards.reach(rewards.scales(robot, "reach", level), fingers[i, 0], goal[i], action[i])[0]
                   for i in range(N)]),
        "cabinet": (batch_rewards.cabinet(robot, rewards.scales(robot, "cabinet", level), fingers, obj, opening, action),
                    [rewards.cabinet(robot, rewards.scales(robot, "cabinet", level), fingers[i], obj[i],
                                     float(opening[i]), action[i])[0] for i in range(N)]),
        "pick": (batch_rewards.pick(robot, rewards.scales(robot, "pick", level), fingers, obj, z0, action),
                 [rewards.pick(robot, rewards.scales(robot, "pick", level), fingers[i], obj[i], z0, action[i])[0]
                  for i in range(N)]),
        "move": (batch_rewards.move(robot, rewards.scales(robot, "move", level), fingers, obj, z0, goal, action),
                 [rewards.move(robot, rewards.scales(robot, "move", level), fingers[i], obj[i], z0, goal[i],
                               action[i])[0] for i in range(N)]),
    }
    for task, (batch, one_by_one) in cases.items():
        assert batch.dtype == np.float64 and batch.shape == (N,)
        np.testing.assert_array_equal(batch, np.array(one_by_one), err_msg=task)
        assert len(np.unique(batch)) > N // 4, f"{task}: the inputs should spread the rewards"
