"""Pure neural-network building blocks (no algorithm logic)."""
