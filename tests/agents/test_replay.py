"""The episode replay: windows padded at episode starts and never crossing episodes, n-step
transitions cut at episode ends, frames stored once, ring overwrites, exact round trips."""

import numpy as np
import pytest

from mimex.agents.replay import EpisodeReplay
from mimex.errors import InputError


def _fill_state(replay, lengths, terminal_last=False):
    """Episodes of the given lengths on lane 0; obs = [episode, t]; reward = 10 * episode + t."""
    for ep, n in enumerate(lengths):
        replay.start(np.array([[ep, 0]], np.float32))
        for t in range(n):
            end = t == n - 1
            replay.add(np.array([[ep + t / 10]], np.float32), np.array([10.0 * ep + t]),
                       np.array([end and terminal_last]), np.array([end and not terminal_last]),
                       np.array([[ep, t + 1]], np.float32))


@pytest.mark.parametrize("seq_end", ["next", "current"])
def test_windows_are_padded_at_starts_and_never_cross_episodes(seq_end):
    replay = EpisodeReplay(1, 100, (2,), np.float32, 1, seed=0)
    _fill_state(replay, [3, 1, 6, 2])
    b = replay.sample(400, nstep=1, gamma=0.9, seq_len=5, seq_end=seq_end, window_obs=True)
    obs, win, pad = b["obs"].numpy(), b["window_obs"].numpy(), b["pad"].numpy()
    for o, w, p in zip(obs, win, pad, strict=True):
        ep, t = o
        t_end = t + 1 if seq_end == "next" else t
        assert p.sum() == max(0, 5 - int(t_end) - 1)  # one padded slot per missing step
        real = w[~p]
        assert (real[:, 0] == ep).all()  # never another episode
        assert real[:, 1].tolist() == list(range(int(t_end) - len(real) + 1, int(t_end) + 1))
    assert pad.any() and not pad[:, -1].any()


def test_window_actions_align_with_their_steps():
    replay = EpisodeReplay(1, 100, (2,), np.float32, 1, seed=0)
    _fill_state(replay, [4, 5])
    b = replay.sample(200, nstep=1, gamma=0.9, seq_len=2, seq_end="next")
    ep, t = b["obs"][:, 0], b["obs"][:, 1]
    # the action taken at o_t (ep + t/10) sits at position -2, next to o_t
    assert np.allclose(b["window_action"][:, -2, 0], ep + t / 10)
    assert np.allclose(b["action"][:, 0], ep + t / 10)


def test_nstep_transitions_stop_at_episode_ends():
    replay = EpisodeReplay(1, 100, (2,), np.float32, 1, seed=1)
    _fill_state(replay, [5, 2], terminal_last=True)
    b = replay.sample(300, nstep=3, gamma=0.5, seq_len=1)
    for o, nxt, r, d, m in zip(b["obs"], b["next_obs"], b["reward"], b["discount"], b["steps"], strict=True):
        ep, t = int(o[0]), int(o[1])
        n_ep = 5 if ep == 0 else 2
        steps = min(3, n_ep - t)
        assert int(m) == steps and nxt.tolist() == [ep, t + steps]
        assert float(r) == pytest.approx(sum(0.5**k * (10 * ep + t + k) for k in range(steps)))
        assert float(d) == (0.0 if t + steps == n_ep else 0.5**steps)


def test_frames_are_stored_once_and_stacks_rebuilt():
    k, c = 3, 2
    replay = EpisodeReplay(1, 50, (k * c, 4, 4), np.uint8, 1, frame_stack=k, seed=0)
    stacks = {}
    for ep in range(3):
        frames = [np.full((c, 4, 4), 10 * ep + t, np.uint8) for t in range(8)]
        stack = lambda t: np.concatenate([frames[max(0, t - j)] for j in range(k - 1, -1, -1)])  # noqa: E731,B023
        replay.start(stack(0)[None])
        for t in range(7):
            stacks[(ep, t)] = stack(t)
            replay.add(np.zeros((1, 1), np.float32), np.zeros(1), np.zeros(1, bool), np.array([t == 6]),
                       stack(t + 1)[None])
    assert replay.frames.shape == (1, 50, c, 4, 4)  # one frame per slot
    b = replay.sample(100, nstep=1, gamma=0.9, seq_len=3, window_obs=True)
    for o in b["obs"].numpy():
        ep, t = divmod(int(o[-1, 0, 0]), 10)
        assert np.array_equal(o, stacks[(ep, t)])
    with pytest.raises(InputError, match="stack"):
        replay.start(np.zeros((1, k * c, 4, 4), np.uint8))
        replay.add(np.zeros((1, 1), np.float32), np.zeros(1), np.zeros(1, bool), np.zeros(1, bool),
                   np.full((1, k * c, 4, 4), 7, np.uint8))


