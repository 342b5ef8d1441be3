"""Samplers that know what a pruned trial says about its configuration.

Optuna's :class:`~optuna.samplers.GPSampler` fits its Gaussian process to COMPLETE trials only.
Under successive halving most trials end PRUNED (in a 30-trial study often 20 or more), so the
process would see a handful of points and stay in its random start-up phase for most of the
study. :class:`PrunedAwareGPSampler` gives it every pruned trial as well, at the best value the
trial reported before it was stopped. That value understates what the configuration would have
reached, by about as much as the pruner judged it behind the others: the process learns "this
region was pruned early", as TPE's ranking of pruned trials by their last step does.
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


class PrunedAwareGPSampler(optuna.samplers.GPSampler):
    """Optuna's GP sampler, fitted to complete trials and to pruned trials at their best report.

    Single-objective studies only (tuner's studies maximise validation MRR@100). Start-up
    trials (``n_startup_trials``) count pruned trials with reports too, so the process takes
    over after that many trials whatever the pruner stopped.
    """

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return super().sample_relative(
            _PrunedAsComplete(study),  # type: ignore[arg-type]
            trial,
            search_space,
        )

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return super().infer_relative_search_space(
            _PrunedAsComplete(study),  # type: ignore[arg-type]
            trial,
        )


__all__: Sequence[str] = ("PrunedAwareGPSampler", "pruned_as_complete")
