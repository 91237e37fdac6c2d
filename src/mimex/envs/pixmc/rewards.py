"""Reward terms and scales of the eight tasks (official-code-notes section 5.2).

Every function takes the post-step task quantities (positions in metres, world frame) and the
action, and returns ``(reward, terms)`` where ``terms`` maps term names to their scaled values
(the action penalty included), so tests can check each term by hand.

Levels: ``dense`` = original PixMC scales; ``sparse`` = PixMC-Sparse (the released yaml, with
its lift-bonus 4->12 and around-handle 1->3 changes for Franka); ``sparser`` = ``sparse`` with
the distance-to-goal scale ``s_gd`` also set to 0 (paper Table 3, "goalDistRewardScale: 0").
"""

from __future__ import annotations

import numpy as np

ACTION_PENALTY = 0.01
LEVELS = ("dense", "sparse", "sparser")

_BASE: dict[tuple[str, str], dict[str, dict[str, float]]] = {
    ("franka", "reach"): {"dense": dict(gd=0.08, gb=0.4), "sparse": dict(gd=0.0, gb=0.4)},
    ("kuka", "reach"): {"dense": dict(gd=0.08, gb=0.4), "sparse": dict(gd=0.0, gb=0.4)},
    ("franka", "cabinet"): {
        "dense": dict(hd=0.06, ah=1.0, ob=2.0, gd=6.0, op=3.0, gb=2.0),
        "sparse": dict(hd=0.0, ah=3.0, ob=2.0, gd=6.0, op=3.0, gb=2.0)},
    ("kuka", "cabinet"): {
        "dense": dict(fd=0.04, td=0.08, ah=0.0, ob=2.0, gd=6.0, op=0.0, gb=2.0),
        "sparse": dict(fd=0.0, td=0.0, ah=0.0, ob=2.0, gd=6.0, op=0.0, gb=2.0)},
    ("franka", "pick"): {"dense": dict(od=0.08, lb=4.0, gd=1.28, gb=4.0),
                         "sparse": dict(od=0.0, lb=12.0, gd=1.28, gb=4.0)},
    ("kuka", "pick"): {"dense": dict(fd=0.04, td=0.08, lb=4.0, gd=1.28, gb=4.0),
                       "sparse": dict(fd=0.0, td=0.0, lb=4.0, gd=1.28, gb=4.0)},
    ("franka", "move"): {"dense": dict(od=0.08, lb=4.0, gd=1.28, gb=4.0),
                         "sparse": dict(od=0.0, lb=12.0, gd=1.28, gb=4.0)},
    ("kuka", "move"): {"dense": dict(fd=0.04, td=0.08, lb=4.0, gd=1.28, gb=4.0),
                       "sparse": dict(fd=0.0, td=0.0, lb=4.0, gd=1.28, gb=4.0)},
}

# Per-robot thresholds (m): lift, goal bonus (Pick height / Move 3-D), and the distance floors.
LIFT_THRESHOLD = {"franka": 0.015, "kuka": 0.02}
PICK_GOAL_HEIGHT = 0.8
PICK_GOAL_BONUS_TOL = {"franka": 0.04, "kuka": 0.06}
MOVE_GOAL_BONUS_TOL = {"franka": 0.04, "kuka": 0.06}
OBJECT_DIST_FLOOR = {"franka": 0.02, "kuka": 0.03}
CABINET_GOAL_OPEN = 0.4


def scales(robot: str, task: str, level: str) -> dict[str, float]:
    """The scale of every term for ``robot``/``task`` at reward ``level``."""
    if level not in LEVELS:
        raise ValueError(f"unknown reward level {level!r}; expected one of {LEVELS}")
    table = _BASE[(robot, task)]
    out = dict(table["dense" if level == "dense" else "sparse"])
    if level == "sparser":
        out["gd"] = 0.0
    return out


def _penalty(action: np.ndarray) -> float:
    return -ACTION_PENALTY * float(np.sum(np.square(action)))


def _total(terms: dict[str, float]) -> float:
    return float(sum(terms.values()))


