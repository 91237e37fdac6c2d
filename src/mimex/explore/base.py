"""What every explorer shares: input checks, reward normalisation, state round trips.

An explorer turns sequences of per-step embeddings into an intrinsic reward per sequence.
The contract (see ``shared/INTERFACES.md``)::

    r = ex.reward(obs_seq, actions=None, pad_mask=None, update=False)   # float32[B]

``obs_seq[:, -1]`` is the newest step. With ``update=True`` the explorer also trains on the
batch, and the reward returned is the loss of that same forward pass, before the step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mimex import errors
from mimex.explore.normalize import ReturnScaler, RunningMeanStd

# The largest |value| explorers take in obs_seq and continuous actions. Squared errors of
# larger inputs overflow float32 (1e20 squared is inf) and one update with them leaves NaN
# weights for good; inputs beyond it are refused before anything is computed or updated.
# Embeddings and normalised states are O(1); 1e6 leaves room for raw unnormalised states.
MAX_ABS_INPUT = 1e6


def as_tensor(x: Any, device: torch.device) -> torch.Tensor:
    """Accept a torch tensor or a NumPy array (no copy when possible) on ``device``."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    return x.to(device, non_blocking=True)


def check_obs_seq(
    obs_seq: Any, input_dim: int, seq_len: int | None, min_len: int, device: torch.device
) -> torch.Tensor:
    """Validate ``obs_seq`` as float32[B, T, D] with D = ``input_dim`` and finite values."""
    x = as_tensor(obs_seq, device)
    t_expected = "T" if seq_len is None else str(seq_len)
    if x.dim() != 3 or x.shape[2] != input_dim or (seq_len is not None and x.shape[1] != seq_len):
        raise errors.InputError(
            errors.BAD_SHAPE.format(
                arg="obs_seq", expected=f"[B, {t_expected}, {input_dim}]", got=list(x.shape)
            )
        )
    if x.shape[1] < min_len:
        raise errors.InputError(
            errors.BAD_SHAPE.format(
                arg="obs_seq", expected=f"[B, T>={min_len}, {input_dim}]", got=list(x.shape)
            )
        )
    if x.dtype != torch.float32:
        raise errors.InputError(
            errors.BAD_DTYPE.format(
                arg="obs_seq", expected="float32", got=x.dtype, hint="; convert with .float()"
            )
        )
    check_bounded("obs_seq", x)
    return x


def check_update(update: Any) -> bool:
    """``update`` must be a bool: a string such as ``"no"`` would train on the batch."""
    if not isinstance(update, (bool, np.bool_)):
        raise errors.InputError(f"update must be True or False, got {update!r} "
                                f"({type(update).__name__})")
    return bool(update)


def check_bounded(name: str, x: torch.Tensor) -> None:
    """Raise InputError when ``x`` holds NaN or inf, or a value beyond ``MAX_ABS_INPUT``
    (one reduction when ``x`` is fine)."""
    if x.numel() == 0:
        return
    biggest = float(x.detach().abs().amax())  # NaN when x holds a NaN
    if biggest <= MAX_ABS_INPUT:
        return
    check_finite(name, x)
    rows = (x.detach().abs() > MAX_ABS_INPUT).flatten(1).any(1).nonzero()
    raise errors.InputError(errors.INPUT_TOO_LARGE.format(
        arg=name, biggest=biggest, row=int(rows[0]), bound=MAX_ABS_INPUT))


def check_finite(name: str, x: torch.Tensor) -> None:
    """Raise InputError naming the first bad row when ``x`` holds NaN or inf.

    One reduction first (a NaN or inf anywhere makes the sum non-finite); the element-wise
    scan runs only when that fails, so the check costs one pass over well-formed input.
    """
    if torch.isfinite(x.sum()):
        return
    bad = ~torch.isfinite(x)
    if bad.any():
        rows = bad.flatten(1).any(1).nonzero()
        raise errors.InputError(
            errors.NON_FINITE.format(arg=name, count=int(bad.sum()), row=int(rows[0]))
        )


def check_pad_mask(pad_mask: Any, batch: int, seq_len: int, device: torch.device) -> torch.Tensor | None:
    """Validate ``pad_mask`` as bool[B, T] whose newest step is real; None when nothing is padded."""
    if pad_mask is None:
        return None
    p = as_tensor(pad_mask, device)
    if p.dtype != torch.bool:
        raise errors.InputError(
            errors.BAD_DTYPE.format(
                arg="pad_mask", expected="bool", got=p.dtype, hint="; True marks a padded step"
            )
        )
    if tuple(p.shape) != (batch, seq_len):
        raise errors.InputError(
            errors.BAD_SHAPE.format(arg="pad_mask", expected=[batch, seq_len], got=list(p.shape))
        )
    if p[:, -1].any():
        row = int(p[:, -1].nonzero()[0])
        raise errors.InputError(
            f"pad_mask marks the newest step obs_seq[:, -1] as padding (first in batch row {row}); "
            "the newest step must be real: padding only fills steps before the episode start"
        )
    return p if p.any() else None


