"""Every suite's tasks, registered by name. Imported lazily by the registry.

Suites add their entries here; factories live in the suite modules and are imported only
when a task is made.
"""

from __future__ import annotations