def reach(s: dict[str, float], hand: np.ndarray, goal: np.ndarray, action: np.ndarray):
    """r = s_gd / (0.04 + d) + s_gb * 0.5 * 1[d <= 0.04] - 0.01 |a|^2; d = |hand - goal|."""
    d = float(np.linalg.norm(hand - goal))
    terms = {"goal_dist": s["gd"] / (0.04 + d), "goal_bonus": s["gb"] * 0.5 * (d <= 0.04),
             "action_penalty": _penalty(action)}
    return _total(terms), terms


def cabinet(robot: str, s: dict[str, float], fingers: np.ndarray, handle: np.ndarray,
            opening: float, action: np.ndarray):
    """Cabinet reward. ``fingers``: [2, 3] (Franka left, right) or [4, 3] (Kuka index, middle,
    ring, thumb) grasp points; ``handle``: [3]; ``opening``: drawer joint position (m)."""
    d = np.linalg.norm(fingers - handle, axis=1)
    dc = np.maximum(d, 0.008)
    if robot == "franka":
        near = 1.0 / (0.016 + dc[0]) + 1.0 / (0.016 + dc[1])
        terms = {"handle_dist": s["hd"] * near}
        upper, lower = fingers[0, 2], fingers[1, 2]
        both_near = d[0] < 0.04 and d[1] < 0.04
    else:
        terms = {"finger_dist": s["fd"] * float(np.sum(1.0 / (0.04 + dc[:3]))),
                 "thumb_dist": s["td"] / (0.04 + dc[3])}
        upper, lower = fingers[0, 2], fingers[3, 2]
        both_near = d[0] < 0.04 and d[3] < 0.04
    around = 0.5 * float((upper - handle[2]) * (handle[2] - lower) > 0)
    terms["around_handle"] = s["ah"] * around
    terms["open_bonus"] = s["ob"] * 0.5 * (opening > 0.01)
    terms["open_dist"] = s["gd"] * opening
    terms["open_pose"] = s["op"] * around * float(both_near) * opening * 2.0
    terms["goal_bonus"] = s["gb"] * 0.5 * ((CABINET_GOAL_OPEN - opening) <= 0.1)
    terms["action_penalty"] = _penalty(action)
    return _total(terms), terms


def _object_terms(robot: str, s: dict[str, float], fingers: np.ndarray, obj: np.ndarray) -> dict:
    d = np.maximum(np.linalg.norm(fingers - obj, axis=1), OBJECT_DIST_FLOOR[robot])
    if robot == "franka":
        return {"object_dist": s["od"] * float(np.sum(1.0 / (0.04 + d)))}
    return {"finger_dist": s["fd"] * float(np.sum(1.0 / (0.04 + d[:3]))),
            "thumb_dist": s["td"] / (0.04 + d[3])}


def pick(robot: str, s: dict[str, float], fingers: np.ndarray, obj: np.ndarray, z0: float,
         action: np.ndarray):
    """Pick reward: object distance, lift bonus, height reward (only once lifted), goal bonus.
    ``obj``: cube centre [3]; ``z0``: its initial height (m)."""
    terms = _object_terms(robot, s, fingers, obj)
    lifted = (obj[2] - z0) > LIFT_THRESHOLD[robot]
    dz = abs(PICK_GOAL_HEIGHT - obj[2])
    terms["lift_bonus"] = s["lb"] * 0.5 * lifted
    terms["goal_dist"] = s["gd"] * lifted / (0.04 + dz)
    terms["goal_bonus"] = s["gb"] * 0.5 * (dz <= PICK_GOAL_BONUS_TOL[robot])
    terms["action_penalty"] = _penalty(action)
    return _total(terms), terms


def move(robot: str, s: dict[str, float], fingers: np.ndarray, obj: np.ndarray, z0: float,
         goal: np.ndarray, action: np.ndarray):
    """Move reward: as Pick, with the 3-D object-to-goal distance in the height and goal terms."""
    terms = _object_terms(robot, s, fingers, obj)
    lifted = (obj[2] - z0) > LIFT_THRESHOLD[robot]
    og = float(np.linalg.norm(goal - obj))
    terms["lift_bonus"] = s["lb"] * 0.5 * lifted
    terms["goal_dist"] = s["gd"] * lifted / (0.04 + og)
    terms["goal_bonus"] = s["gb"] * 0.5 * (og <= MOVE_GOAL_BONUS_TOL[robot])
    terms["action_penalty"] = _penalty(action)
    return _total(terms), terms
