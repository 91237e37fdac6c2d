"""From environment observations to policy inputs and exploration features, once per step.

The pipeline is the one place that knows what an observation holds:

* state vectors are normalised by a running mean/std (clipped to [-5, 5]);
* images either go through a trainable CNN inside the policy (``encoder="cnn"``; the uint8
  image is stored), or through a frozen encoder here (``encoder="frozen"``; only its
  features are stored, so PPO epochs never re-run it: the MVP set-up of the paper);
* frozen image features are standardised over their entries, one vector at a time
  (``ppo.feature_norm="standardize"``: a fixed map with no learned or running statistics), so
  they are O(1) like the paper's ViT features and a bonus weight such as 0.05 means what it
  meant there (raw random-CNN features vary with a std of about 0.1 and give a MIMEx error
  about 50x smaller);
* the explorer's embedding of a step (``explore.input``) is the frozen image feature
  (``features``, the paper's PixMC setting and the default with pixels), the state vector
  (``state``, the default without pixels), or both concatenated (``features+state``); with a
  trainable CNN, a separate frozen random encoder provides the features.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from mimex.config.schema import PPOConfig
from mimex.errors import ConfigError
from mimex.explore.normalize import RunningMeanStd
from mimex.nets.encoders import FrozenEncoder


def _split(space: gym.Space) -> tuple[gym.spaces.Box | None, gym.spaces.Box | None]:
    """(image space, state space) of an observation space."""
    if isinstance(space, gym.spaces.Dict):
        return space.spaces.get("pixels"), space.spaces.get("state")
    if len(space.shape) == 3 and space.dtype == np.uint8:
        return space, None
    return None, space


class ObsPipeline:
    """Turns a batch of raw observations into ``policy`` tensors and ``explore`` features.

    Attributes:
        policy_shapes: name -> per-step shape of each policy input (``vec``, ``image``, ``feat``).
        explore_dim: width D of the explorer's per-step embedding.
    """

    def __init__(self, space: gym.Space, cfg: PPOConfig, seed: int, device: torch.device,
                 default_encoder: str = "frozen", explore_input: str = "auto") -> None:
        self.device = device
        self.norm_obs = cfg.norm_obs
        self.feature_norm = cfg.feature_norm
        image, state = _split(space)
        self.has_image, self.has_state = image is not None, state is not None
        encoder = cfg.encoder if cfg.encoder != "auto" else default_encoder
        self.encoder_kind = encoder if self.has_image else "mlp"
        self.state_stats = RunningMeanStd(state.shape, device=device) if state is not None else None
        self.policy_shapes: dict[str, tuple[int, ...]] = {}
        self.frozen: FrozenEncoder | None = None
        self.explore_input = resolve_explore_input(explore_input, self.has_image, self.has_state)
        explore_dim = 0
        if image is not None:
            c, h, w = image.shape
            self.frozen = FrozenEncoder(c, (h, w), cfg.feature_dim, seed=seed + 7919).to(device)
            if self.encoder_kind == "frozen":
                self.policy_shapes["feat"] = (cfg.feature_dim,)
            else:
                self.policy_shapes["image"] = tuple(image.shape)
            if "features" in self.explore_input:
                explore_dim += cfg.feature_dim
        if state is not None:
            self.policy_shapes["vec"] = tuple(state.shape)
            if "state" in self.explore_input:
                explore_dim += int(np.prod(state.shape))
        self.explore_dim = explore_dim

    def _parts(self, obs: Any) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if isinstance(obs, dict):
            img, st = obs.get("pixels"), obs.get("state")
        elif self.has_image:
            img, st = obs, None
        else:
            img, st = None, obs
        to = lambda a: None if a is None else torch.as_tensor(np.asarray(a), device=self.device)  # noqa: E731
        return to(img), to(st)

    def __call__(self, obs: Any, update_stats: bool) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Encode a batch ``obs`` ([N, ...] arrays or a dict of them).

        Returns:
            (policy inputs: name -> [N, *shape], explore features float32[N, D]).
        """
        img, st = self._parts(obs)
        policy: dict[str, torch.Tensor] = {}
        feats = []
        if img is not None:
            f = self.frozen(img)
            if self.feature_norm == "standardize":
                f = F.layer_norm(f, f.shape[-1:])
            if "features" in self.explore_input:
                feats.append(f)
            if "feat" in self.policy_shapes:
                policy["feat"] = f
            else:
                policy["image"] = img
        if st is not None:
            st = st.float()
            if self.norm_obs:
                if update_stats:
                    self.state_stats.update(st)
                st = ((st - self.state_stats.mean.float()) / self.state_stats.std.float()).clamp(-5, 5)
            policy["vec"] = st
            if "state" in self.explore_input:
                feats.append(st.flatten(1))
        return policy, torch.cat(feats, dim=1)

    def state_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.state_stats is not None:
            out["state_stats"] = self.state_stats.state_dict()
        if self.frozen is not None:
            out["frozen"] = self.frozen.state_dict()
        return out

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        if self.state_stats is not None:
            self.state_stats.load_state_dict(sd["state_stats"])
        if self.frozen is not None:
            self.frozen.load_state_dict(sd["frozen"])


def resolve_explore_input(kind: str, has_image: bool, has_state: bool) -> str:
    """``explore.input`` made concrete for an observation layout: ``auto`` is ``features``
    with images (the paper: MIMEx, ICM and RND see the image feature only) and ``state``
    without; a kind the observations cannot give is a ConfigError."""
    if kind == "auto":
        return "features" if has_image else "state"
    missing = [part for part, present in (("features", has_image), ("state", has_state))
               if part in kind.split("+") and not present]
    if missing:
        have = " and ".join(n for n, p in (("images", has_image), ("a state vector", has_state)) if p)
        raise ConfigError(
            f"explore.input={kind!r} needs {' and '.join(missing)}, but the observations hold "
            f"{have} only: use explore.input=auto, or another env.obs")
    return kind
