"""Storage URLs: SQLite, journal and PostgreSQL open; bad or unreachable ones fail in one line."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tuner.errors import StorageError
from tuner.study.storage import describe, open_storage


def test_sqlite_file_and_its_directory_are_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'dir' / 'studies.db'}"
    storage = open_storage(url)
    optuna.create_study(study_name="s", storage=storage)
    assert (tmp_path / "deep" / "dir" / "studies.db").is_file()
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.get_heartbeat_interval() == 60


def test_journal_url_opens_a_journal_file(tmp_path: Path) -> None:
    storage = open_storage(f"journal://{tmp_path / 'j' / 'studies.log'}")
    assert isinstance(storage, optuna.storages.JournalStorage)
    study = optuna.create_study(study_name="s", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    again = optuna.load_study(
        study_name="s", storage=open_storage(f"journal://{tmp_path}/j/studies.log")
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
    storage = open_storage(postgres_url, heartbeat=5)
    assert isinstance(storage, optuna.storages.RDBStorage)
    assert storage.get_heartbeat_interval() == 5
    study = optuna.create_study(study_name="pg", storage=storage)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(optuna.load_study(study_name="pg", storage=postgres_url).trials) == 2
