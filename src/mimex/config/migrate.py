"""Configs saved by older mimex versions, read as what those versions ran.

A run directory's ``config.json`` and a checkpoint's config hold every key the version that
wrote them knew. Keys added since get, here, the value that reproduces the old behaviour
(not today's default, which may compute something else), and values whose type changed are
mapped to today's spelling. ``upgrade_config`` is applied wherever a saved config is read:
resuming a run, ``mimex train --run-dir DIR`` alone, ``mimex eval``, a sweep's check of what a run
directory holds, and ``mimex plot`` / ``mimex report``.
"""

from __future__ import annotations

import copy
from typing import Any

# Keys added after the first release, with the value that behaves as before they existed.
_OLD_PPO = {"sampler": "shuffle", "value_loss": "half_mse", "adam_eps": 1e-5, "feature_norm": "none",
            "compile": False, "schedule_steps": 0, "std_squared": False, "reward_clip": 0.0,
            "target_kl": 0.0}
_OLD_ICM = {"linear_encoder": False, "detach_forward": False, "update_proportion": 1.0, "return_gamma": 0.99}
_OLD_RND = {"predictor_extra_layer": True, "return_gamma": 0.99}
_OLD_MIMEX = {"update_proportion": 1.0, "return_gamma": 0.99}


def upgrade_config(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a saved run config (``to_dict`` layout) with what older versions left out.

    Returns the same config when it is current; ``was_upgraded`` tells whether it was not.
    """
    out = copy.deepcopy(data)
    ppo = out.get("ppo", {})
    if isinstance(ppo.get("norm_adv"), bool):
        ppo["norm_adv"] = "minibatch" if ppo["norm_adv"] else "off"
    for k, v in _OLD_PPO.items():
        ppo.setdefault(k, v)
    ex = out.get("explore", {})
    if "input" not in ex:
        # the explorer saw the frozen image features and the normalised state side by side
        ex["input"] = "features+state" if out.get("env", {}).get("obs") == "pixels+state" else "auto"
        if ex.get("name") == "icm":  # ICM's windows always ended at o_t+1 then
            ex["seq_end"] = "next"
    ex.setdefault("chunk_size", 4096)
    for section, old in (("icm", _OLD_ICM), ("rnd", _OLD_RND), ("mimex", _OLD_MIMEX)):
        sub = ex.get(section)
        if isinstance(sub, dict):
            for k, v in old.items():
                sub.setdefault(k, v)
    for section in ("icm", "rnd", "mimex"):  # reward_norm was a bool (per-step or off)
        sub = ex.get(section)
        if isinstance(sub, dict) and isinstance(sub.get("reward_norm"), bool):
            sub["reward_norm"] = "step" if sub["reward_norm"] else "none"
    if "drqv2" not in out and out.get("agent", "ppo") == "ppo":
        from mimex.config.schema import DrQv2Config, to_dict

        out["drqv2"] = to_dict(DrQv2Config())  # unused by PPO runs
    return out


def was_upgraded(data: dict[str, Any]) -> bool:
    """Whether ``data`` came from an older version (``upgrade_config`` changes it)."""
    return upgrade_config(data) != data
