"""Small explorers for fast behaviour tests."""

import pytest

from mimex.explore import make_explorer

SMALL = dict(embed_dim=32, depth=1, num_heads=2, decoder_embed_dim=16, decoder_num_heads=2)


@pytest.fixture
def small_mimex():
    def make(**options):
        return make_explorer("mimex", input_dim=options.pop("input_dim", 6), **{**SMALL, **options})

    return make