def check_actions(
    actions: Any, batch: int, seq_len: int, action_dim: int, device: torch.device
) -> torch.Tensor:
    """Validate actions as float32[B, T, A] (continuous) or int64[B, T] (discrete, values < A)."""
    a = as_tensor(actions, device)
    if a.dtype in (torch.int64, torch.int32):
        if tuple(a.shape) != (batch, seq_len):
            raise errors.InputError(
                errors.BAD_SHAPE.format(
                    arg="discrete actions", expected=[batch, seq_len], got=list(a.shape)
                )
            )
        if (a < 0).any() or (a >= action_dim).any():
            raise errors.InputError(
                f"discrete actions must lie in [0, {action_dim}), got values in "
                f"[{int(a.min())}, {int(a.max())}]; action_dim is the number of actions"
            )
        return a.long()
    if tuple(a.shape) != (batch, seq_len, action_dim):
        raise errors.InputError(
            errors.BAD_SHAPE.format(
                arg="actions", expected=[batch, seq_len, action_dim], got=list(a.shape)
            )
        )
    if a.dtype != torch.float32:
        raise errors.InputError(
            errors.BAD_DTYPE.format(
                arg="actions", expected="float32 (continuous) or int64 (discrete)", got=a.dtype, hint=""
            )
        )
    check_bounded("actions", a)
    return a


class RewardScaler:
    """Optional division of rewards by a running std of the raw rewards.

    Statistics move only on training batches (``update=True``), so scoring a batch never
    changes the explorer. The raw batch mean stays available for logging.
    """

    def __init__(self, enabled: bool, device: torch.device) -> None:
        self.enabled = enabled
        self.stats = RunningMeanStd((), device=device)

    def __call__(self, raw: torch.Tensor, update: bool) -> torch.Tensor:
        if not self.enabled:
            return raw
        if update:
            self.stats.update(raw)
        return (raw / self.stats.std.to(raw.dtype)).to(torch.float32)

    def state_dict(self) -> dict[str, Any]:
        return self.stats.state_dict()

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        self.stats.load_state_dict(sd)


# How an explorer may scale its rewards: 'none' (raw), 'step' (by a running std of the
# per-step rewards, inside ``reward``), 'return' (by a running std of the discounted
# intrinsic return, the RND paper; over a whole rollout, in ``normalize_rollout``).
REWARD_NORMS = ("none", "step", "return")


def reward_norm_mode(value: Any) -> str:
    """``value`` as one of REWARD_NORMS; a bool (configs saved before 'return' existed for
    this explorer), or its spelling on the command line, means 'step' (True) or 'none' (False)."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if isinstance(value, bool):
        return "step" if value else "none"
    if value not in REWARD_NORMS:
        raise errors.ConfigError(f"reward_norm must be one of {REWARD_NORMS}, got {value!r}")
    return value


def check_reward_norm_options(config: Any) -> None:
    """Validate an explorer config's ``reward_norm`` (a bool, as older configs saved it,
    becomes its mode) and ``return_gamma``."""
    config.reward_norm = reward_norm_mode(config.reward_norm)
    if not 0.0 < config.return_gamma < 1.0:
        raise errors.ConfigError(f"return_gamma must be in (0, 1), got {config.return_gamma}")


def reward_norm_keys(config: Any) -> tuple[str, ...]:
    """The normalisation options a saved state dict must match: ``reward_norm``, and
    ``return_gamma`` where it is used."""
    return ("reward_norm",) + (("return_gamma",) if config.reward_norm == "return" else ())


class RewardNorm:
    """An explorer's reward normalisation, one of REWARD_NORMS.

    ``step(raw)`` applies 'step' to a batch of rewards (float[B]); ``rollout(rewards)`` applies
    'return' to float[S, N] rewards in time order (steps x envs). Each is the identity under
    the other modes. Statistics move only with ``update=True``.
    """

    def __init__(self, mode: str, gamma: float, device: torch.device) -> None:
        self.mode = reward_norm_mode(mode)
        self.per_step = RewardScaler(self.mode == "step", device)
        self.per_return = ReturnScaler(gamma, device)

    def step(self, raw: torch.Tensor, update: bool) -> torch.Tensor:
        return self.per_step(raw, update)

    def rollout(self, rewards: torch.Tensor, update: bool) -> torch.Tensor:
        return self.per_return(rewards, update) if self.mode == "return" else rewards

    def state_dict(self) -> dict[str, Any]:
        """Under the keys explorers have always saved them: 'scaler' and 'return_scaler'."""
        return {"scaler": self.per_step.state_dict(), "return_scaler": self.per_return.state_dict()}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        self.per_step.load_state_dict(sd["scaler"])
        if "return_scaler" in sd:  # absent from state dicts saved before 'return' existed
            self.per_return.load_state_dict(sd["return_scaler"])


def rng_state(gen: torch.Generator) -> torch.Tensor:
    """The generator's state, as a CPU byte tensor that ``torch.save`` can store."""
    return gen.get_state().clone()
