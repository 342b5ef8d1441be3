"""`tuner run` end to end at a small scale: every output exists and agrees with the others,
on SQLite and on PostgreSQL; a run interrupted with Ctrl-C resumes without losing trials."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from tuner.cli import main
from tuner.pipeline import load_config

optuna.logging.set_verbosity(optuna.logging.WARNING)

SMALL = ["--scale", "0.02", "--n-trials", "3", "--top-k", "20"]


def _sigint_as_in_a_terminal() -> None:
    """``preexec_fn`` of a child that must take Ctrl-C even where this suite runs with SIGINT
    ignored (nohup, a background job): an ignored SIGINT is inherited and stays ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return [t for t in study.get_trials(deepcopy=False) if t.state in done]


def _check_outputs_agree(out: Path, name: str) -> None:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    storage = summary["storage"]
    resolved = load_config(out / "run.toml")
    assert resolved["name"] == name
    for model in ("als", "ials"):
        best = json.loads((out / model / "best_params.json").read_text(encoding="utf-8"))
        study = optuna.load_study(study_name=f"{name}-{model}", storage=storage)
        # The export names the storage's best trial, with its parameters and value.
        assert best["model"] == model
        assert best["trial_number"] == study.best_trial.number
        assert best["val_mrr_at_100"] == pytest.approx(study.best_value)
        # the trial's parameters, with iterations cut at the trial's best iteration
        expected = dict(study.best_trial.params)
        if "iterations" in expected and study.best_trial.user_attrs.get("best_iteration"):
            expected["iterations"] = study.best_trial.user_attrs["best_iteration"]
        assert expected.items() <= best["params"].items()
        assert 0.0 <= best["test_mrr_at_100"] <= 1.0
        assert best["data_fingerprint"] == summary["data_fingerprint"]
        assert best["n_complete"] + best["n_pruned"] + best["n_failed"] >= 3
        # The run summary says the same, and every output directory has the resolved config.
        assert summary["models"][model]["params"] == best["params"]
        assert summary["models"][model]["test_mrr_at_100"] == best["test_mrr_at_100"]
        assert load_config(out / model / "run.toml") == resolved
        trials_csv = (out / model / "trials.csv").read_text(encoding="utf-8").splitlines()
        assert len(trials_csv) == 1 + len(study.trials)
    sims = out / "similarities"
    assert load_config(sims / "run.toml") == resolved
    comparison = json.loads((sims / "comparison.json").read_text(encoding="utf-8"))
    report = (sims / "report.html").read_text(encoding="utf-8")
    for model in ("als", "ials"):
        assert (sims / f"neighbors_{model}.csv.gz").is_file()
        # The report and the comparison describe the configurations the studies found.
        params = summary["models"][model]["params"]
        assert comparison["per_method"][model]["info"]["params"] == params
        for key, value in params.items():
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            assert f"{key}={shown}" in report
        # The similarities use the exported model (one fit): its own test MRR is the export's,
        # and the model directory the summary names is that model.
        own = comparison["per_method"][model]["info"]["own_test"]
        best = json.loads((out / model / "best_params.json").read_text(encoding="utf-8"))
        assert own["mrr"] == pytest.approx(best["test_mrr_at_100"], rel=1e-6)
        meta = json.loads((Path(summary["models"][model]["model_dir"]) / "model.json").read_text())
        assert meta["test_mrr_at_100"] == best["test_mrr_at_100"]
        assert meta["params"] == params
    for method in ("cosine", "slim"):
        assert (sims / f"neighbors_{method}.csv.gz").is_file()
    assert summary["popularity"]["test_mrr_at_100"] > 0


