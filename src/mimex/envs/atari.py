"""Atari games from ale-py (ROMs ship in the package): ``atari/PrivateEye``, ``atari/Venture``,
and any other ALE game as ``atari/<Game>``.

Standard preprocessing (Machado et al. 2018 / the v5 protocol): sticky actions with
probability 0.25, the minimal action set, up to 30 no-op actions at reset, frame skip 4
with a max over the last two frames, 84x84 grayscale, 4 frames stacked oldest first, so
observations are uint8[4, 84, 84]. Rewards are not clipped here (agents clip if they
want). ``episodic_life=True`` ends episodes on life loss. Episodes truncate at 108,000
frames (ALE's own limit).

Every layer snapshots its own state as plain arrays and numbers (``get_state``/``set_state``
on the ALE env and on the preprocessing and frame-stack wrappers; ``VecEnv`` collects them),
so a stopped run resumes bit for bit. Sticky actions are drawn by :class:`SnapshotAtariEnv`
(same rule as ALE's, from the env's ``np_random``) because ALE's snapshot omits the action
a sticky frame repeats.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np


def _ale_id(game: str) -> str:
    return f"ALE/{game}-v5"


try:
    from ale_py import ALEState
    from ale_py.env import AtariEnv as _AtariEnv
except ImportError:  # the "atari" extra is not installed: make_atari's import says so
    ALEState, _AtariEnv = None, gym.Env
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation  # noqa: E402

from mimex.envs.action_checks import StepGuard  # noqa: E402


class SnapshotAtariEnv(_AtariEnv):
    """ale-py's ``AtariEnv`` that can snapshot itself, with sticky actions drawn here.

    ALE keeps the previous action that a sticky action repeats outside the state that
    ``cloneState`` saves, so a restored emulator would repeat another action than the
    original one. This env therefore runs ALE without sticky actions and makes them
    itself, with the same rule as ALE's (each frame, with probability
    ``repeat_action_probability``, the previous frame's action is used instead of the
    given one; a reset makes it NOOP), drawing from ``np_random``, so a snapshot holds them.
    """

    def __init__(self, *args: Any, repeat_action_probability: float = 0.25, **kwargs: Any) -> None:
        if kwargs.get("continuous"):
            raise ValueError("mimex's Atari envs have discrete actions; continuous=True is not supported")
        if kwargs.get("frameskip", 4) != 1:
            raise ValueError("SnapshotAtariEnv draws sticky actions once per step, so each step must "
                             f"be one frame: pass frameskip=1 (got {kwargs.get('frameskip', 4)}) and "
                             "skip frames in a wrapper (AtariPreprocessing)")
        super().__init__(*args, repeat_action_probability=0.0, **kwargs)
        self.sticky = float(repeat_action_probability)
        self._previous = 0  # the minimal and full action sets both start with NOOP

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        out = super().reset(seed=seed, options=options)
        self._previous = 0
        return out

    def step(self, action: Any):
        if self.sticky > 0 and self.np_random.random() < self.sticky:
            action = self._previous
        self._previous = int(action)
        return super().step(action)

    def get_state(self) -> dict[str, Any]:
        """``game``; ``ale``: the emulator state with ALE's RNG,
        ``cloneState(include_rng=True)`` serialised to uint8; ``np_random``: the generator
        that draws sticky actions and (in AtariPreprocessing) the reset no-ops; ``previous``:
        the action a sticky frame repeats."""
        ale = self.ale.cloneState(include_rng=True).serialize()
        return {"game": self._game, "ale": np.frombuffer(ale, dtype=np.uint8).copy(),
                "np_random": self.np_random.bit_generator.state, "previous": self._previous}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned; another game's snapshot is a ValueError."""
        if state.get("game") != self._game:
            raise ValueError(f"this snapshot is of atari/{_game_name(state.get('game'))}; it cannot be "
                             f"restored into atari/{_game_name(self._game)}. Resume with the game "
                             "the run was started with")
        self.ale.restoreState(ALEState(np.asarray(state["ale"], dtype=np.uint8).tobytes()))
        self.np_random.bit_generator.state = state["np_random"]
        self._previous = int(state["previous"])


class SnapshotPreprocessing(AtariPreprocessing):
    """``AtariPreprocessing`` that snapshots its two max-pool frame buffers, lives and
    game-over flag (a step that ends early leaves the second buffer from the step before)."""

    def get_state(self) -> dict[str, Any]:
        return {"obs_buffer": np.stack(self.obs_buffer), "lives": int(self.lives),
                "game_over": bool(self.game_over)}

    def set_state(self, state: dict[str, Any]) -> None:
        buffers = np.asarray(state["obs_buffer"])
        need = (2, *self.obs_buffer[0].shape)
        if buffers.shape != need:
            raise ValueError(f"Atari preprocessing snapshot has frame buffers of shape "
                             f"{tuple(buffers.shape)}, this env needs {need}")
        for buf, saved in zip(self.obs_buffer, buffers, strict=True):
            np.copyto(buf, saved)
        self.lives, self.game_over = int(state["lives"]), bool(state["game_over"])


class SnapshotFrameStack(FrameStackObservation):
    """``FrameStackObservation`` that snapshots its stacked frames and reset padding. As the
    outermost layer it also checks each step (:class:`StepGuard`: the action, and no step
    before reset or after the end, including an end on life loss that the emulator never sees)."""

    def __init__(self, env: gym.Env, stack_size: int, **kwargs: Any) -> None:
        super().__init__(env, stack_size, **kwargs)
        game = getattr(env.unwrapped, "_game", None)
        self.guard = StepGuard(f"atari/{_game_name(game)}" if game else "atari", env.action_space)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        out = super().reset(seed=seed, options=options)
        self.guard.started()
        return out

    def step(self, action: Any):
        out = super().step(self.guard.check(action))
        self.guard.finished(out[2], out[3])
        return out

    def get_state(self) -> dict[str, Any]:
        return {"frames": np.stack(list(self.obs_queue)), "padding": np.array(self.padding_value),
                "guard": self.guard.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        frames = np.asarray(state["frames"])
        if frames.shape[0] != self.stack_size:
            raise ValueError(f"Atari snapshot stacks {frames.shape[0]} frames, this env "
                             f"{self.stack_size}: it was saved with another frame_stack")
        self.obs_queue.clear()
        self.obs_queue.extend(np.array(f) for f in frames)
        self.padding_value = np.array(state["padding"])
        self.guard.restore(state.get("guard"))


def _game_name(rom: Any) -> str:
    """ALE's snake_case ROM name -> the ``atari/<Game>`` spelling (``private_eye`` -> ``PrivateEye``)."""
    return "".join(part.capitalize() for part in str(rom).split("_"))


def make_atari(game: str, obs: str = "pixels", seed: int | None = None, frame_stack: int = 4,
               sticky: float = 0.25, noop_max: int = 30, episodic_life: bool = False) -> gym.Env:
    """A preprocessed ALE game (see the module docstring)."""
    import ale_py

    gym.register_envs(ale_py)
    # ALE's own registration with an env class that can snapshot itself.
    spec = dataclasses.replace(gym.spec(_ale_id(game)), entry_point="mimex.envs.atari:SnapshotAtariEnv")
    env = gym.make(spec, frameskip=1, repeat_action_probability=sticky, full_action_space=False)
    env = SnapshotPreprocessing(env, noop_max=noop_max, frame_skip=4, screen_size=84,
                                terminal_on_life_loss=episodic_life, grayscale_obs=True)
    env = SnapshotFrameStack(env, frame_stack)
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
