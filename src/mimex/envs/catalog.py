"""Every suite's tasks, registered by name. Imported lazily by the registry.

Each suite's entries live in ``_catalog_<suite>.py``; factories live in the suite modules
and are imported only when a task is made.
"""

from __future__ import annotations

from mimex.envs import (  # noqa: F401
    _catalog_atari,
    _catalog_dmc,
    _catalog_pixmc,
    _catalog_testing,
    _catalog_toy,
)
