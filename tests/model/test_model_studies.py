"""tuner studies and tuner delete-study on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from tuner.cli import main


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'studies.db'}"
    url: str = request.getfixturevalue("postgres_url")
    for name in optuna.get_all_study_names(url):
        optuna.delete_study(study_name=name, storage=url)
    return url


def test_studies_lists_each_study_and_delete_study_needs_yes(
    storage: str,
    prepared_tiny: Path,
    run_tiny_study: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_tiny_study(prepared_tiny, storage, "first", n_trials=2)
    run_tiny_study(prepared_tiny, storage, "second", n_trials=3)
    capsys.readouterr()

    assert main(["studies", "--storage", storage, "--json"]) == 0
    rows = {r["study_name"]: r for r in json.loads(capsys.readouterr().out)}
    assert sorted(rows) == ["first", "second"]
    for name, n in (("first", 2), ("second", 3)):
        row = rows[name]
        study = optuna.load_study(study_name=name, storage=storage)
        assert row["model"] == "als"
        assert row["complete"] + row["pruned"] + row["failed"] == n
        assert row["best_value"] == study.best_value
        assert row["best_value_se"] == study.best_trial.user_attrs["val_mrr_se"]
        assert row["data_fingerprint"] == study.user_attrs["data_fingerprint"]
        assert row["last_activity"] is not None

    assert main(["studies", "--storage", storage]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["study", "model"]
    assert [line.split()[0] for line in table[1:]] == ["first", "second"]
    assert rows["first"]["data_fingerprint"][:12] in table[1]

    assert main(["delete-study", "--study-name", "first", "--storage", storage]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "--yes" in line and "'first'" in line
    assert sorted(optuna.get_all_study_names(storage)) == ["first", "second"]

    assert main(["delete-study", "--study-name", "first", "--storage", storage, "--yes"]) == 0
    assert optuna.get_all_study_names(storage) == ["second"]
    capsys.readouterr()
    assert main(["delete-study", "--study-name", "first", "--storage", storage, "--yes"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "No study 'first'" in line and "second" in line


def test_studies_does_not_create_a_missing_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    assert main(["studies", "--storage", url]) == 0
    assert "does not exist" in capsys.readouterr().err
    assert main(["delete-study", "--study-name", "x", "--storage", url, "--yes"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "does not exist" in line
    assert not (tmp_path / "typo.db").exists()
