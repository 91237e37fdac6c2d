"""Intrinsic rewards: MIMEx, ICM, RND and a zero bonus, behind one call.

>>> from mimex.explore import make_explorer
>>> ex = make_explorer("mimex", input_dim=8, seq_len=5)
>>> import torch
>>> ex.reward(torch.zeros(3, 5, 8)).shape
torch.Size([3])
"""

from mimex.explore.registry import Explorer, explorer_spec, list_explorers, make_explorer
from mimex.explore.sequences import SequenceTracker

__all__ = ["Explorer", "SequenceTracker", "explorer_spec", "list_explorers", "make_explorer"]
