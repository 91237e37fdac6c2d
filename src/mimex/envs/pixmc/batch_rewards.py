"""The rewards of ``rewards.py`` over a leading env axis, with the same numbers.

Each function returns float64[N] rewards equal, bit for bit, to the per-env functions of
``rewards`` (tested): the terms are computed by the same elementwise operations and added in
the same order (``((0 + t1) + t2) + ...``, as ``sum(terms.values())``), a distance between
two points is ``vec_norm`` (which rounds as ``np.linalg.norm`` of one vector does) and a
distance from each of k points is ``rows_norm`` (as ``np.linalg.norm(x, axis=1)``). Shapes:
``fingers`` float[N, k, 3] (Franka k=2: left, right; Kuka k=4: index, middle, ring, thumb),
points float[N, 3], ``action`` float[N, A].
"""

from __future__ import annotations

import numpy as np

from mimex.envs.pixmc import rewards


def vec_norm(x: np.ndarray) -> np.ndarray:
    """float[N] Euclidean norms of the rows of float[N, 3] ``x``, rounded as
    ``np.linalg.norm`` of each row alone (a dot product: batched 1x3 @ 3x1 products)."""
    return np.sqrt((x[:, None, :] @ x[:, :, None]).reshape(-1))


def rows_norm(x: np.ndarray) -> np.ndarray:
    """float[N, k] norms of float[N, k, 3] ``x`` along its last axis, as
    ``np.linalg.norm(x[i], axis=1)`` of each env."""
    return np.sqrt(np.add.reduce(x * x, axis=-1))


def penalty(action: np.ndarray) -> np.ndarray:
    """float[N]: -0.01 |a|^2 per env."""
    return -rewards.ACTION_PENALTY * np.sum(np.square(action), axis=1)


def _total(*terms: np.ndarray) -> np.ndarray:
    out = np.zeros_like(terms[0], dtype=np.float64)
    for t in terms:
        out = out + t
    return out


def reach(s: dict[str, float], hand: np.ndarray, goal: np.ndarray, action: np.ndarray) -> np.ndarray:
    d = vec_norm(hand - goal)
    return _total(s["gd"] / (0.04 + d), s["gb"] * 0.5 * (d <= 0.04), penalty(action))


def cabinet(robot: str, s: dict[str, float], fingers: np.ndarray, handle: np.ndarray,
            opening: np.ndarray, action: np.ndarray) -> np.ndarray:
    """``rewards.cabinet`` per env; ``handle`` float[N, 3], ``opening`` float[N]."""
    d = rows_norm(fingers - handle[:, None, :])
    dc = np.maximum(d, 0.008)
    if robot == "franka":
        near = 1.0 / (0.016 + dc[:, 0]) + 1.0 / (0.016 + dc[:, 1])
        terms = [s["hd"] * near]
        upper, lower = fingers[:, 0, 2], fingers[:, 1, 2]
        both_near = (d[:, 0] < 0.04) & (d[:, 1] < 0.04)
    else:
        terms = [s["fd"] * np.sum(1.0 / (0.04 + dc[:, :3]), axis=1), s["td"] / (0.04 + dc[:, 3])]
        upper, lower = fingers[:, 0, 2], fingers[:, 3, 2]
        both_near = (d[:, 0] < 0.04) & (d[:, 3] < 0.04)
    hz = handle[:, 2]
    around = 0.5 * ((upper - hz) * (hz - lower) > 0).astype(np.float64)
    terms += [s["ah"] * around, s["ob"] * 0.5 * (opening > 0.01), s["gd"] * opening,
              s["op"] * around * both_near.astype(np.float64) * opening * 2.0,
              s["gb"] * 0.5 * ((rewards.CABINET_GOAL_OPEN - opening) <= 0.1), penalty(action)]
    return _total(*terms)


def _object_terms(robot: str, s: dict[str, float], fingers: np.ndarray, obj: np.ndarray) -> list[np.ndarray]:
    d = np.maximum(rows_norm(fingers - obj[:, None, :]), rewards.OBJECT_DIST_FLOOR[robot])
    if robot == "franka":
        return [s["od"] * np.sum(1.0 / (0.04 + d), axis=1)]
    return [s["fd"] * np.sum(1.0 / (0.04 + d[:, :3]), axis=1), s["td"] / (0.04 + d[:, 3])]


def pick(robot: str, s: dict[str, float], fingers: np.ndarray, obj: np.ndarray, z0: float,
         action: np.ndarray) -> np.ndarray:
    """``rewards.pick`` per env; ``obj`` float[N, 3] cube centres."""
    lifted = (obj[:, 2] - z0) > rewards.LIFT_THRESHOLD[robot]
    dz = np.abs(rewards.PICK_GOAL_HEIGHT - obj[:, 2])
    return _total(*_object_terms(robot, s, fingers, obj), s["lb"] * 0.5 * lifted,
                  s["gd"] * lifted / (0.04 + dz), s["gb"] * 0.5 * (dz <= rewards.PICK_GOAL_BONUS_TOL[robot]),
                  penalty(action))


def move(robot: str, s: dict[str, float], fingers: np.ndarray, obj: np.ndarray, z0: float,
         goal: np.ndarray, action: np.ndarray) -> np.ndarray:
    """``rewards.move`` per env; ``obj``, ``goal`` float[N, 3]."""
    lifted = (obj[:, 2] - z0) > rewards.LIFT_THRESHOLD[robot]
    og = vec_norm(goal - obj)
    return _total(*_object_terms(robot, s, fingers, obj), s["lb"] * 0.5 * lifted,
                  s["gd"] * lifted / (0.04 + og), s["gb"] * 0.5 * (og <= rewards.MOVE_GOAL_BONUS_TOL[robot]),
                  penalty(action))
