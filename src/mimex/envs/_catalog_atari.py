"""Registry entries of the Atari games the paper uses; any other ALE game resolves on demand."""

from __future__ import annotations

from mimex.envs.registry import EnvSpec, register_env, register_prefix

for _game in ("PrivateEye", "Venture"):
    register_env(EnvSpec(f"atari/{_game}", "mimex.envs.atari:make_atari",
                         tags=("atari", "hard-exploration"), obs=("pixels",), extra="atari",
                         kwargs={"game": _game}))
register_prefix("atari", "mimex.envs.atari:resolve_spec")
