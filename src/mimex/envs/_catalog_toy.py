"""Registry entries of the toy suite (names, tags, reward levels, observation kinds)."""

from __future__ import annotations
