"""Registry entries of the atari suite (names, tags, reward levels, observation kinds)."""

from __future__ import annotations
