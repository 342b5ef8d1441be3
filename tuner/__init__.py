"""tuner: hyperparameter search for matrix-factorization recommenders on implicit feedback."""

from __future__ import annotations

from tuner.errors import ConfigError, DataError, SolverError, StorageError, TunerError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "SolverError",
    "StorageError",
    "TunerError",
    "__version__",
]
