"""Shared fixtures: a temporary TUNER_HOME for every test, a small prepared synthetic split,
and a fresh PostgreSQL database per test run (skipped with a reason where none is reachable)."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("TUNER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def tuner_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own embedded-default root, never the checkout's storage/."""
    home = tmp_path / "tuner_home"
    home.mkdir()
    monkeypatch.setenv("TUNER_HOME", str(home))
    monkeypatch.delenv("TUNER_STORAGE", raising=False)
    return home


@pytest.fixture(scope="session")
def prepared_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared split of the Zen-shaped synthetic at scale 0.02 (about 1.5k users x 2k items)."""
    from tuner.data import prepare

    out = tmp_path_factory.mktemp("prepared") / "synthetic-0.02"
    prepare("synthetic", out, scale=0.02, seed=0)
    return out


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a runtime dependency
        pytest.skip("psycopg is not installed")
    name = f"tuner_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}".splitlines()[0])
    user_host = PG_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://{user_host}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
def sigint_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in this test, as in a terminal, even where the suite was
    started with SIGINT ignored (nohup, a background job of a non-interactive shell)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
