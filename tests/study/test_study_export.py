"""Export and best: files parse and agree with the storage; the CLI prints one-line errors."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
import pandas as pd
import pytest

from tuner.cli import main
from tuner.data import load_prepared
from tuner.errors import StorageError
from tuner.metrics import evaluate
from tuner.solvers import build_model
from tuner.study import export_study, load_best, run_study, trial_counts


def test_export_files_agree_with_the_storage(
    finished_study: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = finished_study
    out = tmp_path / "out"
    (out).mkdir()
    (out / "keep.txt").write_text("other outputs in DIR are left alone")
    best = export_study(storage=url, study_name="e", out=out, data_dir=data)
    study = optuna.load_study(study_name="e", storage=url)
    counts = trial_counts(study)

    on_disk = json.loads((out / "best_params.json").read_text())
    assert on_disk == best
    assert on_disk["model"] == "als"
    best_iteration = study.best_trial.user_attrs["best_iteration"]
    assert on_disk["best_iteration"] == best_iteration
    assert on_disk["params"] == {**study.best_trial.params, "iterations": best_iteration}
    assert on_disk["params"] == load_best(url, "e")[1]
    assert on_disk["val_mrr_at_100"] == study.best_value
    assert on_disk["trial_number"] == study.best_trial.number
    assert (on_disk["n_complete"], on_disk["n_pruned"], on_disk["n_failed"]) == (
        counts.complete,
        counts.pruned,
        counts.failed,
    )
    assert on_disk["data_fingerprint"] == study.user_attrs["data_fingerprint"]
    assert 0.0 < on_disk["test_mrr_at_100"] <= 1.0
    # The test figure is the refit that stops at the best iteration, on train + validation.
    prepared = load_prepared(data)
    refit = build_model("als", on_disk["params"], seed=0).fit(prepared.train_val())
    assert refit.user_factors is not None and refit.item_factors is not None
    test = evaluate(refit.user_factors, refit.item_factors, prepared.train_val(), prepared.test)
    assert on_disk["test_mrr_at_100"] == pytest.approx(test.mrr, rel=1e-6)
    assert on_disk["test_mrr_se"] == pytest.approx(test.mrr_se, rel=1e-6)
    assert on_disk["val_mrr_se"] == study.best_trial.user_attrs["val_mrr_se"] > 0
    assert on_disk["study_name"] == "e"

    trials = pd.read_csv(out / "trials.csv")
    assert list(trials["number"]) == [t.number for t in study.trials]
    assert list(trials["state"]) == [t.state.name for t in study.trials]
    complete = trials[trials["state"] == "COMPLETE"]
    assert complete["value"].max() == pytest.approx(study.best_value)

    figures = sorted(p.name for p in (out / "figures").glob("*.html"))
    expected = ["intermediate_values", "optimization_history", "parallel_coordinate"]
    if complete["value"].nunique() >= 2:  # importances need two different scores
        expected.append("param_importances")
    assert figures == sorted(f"{name}.html" for name in expected)
    assert (out / "keep.txt").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_importances_are_skipped_below_two_complete_trials(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path], tmp_path: Path
) -> None:
    run_study(
        data_dir=prepared_small,
        model="als",
        storage=sqlite_url,
        study_name="one",
        n_trials=1,
        space_path=write_space(),
    )
    export_study(storage=sqlite_url, study_name="one", out=tmp_path / "o")
    names = {p.name for p in (tmp_path / "o" / "figures").glob("*.html")}
    assert "param_importances.html" not in names
    assert "optimization_history.html" in names


def test_importances_are_skipped_when_every_trial_scored_the_same(tmp_path: Path) -> None:
    """Optuna would draw equal bars (and warn); a figure that says nothing is left out."""
    from tuner.study.export import write_figures

    study = optuna.create_study(direction="maximize")
    for x in (0.1, 0.5, 0.9):
        study.enqueue_trial({"x": x})
    study.optimize(lambda t: 0.0 * t.suggest_float("x", 0.0, 1.0), n_trials=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names = write_figures(study, tmp_path / "figs")
    assert "param_importances.html" not in names
    assert "optimization_history.html" in names
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    assert "param_importances.html" in write_figures(study, tmp_path / "figs2")


def test_export_refuses_other_data(
    finished_study: tuple[str, Path], prepared_other: Path, tmp_path: Path
) -> None:
    url, _ = finished_study
    with pytest.raises(StorageError, match="fingerprint"):
        export_study(storage=url, study_name="e", out=tmp_path / "x", data_dir=prepared_other)
    assert not (tmp_path / "x" / "best_params.json").exists()


def test_best_without_complete_trials_is_a_storage_error(sqlite_url: str) -> None:
    optuna.create_study(study_name="empty", storage=sqlite_url).set_user_attr("model", "als")
    with pytest.raises(StorageError, match="no complete trial"):
        load_best(sqlite_url, "empty")


def test_best_cli_json_and_table(
    finished_study: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = finished_study
    best_value = optuna.load_study(study_name="e", storage=url).best_value
    assert main(["best", "--storage", url, "--study-name", "e"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["val_mrr_at_100"] == best_value
    assert main(["best", "--storage", url, "--study-name", "e", "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "val_mrr_at_100" in table and "factors" in table


def test_cli_study_worker_export_round_trip(
    prepared_small: Path,
    write_space: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TUNER_STORAGE", url)
    space = str(write_space())
    args = ["--data", str(prepared_small), "--study-name", "c", "--space", space]
    assert main(["study", "--model", "als", "--n-trials", "2", "--no-progress", *args]) == 0
    assert main(["worker", "--study-name", "c", "--n-trials", "3", "--quiet"]) == 0
    assert trial_counts(optuna.load_study(study_name="c", storage=url)).finished == 3
    assert main(["export", "--study-name", "c", "--out", str(tmp_path / "x")]) == 0
    assert (tmp_path / "x" / "best_params.json").is_file()
    capsys.readouterr()
    assert main(["best", "--study-name", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tuner best: error: No study 'nope'")
    assert "\n" not in err
