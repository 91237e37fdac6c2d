"""``scripted_policy(env)``: an oracle controller that solves each PixMC task.

It reads the simulator state (the task state a state-based policy would see, plus the hand
orientation) and does damped-least-squares inverse kinematics on the hand point
(J: [6, 7] position+orientation Jacobian of the arm joints), converting the joint change into
an action (``dq / speed``, clipped to [-1, 1]). Each task is a small phase machine:

* Reach: move the hand point to the goal.
* Pick / Move: hand above the cube (pointing down, open), descend, close, lift to 0.8 m (Pick)
  or carry to the goal (Move).
* Cabinet: hand pointing at the cabinet (-x, pitched down) with fingers spread vertically in front of the
  handle, advance onto it, close, pull along +x until the drawer is open.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np

IK_DAMPING = 1e-2
POS_GAIN = 3.0           # joint-target lead, in multiples of the (capped) position error
ROT_GAIN = 1.0
CARRY_ROT_GAIN = 0.2     # looser orientation while carrying (more reach)
PULL_ROT_GAIN = 0.02
MAX_CART_STEP = 0.05     # m per step
CLOSE_STEPS = 15
LEAD_TARGETS = True


def _unwrap(env):
    while hasattr(env, "env") and not hasattr(env, "reset_state"):
        env = env.env
    return env


class _IK:
    """DLS inverse kinematics of the arm joints on the hand point site."""

    def __init__(self, env, site: str | None = None):
        self.env = env
        m = env.model
        self.arm = env._vadr[:7]
        self.site = env._hand_site if site is None else m.site(site).id
        self.jp = np.zeros((3, m.nv))
        self.jr = np.zeros((3, m.nv))

    def arm_action(self, pos_des: np.ndarray, rot_des: np.ndarray | None,
                   rot_gain: float = ROT_GAIN, max_step: float = MAX_CART_STEP) -> np.ndarray:
        """Action [7] moving the hand point toward ``pos_des`` [3] and its frame toward
        ``rot_des`` [3, 3] (columns = desired hand x, y, z axes; None: position only)."""
        env = self.env
        d, m = env.data, env.model
        mujoco.mj_jacSite(m, d, self.jp, self.jr, self.site)
        err = pos_des - d.site_xpos[self.site]
        n = np.linalg.norm(err)
        if n > max_step:
            err *= max_step / n
        err = POS_GAIN * err
        if rot_des is None:
            J, e = self.jp[:, self.arm], err
        else:
            cur = d.site_xmat[self.site].reshape(3, 3)
            rot_err = 0.5 * sum(np.cross(cur[:, i], rot_des[:, i]) for i in range(3))
            J = np.vstack([self.jp[:, self.arm], self.jr[:, self.arm]])
            e = np.concatenate([err, rot_gain * rot_err])
        dq = J.T @ np.linalg.solve(J @ J.T + IK_DAMPING * np.eye(len(e)), e)
        # Target-relative: the actuator target, not the current q, is what the action moves.
        if LEAD_TARGETS:
            dq += d.qpos[env._qadr[:7]] - env._targets[:7]
        return np.clip(dq / env.info.speeds[:7], -1.0, 1.0)


def _frame(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rotation matrix with hand z along ``z`` and hand y along ``y`` (orthogonalised)."""
    z = z / np.linalg.norm(z)
    y = y - z * (y @ z)
    y = y / np.linalg.norm(y)
    return np.stack([np.cross(y, z), y, z], axis=1)


DOWN = _frame(np.array([0.0, 0.0, -1.0]), np.array([0.0, 1.0, 0.0]))
# Pointing at the cabinet, pitched ~22 deg down: the Panda then keeps reach as the drawer
# comes toward its base (level pointing stalls at ~0.3 m opening on low handles).
TOWARD_CABINET = _frame(np.array([-1.0, 0.0, -0.4]), np.array([0.0, 0.0, 1.0]))


