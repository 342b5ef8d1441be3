"""Loaders: each turns one input layout into :class:`~tuner.data.interactions.Interactions`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuner.data import synthetic
from tuner.data.interactions import Interactions
from tuner.errors import DataError


def load_synthetic(path: Path | None, *, seed: int = 0, scale: float = 1.0) -> Interactions:
    """The Zen-shaped generator (``path`` is ignored)."""
    return synthetic.generate(scale=scale, seed=seed)


LOADERS: dict[str, Callable[..., Interactions]] = {
    "synthetic": load_synthetic,
}


def load(
    source: str, path: str | Path | None, *, seed: int = 0, scale: float = 1.0, **options: Any
) -> Interactions:
    """Run the loader registered for ``source``."""
    if source not in LOADERS:
        raise DataError(
            f"unknown --source {source!r}. Fix: use one of {', '.join(sorted(LOADERS))}."
        )
    return LOADERS[source](None if path is None else Path(path), seed=seed, scale=scale, **options)
