"""Item-item similarities from four methods and their comparison.

* cosine item2item on the user-item matrix (:func:`cosine_neighbors`),
* SLIM, a non-negative elastic net per item (:func:`slim_neighbors`),
* cosine of ALS / iALS item factors (:func:`factor_neighbors`),

all reduced to every item's top-K neighbours (:class:`Neighbors`), compared by
:func:`compare` and written with a self-contained HTML report by :func:`compute_all`.

>>> from tuner.data import load_prepared
>>> from tuner.similarities import compute_all
>>> data = load_prepared("storage/data/small")  # doctest: +SKIP
>>> compute_all(data, als_params={"factors": 64}, ials_params={"factors": 64},
...             out="out/similarities")  # doctest: +SKIP
"""

from __future__ import annotations

from tuner.similarities._common import Neighbors
from tuner.similarities.compare import compare, resolve_anchors
from tuner.similarities.compute import (
    METHODS,
    ProgressLines,
    check_methods,
    compute_all,
    write_neighbors_csv,
)
from tuner.similarities.cosine import cosine_neighbors
from tuner.similarities.factors import factor_neighbors, fit_factor_model
from tuner.similarities.slim import slim_neighbors

__all__ = [
    "METHODS",
    "Neighbors",
    "ProgressLines",
    "check_methods",
    "compare",
    "compute_all",
    "cosine_neighbors",
    "factor_neighbors",
    "fit_factor_model",
    "resolve_anchors",
    "slim_neighbors",
    "write_neighbors_csv",
]
