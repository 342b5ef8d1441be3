"""The noise-aware pruners stop a clearly worse trial and let one within noise run on."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tuner.study import run_study
from tuner.study.pruners import NoiseAwarePruner

RUNNING = optuna.trial.TrialState.RUNNING


def _trial(values: dict[int, float], se: float | None, state=optuna.trial.TrialState.COMPLETE):
    attrs = {} if se is None else {"report_mrr_se": se}
    final = max(values.values()) if state == optuna.trial.TrialState.COMPLETE else None
    return optuna.trial.create_trial(
        state=state,
        value=final,
        params={},
        distributions={},
        intermediate_values=values,
        user_attrs=attrs,
    )


@pytest.fixture()
def study() -> optuna.Study:
    """One finished trial whose best-so-far value climbs to 0.20 (standard error 0.01)."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(_trial({1: 0.10, 2: 0.15, 3: 0.20}, se=0.01))
    return study


@pytest.mark.parametrize(
    ("values", "se", "pruned"),
    [
        ({1: 0.09, 2: 0.10}, 0.01, True),  # 0.05 behind, 3.5 standard errors
        ({1: 0.09, 2: 0.13}, 0.01, False),  # 0.02 behind: within 2 standard errors
        ({1: 0.09, 2: 0.10}, 0.03, False),  # as far behind, but noisier than that
        ({1: 0.01}, 0.01, False),  # step 1 is the warm-up
        ({1: 0.09, 2: 0.10}, None, False),  # no standard error: nothing to judge by
        ({1: 0.10, 2: 0.10, 5: 0.16}, 0.01, True),  # after the best's last step: its last value
    ],
)
def test_prunes_only_what_trails_the_best_by_more_than_the_noise(
    study: optuna.Study, values: dict[int, float], se: float | None, pruned: bool
) -> None:
    pruner = NoiseAwarePruner(z=2.0, n_warmup_steps=1)
    assert pruner.prune(study, _trial(values, se, state=RUNNING)) is pruned


def test_never_prunes_before_a_trial_has_finished() -> None:
    study = optuna.create_study(direction="maximize")
    study.add_trial(_trial({1: 0.5, 2: 0.6}, se=0.01, state=optuna.trial.TrialState.PRUNED))
    assert not NoiseAwarePruner().prune(study, _trial({1: 0.0, 2: 0.0}, 0.01, state=RUNNING))


@pytest.mark.parametrize("pruner", ["noise", "sha-margin"])
def test_in_a_real_study_the_hopeless_trial_is_pruned_and_the_close_one_completes(
    prepared_small: Path, tmp_path: Path, pruner: str
) -> None:
    space = tmp_path / "space.toml"
    space.write_text(
        """model = "ials"
[params.factors]
type = "int"
low = 8
high = 32
[params.regularization]
type = "float"
low = 1e-3
high = 1e5
log = true
[params.alpha]
type = "float"
low = 1e-2
high = 100.0
log = true
[fixed]
iterations = 6
"""
    )
    good = {"factors": 32, "regularization": 1.0, "alpha": 10.0}
    hopeless = {"factors": 32, "regularization": 1e5, "alpha": 1e-2}
    study = run_study(
        data_dir=prepared_small,
        model="ials",
        storage=f"sqlite:///{tmp_path / 'studies.db'}",
        study_name=pruner,
        n_trials=3,
        space_path=space,
        pruner=pruner,
        patience=None,
        # A penalty of 1e5 with almost no confidence in the likes leaves the factors near
        # zero, far behind; one factor fewer than the first is within noise of it.
        enqueue=[good, hopeless, {**good, "factors": 31}],
    )
    states = [t.state for t in sorted(study.trials, key=lambda t: t.number)]
    first, hopeless, close = sorted(study.trials, key=lambda t: t.number)
    assert first.state == optuna.trial.TrialState.COMPLETE
    assert hopeless.state == optuna.trial.TrialState.PRUNED, states
    assert hopeless.last_step is not None and hopeless.last_step < 6
    assert close.state == optuna.trial.TrialState.COMPLETE, states
    assert abs(close.value - first.value) < 2 * first.user_attrs["val_mrr_se"]


def _rung_study(values_at_1: list[float]) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for v in values_at_1:
        study.add_trial(_trial({1: v}, se=0.01, state=optuna.trial.TrialState.PRUNED))
    return study


@pytest.mark.parametrize(
    ("others", "value", "se", "pruned"),
    [
        ([0.20], 0.15, 0.01, True),  # 5 standard errors behind the only other trial
        ([0.20], 0.195, 0.01, False),  # behind it, but within one standard error
        ([0.20, 0.19, 0.18, 0.10, 0.09], 0.185, 0.01, False),  # 0.005 short of the top 2 of 6
        ([0.20, 0.19, 0.18, 0.10, 0.09], 0.16, 0.01, True),  # 0.03 short of it
        ([0.20], 0.15, None, True),  # no standard error: plain successive halving
    ],
)
def test_margin_halving_keeps_a_trial_within_its_standard_error_of_the_cut(
    others: list[float], value: float, se: float | None, pruned: bool
) -> None:
    from tuner.study.pruners import MarginHalvingPruner

    pruner = MarginHalvingPruner(min_resource=1, reduction_factor=3, z=1.0)
    study = _rung_study(others)
    assert pruner.prune(study, _trial({1: value}, se, state=RUNNING)) is pruned
    # With no margin it is Optuna's successive halving: the same cut, no slack.
    plain = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    halving = optuna.create_study(direction="maximize", pruner=plain)
    for v in others:
        t = halving.ask()
        t.report(v, 1)
        t.should_prune()
        halving.tell(t, state=optuna.trial.TrialState.PRUNED)
    t = halving.ask()
    t.report(value, 1)
    assert MarginHalvingPruner(z=0.0).prune(study, _trial({1: value}, se, RUNNING)) is (
        t.should_prune()
    )


def test_margin_halving_judges_only_at_rungs_and_ignores_probes() -> None:
    from tuner.study.pruners import MarginHalvingPruner

    pruner = MarginHalvingPruner(min_resource=1, reduction_factor=3, z=1.0)
    study = optuna.create_study(direction="maximize")
    study.add_trial(_trial({1: 0.2, 2: 0.3, 3: 0.4}, se=0.01))
    assert not pruner.prune(study, _trial({1: 0.3, 2: 0.05}, 0.01, RUNNING))  # 2 is no rung
    assert pruner.prune(study, _trial({1: 0.3, 2: 0.3, 3: 0.05}, 0.01, RUNNING))  # 3 is
    probe = _trial({1: 0.9}, se=0.01)
    probe.user_attrs["probe"] = {"factors": 512}
    study.add_trial(probe)
    assert not pruner.prune(study, _trial({1: 0.25}, 0.01, RUNNING))  # the probe's 0.9 is out
