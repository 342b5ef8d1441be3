"""Fitted models: refit a tuned configuration, save it as a directory, recommend by raw id.

>>> from tuner.model import load_model
>>> model = load_model("storage/models/ials")  # doctest: +SKIP
>>> model.recommend([42], n=10)  # doctest: +SKIP
>>> model.similar_items([7], n=5)  # doctest: +SKIP
>>> als = model.to_implicit()  # implicit.cpu.als.AlternatingLeastSquares  # doctest: +SKIP
"""

from __future__ import annotations

from tuner.model.artifact import (
    FORMAT,
    FORMAT_VERSION,
    METRIC_KEYS,
    Model,
    check_model_out,
    is_model_dir,
    load_model,
    save_model,
)
from tuner.model.fit import fit_model, refit, score_test

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "METRIC_KEYS",
    "Model",
    "check_model_out",
    "fit_model",
    "is_model_dir",
    "load_model",
    "refit",
    "save_model",
    "score_test",
]
