"""Studies end to end with the real objective, solver and storages (tiny synthetic data)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tuner.errors import ConfigError, StorageError
from tuner.study import best_summary, load_best, run_study, run_worker, trial_counts


def _run(
    data: Path, storage: str, space: Path | None, n_trials: int, **kwargs: object
) -> optuna.Study:
    return run_study(
        data_dir=data,
        model="als",
        storage=storage,
        study_name=str(kwargs.pop("study_name", "s")),
        n_trials=n_trials,
        space_path=space,
        **kwargs,  # type: ignore[arg-type]
    )


def _round_trip(prepared: Path, url: str, space: Path, tmp_path: Path) -> None:
    enqueue = tmp_path / "q.json"
    enqueue.write_text(json.dumps([{"factors": 8, "regularization": 5.0, "iterations": 3}]))
    study = _run(prepared, url, space, 4, enqueue=enqueue)
    counts = trial_counts(study)
    assert counts.finished == 4 and counts.running == counts.waiting == 0
    first = study.trials[0]
    assert first.params == {"factors": 8, "regularization": 5.0, "iterations": 3}
    assert first.state == TrialState.COMPLETE
    assert sorted(first.intermediate_values) == [1, 2, 3]
    assert {"hr_at_100", "ndcg_at_100", "fit_seconds", "eval_seconds"} <= set(first.user_attrs)
    assert first.user_attrs["iterations_run"] == 3
    assert study.user_attrs["model"] == "als"
    assert study.user_attrs["metric"] == "val_mrr_at_100"

    # Resuming (without --space: the study's own) with a larger budget adds exactly the
    # difference; the enqueued set runs once.
    again = _run(prepared, url, None, 6, enqueue=enqueue)
    assert trial_counts(again).finished == 6
    enqueued = [t for t in again.trials if t.params == first.params]
    assert len(enqueued) == 1
    assert again.trials[0].value == first.value

    model, params = load_best(url, "s")
    assert model == "als"
    # The best configuration stops at the best trial's best iteration.
    best_iteration = again.best_trial.user_attrs["best_iteration"]
    assert params == {**again.best_trial.params, "iterations": best_iteration}
    summary = best_summary(url, "s")
    assert summary["val_mrr_at_100"] == again.best_value
    assert summary["n_complete"] + summary["n_pruned"] + summary["n_failed"] == 6


def test_round_trip_sqlite(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path], tmp_path: Path
) -> None:
    _round_trip(prepared_small, sqlite_url, write_space(), tmp_path)


def test_round_trip_journal(
    prepared_small: Path, journal_url: str, write_space: Callable[..., Path], tmp_path: Path
) -> None:
    _round_trip(prepared_small, journal_url, write_space(), tmp_path)


@pytest.mark.postgres
def test_round_trip_postgres(
    prepared_small: Path, postgres_url: str, write_space: Callable[..., Path], tmp_path: Path
) -> None:
    _round_trip(prepared_small, postgres_url, write_space(), tmp_path)


def test_default_storage_is_sqlite_under_tuner_home(
    prepared_small: Path, write_space: Callable[..., Path], tuner_home: Path
) -> None:
    from tuner.paths import default_storage_url

    _run(prepared_small, default_storage_url(), write_space(), 1)
    assert (tuner_home / "studies.db").is_file()


def test_successive_halving_prunes_and_saves_iterations(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path]
) -> None:
    space = write_space(
        'model = "als"\n[params.factors]\ntype = "int"\nlow = 4\nhigh = 8\n'
        '[params.regularization]\ntype = "float"\nlow = 1e-4\nhigh = 10.0\nlog = true\n'
        "[fixed]\niterations = 6\n"
    )
    study = _run(prepared_small, sqlite_url, space, 12, pruner="sha")
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert pruned, "successive halving pruned nothing"
    assert complete
    assert all(t.user_attrs["iterations_run"] < 6 for t in pruned)
    assert all(max(t.intermediate_values) < 6 for t in pruned)
    spent = sum(t.user_attrs["iterations_run"] for t in study.trials)
    assert spent < 12 * 6

    unpruned = _run(prepared_small, sqlite_url, space, 4, pruner="none", study_name="nop")
    assert all(t.state == TrialState.COMPLETE for t in unpruned.trials)


def test_resuming_with_other_data_space_or_model_is_refused(
    prepared_small: Path,
    prepared_other: Path,
    sqlite_url: str,
    write_space: Callable[..., Path],
) -> None:
    space = write_space()
    _run(prepared_small, sqlite_url, space, 1)
    with pytest.raises(StorageError, match="fingerprint"):
        _run(prepared_other, sqlite_url, space, 2)
    with pytest.raises(StorageError, match="fingerprint"):
        run_worker(storage=sqlite_url, study_name="s", data_dir=prepared_other)
    other_space = write_space(
        Path(space).read_text().replace("high = 8", "high = 9"), name="other.toml"
    )
    with pytest.raises(StorageError, match="another space"):
        _run(prepared_small, sqlite_url, other_space, 2)
    with pytest.raises(StorageError, match="another space"):
        run_worker(storage=sqlite_url, study_name="s", space_path=other_space)
    ials_space = write_space(
        'model = "ials"\n[params.factors]\ntype = "int"\nlow = 4\nhigh = 8\n', name="ials.toml"
    )
    with pytest.raises(StorageError, match="tunes model 'als'"):
        run_study(
            data_dir=prepared_small,
            model="ials",
            storage=sqlite_url,
            study_name="s",
            n_trials=2,
            space_path=ials_space,
        )
    # Nothing ran: the study still holds its one trial.
    assert trial_counts(optuna.load_study(study_name="s", storage=sqlite_url)).finished == 1


def test_worker_on_missing_study_names_the_existing_ones(sqlite_url: str) -> None:
    optuna.create_study(study_name="present", storage=sqlite_url)
    with pytest.raises(StorageError, match=r"No study 'absent'.*present"):
        run_worker(storage=sqlite_url, study_name="absent")


def test_bad_arguments_are_config_errors(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path]
) -> None:
    with pytest.raises(ConfigError, match="Unknown pruner"):
        _run(prepared_small, sqlite_url, write_space(), 2, pruner="asha")
    with pytest.raises(ConfigError, match="n_trials"):
        _run(prepared_small, sqlite_url, write_space(), 0)
    with pytest.raises(ConfigError, match="Unknown model 'svd'"):
        run_study(
            data_dir=prepared_small, model="svd", storage=sqlite_url, study_name="x", n_trials=1
        )
