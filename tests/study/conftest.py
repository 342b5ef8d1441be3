"""Fixtures for the study tests: tiny search spaces and a second, different prepared split."""

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
low = 1e-4
high = 10.0
log = true

[params.iterations]
type = "int"
low = 2
high = 3
"""


@pytest.fixture()
def write_space(tmp_path: Path) -> Callable[..., Path]:
    """Write a space TOML (default: a tiny, fast ALS space) and return its path."""

    def write(text: str = TINY_ALS, name: str = "space.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def prepared_other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another synthetic split (other seed and scale): another data fingerprint."""
    from tuner.data import prepare

    out = tmp_path_factory.mktemp("prepared-other") / "synthetic-0.01"
    prepare("synthetic", out, scale=0.01, seed=1)
    return out


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'studies.db'}"


@pytest.fixture()
def journal_url(tmp_path: Path) -> str:
    return f"journal://{tmp_path / 'studies.log'}"


@pytest.fixture(scope="module")
def finished_study(
    prepared_small: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    """One finished 8-trial ALS study shared by the read-only tests of this module."""
    from tuner.study import run_study

    root = tmp_path_factory.mktemp("finished")
    space = root / "space.toml"
    space.write_text(TINY_ALS)
    sqlite_url = f"sqlite:///{root / 'studies.db'}"
    run_study(
        data_dir=prepared_small,
        model="als",
        storage=sqlite_url,
        study_name="e",
        n_trials=8,
        space_path=space,
        pruner="sha",
    )
    return sqlite_url, prepared_small
