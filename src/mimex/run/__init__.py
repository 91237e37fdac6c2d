"""Running experiments: vectorised stepping, run directories, checkpoints, logging."""
