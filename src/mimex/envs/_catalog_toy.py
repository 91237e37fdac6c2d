"""Registry entries of the tiny built-in hard-exploration tasks (``toy/*``)."""

from __future__ import annotations

from mimex.envs.registry import EnvSpec, register_env

for _name, _factory in (("Corridor", "make_corridor"), ("Chain", "make_chain")):
    register_env(EnvSpec(f"toy/{_name}", f"mimex.envs.toy:{_factory}",
                         tags=("toy", "hard-exploration", "success"), obs=("state", "pixels")))
