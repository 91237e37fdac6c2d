"""Registry entries of the dmc suite (names, tags, reward levels, observation kinds)."""

from __future__ import annotations
