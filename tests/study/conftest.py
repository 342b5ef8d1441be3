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