@pytest.mark.slow
def test_run_end_to_end_on_sqlite(tuner_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *SMALL, "--name", "e2e"]) == 0
    printed = capsys.readouterr().out
    out = tuner_home / "runs" / "e2e"
    _check_outputs_agree(out, "e2e")
    # The closing summary tells where things are and how to watch and extend the study.
    assert "popularity" in printed
    # every model's validation and test MRR@100 with its standard error, as in summary.json
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for s in summary["models"].values():
        for split in ("val", "test"):
            assert s[f"{split}_mrr_se"] > 0
            shown = f"{s[f'{split}_mrr_at_100']:.4f} ± {s[f'{split}_mrr_se']:.4f}"
            assert shown in printed
    assert "tuner dashboard --storage" in printed
    assert "tuner worker --storage" in printed
    # one report for the whole run, with every study and the similarity comparison
    assert str(out / "report.html") in printed
    report = (out / "report.html").read_text(encoding="utf-8")
    for s in summary["models"].values():
        assert f"Study {s['study_name']}" in report
    assert "Item-item similarities" in report

    # Started again with a larger budget: same data (not prepared again), same studies, continued.
    data_dir = next((tuner_home / "data").iterdir())
    manifest_mtime = (data_dir / "manifest.json").stat().st_mtime_ns
    storage = f"sqlite:///{tuner_home / 'studies.db'}"
    before = {
        t.number: (t.params, t.value)
        for t in _finished(optuna.load_study(study_name="e2e-als", storage=storage))
    }
    argv = ["run", "--scale", "0.02", "--n-trials", "5", "--name", "e2e", "--no-similarities"]
    assert main(argv) == 0
    assert (data_dir / "manifest.json").stat().st_mtime_ns == manifest_mtime
    assert len(list((tuner_home / "data").iterdir())) == 1
    after = optuna.load_study(study_name="e2e-als", storage=storage)
    kept = {t.number: (t.params, t.value) for t in _finished(after)}
    assert before.items() <= kept.items()
    assert len(after.trials) >= 5
    # a run without its similarity stage does not show the earlier run's comparison as its own
    assert "Item-item similarities" not in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.postgres
def test_run_end_to_end_on_postgres(tuner_home: Path, postgres_url: str) -> None:
    assert main(["run", *SMALL, "--name", "e2e-pg", "--storage", postgres_url]) == 0
    out = tuner_home / "runs" / "e2e-pg"
    _check_outputs_agree(out, "e2e-pg")
    assert json.loads((out / "summary.json").read_text())["storage"] == postgres_url
    assert not (tuner_home / "studies.db").exists()


@pytest.mark.slow
def test_interrupted_run_resumes_with_earlier_trials_intact(tuner_home: Path) -> None:
    # a trial at this scale takes 0.1-0.3 s: with a budget of 6 the study could end between
    # seeing two finished trials and the Ctrl-C, which then hit the export instead
    budget = 60
    argv = [
        sys.executable,
        "-m",
        "tuner",
        "run",
        "--scale",
        "0.02",
        "--name",
        "ctrlc",
        "--models",
        "ials",
        "--no-similarities",
        "--n-trials",
        str(budget),
    ]
    env = {**os.environ, "TUNER_HOME": str(tuner_home)}
    storage = f"sqlite:///{tuner_home / 'studies.db'}"
    proc = subprocess.Popen(
        argv,
        env=env,
        start_new_session=True,
        preexec_fn=_sigint_as_in_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 600
        before: dict[int, tuple[dict, float | None]] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                study = optuna.load_study(study_name="ctrlc-ials", storage=storage)
                before = {t.number: (t.params, t.value) for t in _finished(study)}
            except (KeyError, Exception):
                before = {}
            if len(before) >= 2:
                break
            time.sleep(0.5)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert len(before) >= 2
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0
    assert b"interrupted; finished work is kept" in output
    assert b"Traceback" not in output, output.decode()[-2000:]
    interrupted = optuna.load_study(study_name="ctrlc-ials", storage=storage)
    assert len(_finished(interrupted)) < budget

    done = subprocess.run(argv, env=env, capture_output=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    study = optuna.load_study(study_name="ctrlc-ials", storage=storage)
    kept = {t.number: (t.params, t.value) for t in _finished(study)}
    assert before.items() <= kept.items()
    counted = [t for t in study.trials if t.state.is_finished()]
    assert len(counted) >= budget
    summary = json.loads((tuner_home / "runs" / "ctrlc" / "summary.json").read_text())
    assert summary["models"]["ials"]["trial_number"] == study.best_trial.number
