"""Fixtures for the model tests: a tiny prepared split, a finished study on it and its model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

TINY_ALS = """\
model = "als"

[params.factors]
type = "int"
low = 4
high = 8

[params.regularization]
type = "float"
low = 1e-2
high = 10.0
log = true

[params.iterations]
type = "int"
low = 2
high = 3
"""


@pytest.fixture(scope="session")
def prepared_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Zen-shaped synthetic at scale 0.01 (about 750 users x 1k items)."""
    from tuner.data import prepare

    out = tmp_path_factory.mktemp("model-data") / "synthetic-0.01"
    prepare("synthetic", out, scale=0.01, seed=0)
    return out


def _run_tiny_study(data: Path, storage: str, name: str, n_trials: int = 3) -> None:
    """A short ALS study with seed 3 (not the default, so a lost seed shows)."""
    from tuner.study import run_study

    space = data.parent / "tiny_als.toml"
    space.write_text(TINY_ALS, encoding="utf-8")
    run_study(
        data_dir=data,
        model="als",
        storage=storage,
        study_name=name,
        n_trials=n_trials,
        space_path=space,
        seed=3,
    )


@pytest.fixture()
def run_tiny_study() -> Callable[..., None]:
    """``run_tiny_study(data, storage, name, n_trials=3)`` runs a short ALS study."""
    return _run_tiny_study


@pytest.fixture(scope="session")
def tiny_study(prepared_tiny: Path) -> tuple[str, str, Path]:
    """(storage URL, study name, data dir) of a finished 3-trial ALS study."""
    url = f"sqlite:///{prepared_tiny.parent / 'studies.db'}"
    _run_tiny_study(prepared_tiny, url, "tiny")
    return url, "tiny", prepared_tiny


@pytest.fixture(scope="session")
def model_dir(tiny_study: tuple[str, str, Path]) -> Path:
    """The model directory 'tuner fit' writes for the tiny study."""
    from tuner.model import fit_model

    url, name, data = tiny_study
    out = data.parent / "model"
    fit_model(data_dir=data, out=out, study_name=name, storage=url)
    return out
