"""Registry entries of DeepMind Control tasks (``dmc/<domain>_<task>``).

The tasks below are listed by ``list_envs()``; any other task dm_control knows resolves
on demand through the ``dmc`` prefix.
"""

from __future__ import annotations

from mimex.envs.registry import EnvSpec, register_env, register_prefix

LISTED = (
    "cartpole_swingup_sparse", "cartpole_swingup", "cartpole_balance_sparse", "acrobot_swingup",
    "acrobot_swingup_sparse", "finger_turn_easy", "finger_turn_hard", "finger_spin",
    "quadruped_walk", "quadruped_run", "walker_walk", "walker_run", "cheetah_run",
    "reacher_easy", "reacher_hard", "hopper_hop", "hopper_stand", "pendulum_swingup",
    "ball_in_cup_catch", "point_mass_easy",
)
SPARSE = {"cartpole_swingup_sparse", "cartpole_balance_sparse", "acrobot_swingup_sparse",
          "finger_turn_hard", "pendulum_swingup", "ball_in_cup_catch", "reacher_hard"}

for _task in LISTED:
    register_env(EnvSpec(f"dmc/{_task}", "mimex.envs.dmc:make_dmc",
                         tags=("dmc", "sparse") if _task in SPARSE else ("dmc",),
                         obs=("state", "pixels"), extra="dmc", kwargs={"task": _task}))
register_prefix("dmc", "mimex.envs.dmc:resolve_spec")