def test_ring_overwrites_never_mix_episodes():
    replay = EpisodeReplay(1, 16, (2,), np.float32, 1, seed=0)
    _fill_state(replay, [7, 9, 4, 11, 3])
    b = replay.sample(500, nstep=2, gamma=0.9, seq_len=4, window_obs=True)
    assert (b["next_obs"][:, 0] == b["obs"][:, 0]).all()
    assert (b["next_obs"][:, 1] == b["obs"][:, 1] + b["steps"]).all()
    assert set(b["obs"][:, 0].int().tolist()) <= {2, 3, 4}  # episodes 0 and 1 are overwritten
    real = ~b["pad"]
    assert (b["window_obs"][..., 0][real] == b["obs"][:, :1].expand(-1, 4)[real]).all()


def test_state_dict_round_trip_is_exact(tmp_path):
    def make():
        return EpisodeReplay(2, 40, (2,), np.float32, 1, embed_dim=3, directory=tmp_path / "replay", seed=5)

    a = make()
    rng = np.random.default_rng(0)
    a.start(rng.random((2, 2), dtype=np.float32), rng.random((2, 3), dtype=np.float32))
    for i in range(70):
        end = np.array([i % 9 == 8, i % 13 == 12])
        a.add(rng.random((2, 1), dtype=np.float32), rng.random(2), np.zeros(2, bool), end,
              rng.random((2, 2), dtype=np.float32), rng.random((2, 3), dtype=np.float32))
        if end.any():
            a.start(rng.random((2, 2), dtype=np.float32), rng.random((2, 3), dtype=np.float32), lanes=end)
    sd = a.state_dict()
    assert sorted(p.name for p in (tmp_path / "replay").glob("*.npz"))  # append-only episode files
    b = make()
    b.load_state_dict(sd)
    for name in ("frames", "embed", "action", "reward", "ended", "has_next", "t_in_ep", "ep_id"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    sa, sb = a.sample(64, 3, 0.9, 5), b.sample(64, 3, 0.9, 5)
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_a_replay_without_embeddings_resumes_one_that_stored_them_and_not_the_reverse(tmp_path):
    """A run whose explorer needs no stored embeddings resumes a replay written with them (they
    are dropped, and later steps append without them); the reverse is a clear CheckpointError."""
    from mimex.errors import CheckpointError

    def make(embed_dim):
        return EpisodeReplay(1, 40, (2,), np.float32, 1, embed_dim=embed_dim, directory=tmp_path / "r", seed=5)

    a = make(3)
    a.start(np.zeros((1, 2), np.float32), np.ones((1, 3), np.float32))
    for i in range(12):  # one finished episode (file) and one unfinished
        a.add(np.zeros((1, 1), np.float32), np.ones(1), np.zeros(1, bool), np.array([i == 6]),
              np.full((1, 2), i, np.float32), np.ones((1, 3), np.float32))
        if i == 6:
            a.start(np.zeros((1, 2), np.float32), np.ones((1, 3), np.float32))
    sd = a.state_dict()
    b = make(0)
    b.load_state_dict(sd)
    b.add(np.zeros((1, 1), np.float32), np.ones(1), np.zeros(1, bool), np.ones(1, bool),
          np.zeros((1, 2), np.float32))  # ends the unfinished episode: its file is written
    assert b.state_dict()["embed_dim"] == 0 and len(list((tmp_path / "r").glob("*.npz"))) == 2
    c = EpisodeReplay(1, 40, (2,), np.float32, 1, embed_dim=0, directory=tmp_path / "r2", seed=5)
    c.start(np.zeros((1, 2), np.float32))
    for i in range(3):
        c.add(np.zeros((1, 1), np.float32), np.ones(1), np.zeros(1, bool), np.array([i == 2]),
              np.zeros((1, 2), np.float32))
    with pytest.raises(CheckpointError, match="stored embeddings"):
        EpisodeReplay(1, 40, (2,), np.float32, 1, embed_dim=3, directory=tmp_path / "r2", seed=5).load_state_dict(
            c.state_dict())
