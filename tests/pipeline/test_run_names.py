"""Run names and resumed runs: a run name never mixes two data sets in one study, and the closing
summary counts the trials a Ctrl-C stopped instead of hiding them."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from tuner.cli import main

TINY = ["--scale", "0.02", "--models", "als", "--no-similarities", "--n-trials", "1"]


def test_same_name_on_other_data_is_refused_and_interrupted_trials_are_counted(
    tuner_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *TINY, "--name", "same"]) == 0
    storage = f"sqlite:///{tuner_home / 'studies.db'}"
    summary_file = tuner_home / "runs" / "same" / "summary.json"
    summary = summary_file.read_text(encoding="utf-8")
    trials = len(optuna.load_study(study_name="same-als", storage=storage).trials)
    capsys.readouterr()

    # Another seed is another split: the study of that name must not take its trials.
    assert main(["run", *TINY, "--name", "same", "--seed", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("tuner run: error: Run 'same' already has study 'same-als'")
    assert "--name" in lines[-1] and "--study-name" not in lines[-1]
    assert len(optuna.load_study(study_name="same-als", storage=storage).trials) == trials
    assert summary_file.read_text(encoding="utf-8") == summary
    # Without --name the other seed gets its own run.
    assert main(["run", *TINY, "--seed", "1"]) == 0
    capsys.readouterr()

    # A trial stopped by Ctrl-C stays in the storage as FAIL, marked interrupted.
    study = optuna.load_study(study_name="same-als", storage=storage)
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.FAIL,
            user_attrs={"interrupted": True, "fail_reason": "interrupted (Ctrl-C / SIGINT)"},
        )
    )
    assert main(["run", *TINY, "--name", "same"]) == 0
    printed = capsys.readouterr().out
    row = next(line for line in printed.splitlines() if line.strip().startswith("als "))
    assert "1/0/0/1" in row.replace(" ", ""), printed
    assert "interrupted" in printed
    resumed = json.loads(summary_file.read_text(encoding="utf-8"))
    assert resumed["models"]["als"]["n_interrupted"] == 1
    assert resumed["models"]["als"]["n_failed"] == 0
