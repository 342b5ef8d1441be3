"""Probes: sample a costly parameter's cheap end, and carry the best configurations up.

A numeric parameter with ``sample_high`` in its space file (the wide iALS space's ``factors``)
is sampled in ``[low, sample_high]`` only. Above that, up to ``high``, it is reached by
*probes*: copies of a trial with that one parameter doubled, enqueued by the workers
(:class:`EnqueueProbes`) and never pruned (:data:`ATTR_PROBE`; a one-iteration score would not
judge them fairly). Two kinds of trial get a probe, once each:

- the best sampled trial, when its value sits in the top half-octave of the sampled range
  (>= ``sample_high / sqrt 2``): the probe takes it to ``2 sample_high``;
- a probe that beat the trial it doubled by more than its standard error (``val_mrr_se``)
  and scored at least as well as every other probe of the same value: the next probe doubles
  it again, until ``high``. A gain within noise does not pay for a step that costs about
  four times the last one (a trial's cost grows with the square of the factors).

Once a trial of one level (the sampled trials, or the probes of one value) has been doubled,
another of that level is doubled only when its value beats every doubled one's by more than
its standard error (``val_mrr_se``): a new best within noise of a configuration already
carried up would repeat that test at several times the cost of a sampled trial.

So the sampler spends its trials where they are cheap, and the factors climb 256, 512, 1024
only while each step beats the one below beyond noise, with the best configuration of each
step. This is how the dimension is handled in Rendle et al., "Revisiting the Performance of
iALS on Item Recommendation Benchmarks": in the parametrisation of the wide space (the
penalty scaled by the row's likes) the best penalty and confidence move little as the factors
double, while a trial's cost grows with their square.

Every trial's distribution is the parameter's full range (importances and the dashboard's
plots need one search space); the worker's sampler (:class:`tuner.study.samplers.
RangeLimitedSampler`) narrows what it samples from. All decisions are read from the study's
trials (values, which trials are probes of which), so workers on one storage agree without
further state; two workers finishing at the same moment may enqueue one probe twice, and
the worker that starts the second copy fails it at once as surplus, outside the budget.
Probes run under the TPE variants and random search; the Gaussian process and CMA-ES model
the whole box, so under them the parameter is sampled over its full range and no probes are
enqueued.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuner.objectives import ATTR_PROBE, ATTR_VAL_SE

if TYPE_CHECKING:
    import optuna

    from tuner.study.spaces import Param, SearchSpace

#: The trial attribute of a probe naming the trial it doubled.
ATTR_PROBE_OF = "probe_of"
#: The samplers (``--sampler``) that take a narrowed range and probes; the others sample the
#: full range.
PROBING_SAMPLERS = ("tpe", "tpe-multivariate", "tpe-pruned", "random")
#: A best sampled value at or above ``sample_high / TOP`` (the top half-octave) gets a probe.
TOP = math.sqrt(2.0)


def probing(study: optuna.Study) -> bool:
    """Whether ``study``'s sampler (recorded by ``run_study``; TPE for a study made by other
    means) takes probes (:data:`PROBING_SAMPLERS`)."""
    from tuner.study.worker import ATTR_SAMPLER

    return study.user_attrs.get(ATTR_SAMPLER, "tpe") in PROBING_SAMPLERS


def sample_highs(space: SearchSpace, study: optuna.Study) -> dict[str, float]:
    """``{name: sample_high}`` of the parameters to sample below their ``high`` in ``study``."""
    if not probing(study):
        return {}
    return {p.name: float(p.sample_high) for p in space.params if p.sample_high is not None}


def doubled(param: Param, value: float) -> float:
    """``value`` doubled, capped at the parameter's ``high`` (an int for an int parameter)."""
    assert param.high is not None
    out = min(float(param.high), 2.0 * float(value))
    return int(out) if param.type == "int" else out


def _se(trial: optuna.trial.FrozenTrial) -> float:
    """The standard error of ``trial``'s validation MRR (0 when it has none)."""
    return float(trial.user_attrs.get(ATTR_VAL_SE) or 0.0)


def probes_due(
    space: SearchSpace, trials: Sequence[optuna.trial.FrozenTrial]
) -> list[tuple[dict[str, Any], dict[str, Any], int]]:
    """The probes to enqueue now, as (parameters, {probed parameter: value}, number of the
    trial doubled) triples (the rules are in the module's docstring)."""
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    value = {t.number: float(t.value) for t in complete}  # type: ignore[arg-type]
    done = {
        (t.user_attrs[ATTR_PROBE_OF], name)
        for t in trials
        if ATTR_PROBE_OF in t.user_attrs
        for name in (t.user_attrs.get(ATTR_PROBE) or {})
    }
    sampled = [t for t in complete if not t.user_attrs.get(ATTR_PROBE)]
    due = []
    for p in space.params:
        if p.sample_high is None:
            continue
        assert p.high is not None
        steps = []
        if sampled:
            best = max(sampled, key=lambda t: value[t.number])
            if float(best.params.get(p.name, -math.inf)) >= p.sample_high / TOP:
                steps.append((best, doubled(p, p.sample_high), sampled))
        probes = [t for t in complete if p.name in (t.user_attrs.get(ATTR_PROBE) or {})]
        for t in probes:
            parent = t.user_attrs.get(ATTR_PROBE_OF, -1)
            level = t.params[p.name]
            same_level = [u for u in probes if u.params[p.name] == level]
            if (
                parent in value
                and value[t.number] > value[parent] + _se(t)
                and value[t.number] >= max(value[u.number] for u in same_level)
                and float(level) < p.high
            ):
                steps.append((t, doubled(p, level), same_level))
        for origin, probed, level_trials in steps:
            if (origin.number, p.name) in done:
                continue
            # Once a configuration of this level went up, another goes only when it is
            # better by more than its standard error: one within noise would repeat the test.
            carried = [value[u.number] for u in level_trials if (u.number, p.name) in done]
            if carried and value[origin.number] <= max(carried) + _se(origin):
                continue
            done.add((origin.number, p.name))
            params = dict(origin.params)
            params[p.name] = probed
            due.append((params, {p.name: probed}, origin.number))
    return due


class EnqueueProbes:
    """``study.optimize`` callback: after each complete trial, enqueue the probes that are due
    (:func:`probes_due`) while the budget has room for them.

    Args:
        space: the study's space (nothing to do without a ``sample_high``).
        room: ``room(study)``, how many more trials the study's budget holds.
    """

    def __init__(self, space: SearchSpace, room: Any) -> None:
        self.space = space
        self.room = room
        self.active = any(p.sample_high is not None for p in space.params)

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        from optuna.trial import TrialState

        if not self.active or trial.state != TrialState.COMPLETE or not probing(study):
            return
        due = probes_due(self.space, study.get_trials(deepcopy=False))
        for params, probed, origin in due[: max(0, int(self.room(study)))]:
            study.enqueue_trial(params, user_attrs={ATTR_PROBE: probed, ATTR_PROBE_OF: origin})


__all__ = [
    "ATTR_PROBE_OF",
    "PROBING_SAMPLERS",
    "TOP",
    "EnqueueProbes",
    "doubled",
    "probes_due",
    "probing",
    "sample_highs",
]
