"""mimex: exploration with intrinsic rewards from masked input modeling."""

from mimex.errors import CheckpointError, ConfigError, InputError, MimexError

__version__ = "0.1.0"

__all__ = ["CheckpointError", "ConfigError", "InputError", "MimexError", "__version__"]
