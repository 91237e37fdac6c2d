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

The Kuka (Allegro hand) variants: Pick / Move come down palm first and close the fingers and
the thumb on the cube; Cabinet hooks a bent fingertip behind the handle and pulls; the IK
then also pulls the arm toward its default pose in the null space of the task (elbow up).
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

    def __init__(self, env, site: str | None = None, posture: np.ndarray | None = None,
                 posture_gain: float = 0.0):
        self.env = env
        # Optional null-space pull of the arm joints toward ``posture`` (keeps the elbow up).
        self.posture, self.posture_gain = posture, posture_gain
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
        if self.posture is None:
            dq = J.T @ np.linalg.solve(J @ J.T + IK_DAMPING * np.eye(len(e)), e)
        else:
            J_pinv = J.T @ np.linalg.inv(J @ J.T + IK_DAMPING * np.eye(len(e)))
            null = np.eye(len(self.arm)) - J_pinv @ J
            dq = J_pinv @ e + null @ (self.posture_gain * (self.posture - d.qpos[env._qadr[:7]]))
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


# ---------------------------------------------------------------- Kuka (Allegro hand)
# Pick / Move: the IK point is the hand's grasp centre under the palm, between the finger row
# and the thumb; the hand comes down palm first, fingers pointing away from the robot.
KUKA_PITCH_DEG = 20.0            # fingers pitched down from horizontal
KUKA_YAW_DEG = 45.0              # turned toward the table's midline (keeps the wrist reachable)
KUKA_PRE_GRASP_HEIGHT = 0.10     # m above the cube
KUKA_CARRY_STEP = 0.015          # m per step
KUKA_CARRY_ROT_GAIN = 0.0        # position-only carry: high goals need the arm's full reach
KUKA_POSTURE_GAIN = 0.1          # null-space pull toward the default arm pose, per step
KUKA_LOST_GRASP = 0.05           # cube this far from the grasp centre while carrying: re-grasp
# Cabinet: palm down, pointing at the cabinet; the middle fingertip, bent down at its last
# joint, drops into the gap between handle and drawer front beside the handle's central
# bracket (KUKA_HOOK_SIDE), and pulls. The index finger makes a fist (it would land on the
# bracket); the ring finger hangs outside the handle.
KUKA_TOWARD_CABINET = _frame(np.array([-1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0]))
KUKA_HOOK_Q = np.array([[0.0, 1.5, 1.5, 1.5],      # index
                        [0.0, 0.0, 0.0, 1.57],     # middle
                        [0.0, 0.0, 0.0, 1.57]]).ravel()   # ring
KUKA_HOOK_BEHIND = 0.022         # fingertip pad behind the handle centre (toward the cabinet), m
KUKA_HOOK_SIDE = 0.057           # ... beside it (+y), m
KUKA_HOOK_BELOW = 0.018          # ... below it, m
KUKA_HOOK_ABOVE = 0.06           # pre-hook height above that point, m
_FINGER_FLEX = np.array([7 + 4 * f + k for f in range(3) for k in (1, 2, 3)])
_THUMB_SWING, _THUMB_FLEX = 7 + 12, np.array([7 + 14, 7 + 15])


def _kuka_palm_down(cube_y: float) -> np.ndarray:
    """Pick / Move hand frame: palm down, fingers pointing away from the robot, pitched down by
    ``KUKA_PITCH_DEG`` and turned ``KUKA_YAW_DEG`` toward the table's midline."""
    pitch = np.radians(KUKA_PITCH_DEG)
    yaw = np.radians(KUKA_YAW_DEG) * (-1.0 if cube_y > 0 else 1.0)
    z = np.array([-np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch), -np.sin(pitch)])
    return _frame(z, np.cross([0.0, 0.0, 1.0], z))


