"""The shared trial loop: reports per iteration, final value on all users, failures recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from tuner.errors import ConfigError, SolverError
from tuner.objectives import OBJECTIVES, ALSObjective, IALSObjective, get_objective
from tuner.study.spaces import parse_space

SPACE = """
model = "{model}"
[params.factors]
type = "int"
low = 4
high = 8
[params.regularization]
type = "float"
low = 0.1
high = 5.0
log = true
[fixed]
iterations = 3
"""


def test_unknown_model_names_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError,
        match=r"Unknown model 'svd'; choose one of \['als', 'cosine', 'ials', 'slim'\]",
    ):
        get_objective("svd")


def test_parameters_come_from_the_solver_signature() -> None:
    import inspect

    from tuner.solvers import IALS

    signature = set(inspect.signature(IALS.__init__).parameters) - {"self"}
    assert IALSObjective.parameters == signature - {"random_state", "num_threads"}
    assert "alpha" not in ALSObjective.parameters


@pytest.mark.parametrize("model", ["als", "ials"])
def test_trial_value_is_the_best_iteration_on_all_validation_users(
    model: str, prepared_small: Path
) -> None:
    from tuner.data import load_prepared
    from tuner.metrics import evaluate
    from tuner.solvers import build_model

    data = load_prepared(prepared_small)
    cls = OBJECTIVES[model]
    space = parse_space(SPACE.format(model=model), known=cls.parameters, model=model)
    objective = cls(data, space, num_threads=1, report_users=50, seed=3, patience=None)
    assert objective.report_users is not None and objective.report_users.size == 50
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=2)
    for trial in study.trials:
        assert trial.state == TrialState.COMPLETE
        assert sorted(trial.intermediate_values) == [1, 2, 3]
        # The reports are the best so far, so they never fall.
        reports = [trial.intermediate_values[i] for i in (1, 2, 3)]
        assert reports == sorted(reports)
        assert trial.user_attrs["iterations_run"] == 3
        assert trial.user_attrs["fit_seconds"] >= 0 and trial.user_attrs["eval_seconds"] > 0
        best = trial.user_attrs["best_iteration"]
        assert 1 <= best <= 3
        # The value scores every validation user with the best iteration's factors: a refit
        # that stops there reproduces it.
        params = {**trial.params, "iterations": best}
        refit = build_model(model, params, seed=3, num_threads=1).fit(data.train)
        assert refit.user_factors is not None and refit.item_factors is not None
        full = evaluate(refit.user_factors, refit.item_factors, data.train, data.val, k=100)
        assert trial.value == pytest.approx(full.mrr, rel=1e-5)
        assert trial.user_attrs["val_mrr_se"] == pytest.approx(full.mrr_se, rel=1e-5)
        assert trial.user_attrs["hr_at_100"] == pytest.approx(full.hr, rel=1e-5)
        assert trial.user_attrs["n_val_users"] == full.n_users
        assert full.n_users == int(np.diff(data.val.indptr).astype(bool).sum())


class _PeakThenFall:
    """A model whose factors are good after iteration 2 and noise after every other one."""

    def __init__(self, good: tuple[np.ndarray, np.ndarray], iterations: int) -> None:
        self.good = good
        self.iterations = iterations

    def fit(self, user_items: Any, callback: Any = None) -> _PeakThenFall:
        rng = np.random.default_rng(0)
        for it in range(1, self.iterations + 1):
            if it == 2:
                self.user_factors, self.item_factors = self.good
            else:
                self.user_factors = rng.standard_normal(self.good[0].shape, dtype=np.float32)
                self.item_factors = rng.standard_normal(self.good[1].shape, dtype=np.float32)
            if callback(it, self):
                break
        return self


def _peak_objective(good: tuple[np.ndarray, np.ndarray], iterations: int) -> type:
    class PeakObjective(IALSObjective):
        def build(self, params: Any) -> Any:
            return _PeakThenFall(good, iterations)

    return PeakObjective


def test_a_score_that_peaks_then_falls_is_valued_at_its_peak(prepared_small: Path) -> None:
    from tuner.data import load_prepared
    from tuner.metrics import evaluate
    from tuner.solvers import build_model

    data = load_prepared(prepared_small)
    fitted = build_model("ials", {"factors": 16, "iterations": 4}, seed=0).fit(data.train)
    assert fitted.user_factors is not None and fitted.item_factors is not None
    good = (fitted.user_factors, fitted.item_factors)
    peak = evaluate(*good, data.train, data.val, k=100)
    space = parse_space(SPACE.format(model="ials"))
    study = optuna.create_study(direction="maximize")
    study.optimize(_peak_objective(good, 8)(data, space, num_threads=1, patience=None), n_trials=1)
    trial = study.trials[0]
    assert trial.value == pytest.approx(peak.mrr, rel=1e-6)
    assert trial.user_attrs["best_iteration"] == 2
    assert trial.user_attrs["iterations_run"] == 8
    assert trial.user_attrs["stopped_early"] is False


def test_patience_stops_a_fit_that_stopped_improving(prepared_small: Path) -> None:
    from tuner.data import load_prepared
    from tuner.solvers import build_model

    data = load_prepared(prepared_small)
    fitted = build_model("ials", {"factors": 16, "iterations": 4}, seed=0).fit(data.train)
    assert fitted.user_factors is not None and fitted.item_factors is not None
    good = (fitted.user_factors, fitted.item_factors)
    space = parse_space(SPACE.format(model="ials"))
    study = optuna.create_study(direction="maximize")
    study.optimize(_peak_objective(good, 20)(data, space, num_threads=1, patience=3), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert trial.user_attrs["best_iteration"] == 2
    assert trial.user_attrs["iterations_run"] == 5  # 3 iterations past the best, not 20
    assert trial.user_attrs["stopped_early"] is True


class _Scripted:
    """A model whose validation MRR@100 after iteration i is ``scores[i - 1]``."""

    def __init__(self, scores: list[float], shape: tuple[int, int]) -> None:
        self.scores = scores
        self.iterations = len(scores)
        self.user_factors = np.zeros((shape[0], 2), dtype=np.float32)
        self.item_factors = np.zeros((shape[1], 2), dtype=np.float32)

    def fit(self, user_items: Any, callback: Any = None) -> _Scripted:
        for it in range(1, self.iterations + 1):
            self.user_factors = np.full_like(self.user_factors, it)  # which iteration's factors
            if callback(it, self):
                break
        return self


def _scripted_objective(scores: list[float]) -> type:
    from tuner.metrics import RankingMetrics

    class ScriptedObjective(IALSObjective):
        def build(self, params: Any) -> Any:
            return _Scripted(scores, self.data.train.shape)

        def _score(self, user_factors: Any, item_factors: Any, users: Any) -> Any:
            mrr = scores[int(user_factors[0, 0]) - 1]
            return RankingMetrics(mrr=mrr, hr=mrr, ndcg=mrr, n_users=100, k=100, mrr_se=0.01)

    return ScriptedObjective


@pytest.mark.parametrize(
    ("min_gain", "best", "run"),
    [
        (0.01, 3, 3),  # +0.5% < 1%: the fit ends there, and keeps that (best) iteration
        (0.0, 5, 6),  # any gain resets patience: it runs on to the later, larger gain
    ],
)
def test_a_gain_below_min_gain_of_the_best_ends_the_fit(
    prepared_small: Path, min_gain: float, best: int, run: int
) -> None:
    from tuner.data import load_prepared

    scores = [0.10, 0.20, 0.201, 0.2012, 0.23, 0.22, 0.21, 0.20]
    space = parse_space(SPACE.format(model="ials"))
    objective = _scripted_objective(scores)(
        load_prepared(prepared_small), space, report_users=None, patience=1, min_gain=min_gain
    )
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.user_attrs["best_iteration"] == best
    assert trial.value == pytest.approx(scores[best - 1])
    assert trial.user_attrs["iterations_run"] == run
    assert trial.user_attrs["stopped_early"] is True


class _Diverging:
    """Stands in for a solver whose factors blow up in iteration ``at``."""

    def __init__(self, at: int) -> None:
        self.iterations = 3
        self.at = at

    def fit(self, user_items: Any, callback: Any = None) -> _Diverging:
        rng = np.random.default_rng(0)
        self.user_factors = rng.standard_normal((user_items.shape[0], 2)).astype(np.float32)
        self.item_factors = rng.standard_normal((user_items.shape[1], 2)).astype(np.float32)
        for it in range(1, self.at):
            callback(it, self)
        raise SolverError(f"ALS diverged in iteration {self.at} (user factors: NaN/inf)")


def _diverging_objective(at: int) -> type:
    class DivergingObjective(ALSObjective):
        def build(self, params: Any) -> Any:
            return _Diverging(at)

    return DivergingObjective


def test_solver_error_before_any_score_fails_the_trial_with_its_reason(
    prepared_small: Path,
) -> None:
    from tuner.data import load_prepared

    space = parse_space(SPACE.format(model="als"))
    objective = _diverging_objective(1)(load_prepared(prepared_small), space)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=2, catch=(SolverError,))
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]
    assert study.trials[0].user_attrs["fail_reason"].startswith("ALS diverged in iteration 1")
    assert study.trials[0].user_attrs["iterations_run"] == 0


def test_solver_error_after_a_scored_iteration_keeps_the_best_one(prepared_small: Path) -> None:
    from tuner.data import load_prepared

    space = parse_space(SPACE.format(model="als"))
    objective = _diverging_objective(3)(load_prepared(prepared_small), space)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1, catch=(SolverError,))
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE
    assert trial.user_attrs["diverged"].startswith("ALS diverged in iteration 3")
    assert trial.user_attrs["best_iteration"] in (1, 2)
    assert trial.intermediate_values.keys() == {1, 2}


def test_pruned_trial_records_how_far_it_got(prepared_small: Path) -> None:
    from tuner.data import load_prepared

    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            return True

    space = parse_space(SPACE.format(model="als"))
    objective = ALSObjective(load_prepared(prepared_small), space, num_threads=1)
    study = optuna.create_study(direction="maximize", pruner=AlwaysPrune())
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["iterations_run"] == 1
    assert list(trial.intermediate_values) == [1]
