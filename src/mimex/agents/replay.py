"""An episode replay for off-policy agents: each frame stored once, n-step transitions, and
the window of the last T steps of every sampled transition (padding marks, never crossing an
episode's start).

Layout: one ring of ``capacity / lanes`` observations per environment (lane). Every
observation of an episode, its first (reset) one included, takes one slot holding

* its newest frame only (pixels: the last ``C / frame_stack`` channels; frame stacks are
  rebuilt at sampling, repeating the episode's first frame before its start, as the env does),
  or the state vector;
* an optional per-step embedding given at insertion (the explorer's cheap input);
* the transition that leaves it: action, reward, ``terminal`` and ``ended`` flags.

Slots carry their episode id and step in the episode, so a sample whose n-step chain, frame
stack or window reaches into a slot overwritten by a later episode is rejected and redrawn.

Persistence (exact resume without re-saving the replay): each finished episode is written
once to ``<directory>/ep<id>_lane<l>.npz`` (append-only; written atomically, never changed).
:meth:`state_dict` holds the slot positions of the episodes still in the ring, the steps of
the unfinished episodes and the sampling RNG; :meth:`load_state_dict` rebuilds the ring
bit for bit from the files. Files of evicted episodes are deleted two checkpoints later.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimex.agents.drqv2_losses import nstep_return
from mimex.errors import CheckpointError, InputError


class EpisodeReplay:
    """See the module docstring. Shapes: ``N`` lanes, obs ``[C, H, W]`` uint8 or ``[D]`` float."""

    def __init__(self, num_lanes: int, capacity: int, obs_shape: tuple[int, ...], obs_dtype: Any,
                 action_dim: int, frame_stack: int = 1, embed_dim: int = 0,
                 directory: str | Path | None = None, seed: int = 0) -> None:
        if obs_shape[0] % frame_stack:
            raise InputError(f"{obs_shape[0]} observation channels are not {frame_stack} stacked frames")
        self.lanes, self.cap = num_lanes, -(-capacity // num_lanes)
        self.obs_shape, self.k, self.action_dim = tuple(obs_shape), frame_stack, action_dim
        self.frame_c = obs_shape[0] // frame_stack
        self._shapes = (num_lanes, self.cap, (self.frame_c, *obs_shape[1:]), obs_dtype, embed_dim)
        self.frames: np.ndarray | None = None  # allocated at the first write (evaluation never writes)
        n = num_lanes
        self.written = np.zeros(n, dtype=np.int64)  # observations ever written per lane
        self.next_ep = 0
        self.current: list[dict[str, Any] | None] = [None] * n  # the unfinished episodes
        self.episodes: list[deque[tuple[int, int, int]]] = [deque() for _ in range(n)]  # (id, start, n_obs)
        self.directory = None if directory is None else Path(directory)
        self.rng = np.random.default_rng(seed)
        self._evicted: list[int] = []
        self._evicted_gens: deque[list[tuple[int, int]]] = deque()

    def _allocate(self) -> None:
        if self.frames is not None:
            return
        n, c, frame_shape, dtype, embed_dim = self._shapes
        self.frames = np.zeros((n, c, *frame_shape), dtype=dtype)
        self.embed = np.zeros((n, c, embed_dim), dtype=np.float32) if embed_dim else None
        self.action = np.zeros((n, c, self.action_dim), dtype=np.float32)
        self.reward = np.zeros((n, c), dtype=np.float32)
        self.terminal = np.zeros((n, c), dtype=bool)
        self.ended = np.zeros((n, c), dtype=bool)
        self.has_next = np.zeros((n, c), dtype=bool)
        self.t_in_ep = np.zeros((n, c), dtype=np.int64)
        self.ep_id = np.full((n, c), -1, dtype=np.int64)

    def __len__(self) -> int:
        """Transitions that can be sampled (roughly: observations with a successor)."""
        return 0 if self.frames is None else int(self.has_next.sum())

    # ------------------------------------------------------------------ writing
    def clear_directory(self) -> None:
        """A fresh run: remove episode files an aborted run left behind."""
        if self.directory is not None and self.directory.exists():
            for p in self.directory.glob("ep*_lane*.npz"):
                p.unlink()

    def start(self, obs: np.ndarray, embed: np.ndarray | None = None, lanes: Any = None) -> None:
        """First observations of new episodes: ``obs`` [N, ...] for every lane (used where ``lanes``)."""
        self._allocate()
        for i in range(self.lanes) if lanes is None else np.flatnonzero(lanes):
            ep = {"id": self.next_ep, "start": int(self.written[i]), "frames": [], "embed": [],
                  "action": [], "reward": [], "terminal": [], "ended": []}
            self.next_ep += 1
            self.current[i] = ep
            self._push_obs(i, ep, obs[i], None if embed is None else embed[i])

    def add(self, action: np.ndarray, reward: np.ndarray, terminal: np.ndarray, truncated: np.ndarray,
            next_obs: np.ndarray, next_embed: np.ndarray | None = None) -> None:
        """One step of every lane: the transition from each lane's newest observation, and
        ``next_obs`` (the real final observation where the episode ended). A finished episode
        is written to its file; call :meth:`start` for the lanes' next episodes."""
        ended = np.asarray(terminal) | np.asarray(truncated)
        for i in range(self.lanes):
            ep = self.current[i]
            if ep is None:
                raise InputError(f"replay lane {i} has no current episode: call start() first")
            g = int(self.written[i]) - 1
            self._set_transition(i, g, action[i], reward[i], bool(terminal[i]), bool(ended[i]))
            for key, v in (("action", action[i]), ("reward", reward[i]), ("terminal", terminal[i]),
                           ("ended", ended[i])):
                ep[key].append(np.asarray(v))
            self._push_obs(i, ep, next_obs[i], None if next_embed is None else next_embed[i])
            if ended[i]:
                self._finish(i, ep)

    def _push_obs(self, lane: int, ep: dict[str, Any], obs: np.ndarray, embed: np.ndarray | None) -> None:
        obs = np.asarray(obs)
        if self.k > 1 and ep["frames"]:  # the env's stack must be our previous frames + one new
            prev = ep["frames"][-(self.k - 1):]
            prev = [ep["frames"][0]] * (self.k - 1 - len(prev)) + prev
            if not np.array_equal(obs[:-self.frame_c], np.concatenate(prev, axis=0)):
                raise InputError(f"observation is not a stack of {self.k} frames shifted by one per "
                                 "step: the replay cannot store each frame once for this env")
        frame = obs[-self.frame_c:].copy() if self.k > 1 else obs.copy()
        emb = None if embed is None else np.asarray(embed, dtype=np.float32)
        ep["frames"].append(frame)
        ep["embed"].append(emb)
        self._write_obs(lane, int(self.written[lane]), frame, emb, ep["id"], len(ep["frames"]) - 1)
        self.written[lane] += 1
        self._evict(lane)

    def _write_obs(self, lane: int, g: int, frame: np.ndarray, emb: np.ndarray | None, ep_id: int, t: int) -> None:
        p = g % self.cap
        self.frames[lane, p] = frame
        if self.embed is not None:
            self.embed[lane, p] = emb
        self.ep_id[lane, p], self.t_in_ep[lane, p] = ep_id, t
        self.has_next[lane, p] = self.terminal[lane, p] = self.ended[lane, p] = False
        self.action[lane, p], self.reward[lane, p] = 0.0, 0.0

    def _set_transition(self, lane: int, g: int, action: Any, reward: Any, terminal: bool, ended: bool) -> None:
        p = g % self.cap
        self.action[lane, p], self.reward[lane, p] = action, reward
        self.terminal[lane, p], self.ended[lane, p], self.has_next[lane, p] = terminal, ended, True

    def _evict(self, lane: int) -> None:
        q = self.episodes[lane]
        while q and q[0][1] + q[0][2] <= self.written[lane] - self.cap:
            self._evicted.append((q.popleft()[0], lane))

    def _finish(self, lane: int, ep: dict[str, Any]) -> None:
        self.episodes[lane].append((ep["id"], ep["start"], len(ep["frames"])))
        self.current[lane] = None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self._path(ep["id"], lane)
            tmp = path.with_name(path.stem + ".tmp.npz")
            with open(tmp, "wb") as f:
                np.savez(f, **_arrays(ep, self.action_dim))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        self._evict(lane)

    def _path(self, ep_id: int, lane: int) -> Path:
        return self.directory / f"ep{ep_id:08d}_lane{lane}.npz"

    # ------------------------------------------------------------------ sampling
    def sample(self, batch: int, nstep: int, gamma: float, seq_len: int = 1, seq_end: str = "next",
               window_obs: bool = False, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """``batch`` uniformly drawn transitions (o_t, a_t, n-step return, discount, o_{t+m})
        and the window of the last ``seq_len`` steps ending at o_{t+1} (``seq_end="next"``) or
        o_t (``"current"``).

        Returns tensors: ``obs``, ``next_obs`` [B, *obs_shape]; ``action`` float[B, A];
        ``reward`` float[B] (n-step return); ``discount`` float[B] (gamma^m, 0 after a
        terminal); ``steps`` int64[B] = m; ``reward_1``: float[B] the first reward alone;
        ``pad`` bool[B, T] (True before the episode start); ``window_action`` float[B, T, A]
        (the action taken at each window step, 0 on padding and at the episode's last
        observation); ``window_embed`` float[B, T, E] when embeddings are stored (0 on
        padding); ``window_obs`` [B, T, *obs_shape] if asked (padding holds the first obs).
        """
        if self.frames is None:
            raise InputError("the replay is empty: collect steps before sampling")
        lane, g = self._draw(batch, nstep, seq_len + self.k + 1)
        pos = lambda idx: idx % self.cap  # noqa: E731
        ks = g[:, None] + np.arange(nstep)
        l2 = lane[:, None]
        ret, discount, steps = nstep_return(
            torch.as_tensor(self.reward[l2, pos(ks)]), torch.as_tensor(self.terminal[l2, pos(ks)]),
            torch.as_tensor(self.ended[l2, pos(ks)]), gamma)
        end = g + (1 if seq_end == "next" else 0)
        win = end[:, None] - np.arange(seq_len - 1, -1, -1)  # [B, T], oldest first
        pad = (self.t_in_ep[lane, pos(end)][:, None] - (end[:, None] - win)) < 0
        win_real = np.where(pad, end[:, None] - self.t_in_ep[lane, pos(end)][:, None], win)
        out = {"obs": self._stack(lane, g), "next_obs": self._stack(lane, g + steps.numpy()),
               "action": torch.as_tensor(self.action[lane, pos(g)]), "reward": ret,
               "discount": discount, "steps": steps,
               "reward_1": torch.as_tensor(self.reward[lane, pos(g)]), "pad": torch.as_tensor(pad)}
        wa = self.action[l2, pos(win_real)] * (~pad & self.has_next[l2, pos(win_real)])[..., None]
        out["window_action"] = torch.as_tensor(wa)
        if self.embed is not None:
            out["window_embed"] = torch.as_tensor(self.embed[l2, pos(win_real)] * ~pad[..., None])
        if window_obs:
            b, t = win_real.shape
            stacks = self._stack(np.repeat(lane, t), win_real.reshape(-1))
            out["window_obs"] = stacks.reshape(b, t, *self.obs_shape)
        return {k: v.to(device) for k, v in out.items()}

    def _draw(self, batch: int, nstep: int, lookback: int) -> tuple[np.ndarray, np.ndarray]:
        """Lanes and global indices of ``batch`` valid transitions (rejection sampling)."""
        lanes_out, g_out, have = [], [], 0
        for _ in range(100):
            m = 2 * (batch - have) + 8
            lane = self.rng.integers(self.lanes, size=m)
            filled = np.minimum(self.written, self.cap)[lane]
            g = self.written[lane] - 1 - (self.rng.random(m) * np.maximum(filled, 1)).astype(np.int64)
            ok = self._valid(lane, g, nstep, lookback) & (filled > 0)
            lanes_out.append(lane[ok])
            g_out.append(g[ok])
            have += int(ok.sum())
            if have >= batch:
                return np.concatenate(lanes_out)[:batch], np.concatenate(g_out)[:batch]
        raise InputError(f"the replay holds too few complete transitions to sample {batch} "
                         f"({len(self)} stored); collect more steps before updating")

    def _valid(self, lane: np.ndarray, g: np.ndarray, nstep: int, lookback: int) -> bool:
        """A transition at g is usable: its n-step chain lies in its episode and is written,
        and the earliest slot its frame stacks and window may read is still its episode's."""
        written, oldest = self.written[lane], self.written[lane] - self.cap
        p = g % self.cap
        ep, t = self.ep_id[lane, p], self.t_in_ep[lane, p]
        ok = self.has_next[lane, p] & (g >= oldest)
        alive = np.ones_like(ok)
        for k in range(nstep):  # transition t+k must be written while the episode goes on
            q = (g + k) % self.cap
            inside = (g + k < written) & (self.ep_id[lane, q] == ep)
            ok &= ~alive | (inside & self.has_next[lane, q])
            alive &= inside & ~self.ended[lane, q]
        return ok & (g - np.minimum(t, lookback) >= oldest)

    def _stack(self, lane: np.ndarray, g: np.ndarray) -> torch.Tensor:
        """Frame stacks (or states) of observations at global indices g: [M, *obs_shape]."""
        t = self.t_in_ep[lane, g % self.cap]
        if self.k == 1:
            return torch.as_tensor(self.frames[lane, g % self.cap])
        idx = g[:, None] - np.minimum(np.arange(self.k - 1, -1, -1)[None, :], t[:, None])
        frames = self.frames[lane[:, None], idx % self.cap]  # [M, k, c, H, W]
        return torch.as_tensor(frames.reshape(len(g), *self.obs_shape))

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Where every stored episode sits, the unfinished episodes' steps, the RNG; episode
        files evicted before the second-to-last call are deleted now."""
        if self.directory is None:
            raise CheckpointError("this replay has no directory for its episode files, so it "
                                  "cannot be checkpointed: give EpisodeReplay(directory=...)")
        self._evicted_gens.append(self._evicted)
        self._evicted = []
        while len(self._evicted_gens) > 2:
            for ep_id, lane in self._evicted_gens.popleft():
                self._path(ep_id, lane).unlink(missing_ok=True)
        return {"written": self.written.copy(), "next_ep": self.next_ep,
                "episodes": [np.asarray(list(q), dtype=np.int64).reshape(-1, 3) for q in self.episodes],
                "current": [None if ep is None else {"id": ep["id"], "start": ep["start"], **_arrays(ep, self.action_dim)}
                            for ep in self.current],
                "rng": self.rng.bit_generator.state, "capacity": self.cap, "obs_shape": list(self.obs_shape),
                "embed_dim": self._shapes[4]}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Rebuild the ring exactly from the episode files and the unfinished episodes."""
        if int(sd["capacity"]) != self.cap or tuple(sd["obs_shape"]) != self.obs_shape:
            raise CheckpointError(f"the replay was saved with capacity {sd['capacity']} per lane and "
                                  f"observations {tuple(sd['obs_shape'])}; this one has {self.cap} and "
                                  f"{self.obs_shape}: resume with the same drqv2.replay_capacity and env")
        saved_embed = sd.get("embed_dim")  # absent in first-release checkpoints: read from the files
        if saved_embed not in (None, 0, self._shapes[4]) and self._shapes[4]:
            raise CheckpointError(f"the replay was saved with {saved_embed}-d stored embeddings; this "
                                  f"one stores {self._shapes[4]}-d: resume with the same drqv2.stored_dim")
        self._allocate()
        self.written = np.asarray(sd["written"], dtype=np.int64).copy()
        self.next_ep = int(sd["next_ep"])
        for lane in range(self.lanes):
            self.episodes[lane] = deque(tuple(int(x) for x in row) for row in sd["episodes"][lane])
            for ep_id, start, _ in self.episodes[lane]:
                path = self._path(ep_id, lane)
                if not path.exists():
                    raise CheckpointError(f"the replay file {path} is missing: the replay cannot be "
                                          "restored exactly; train into a new run directory")
                with np.load(path) as data:
                    self._restore(lane, ep_id, start, {k: data[k] for k in data.files})
            cur = sd["current"][lane]
            self.current[lane] = None
            if cur is not None:
                self._restore(lane, int(cur["id"]), int(cur["start"]), cur)
                self.current[lane] = _lists(cur, keep_embed=self.embed is not None)
        self.rng.bit_generator.state = sd["rng"]

    def _restore(self, lane: int, ep_id: int, start: int, arr: dict[str, np.ndarray]) -> None:
        oldest = self.written[lane] - self.cap
        n = len(arr["frames"])
        if self.embed is not None and not arr["embed"].size:
            raise CheckpointError(f"replay episode {ep_id} (lane {lane}) has no stored embeddings, but "
                                  "this run's explorer reads them: it was written by a run with another "
                                  "explorer or drqv2.explore_input; train into a new run directory")
        for j in range(n):
            if start + j >= oldest:
                emb = arr["embed"][j] if self.embed is not None else None  # unused ones are dropped
                self._write_obs(lane, start + j, arr["frames"][j], emb, ep_id, j)
        for j in range(len(arr["reward"])):
            if start + j >= oldest:
                self._set_transition(lane, start + j, arr["action"][j], arr["reward"][j],
                                     bool(arr["terminal"][j]), bool(arr["ended"][j]))


def _arrays(ep: dict[str, Any], action_dim: int) -> dict[str, np.ndarray]:
    """An episode's step lists as arrays (what its file holds)."""
    emb = ep["embed"]
    return {"frames": np.stack(ep["frames"]),
            "embed": np.stack(emb) if emb and emb[0] is not None else np.zeros((0,), np.float32),
            "action": np.asarray(ep["action"], dtype=np.float32).reshape(len(ep["action"]), action_dim),
            "reward": np.asarray(ep["reward"], dtype=np.float32),
            "terminal": np.asarray(ep["terminal"], dtype=bool), "ended": np.asarray(ep["ended"], dtype=bool)}


def _lists(arr: dict[str, Any], keep_embed: bool = True) -> dict[str, Any]:
    """An unfinished episode from its arrays, back as the step lists :meth:`add` appends to
    (without its embeddings when the replay stores none)."""
    emb = arr["embed"]
    n = len(arr["frames"])
    return {"id": int(arr["id"]), "start": int(arr["start"]), "frames": list(arr["frames"]),
            "embed": list(emb) if emb.size and keep_embed else [None] * n, "action": list(arr["action"]),
            "reward": list(arr["reward"]), "terminal": list(arr["terminal"]), "ended": list(arr["ended"])}
