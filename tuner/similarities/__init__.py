"""Item-item similarities and their comparison.

* cosine item2item on the user-item matrix (:func:`cosine_neighbors`),
* SLIM, a non-negative elastic net per item (:func:`slim_neighbors`),
* cosine of the item factors of every solver in :data:`tuner.solvers.MODELS`
  (:func:`factor_neighbors`),

all reduced to every item's top-K neighbours (:class:`Neighbors`), compared by
:func:`compare`; :func:`compute_all` runs them all and returns the results without writing
anything (:func:`tuner.pipeline.write_similarities` writes them with the HTML report).

>>> from tuner.data import load_prepared
>>> from tuner.similarities import compute_all
>>> data = load_prepared("storage/data/small")  # doctest: +SKIP
>>> results = compute_all(data, factor_params={"als": {"factors": 64},
...                                            "ials": {"factors": 64}})  # doctest: +SKIP
>>> results.neighbors["ials"].indices[0]  # doctest: +SKIP
"""

from __future__ import annotations

from tuner.similarities._common import Neighbors
from tuner.similarities.compare import compare, resolve_anchors
from tuner.similarities.compute import (
    ITEM_METHODS,
    METHODS,
    SimilarityResults,
    available_methods,
    check_methods,
    compute_all,
    factor_methods,
)
from tuner.similarities.cosine import cosine_neighbors
from tuner.similarities.factors import factor_neighbors, fit_factor_model
from tuner.similarities.slim import slim_neighbors

__all__ = [
    "ITEM_METHODS",
    "METHODS",
    "Neighbors",
    "SimilarityResults",
    "available_methods",
    "check_methods",
    "compare",
    "compute_all",
    "cosine_neighbors",
    "factor_methods",
    "factor_neighbors",
    "fit_factor_model",
    "resolve_anchors",
    "slim_neighbors",
]
