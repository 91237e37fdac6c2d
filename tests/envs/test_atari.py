"""Atari through ale-py with the standard preprocessing."""

import numpy as np
import pytest

from mimex.envs import env_spec, make_env
from mimex.envs.check import check_env
from mimex.errors import ConfigError

pytest.importorskip("ale_py")


def test_private_eye_passes_the_checker_with_stacked_84px_frames():
    assert len(check_env("atari/PrivateEye", obs="pixels", n_steps=20)) == 4
    env = make_env("atari/PrivateEye", obs="pixels", seed=0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.action_space.n == 18  # PrivateEye's minimal action set is the full 18
    env.close()


def test_other_games_resolve_and_unknown_ones_do_not():
    assert env_spec("atari/Pong").kwargs == {"game": "Pong"}
    with pytest.raises(ConfigError, match="unknown environment 'atari/NoSuchGame'"):
        make_env("atari/NoSuchGame", obs="pixels")
    with pytest.raises(ConfigError, match="has no observation kind 'state'"):
        make_env("atari/Venture", obs="state")


@pytest.mark.slow
def test_venture_passes_the_checker():
    assert len(check_env("atari/Venture", obs="pixels", n_steps=200)) == 4
