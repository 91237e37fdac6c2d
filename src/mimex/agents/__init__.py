"""RL backbones that consume exploration bonuses."""
