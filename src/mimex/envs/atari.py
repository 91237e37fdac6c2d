"""Atari games from ale-py (ROMs ship in the package): ``atari/PrivateEye``, ``atari/Venture``,
and any other ALE game as ``atari/<Game>``.

Standard preprocessing (Machado et al. 2018 / the v5 protocol): sticky actions with
probability 0.25, the minimal action set, up to 30 no-op actions at reset, frame skip 4
with a max over the last two frames, 84x84 grayscale, 4 frames stacked oldest first, so
observations are uint8[4, 84, 84]. Rewards are not clipped here (agents clip if they
want). ``episodic_life=True`` ends episodes on life loss. Episodes truncate at 108,000
frames (ALE's own limit).
"""

from __future__ import annotations

import gymnasium as gym


def _ale_id(game: str) -> str:
    return f"ALE/{game}-v5"


def make_atari(game: str, obs: str = "pixels", seed: int | None = None, frame_stack: int = 4,
               sticky: float = 0.25, noop_max: int = 30, episodic_life: bool = False) -> gym.Env:
    """A preprocessed ALE game (see the module docstring)."""
    import ale_py
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    gym.register_envs(ale_py)
    env = gym.make(_ale_id(game), frameskip=1, repeat_action_probability=sticky,
                   full_action_space=False)
    env = AtariPreprocessing(env, noop_max=noop_max, frame_skip=4, screen_size=84,
                             terminal_on_life_loss=episodic_life, grayscale_obs=True)
    env = FrameStackObservation(env, frame_stack)
    env.reset(seed=seed)
    return env


def resolve_spec(name: str):
    """Registry hook: an EnvSpec for ``atari/<Game>`` when ALE has the game, else None."""
    from mimex.envs.registry import EnvSpec

    game = name.split("/", 1)[1]
    try:
        import ale_py

        gym.register_envs(ale_py)
    except ImportError:
        return EnvSpec(name, "mimex.envs.atari:make_atari", tags=("atari",), obs=("pixels",),
                       extra="atari", kwargs={"game": game})
    if _ale_id(game) not in gym.registry:
        return None
    return EnvSpec(name, "mimex.envs.atari:make_atari", tags=("atari",), obs=("pixels",),
                   extra="atari", kwargs={"game": game})


