"""Small explorers for fast behaviour tests, run single-threaded.

The explorer tests use tiny networks: on a shared 2-core machine, two intra-op threads
spend most of their time waiting for each other (measured: an RND update took 0.3 s with
2 threads under load, 2 ms with 1), so each test here runs with one thread and restores
the previous setting afterwards.
"""

import pytest
import torch

from mimex.explore import make_explorer

SMALL = dict(embed_dim=32, depth=1, num_heads=2, decoder_embed_dim=16, decoder_num_heads=2)


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def small_mimex():
    def make(**options):
        return make_explorer("mimex", input_dim=options.pop("input_dim", 6), **{**SMALL, **options})

    return make
