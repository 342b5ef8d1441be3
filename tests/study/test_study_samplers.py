"""The GP sampler learns from pruned trials, at the best value each reported."""

from __future__ import annotations

import importlib.util

import optuna
import pytest
from optuna.trial import TrialState

from tuner.study.samplers import (
    PrunedAwareGPSampler,
    PrunedAwareTPESampler,
    _PrunedAsComplete,
    pruned_as_complete,
)

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="the gp sampler needs PyTorch: pip install -e '.[gp]'",
)


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", 1e-3, 1e3, log=True)
    y = trial.suggest_float("y", 0.0, 1.0)
    value = 0.0
    for step in range(1, 10):
        value = -((x - 10.0) ** 2) / 1e4 - (y - 0.3) ** 2 - 1.0 / step
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value


def _from_gp(trial: optuna.trial.FrozenTrial) -> bool:
    return any(key.startswith("gp:relative_params") for key in trial.system_attrs)


def test_a_pruned_trial_reads_as_complete_at_its_best_report() -> None:
    trial = optuna.trial.create_trial(
        state=TrialState.PRUNED,
        params={"x": 1.0},
        distributions={"x": optuna.distributions.FloatDistribution(0, 2)},
        intermediate_values={1: 0.10, 2: 0.25, 3: 0.20},
    )
    up = pruned_as_complete(trial, optuna.study.StudyDirection.MAXIMIZE)
    down = pruned_as_complete(trial, optuna.study.StudyDirection.MINIMIZE)
    assert (up.state, up.value, down.value) == (TrialState.COMPLETE, 0.25, 0.10)
    assert trial.state == TrialState.PRUNED and trial.value is None  # the original is untouched


def test_the_study_view_keeps_pruned_trials_without_reports_only_when_asked() -> None:
    study = optuna.create_study(direction="maximize")
    dist = {"x": optuna.distributions.FloatDistribution(0, 2)}
    study.add_trial(optuna.trial.create_trial(value=0.3, params={"x": 1.0}, distributions=dist))
    for reports in ({1: 0.2}, {}):
        study.add_trial(
            optuna.trial.create_trial(
                state=TrialState.PRUNED,
                params={"x": 0.5},
                distributions=dist,
                intermediate_values=reports,
            )
        )
    view = _PrunedAsComplete(study)

    def states(asked: tuple[TrialState, ...] | None) -> list[TrialState]:
        return [t.state for t in view._get_trials(deepcopy=False, states=asked)]

    complete, pruned = TrialState.COMPLETE, TrialState.PRUNED
    assert states((complete,)) == [complete, complete]
    assert states((complete, pruned)) == [complete, complete, pruned]
    assert states(None) == [complete, complete, pruned]
    assert states((pruned,)) == [pruned, pruned]  # no COMPLETE asked: the study's own view


@needs_torch
def test_the_gp_takes_over_after_its_start_up_trials_though_most_were_pruned() -> None:
    def run(sampler: optuna.samplers.BaseSampler) -> optuna.Study:
        study = optuna.create_study(
            direction="maximize",
            sampler=sampler,
            pruner=optuna.pruners.SuccessiveHalvingPruner(min_early_stopping_rate=0),
        )
        study.optimize(_objective, n_trials=14)
        return study

    stock = run(optuna.samplers.GPSampler(seed=0, n_startup_trials=5))
    ours = run(PrunedAwareGPSampler(seed=0, n_startup_trials=5))
    for study in (stock, ours):
        assert len(study.get_trials(states=(TrialState.COMPLETE,))) < 5
    # Stock GP waits for five COMPLETE trials and so stays random; ours counts pruned ones.
    assert not any(_from_gp(t) for t in stock.trials)
    assert all(_from_gp(t) for t in ours.trials[6:])


@pytest.mark.parametrize("pruned_aware", [False, True])
def test_tpe_pruned_samples_where_pruned_trials_beat_the_complete_ones(pruned_aware: bool) -> None:
    # Ten complete trials near x = 0.1 that peaked low, ten pruned near x = 0.9 that had
    # already reported far better: stock TPE's good set is the complete ones, ours the pruned.
    study = optuna.create_study(direction="maximize")
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    for i in range(10):
        x_complete, x_pruned = 0.05 + 0.01 * i, 0.85 + 0.01 * i
        study.add_trial(
            optuna.trial.create_trial(value=0.05, params={"x": x_complete}, distributions=dist)
        )
        study.add_trial(
            optuna.trial.create_trial(
                state=TrialState.PRUNED,
                params={"x": x_pruned},
                distributions=dist,
                intermediate_values={1: 0.10, 3: 0.20},
            )
        )
    cls = PrunedAwareTPESampler if pruned_aware else optuna.samplers.TPESampler
    study.sampler = cls(seed=0, multivariate=True, constant_liar=True)
    xs = []
    for _ in range(10):
        trial = study.ask()
        xs.append(trial.suggest_float("x", 0.0, 1.0))
        study.tell(trial, state=TrialState.FAIL)
    near_pruned = sum(x > 0.5 for x in xs)
    assert near_pruned >= 8 if pruned_aware else near_pruned <= 2
