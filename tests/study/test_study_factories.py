"""Pruners and samplers by name: every pruner behaves as named; bad settings are refused."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tuner.errors import ConfigError
from tuner.study.factories import (
    PRUNERS,
    SAMPLERS,
    check_sampler,
    make_pruner,
    make_sampler,
    pruner_config,
)


def _curves(trial: optuna.trial.Trial) -> float:
    """Learning curves whose level is set by x: low-x trials are clearly worse at every step."""
    x = trial.suggest_float("x", 0.0, 1.0)
    trial.set_user_attr("report_mrr_se", 0.01)  # what the noise-aware pruner weighs by
    for step in range(1, 10):
        trial.report(x * step, step=step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return x * 9


@pytest.mark.parametrize("name", PRUNERS)
def test_each_pruner_prunes_or_not_as_named(name: str) -> None:
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler("random", seed=0),
        pruner=make_pruner(pruner_config(name, max_resource=9)),
    )
    study.optimize(_curves, n_trials=30)
    n_pruned = len(study.get_trials(states=(optuna.trial.TrialState.PRUNED,)))
    assert (n_pruned == 0) == (name == "none")


def _available(name: str) -> bool:
    try:
        check_sampler(name)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("name", [s for s in SAMPLERS if _available(s)])
def test_each_installed_sampler_repeats_itself_with_its_seed(name: str) -> None:
    def suggestions(seed: int) -> list[float]:
        study = optuna.create_study(sampler=make_sampler(name, seed=seed))
        study.optimize(
            lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2 + t.suggest_float("y", 0, 1),
            n_trials=25,
        )
        return [t.params["x"] for t in study.trials]

    assert suggestions(3) == suggestions(3)
    assert suggestions(3) != suggestions(4)


def test_tpe_models_the_parameters_jointly_whatever_optunas_default() -> None:
    """``tpe`` is multivariate: on a space without conditional parameters it samples what the
    grouped ``tpe-multivariate`` samples, and not what Optuna's independent TPE samples."""

    def points(sampler: optuna.samplers.BaseSampler) -> list[tuple[float, float]]:
        study = optuna.create_study(sampler=sampler)
        study.optimize(
            lambda t: (t.suggest_float("x", 0, 1) - t.suggest_float("y", 0, 1)) ** 2, n_trials=20
        )
        return [(t.params["x"], t.params["y"]) for t in study.trials]

    tpe = points(make_sampler("tpe", seed=1))
    assert tpe == points(make_sampler("tpe-multivariate", seed=1))
    assert tpe != points(optuna.samplers.TPESampler(seed=1, multivariate=False))


def test_a_sampler_whose_package_is_missing_says_how_to_install_it() -> None:
    missing = [s for s in ("gp", "cmaes") if not _available(s)]
    for name in missing:
        with pytest.raises(ConfigError, match=r"needs the '\w+' package.*Fix: "):
            make_sampler(name)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "asha"}, "Unknown pruner 'asha'"),
        ({"name": "sha", "min_resource": 0}, "min_resource must be an integer >= 1"),
        ({"name": "sha", "reduction_factor": 1}, "reduction_factor must be an integer >= 2"),
    ],
)
def test_bad_pruner_settings(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        pruner_config(**kwargs)


def test_unknown_sampler() -> None:
    with pytest.raises(ConfigError, match=r"Unknown sampler 'bogus'; choose one of tpe, "):
        make_sampler("bogus")


def test_study_refuses_an_unknown_sampler_in_one_line(
    prepared_small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tuner.cli import main

    db = tmp_path / "studies.db"
    argv = ["study", "--data", str(prepared_small), "--model", "ials", "--study-name", "s"]
    argv += ["--storage", f"sqlite:///{db}", "--sampler", "bogus"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "invalid choice: 'bogus'" in lines[0]
    assert "tpe-multivariate" in lines[0]
    assert not db.exists()


def test_patience_zero_runs_every_iteration_and_a_negative_one_is_refused(
    prepared_small: Path, tmp_path: Path
) -> None:
    from tuner.study import run_study

    kw = {"data_dir": prepared_small, "model": "als", "storage": f"sqlite:///{tmp_path / 's.db'}"}
    with pytest.raises(ConfigError, match=r"--patience must be >= 0") as info:
        run_study(study_name="neg", n_trials=1, patience=-1, **kw)
    assert "\n" not in str(info.value)
    study = run_study(study_name="zero", n_trials=1, patience=0, pruner="none", **kw)
    (trial,) = study.trials
    assert study.user_attrs["patience"] is None and not trial.user_attrs["stopped_early"]
    assert trial.user_attrs["iterations_run"] == trial.params["iterations"]


def test_min_gain_is_stored_and_a_negative_one_is_refused_in_one_line(
    prepared_small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tuner.cli import main
    from tuner.study import run_study

    db = tmp_path / "s.db"
    kw = {"data_dir": prepared_small, "model": "als", "storage": f"sqlite:///{db}"}
    study = run_study(study_name="half", n_trials=1, min_gain=0.05, pruner="none", **kw)
    assert study.user_attrs["min_gain"] == 0.05
    argv = ["study", "--data", str(prepared_small), "--model", "als", "--study-name", "neg"]
    fresh = tmp_path / "fresh.db"
    argv += ["--storage", f"sqlite:///{fresh}", "--min-gain", "-1"]
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "--min-gain must be a share of the best >= 0" in lines[0]
    assert not fresh.exists()  # refused before the storage is opened