def scripted_policy(env) -> Callable[[np.ndarray], np.ndarray]:
    """An oracle ``policy(obs) -> action`` for ``env`` (a PixmcEnv, possibly wrapped).

    The policy keeps a phase per episode and notices a new episode by the env's step counter.
    """
    env = _unwrap(env)
    if env.robot == "kuka":
        return _kuka_policy(env)
    ik = _IK(env)
    state = {"phase": 0, "t": 0}
    n = env.action_space.shape[0]

    def act(arm: np.ndarray, grip: float) -> np.ndarray:
        a = np.zeros(n, dtype=np.float32)
        a[:7] = arm
        a[7:] = grip
        return a

    def policy(obs) -> np.ndarray:
        if env._steps == 0 and state["t"] != 0:
            state.update(phase=0, t=0)
        state["t"] += 1
        hp = env.hand_point()
        if env.task == "reach":
            return act(ik.arm_action(env.goal(), None), 0.0)
        if env.task == "cabinet":
            h = env.handle()
            if state["phase"] == 0:                      # in front of the handle
                target = h + np.array([0.1, 0.0, 0.0])
                if np.linalg.norm(hp - target) < 0.015:
                    state["phase"] = 1
                return act(ik.arm_action(target, TOWARD_CABINET), 1.0)
            if state["phase"] == 1:                      # onto the handle
                if np.linalg.norm(hp - h) < 0.01:
                    state.update(phase=2, t_close=state["t"])
                return act(ik.arm_action(h, TOWARD_CABINET), 1.0)
            if state["phase"] == 2:                      # close
                if state["t"] - state["t_close"] > CLOSE_STEPS:
                    state["phase"] = 3
                return act(ik.arm_action(h, TOWARD_CABINET), -1.0)
            if state["phase"] == 3 and env.opening() >= 0.37:
                state["phase"] = 4                       # hold on the handle
            pull = 0.05 if state["phase"] == 3 else 0.0
            return act(ik.arm_action(h + np.array([pull, 0.0, 0.0]), TOWARD_CABINET, PULL_ROT_GAIN), -1.0)
        c = env.cube()
        if state["phase"] == 0:                          # above the cube
            target = c + np.array([0.0, 0.0, 0.1])
            if np.linalg.norm(hp - target) < 0.015:
                state["phase"] = 1
            return act(ik.arm_action(target, DOWN), 1.0)
        if state["phase"] == 1:                          # descend
            if np.linalg.norm(hp - c) < 0.01:
                state.update(phase=2, t_close=state["t"])
            return act(ik.arm_action(c, DOWN), 1.0)
        if state["phase"] == 2:                          # close
            if state["t"] - state["t_close"] > CLOSE_STEPS:
                state["phase"] = 3
            return act(ik.arm_action(c, DOWN), -1.0)
        goal = np.array([c[0], c[1], 0.8]) if env.task == "pick" else env.goal()
        offset = hp - c                                  # carry the cube, not the hand point
        return act(ik.arm_action(goal + offset, DOWN, CARRY_ROT_GAIN), -1.0)

    return policy


# Kuka: the IK point is the hand's grasp centre (between the finger row and the thumb).
KUKA_DOWN = _frame(np.array([0.0, 0.0, -1.0]), np.array([0.0, 1.0, 0.0]))
KUKA_TOWARD_CABINET = _frame(np.array([-1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0]))
KUKA_GRASP_ABOVE_CENTER = 0.03   # m
KUKA_CARRY_STEP = 0.015          # m per step: the caging grasp slips on fast moves
_FLEX = np.array([7 + 4 * f + k for f in range(4) for k in (1, 2, 3)])   # flexion joints


def _kuka_policy(env) -> Callable[[np.ndarray], np.ndarray]:
    """Kuka oracle: Reach moves the index grasp point; the others cage the object (or handle)
    between the finger row and the thumb and curl all flexion joints."""
    reach_ik, ik = _IK(env), _IK(env, "grasp_center")
    state = {"phase": 0, "t": 0}

    def act(arm: np.ndarray, close: bool) -> np.ndarray:
        a = np.zeros(23, dtype=np.float32)
        a[:7] = arm
        a[_FLEX] = 1.0 if close else -1.0
        return a

    def policy(obs) -> np.ndarray:
        if env._steps == 0 and state["t"] != 0:
            state.update(phase=0, t=0)
        state["t"] += 1
        gp = env.data.site_xpos[ik.site]
        if env.task == "reach":
            return act(reach_ik.arm_action(env.goal(), None), False)
        if env.task == "cabinet":
            h, frame = env.handle(), KUKA_TOWARD_CABINET
            pre, pull = h + np.array([0.12, 0.0, 0.0]), h + np.array([0.05, 0.0, 0.0])
        else:
            # Grasp the cube's upper half: the long fingers must stay above the table.
            h, frame = env.cube() + np.array([0.0, 0.0, KUKA_GRASP_ABOVE_CENTER]), KUKA_DOWN
            pre = h + np.array([0.0, 0.0, 0.12])
        if state["phase"] == 0:
            if np.linalg.norm(gp - pre) < 0.015:
                state["phase"] = 1
            return act(ik.arm_action(pre, frame), False)
        if state["phase"] == 1:
            if np.linalg.norm(gp - h) < 0.012:
                state.update(phase=2, t_close=state["t"])
            return act(ik.arm_action(h, frame), False)
        if state["phase"] == 2:
            if state["t"] - state["t_close"] > 2 * CLOSE_STEPS:
                state["phase"] = 3
            return act(ik.arm_action(h, frame), True)
        if env.task == "cabinet":
            target = pull if env.opening() < 0.37 else h
            return act(ik.arm_action(target, frame, PULL_ROT_GAIN), True)
        goal = np.array([h[0], h[1], 0.8]) if env.task == "pick" else env.goal()
        return act(ik.arm_action(goal + (gp - h), frame, CARRY_ROT_GAIN, KUKA_CARRY_STEP), True)

    return policy
