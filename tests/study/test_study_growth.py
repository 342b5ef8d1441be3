"""Growing ranges: the factor range opens level by level while larger values win, no further."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tuner.errors import ConfigError
from tuner.objectives import ATTR_PROBE, OBJECTIVES, IALSObjective
from tuner.study.growth import ATTR_RANGE, GrowRanges, level_of
from tuner.study.samplers import RangeLimitedSampler
from tuner.study.spaces import SPACES_DIR, load_space, parse_space

GROWING = """
model = "ials"
[params.factors]
type = "int"
low = 2
high = 64
log = true
start_high = 8
[params.regularization]
type = "float"
low = 0.1
high = 10.0
log = true
[fixed]
iterations = 3
"""


def _run(best_factors: float, n_trials: int = 40) -> optuna.Study:
    """A TPE study on GROWING whose value peaks at ``best_factors`` (and at lambda 1), with the
    growth callback the workers use."""
    space = parse_space(GROWING)

    def objective(trial: optuna.trial.Trial) -> float:
        params = space.suggest(trial)
        return -abs(math.log(params["factors"] / best_factors)) - abs(
            math.log(params["regularization"])
        )

    # Optuna's default TPE, as tuner's "tpe" (multivariate since Optuna 4)
    sampler = RangeLimitedSampler(optuna.samplers.TPESampler(seed=0), space)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    room = GrowRanges(space, lambda s: n_trials - len(s.trials))
    study.optimize(objective, n_trials=n_trials, callbacks=[room])
    return study


def _highs(study: optuna.Study) -> list[int]:
    return [t.user_attrs[ATTR_RANGE]["factors"] for t in study.trials]


def test_the_range_opens_level_by_level_while_larger_values_win() -> None:
    study = _run(best_factors=1000.0)  # larger is always better, beyond the space's 64
    probes = [t for t in study.trials if t.user_attrs.get(ATTR_PROBE)]
    # one probe per level, each doubling the best trial's factors: 16, 32, 64
    assert [t.params["factors"] for t in probes] == [16, 32, 64]
    assert all(t.state == TrialState.COMPLETE for t in probes)
    assert study.best_trial.params["factors"] >= 48  # the top of the full range
    highs = _highs(study)
    assert highs[0] == 8 and highs[-1] == 64
    assert highs == sorted(highs)  # the open range never shrinks
    sampled = [t for t in study.trials if not t.user_attrs.get(ATTR_PROBE)]
    assert all(t.params["factors"] <= t.user_attrs[ATTR_RANGE]["factors"] for t in sampled)
    # every trial's distribution is the full range: one search space for importances
    assert {t.distributions["factors"].high for t in study.trials} == {64}
    assert "factors" in optuna.importance.get_param_importances(study)


def test_the_range_stays_where_larger_values_lose() -> None:
    study = _run(best_factors=6.0)
    sampled = [t for t in study.trials if not t.user_attrs.get(ATTR_PROBE)]
    assert {t.user_attrs[ATTR_RANGE]["factors"] for t in sampled} == {8}
    assert all(t.params["factors"] <= 8 for t in sampled)
    probes = [t for t in study.trials if t.user_attrs.get(ATTR_PROBE)]
    # tried, and lost: each best near the top had its doubling tried once
    assert probes and all(t.params["factors"] == 16 for t in probes)
    assert all(t.value < study.best_value for t in probes)


def test_no_probe_is_enqueued_beyond_the_budget() -> None:
    study = _run(best_factors=1000.0, n_trials=3)
    assert not [t for t in study.trials if t.state == TrialState.WAITING]


def test_level_ladder_doubles_and_stops_at_high() -> None:
    factors = parse_space(GROWING).params[0]
    assert [level_of(factors, v) for v in (2, 8, 9, 16, 17, 40, 64)] == [8, 8, 16, 16, 32, 64, 64]


def test_a_probe_is_never_pruned(prepared_small: Path) -> None:
    from tuner.data import load_prepared

    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            return True

    space = parse_space(GROWING)
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
def test_a_bad_start_high_is_one_line(value: str, problem: str) -> None:
    text = GROWING.replace("start_high = 8", f"start_high = {value}")
    with pytest.raises(ConfigError, match=problem) as info:
        parse_space(text)
    assert "\n" not in str(info.value)


def test_the_wide_ials_space_starts_small_and_grows_to_1024() -> None:
    space = load_space(SPACES_DIR / "ials-wide.toml", known=OBJECTIVES["ials"].parameters)
    factors = next(p for p in space.params if p.name == "factors")
    assert factors.start_high is not None and factors.start_high <= 256
    assert factors.high == 1024


def test_the_gaussian_process_and_cmaes_search_the_full_range() -> None:
    space = parse_space(GROWING)
    sampler = RangeLimitedSampler(optuna.samplers.RandomSampler(seed=0), space)
    study = optuna.create_study(sampler=sampler)
    study.set_user_attr("sampler", "gp")
    for _ in range(30):
        trial = study.ask()
        study.tell(trial, float(space.suggest(trial)["factors"]))
    assert not any(ATTR_RANGE in t.user_attrs for t in study.trials)
    assert max(t.params["factors"] for t in study.trials) > 8


def test_a_study_run_by_workers_probes_within_its_budget(
    prepared_small: Path, tmp_path: Path
) -> None:
    from tuner.study import run_study

    path = tmp_path / "growing.toml"
    path.write_text(GROWING.replace("start_high = 8", "start_high = 4"), encoding="utf-8")
    study = run_study(
        data_dir=prepared_small,
        model="ials",
        storage=f"sqlite:///{tmp_path / 'g.db'}",
        study_name="grow",
        n_trials=8,
        space_path=path,
    )
    probes = [t for t in study.trials if t.user_attrs.get(ATTR_PROBE)]
    assert probes and all(t.state == TrialState.COMPLETE for t in probes)
    for t in probes:
        assert t.params["factors"] == t.user_attrs[ATTR_PROBE]["factors"]
        assert t.params["factors"] > 4
    assert len(study.trials) == 8
