"""Probes: the best configuration climbs the factor ladder while each doubling wins, no further."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tuner.errors import ConfigError
from tuner.objectives import ATTR_PROBE, OBJECTIVES, IALSObjective
from tuner.study.probes import ATTR_PROBE_OF, EnqueueProbes, probes_due
from tuner.study.samplers import RangeLimitedSampler
from tuner.study.spaces import SPACES_DIR, load_space, parse_space

LADDER = """
model = "ials"
[params.factors]
type = "int"
low = 2
high = 64
log = true
sample_high = 8
[params.regularization]
type = "float"
low = 0.1
high = 10.0
log = true
[fixed]
iterations = 3
"""


def _run(best_factors: float, n_trials: int = 40, sampler: str = "tpe") -> optuna.Study:
    """A study on LADDER whose value peaks at ``best_factors`` (and at lambda 1), with the
    sampler and the probe callback a worker uses (Optuna's default TPE is multivariate, as
    tuner's "tpe")."""
    space = parse_space(LADDER)

    def objective(trial: optuna.trial.Trial) -> float:
        params = space.suggest(trial)
        k, lam = params["factors"], params["regularization"]
        return -abs(math.log(k / best_factors)) - abs(math.log(lam))

    base = optuna.samplers.TPESampler(seed=0)
    study = optuna.create_study(direction="maximize", sampler=RangeLimitedSampler(base, space))
    study.set_user_attr("sampler", sampler)
    probes = EnqueueProbes(space, lambda s: n_trials - len(s.trials))
    study.optimize(objective, n_trials=n_trials, callbacks=[probes])
    return study


def _probes(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if t.user_attrs.get(ATTR_PROBE)]


def _sampled(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if not t.user_attrs.get(ATTR_PROBE)]


def test_the_best_climbs_the_ladder_while_each_doubling_wins() -> None:
    study = _run(best_factors=1000.0)  # larger is always better, beyond the space's 64
    assert max(t.params["factors"] for t in _sampled(study)) <= 8
    probes = _probes(study)
    assert all(t.state == TrialState.COMPLETE for t in probes)
    by_number = {t.number: t for t in study.trials}
    for t in probes:  # twice sample_high for a sampled trial, twice a probe's value, <= high
        origin = by_number[t.user_attrs[ATTR_PROBE_OF]]
        start = origin.params["factors"] if origin.user_attrs.get(ATTR_PROBE) else 8
        assert t.params["factors"] == min(64, 2 * start)
        assert t.params["regularization"] == origin.params["regularization"]
    assert {16, 32, 64} <= {t.params["factors"] for t in probes}
    assert study.best_trial.params["factors"] == 64
    # every trial's distribution is the full range: one search space for importances
    assert {t.distributions["factors"].high for t in study.trials} == {64}
    assert "factors" in optuna.importance.get_param_importances(study)


def test_a_doubling_that_loses_ends_the_climb() -> None:
    study = _run(best_factors=6.0)
    probes = _probes(study)
    # the best sampled trials at the top were tried at 16, lost, and went no further
    assert probes and {t.params["factors"] for t in probes} == {16}
    assert all(t.value < study.best_value for t in probes)
    assert max(t.params["factors"] for t in _sampled(study)) <= 8


def _trial(
    number: int, factors: int, value: float, se: float, **attrs: object
) -> optuna.trial.FrozenTrial:
    trial = optuna.trial.create_trial(
        params={"factors": factors, "regularization": 1.0},
        distributions={
            "factors": optuna.distributions.IntDistribution(2, 64, log=True),
            "regularization": optuna.distributions.FloatDistribution(0.1, 10.0, log=True),
        },
        value=value,
        user_attrs={"val_mrr_se": se, **attrs},
    )
    trial.number = number
    return trial


def test_a_new_best_within_noise_of_a_doubled_one_is_not_doubled_again() -> None:
    space = parse_space(LADDER)
    start = [_trial(0, 4, 0.10, 0.01), _trial(1, 8, 0.20, 0.01)]
    ((_, _, origin),) = probes_due(space, start)
    assert origin == 1
    probe = _trial(2, 16, 0.19, 0.01, probe={"factors": 16}, probe_of=1)
    within = _trial(3, 8, 0.205, 0.01)  # a new best by less than its standard error
    assert probes_due(space, [*start, probe, within]) == []
    beyond = _trial(3, 8, 0.215, 0.01)  # better by more than its standard error
    ((params, probed, origin),) = probes_due(space, [*start, probe, beyond])
    assert (params["factors"], probed, origin) == (16, {"factors": 16}, beyond.number)


def test_a_probe_that_wins_within_noise_is_not_doubled_again() -> None:
    space = parse_space(LADDER)
    start = [_trial(0, 4, 0.10, 0.01), _trial(1, 8, 0.20, 0.01)]
    within = _trial(2, 16, 0.205, 0.01, probe={"factors": 16}, probe_of=1)
    assert probes_due(space, [*start, within]) == []
    beyond = _trial(2, 16, 0.215, 0.01, probe={"factors": 16}, probe_of=1)
    ((params, probed, origin),) = probes_due(space, [*start, beyond])
    assert (params["factors"], probed, origin) == (32, {"factors": 32}, beyond.number)


def test_no_probe_is_enqueued_beyond_the_budget() -> None:
    study = _run(best_factors=1000.0, n_trials=3)
    assert len(study.trials) == 3
    assert not [t for t in study.trials if t.state == TrialState.WAITING]


def test_the_gaussian_process_samples_the_full_range_and_gets_no_probes() -> None:
    study = _run(best_factors=1000.0, sampler="gp")
    assert not _probes(study)
    assert max(t.params["factors"] for t in study.trials) > 8


def test_a_probe_is_never_pruned(prepared_small: Path) -> None:
    from tuner.data import load_prepared

    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            return True

    space = parse_space(LADDER)
    objective = IALSObjective(load_prepared(prepared_small), space, num_threads=1, patience=None)
    study = optuna.create_study(direction="maximize", pruner=AlwaysPrune())
    study.enqueue_trial({"factors": 16, "regularization": 1.0}, user_attrs={ATTR_PROBE: {"f": 16}})
    study.optimize(objective, n_trials=2)
    probe, sampled = study.trials
    assert probe.state == TrialState.COMPLETE and probe.user_attrs["iterations_run"] == 3
    assert sampled.state == TrialState.PRUNED


@pytest.mark.parametrize(
    ("value", "problem"),
    [("1", "above 'low'"), ("100", "at most 'high'"), ("8.5", "an integer"), ("true", "number")],
)
def test_a_bad_sample_high_is_one_line(value: str, problem: str) -> None:
    text = LADDER.replace("sample_high = 8", f"sample_high = {value}")
    with pytest.raises(ConfigError, match=problem) as info:
        parse_space(text)
    assert "\n" not in str(info.value)


def test_the_wide_ials_space_samples_the_loops_range_and_probes_up_to_1024() -> None:
    space = load_space(SPACES_DIR / "ials-wide.toml", known=OBJECTIVES["ials"].parameters)
    factors = next(p for p in space.params if p.name == "factors")
    assert factors.sample_high == 256 and factors.high == 1024


def test_a_study_run_by_workers_probes_within_its_budget(
    prepared_small: Path, tmp_path: Path
) -> None:
    from tuner.study import run_study

    path = tmp_path / "ladder.toml"
    path.write_text(LADDER.replace("sample_high = 8", "sample_high = 4"), encoding="utf-8")
    study = run_study(
        data_dir=prepared_small,
        model="ials",
        storage=f"sqlite:///{tmp_path / 'p.db'}",
        study_name="probes",
        n_trials=8,
        space_path=path,
    )
    probes = _probes(study)
    assert probes and all(t.state == TrialState.COMPLETE for t in probes)
    for t in probes:
        assert t.params["factors"] == t.user_attrs[ATTR_PROBE]["factors"] > 4
    assert max(t.params["factors"] for t in _sampled(study)) <= 4
    assert len(study.trials) == 8


def test_a_probe_enqueued_twice_runs_once_and_costs_one_trial(
    prepared_small: Path, tmp_path: Path
) -> None:
    # two workers finishing at once may both enqueue the same probe; the later copy is not run
    from tuner.study import run_study, trial_counts

    path = tmp_path / "plain.toml"
    path.write_text(LADDER.replace("sample_high = 8\n", ""), encoding="utf-8")
    storage = f"sqlite:///{tmp_path / 'twins.db'}"
    kw = {"data_dir": prepared_small, "model": "ials", "storage": storage, "space_path": path}
    study = run_study(study_name="twins", n_trials=2, **kw)
    parent = study.trials[0]
    for _ in range(2):
        study.enqueue_trial(
            {**parent.params, "factors": 16},
            user_attrs={ATTR_PROBE: {"factors": 16}, ATTR_PROBE_OF: parent.number},
        )
    study = run_study(study_name="twins", n_trials=5, **kw)
    first, second = (t for t in study.trials if t.user_attrs.get(ATTR_PROBE))
    assert first.state == TrialState.COMPLETE
    assert second.state == TrialState.FAIL and second.user_attrs["surplus"]
    assert f"trial {first.number}" in second.user_attrs["fail_reason"]
    counts = trial_counts(study)
    assert (counts.finished, counts.surplus) == (5, 1)  # the copy did not use the budget
