"""SLIM (Ning & Karypis): item-item weights from a non-negative elastic net per item."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from tuner.objectives._neighbors import NeighborObjective

if TYPE_CHECKING:
    from tuner.similarities import Neighbors


class SLIMObjective(NeighborObjective):
    """Validation MRR@100 of the item-based recommender of
    :func:`tuner.similarities.slim_neighbors` (scikit-learn's ElasticNet names: ``alpha``,
    ``l1_ratio``; the course used alpha=1e-4, l1_ratio=0.15)."""

    name: ClassVar[str] = "slim"

    @classmethod
    def neighbors_function(cls) -> Callable[..., Neighbors]:
        from tuner.similarities.slim import slim_neighbors

        return slim_neighbors
