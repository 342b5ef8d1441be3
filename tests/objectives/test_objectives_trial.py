"""The shared trial loop: reports per iteration, final value on all users, failures recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

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


def test_registry_and_unknown_model() -> None:
    assert OBJECTIVES == {"als": ALSObjective, "ials": IALSObjective}
    with pytest.raises(ConfigError, match=r"Unknown model 'svd'; choose one of \['als', 'ials'\]"):
        get_objective("svd")


@pytest.mark.parametrize("model", ["als", "ials"])
def test_trial_reports_every_iteration_and_returns_full_validation_mrr(
    model: str, prepared_small: Path
) -> None:
    from tuner.data import load_prepared
    from tuner.metrics import evaluate
    from tuner.solvers import MODELS

    data = load_prepared(prepared_small)
    cls = OBJECTIVES[model]
    space = parse_space(SPACE.format(model=model), known=cls.parameters, model=model)
    objective = cls(data, space, num_threads=1, report_users=50, seed=3)
    assert objective.report_users is not None and objective.report_users.size == 50
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=2)
    for trial in study.trials:
        assert trial.state == TrialState.COMPLETE
        assert sorted(trial.intermediate_values) == [1, 2, 3]
        assert trial.user_attrs["iterations_run"] == 3
        assert trial.user_attrs["fit_seconds"] >= 0 and trial.user_attrs["eval_seconds"] > 0
        # The returned value scores every validation user, not the 50-user subsample.
        refit = MODELS[model](**trial.params, iterations=3, random_state=3, num_threads=1)
        refit.fit(data.train)
        assert refit.user_factors is not None and refit.item_factors is not None
        full = evaluate(refit.user_factors, refit.item_factors, data.train, data.val, k=100)
        assert trial.value == pytest.approx(full.mrr, rel=1e-5)
        assert trial.user_attrs["hr_at_100"] == pytest.approx(full.hr, rel=1e-5)
        assert full.n_users == int(np.diff(data.val.indptr).astype(bool).sum())


class _Diverging:
    """Stands in for a solver whose factors blow up in iteration 2."""

    def __init__(self, **params: Any) -> None:
        self.iterations = params["iterations"]

    def fit(self, user_items: Any, callback: Any = None) -> _Diverging:
        self.user_factors = np.zeros((user_items.shape[0], 2), np.float32)
        self.item_factors = np.zeros((user_items.shape[1], 2), np.float32)
        callback(1, self)
        raise SolverError("ALS diverged in iteration 2 (user factors: NaN/inf)")


class _DivergingObjective(ALSObjective):
    name: ClassVar[str] = "diverging"

    @classmethod
    def model_class(cls) -> type:
        return _Diverging


def test_solver_error_fails_the_trial_with_its_reason_and_the_study_goes_on(
    prepared_small: Path,
) -> None:
    from tuner.data import load_prepared

    space = parse_space(SPACE.format(model="als"))
    objective = _DivergingObjective(load_prepared(prepared_small), space)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=2, catch=(SolverError,))
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]
    assert study.trials[0].user_attrs["fail_reason"].startswith("ALS diverged in iteration 2")
    assert study.trials[0].user_attrs["iterations_run"] == 1
    assert study.trials[0].intermediate_values.keys() == {1}


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