def _hand_action(env, q_des: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """Actions [len(digits)] moving those hand joints' targets toward ``q_des``."""
    return np.clip((q_des - env._targets[digits]) / env.info.speeds[digits], -1.0, 1.0)


def _kuka_policy(env) -> Callable[[np.ndarray], np.ndarray]:
    """Kuka oracle: Reach moves the index grasp point; Pick / Move close fingers and thumb on
    the cube from above (palm down); Cabinet hooks the bent fingers behind the handle and pulls."""
    posture = env.info.default_q[:7]
    reach_ik = _IK(env, posture=posture, posture_gain=KUKA_POSTURE_GAIN)
    ik = _IK(env, "grasp_center", posture=posture, posture_gain=KUKA_POSTURE_GAIN)
    tip = env.model.site("middle_grasp").id
    finger_joints = np.arange(7, 19)
    state = {"phase": 0, "t": 0}

    def act(arm: np.ndarray, close: float, thumb: float) -> np.ndarray:
        a = np.zeros(23, dtype=np.float32)
        a[:7] = arm
        a[_FINGER_FLEX] = close
        a[_THUMB_SWING] = thumb
        a[_THUMB_FLEX] = thumb
        return a

    def hook(arm: np.ndarray) -> np.ndarray:
        a = act(arm, 0.0, -1.0)
        a[finger_joints] = _hand_action(env, KUKA_HOOK_Q, finger_joints)
        return a

    def cabinet() -> np.ndarray:
        # Steer the middle fingertip; the IK moves the grasp centre by the same amount so that
        # the hand (not the bent fingertip) keeps the commanded orientation.
        gc = env.data.site_xpos[ik.site]
        offset = gc - env.data.site_xpos[tip]
        h = env.handle() + np.array([-KUKA_HOOK_BEHIND, KUKA_HOOK_SIDE, -KUKA_HOOK_BELOW])
        pre = h + np.array([0.0, 0.0, KUKA_HOOK_ABOVE])
        if state["phase"] == 0:                          # above the gap behind the handle
            if np.linalg.norm(gc - offset - pre) < 0.015:
                state["phase"] = 1
            return hook(ik.arm_action(pre + offset, KUKA_TOWARD_CABINET))
        if state["phase"] == 1:                          # fingers down into the gap
            if np.linalg.norm(gc - offset - h) < 0.012:
                state["phase"] = 2
            return hook(ik.arm_action(h + offset, KUKA_TOWARD_CABINET))
        if state["phase"] == 2 and env.opening() >= 0.37:
            state["phase"] = 3                           # hold
        pull = np.array([0.05 if state["phase"] == 2 else 0.0, 0.0, 0.0])
        return hook(ik.arm_action(h + pull + offset, KUKA_TOWARD_CABINET, PULL_ROT_GAIN))

    def pick() -> np.ndarray:
        gp = env.data.site_xpos[ik.site]
        c = env.cube()
        if "frame" not in state:
            state["frame"] = _kuka_palm_down(c[1])
        frame = state["frame"]
        if state["phase"] == 0:                          # above the cube, hand open
            pre = c + np.array([0.0, 0.0, KUKA_PRE_GRASP_HEIGHT])
            if np.linalg.norm(gp - pre) < 0.015:
                state["phase"] = 1
            return act(ik.arm_action(pre, frame), -1.0, -1.0)
        if state["phase"] == 1:                          # descend
            if np.linalg.norm(gp - c) < 0.012:
                state.update(phase=2, t_close=state["t"])
            return act(ik.arm_action(c, frame), -1.0, -1.0)
        if state["phase"] == 2:                          # close fingers and thumb
            if state["t"] - state["t_close"] > 2 * CLOSE_STEPS:
                state["phase"] = 3
            return act(ik.arm_action(c, frame), 1.0, 1.0)
        if np.linalg.norm(gp - c) > KUKA_LOST_GRASP:   # the cube slipped out: start again
            state["phase"] = 0
        goal = np.array([c[0], c[1], 0.8]) if env.task == "pick" else env.goal()
        return act(ik.arm_action(goal + (gp - c), frame, KUKA_CARRY_ROT_GAIN, KUKA_CARRY_STEP), 1.0, 1.0)

    def policy(obs) -> np.ndarray:
        if env._steps == 0 and state["t"] != 0:
            state.clear()
            state.update(phase=0, t=0)
        state["t"] += 1
        if env.task == "reach":
            return act(reach_ik.arm_action(env.goal(), None), -1.0, -1.0)
        return cabinet() if env.task == "cabinet" else pick()

    return policy
