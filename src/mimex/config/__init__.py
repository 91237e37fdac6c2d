"""Typed configuration: dataclasses whose field help strings become ``--help``."""
