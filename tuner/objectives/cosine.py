"""Cosine item-kNN (item2item collaborative filtering with a shrunk cosine)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from tuner.objectives._neighbors import NeighborObjective

if TYPE_CHECKING:
    from tuner.similarities import Neighbors


class CosineObjective(NeighborObjective):
    """Validation MRR@100 of the item-based recommender of
    :func:`tuner.similarities.cosine_neighbors` (``top_k``: the neighbourhood size,
    ``shrinkage``: added to the norms' product)."""

    name: ClassVar[str] = "cosine"

    @classmethod
    def neighbors_function(cls) -> Callable[..., Neighbors]:
        from tuner.similarities.cosine import cosine_neighbors

        return cosine_neighbors
