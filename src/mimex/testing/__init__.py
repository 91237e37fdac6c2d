"""Small environments shipped for tests of agents and runners (not benchmarks)."""
