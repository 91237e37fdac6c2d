"""Atari through ale-py with the standard preprocessing."""

import numpy as np
import pytest

from mimex.envs import env_spec, make_env
from mimex.envs.check import check_env
from mimex.errors import ConfigError
from mimex.run.vector import VecEnv

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


def _through_checkpoint(state, tmp_path):
    """``state`` after a save and a ``weights_only`` load, as a resumed run gets it."""
    from mimex.run.checkpoint import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path, {"format": 1, "state": state}, name="snap.pt")
    return load_checkpoint(tmp_path / "snap.pt")["state"]


def _assert_same_state(a, b, where="state"):
    if isinstance(a, (dict, list)):
        keys = a.keys() if isinstance(a, dict) else range(len(a))
        assert len(a) == len(b), where
        for k in keys:
            _assert_same_state(a[k], b[k], f"{where}.{k}")
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)


@pytest.mark.parametrize("game,options,k,n,ends", [
    ("Venture", {"episodic_life": True}, 200, 150, 1),  # a life lost at step 274: reset and no-ops
    ("PrivateEye", {}, 100, 100, 0),
])
def test_snapshot_restores_the_exact_future(game, options, k, n, ends, tmp_path):
    """A vector env's snapshot (emulator with its RNG, sticky-action state, no-op RNG,
    max-pool buffers, lives, frame stack) restored through a checkpoint file into envs with
    another seed: the next ``n`` steps match bit for bit, across an episode end and reset."""
    def vec(seed):
        return VecEnv([lambda: make_env(f"atari/{game}", obs="pixels", seed=seed, **options)])

    env = vec(0)
    actions = np.random.default_rng(0).integers(0, env.single_action_space.n, (k + n, 1))
    for a in actions[:k]:
        env.step(a)
    snap = env.get_state()
    ref = [env.step(a) for a in actions[k:]]
    assert sum(int(r.terminated[0] or r.truncated[0]) for r in ref) == ends
    other = vec(5)
    other.step(actions[0])
    other.set_state(_through_checkpoint(snap, tmp_path))
    _assert_same_state(snap, other.get_state())
    for step, (a, r) in enumerate(zip(actions[k:], ref, strict=True)):
        s = other.step(a)
        for field in ("obs", "next_obs", "reward", "terminated", "truncated"):
            np.testing.assert_array_equal(getattr(r, field), getattr(s, field), err_msg=f"{field}, step {step}")
        assert r.episodes == s.episodes
    env.close()
    other.close()


def test_sticky_actions_repeat_the_previous_action_as_ale_does():
    """With probability 1 every frame repeats the previous action: NOOP after a reset, so the
    game sees no input at all (the same frames as an env given only NOOPs)."""
    always = make_env("atari/Venture", obs="pixels", seed=0, sticky=1.0, noop_max=0)
    noop = make_env("atari/Venture", obs="pixels", seed=0, sticky=0.0, noop_max=0)
    for a in [1, 2, 3, 4, 5] * 10:
        np.testing.assert_array_equal(always.step(a)[0], noop.step(0)[0])
    assert always.unwrapped.get_state()["previous"] == 0


def test_snapshot_of_another_game_is_refused():
    venture = make_env("atari/Venture", obs="pixels", seed=0)
    eye = make_env("atari/PrivateEye", obs="pixels", seed=0)
    with pytest.raises(ValueError, match=r"snapshot is of atari/PrivateEye; it cannot be restored into atari/Venture"):
        venture.unwrapped.set_state(eye.unwrapped.get_state())
