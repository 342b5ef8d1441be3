"""What every similarity method returns, and the plumbing the kernels share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from tuner.errors import ConfigError

# progress(method, done, total): called after every chunk of anchors
Progress = Callable[[str, int, int], None]

# anchors per kernel call: small enough for regular progress, large enough to keep threads busy
CHUNK = 4096


@dataclass
class Neighbors:
    """Every item's top-K neighbours under one method.

    Attributes:
        method: "cosine", "slim" or a factor method (a key of :data:`tuner.solvers.MODELS`).
        indices: (n_items, k) int32 neighbour item indices, best first, -1 where an item has
            fewer than k neighbours.
        scores: (n_items, k) float32 similarity of each neighbour (0 where indices is -1).
        n_nonzero: (n_items,) int64 number of items with a non-zero similarity before the top-K
            cut (the co-occurring items for cosine, non-zero coefficients for SLIM, every other
            warm item for the factor methods).
        info: method details for the report (parameters, timings, convergence).
    """

    method: str
    indices: np.ndarray
    scores: np.ndarray
    n_nonzero: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    @property
    def n_items(self) -> int:
        return int(self.indices.shape[0])

    def to_csr(self) -> sp.csr_matrix:
        """(n_items, n_items) float32 CSR with row i = item i's neighbours and their scores."""
        n = self.indices.shape[0]
        valid = self.indices >= 0
        counts = valid.sum(axis=1)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        mat = sp.csr_matrix(
            (self.scores[valid], self.indices[valid], indptr), shape=(n, n), dtype=np.float32
        )
        mat.sort_indices()
        return mat


def check_top_k(top_k: int, n_items: int) -> int:
    if int(top_k) < 1:
        raise ConfigError(f"top_k must be >= 1. Got {top_k} instead.")
    return max(1, min(int(top_k), n_items - 1))


def shuffled(items: np.ndarray, seed: int = 0) -> np.ndarray:
    """Anchors in a fixed random order, so that popular (expensive) ones spread over threads."""
    order = np.asarray(items, dtype=np.int64).copy()
    np.random.default_rng(seed).shuffle(order)
    return order
