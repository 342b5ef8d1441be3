"""tuner: hyperparameter search for matrix-factorization recommenders on implicit feedback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuner.errors import ConfigError, DataError, SolverError, StorageError, TunerError

if TYPE_CHECKING:
    from pathlib import Path

    from tuner.model import Model

__version__ = "0.1.0"


def load_model(path: str | Path) -> Model:
    """Read a model directory written by ``tuner fit`` or ``tuner export``.

    The returned :class:`tuner.model.Model` has ``recommend(user_raw_ids, n, filter_liked)``,
    ``similar_items(item_raw_ids, n)`` and ``to_implicit()``. The import is deferred so that
    ``import tuner`` (and ``tuner --help``) stays light.
    """
    from tuner.model import load_model as _load_model

    return _load_model(path)


__all__ = [
    "ConfigError",
    "DataError",
    "SolverError",
    "StorageError",
    "TunerError",
    "__version__",
    "load_model",
]
