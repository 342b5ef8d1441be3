"""Growing ranges: search a parameter's cheap end first, and widen it only where it pays.

A numeric parameter with ``start_high`` in its space file (the wide iALS space's ``factors``)
is sampled in ``[low, start_high]`` at first. Whenever a trial completes and the study's best
trial sits in the top half-octave of the range open so far (value >= open high / sqrt 2), one
*probe* is enqueued: the best trial's parameters with that one doubled (capped at ``high``).
The range doubles for the sampled trials once a value above it becomes the best, so it opens
level by level (128, 256, 512, 1024) while each step improves, and stays small on data where
larger models do not score better. A probe is not pruned (:data:`ATTR_PROBE`): it is one
deliberate comparison, and a one-iteration score would not be a fair one.

Every trial's distribution is the parameter's full range, so importances, plots and the
dashboard see one search space; the open range is a trial attribute (:data:`ATTR_RANGE`)
that the worker's sampler (:class:`tuner.study.samplers.RangeLimitedSampler`) keeps to.
Everything is read from the study's trials (the ranges they recorded, which trial is best,
which probes exist), so any number of
workers on one storage agree without extra state; two workers finishing at once may enqueue
the same probe twice, which costs one trial.

Factors are the parameter this is for: a trial's cost grows with their square while the best
``lambda`` and ``alpha`` move little as they double (Rendle et al., "Revisiting the Performance
of iALS on Item Recommendation Benchmarks", tune in the same parametrisation across
dimensions), so the cheap trials find those and the probes carry them up.

Ranges grow under TPE (both variants) and random search, which take a search space whose
bounds move. The Gaussian process and CMA-ES keep a model of the whole space, so under them a
growing parameter spans its full range from the first trial, and no probes are enqueued.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuner.objectives import ATTR_PROBE

if TYPE_CHECKING:
    import optuna

    from tuner.study.spaces import Param, SearchSpace

#: The trial attribute holding the open range of each growing parameter: ``{name: high}``.
ATTR_RANGE = "open_high"
#: The trial attribute of a probe naming the trial whose parameters it carries up.
ATTR_PROBE_OF = "probe_of"
#: The samplers (``--sampler``) under which ranges grow; the others search the full range.
GROWING_SAMPLERS = ("tpe", "tpe-multivariate", "random")
#: A best value at or above ``open high / TOP`` (the range's top half-octave) calls a probe.
TOP = math.sqrt(2.0)


def _next_level(param: Param, high: float) -> float:
    """The range's next high: doubled, capped at the parameter's ``high``."""
    assert param.high is not None
    doubled = high * 2
    return float(min(param.high, int(doubled) if param.type == "int" else doubled))


def level_of(param: Param, value: float) -> float:
    """The smallest high on the ladder start_high, 2 start_high, ... that holds ``value``."""
    assert param.start_high is not None and param.high is not None
    high = float(param.start_high)
    while high < value and high < param.high:
        high = _next_level(param, high)
    return high


def _fixed(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """The parameters a trial was given (enqueued) rather than sampled."""
    return dict(trial.system_attrs.get("fixed_params", {}))


def open_high(
    param: Param,
    trials: Sequence[optuna.trial.FrozenTrial],
    best: optuna.trial.FrozenTrial | None,
) -> float:
    """The high the sampled trials use now: the widest any sampled trial used, widened to
    hold the best trial's value."""
    high = float(param.start_high)  # type: ignore[arg-type]
    for t in trials:
        used = (t.user_attrs.get(ATTR_RANGE) or {}).get(param.name)
        if used is not None and param.name not in _fixed(t):
            high = max(high, float(used))
    if best is not None and param.name in best.params:
        high = max(high, level_of(param, float(best.params[param.name])))
    return high


def grows(study: optuna.Study) -> bool:
    """Whether ranges grow in ``study``: its sampler (recorded by ``run_study``; TPE for a
    study made by other means) samples each parameter on its own."""
    from tuner.study.worker import ATTR_SAMPLER

    return study.user_attrs.get(ATTR_SAMPLER, "tpe") in GROWING_SAMPLERS


def _best(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    try:
        return study.best_trial
    except ValueError:  # no complete trial yet
        return None


def open_highs(space: SearchSpace, study: optuna.Study) -> dict[str, float]:
    """The high each growing parameter of ``space`` takes in ``study`` now; empty for a space
    without ``start_high`` and for a study whose sampler does not grow ranges (:func:`grows`)."""
    growing = [p for p in space.params if p.start_high is not None]
    if not growing or not grows(study):
        return {}
    trials = study.get_trials(deepcopy=False)
    best = _best(study)
    return {p.name: open_high(p, trials, best) for p in growing}


def current_highs(space: SearchSpace, trial: Any) -> dict[str, float]:
    """:func:`open_highs` of ``trial``'s study (empty outside a study, for
    ``optuna.trial.FixedTrial``)."""
    study = getattr(trial, "study", None)
    return {} if study is None else open_highs(space, study)


def probes_due(
    space: SearchSpace,
    trials: Sequence[optuna.trial.FrozenTrial],
    best: optuna.trial.FrozenTrial | None,
) -> list[tuple[dict[str, Any], dict[str, float]]]:
    """The probes to enqueue now: (parameters, {grown parameter: its new value}) pairs, one per
    growing parameter whose best value sits at the top of its open range, unless the best
    trial has had that probe already. A new best at the top gets its own probe: the one before
    carried other parameters up."""
    if best is None:
        return []
    done = [
        t.user_attrs.get(ATTR_PROBE) or {}
        for t in trials
        if t.user_attrs.get(ATTR_PROBE_OF) == best.number
    ]
    due = []
    for p in space.params:
        if p.start_high is None or p.name not in best.params:
            continue
        assert p.high is not None
        high = open_high(p, trials, best)
        if high >= p.high or float(best.params[p.name]) < high / TOP:
            continue
        value: float = _next_level(p, high)
        if p.type == "int":
            value = int(value)
        if any(d.get(p.name) == value for d in done):
            continue
        params = dict(best.params)
        params[p.name] = value
        due.append((params, {p.name: value}))
    return due


class GrowRanges:
    """``study.optimize`` callback: after each complete trial, enqueue the probes that are due
    (:func:`probes_due`) while the budget has room for them.

    Args:
        space: the study's space (nothing to do without a ``start_high``).
        room: ``room(study)``, how many more trials the study's budget holds.
    """

    def __init__(self, space: SearchSpace, room: Any) -> None:
        self.space = space
        self.room = room
        self.active = any(p.start_high is not None for p in space.params)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        from optuna.trial import TrialState

        if not self.active or trial.state != TrialState.COMPLETE or not grows(study):
            return
        best = _best(study)
        due = probes_due(self.space, study.get_trials(deepcopy=False), best)
        for params, grown in due[: max(0, int(self.room(study)))]:
            assert best is not None
            study.enqueue_trial(params, user_attrs={ATTR_PROBE: grown, ATTR_PROBE_OF: best.number})


__all__ = [
    "ATTR_PROBE_OF",
    "TOP",
    "GrowRanges",
    "current_highs",
    "level_of",
    "open_high",
    "probes_due",
]
