"""Where the embedded default lives: the ``storage/`` root (``TUNER_HOME`` overrides it)."""

from __future__ import annotations

import os
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[1]


def tuner_home() -> Path:
    """Root of the embedded default's files (SQLite study DB, prepared data, outputs).

    ``TUNER_HOME`` wins; otherwise ``storage/`` of the source checkout this package runs from
    (``make run`` installs it editable), else ``./storage`` under the working directory.
    """
    env = os.environ.get("TUNER_HOME")
    if env:
        return Path(env).expanduser().resolve()
    checkout = _SOURCE_ROOT / "storage"
    if (checkout / "README.md").is_file():
        return checkout
    return Path.cwd() / "storage"


def default_storage_url() -> str:
    """The embedded default study storage: one SQLite file under :func:`tuner_home`."""
    return f"sqlite:///{tuner_home() / 'studies.db'}"
