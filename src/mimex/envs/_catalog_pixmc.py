"""Registry entries of the pixmc suite (names, tags, reward levels, observation kinds)."""

from __future__ import annotations
