"""Learning curves, statistics (rliable-style), plots and reports of run directories."""
