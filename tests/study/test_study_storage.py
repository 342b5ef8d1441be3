"""Storage URLs: SQLite, journal and PostgreSQL open; bad or unreachable ones fail in one line."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tuner.errors import StorageError
from tuner.study.storage import describe, open_storage


def test_sqlite_file_and_its_directory_under_storage_are_created(tuner_home: Path) -> None:
    url = f"sqlite:///{tuner_home / 'deep' / 'dir' / 'studies.db'}"
    storage = open_storage(url, create=True)
    optuna.create_study(study_name="s", storage=storage)
    assert (tuner_home / "deep" / "dir" / "studies.db").is_file()
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.get_heartbeat_interval() == 60


@pytest.mark.parametrize("scheme", ["sqlite:///", "journal://"])
def test_missing_directory_outside_storage_is_refused(tmp_path: Path, scheme: str) -> None:
    with pytest.raises(StorageError, match=r"does not exist\. Create it first"):
        open_storage(f"{scheme}{tmp_path / 'typo' / 'studies.db'}", create=True)
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("scheme", ["sqlite:///", "journal://"])
def test_reading_never_creates_a_file(tmp_path: Path, scheme: str) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(f"{scheme}{tmp_path / 'sub' / 'studies.db'}")
    assert not (tmp_path / "sub").exists()


def test_journal_url_opens_a_journal_file(tmp_path: Path) -> None:
    storage = open_storage(f"journal://{tmp_path / 'studies.log'}", create=True)
    assert isinstance(storage, optuna.storages.JournalStorage)
    study = optuna.create_study(study_name="s", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    again = optuna.load_study(
        study_name="s", storage=open_storage(f"journal://{tmp_path}/studies.log")
    )
    assert len(again.trials) == 2


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://root@localhost/x", "Unknown storage URL"),
        ("redis://localhost", "Unknown storage URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/nothing", "Cannot open study storage"),
        ("journal://", "names no file"),
    ],
)
def test_bad_storage_is_one_line(url: str, fragment: str) -> None:
    with pytest.raises(StorageError) as info:
        open_storage(url)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_describe_hides_the_password() -> None:
    assert describe("postgresql+psycopg://tuner:s3cret@db:5432/t") == (
        "postgresql+psycopg://tuner@db:5432/t"
    )
    assert describe("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


@pytest.mark.postgres
def test_postgres_storage_has_heartbeats(postgres_url: str) -> None:
    storage = open_storage(postgres_url, heartbeat=5, create=True)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.get_heartbeat_interval() == 5
    study = optuna.create_study(study_name="pg", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(optuna.load_study(study_name="pg", storage=postgres_url).trials) == 2


@pytest.mark.postgres
def test_postgres_alias_is_the_psycopg_driver(postgres_url: str) -> None:
    alias = "postgres://" + postgres_url.split("://", 1)[1]
    study = optuna.create_study(study_name="alias", storage=open_storage(alias, create=True))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    again = optuna.load_study(study_name="alias", storage=open_storage(alias, heartbeat=None))
    assert len(again.trials) == 1


@pytest.mark.postgres
def test_reading_an_empty_database_creates_no_tables(postgres_url: str) -> None:
    import psycopg
    import sqlalchemy

    from tuner.cli import main

    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    admin = admin.rsplit("/", 1)[0] + "/postgres"
    empty = f"{postgres_url}_empty"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{empty.rsplit("/", 1)[1]}"')
    try:
        assert main(["best", "--study-name", "s", "--storage", empty]) == 2
        engine = sqlalchemy.create_engine(empty)
        try:
            assert sqlalchemy.inspect(engine).get_table_names() == []
        finally:
            engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{empty.rsplit("/", 1)[1]}" WITH (FORCE)')
