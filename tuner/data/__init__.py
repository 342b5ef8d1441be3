"""Data layer: loaders for the course's layouts, the synthetic generator, the like matrix, the
fixed leave-one-out split and the prepared directory every trial reads.

>>> from tuner.data import prepare, load_prepared
>>> prepare("synthetic", "storage/data/small", scale=0.02, seed=0)  # doctest: +SKIP
>>> data = load_prepared("storage/data/small")  # doctest: +SKIP
>>> data.train, data.val, data.test, data.fingerprint  # doctest: +SKIP
"""

from __future__ import annotations

from tuner.data.interactions import Interactions
from tuner.data.loaders import LOADERS, load
from tuner.data.matrix import LikeMatrix, build_matrix, csr_from_pairs
from tuner.data.prepare import (
    DataWarning,
    PreparedData,
    is_prepared_dir,
    load_prepared,
    prepare,
    summary,
)
from tuner.data.split import Split, debug_subset_indices, fingerprint, split_leave_one_out
from tuner.data.synthetic import generate as generate_synthetic
from tuner.data.writers import write_zen

__all__ = [
    "LOADERS",
    "DataWarning",
    "Interactions",
    "LikeMatrix",
    "PreparedData",
    "Split",
    "build_matrix",
    "csr_from_pairs",
    "debug_subset_indices",
    "fingerprint",
    "generate_synthetic",
    "is_prepared_dir",
    "load",
    "load_prepared",
    "prepare",
    "split_leave_one_out",
    "summary",
    "write_zen",
]
