"""Floors every result is reported beside."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from tuner.errors import DataError
from tuner.metrics.ranking import RankingMetrics, evaluate


def popularity_scores(train: Any) -> np.ndarray:
    """Likes per item in ``train``: (n_items,) float32 (exact up to 2**24 likes per item)."""
    if not sp.issparse(train):
        raise DataError(f"train must be a scipy.sparse matrix; got {type(train).__name__}.")
    m = train.tocsr()
    return np.bincount(m.indices, minlength=m.shape[1]).astype(np.float32)


def popularity_baseline(
    train: Any,
    exclude: Any,
    heldout: Any,
    *,
    k: int = 100,
    users: Sequence[int] | np.ndarray | None = None,
) -> RankingMetrics:
    """Recommend the most-liked training items (ties: lower item index first).

    Scored by the same evaluator as the models: popularity is the rank-1 factor model
    ``score(u, i) = 1 * likes(i)``, which :func:`tuner.metrics.evaluate` ranks exactly (the
    same result as :func:`tuner.metrics.evaluate_scorer` with a popularity scorer, faster).

    Args:
        train: (n_users, n_items) sparse likes the popularity is counted on.
        exclude: likes never recommended (usually ``train``).
        heldout: the held-out likes.
        k: cut-off K.
        users: optional subset of the evaluated users.
    """
    pop = popularity_scores(train)
    n_users = exclude.shape[0]
    return evaluate(
        np.ones((n_users, 1), dtype=np.float32), pop[:, None], exclude, heldout, k=k, users=users
    )
