"""Samplers that know what a pruned trial says about its configuration.

Optuna's :class:`~optuna.samplers.GPSampler` fits its Gaussian process to COMPLETE trials only.
Under successive halving most trials end PRUNED (in a 30-trial study often 20 or more), so the
process would see a handful of points and stay in its random start-up phase for most of the
study. :class:`PrunedAwareGPSampler` gives it every pruned trial as well, at the best value the
trial reported before it was stopped. That value understates what the configuration would have
reached, by about as much as the pruner judged it behind the others: the process learns "this
region was pruned early", as TPE's ranking of pruned trials by their last step does.

:class:`PrunedAwareTPESampler` gives TPE the same view. Optuna's TPE ranks every complete trial
above every pruned one, which under tuner's patience rule misjudges both: a trial that
patience stopped after two iterations, its best at the first, is complete, while one pruned
at the third iteration with a better score is not, so the first goes into TPE's good set
before it. Ranked by the best value reported, the two are compared on what each reached.

:class:`RangeLimitedSampler` wraps the sampler of every worker: it samples a parameter whose
range goes beyond what is sampled (:mod:`tuner.study.probes`) below its ``sample_high``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study

    from tuner.study.spaces import SearchSpace


def pruned_as_complete(trial: FrozenTrial, direction: optuna.study.StudyDirection) -> FrozenTrial:
    """A COMPLETE copy of a pruned ``trial`` whose value is its best reported value."""
    values = trial.intermediate_values.values()
    best = max(values) if direction == optuna.study.StudyDirection.MAXIMIZE else min(values)
    imputed = copy.copy(trial)
    imputed.state = TrialState.COMPLETE
    imputed.values = [float(best)]
    return imputed


class _PrunedAsComplete:
    """A view of a study in which pruned trials with reports read as complete ones."""

    def __init__(self, study: Study) -> None:
        self._study = study

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def _get_trials(
        self,
        deepcopy: bool = True,
        states: Iterable[TrialState] | None = None,
        use_cache: bool = False,
    ) -> list[FrozenTrial]:
        wanted = None if states is None else tuple(states)
        if wanted is not None and TrialState.COMPLETE not in wanted:
            return self._study._get_trials(deepcopy=deepcopy, states=wanted, use_cache=use_cache)
        # A pruned trial without reports stays pruned, and is kept only when asked for.
        asks_pruned = wanted is None or TrialState.PRUNED in wanted
        fetch = wanted if asks_pruned else (*wanted, TrialState.PRUNED)  # type: ignore[misc]
        trials = self._study._get_trials(deepcopy=deepcopy, states=fetch, use_cache=use_cache)
        direction = self._study.direction
        return [
            pruned_as_complete(t, direction)
            if t.state == TrialState.PRUNED and t.intermediate_values
            else t
            for t in trials
            if t.state != TrialState.PRUNED or t.intermediate_values or asks_pruned
        ]


class _RelativeOnPrunedAsComplete(optuna.samplers.BaseSampler):
    """Mixin for a model-based sampler: its relative search space and samples come from the
    study as :class:`_PrunedAsComplete` shows it."""

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return super().infer_relative_search_space(  # type: ignore[safe-super]
            _PrunedAsComplete(study),  # type: ignore[arg-type]
            trial,
        )

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return super().sample_relative(  # type: ignore[safe-super]
            _PrunedAsComplete(study),  # type: ignore[arg-type]
            trial,
            search_space,
        )


class PrunedAwareGPSampler(_RelativeOnPrunedAsComplete, optuna.samplers.GPSampler):
    """Optuna's GP sampler, fitted to complete trials and to pruned trials at their best report.

    Single-objective studies only (tuner's studies maximise validation MRR@100). Start-up
    trials (``n_startup_trials``) count pruned trials with reports too, so the process takes
    over after that many trials whatever the pruner stopped.
    """


class PrunedAwareTPESampler(_RelativeOnPrunedAsComplete, optuna.samplers.TPESampler):
    """Optuna's TPE, ranking pruned trials with reports among the complete ones by their best
    report instead of below them all. Single-objective studies only.

    Unlike the GP's, TPE's independent sampling models the trials too (for parameters outside
    the relative search space), so it gets the same view.
    """

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return super().sample_independent(
            _PrunedAsComplete(study),  # type: ignore[arg-type]
            trial,
            param_name,
            param_distribution,
        )


class RangeLimitedSampler(optuna.samplers.BaseSampler):
    """``base``, sampling each parameter of ``space`` that has a ``sample_high`` below it
    (:mod:`tuner.study.probes`); the trial hooks and seeding are ``base``'s.

    The bounds are narrowed in what ``base`` is asked to sample from, relative (multivariate
    TPE samples all parameters when a trial is created) and independent alike. The trial's
    distribution stays the parameter's full range, so every trial of a study has the same
    search space (importances and the dashboard's plots need that).
    """

    def __init__(self, base: optuna.samplers.BaseSampler, space: SearchSpace) -> None:
        self.base = base
        self.space = space
        self._narrow = {p.name for p in space.params if p.sample_high is not None}

    def _narrowed(
        self, study: Study, space: dict[str, BaseDistribution]
    ) -> dict[str, BaseDistribution]:
        if not self._narrow.intersection(space):
            return space
        from tuner.study.probes import sample_highs

        highs = sample_highs(self.space, study)
        out = dict(space)
        for name, high in highs.items():
            dist: Any = out.get(name)
            if dist is not None and high < dist.high:
                dist = copy.copy(dist)
                dist.high = type(dist.high)(high)
                out[name] = dist
        return out

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self.base.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self.base.sample_relative(study, trial, self._narrowed(study, search_space))

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        dist = self._narrowed(study, {param_name: param_distribution})[param_name]
        return self.base.sample_independent(study, trial, param_name, dist)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self.base.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self.base.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.base.reseed_rng()


__all__: Sequence[str] = (
    "PrunedAwareGPSampler",
    "PrunedAwareTPESampler",
    "RangeLimitedSampler",
    "pruned_as_complete",
)
