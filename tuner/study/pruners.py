"""A pruner that knows how noisy a validation MRR is."""

from __future__ import annotations

import math

import optuna

from tuner.objectives import ATTR_PROBE, ATTR_REPORT_SE


def _value_at(trial: optuna.trial.FrozenTrial, step: int) -> float | None:
    """The trial's reported value at ``step`` or, when it stopped before, at its last step."""
    steps = [s for s in trial.intermediate_values if s <= step]
    return trial.intermediate_values[max(steps)] if steps else None


class NoiseAwarePruner(optuna.pruners.BasePruner):
    """Stop a trial once it trails the best finished trial by more than the noise.

    At each step (a solver iteration) the trial's reported value, its best validation
    MRR@100 so far, is compared with the best value any COMPLETE trial had reached by the same
    step. The trial is pruned when it is behind by more than ``z`` standard errors of the
    difference, ``z * sqrt(se_trial**2 + se_best**2)``, each standard error being the one the
    objective stores with the value (the ``report_mrr_se`` trial attribute). A trial within
    noise of the best runs on however many others it trails: unlike successive halving,
    nothing is pruned for its rank alone, so a one-iteration score of a few hundred users
    cannot end a configuration as good as the best.

    Args:
        z: how many standard errors behind the best a trial must be to stop.
        n_warmup_steps: never prune at or before this step.
        n_startup_trials: COMPLETE trials needed before pruning starts.
    """

    def __init__(self, z: float = 2.0, n_warmup_steps: int = 0, n_startup_trials: int = 1) -> None:
        if not z > 0:
            raise ValueError(f"z must be > 0, got {z!r}.")
        self.z = float(z)
        self.n_warmup_steps = int(n_warmup_steps)
        self.n_startup_trials = int(n_startup_trials)

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step <= self.n_warmup_steps:
            return False
        value = trial.intermediate_values[step]
        se = trial.user_attrs.get(ATTR_REPORT_SE)
        if se is None or not math.isfinite(value):
            return False
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if len(complete) < self.n_startup_trials:
            return False
        best: tuple[float, float] | None = None
        for other in complete:
            theirs = _value_at(other, step)
            their_se = other.user_attrs.get(ATTR_REPORT_SE)
            if theirs is None or their_se is None or not math.isfinite(theirs):
                continue
            if best is None or theirs > best[0]:
                best = (theirs, float(their_se))
        if best is None:
            return False
        return value + self.z * math.hypot(float(se), best[1]) < best[0]


class MarginHalvingPruner(optuna.pruners.BasePruner):
    """Successive halving that lets a trial within its standard error of the cut go on.

    Rungs are as in Optuna's asynchronous successive halving: at step ``min_resource *
    reduction_factor**r`` a trial competes with every trial that reported at that step, and
    goes on when it is in their top ``1 / reduction_factor`` (while fewer than
    ``reduction_factor`` trials have reached the rung, that means the best of them). Here a
    trial also goes on when its value plus ``z`` times its standard error (``report_mrr_se``)
    reaches that cut: ranks within a few hundred users' noise of each other do not end a
    configuration, while one clearly behind stops as early as under plain halving. The rung
    values are read from the trials' reports, so every worker judges alike without state;
    probes (never pruned, so never at a rung under plain halving) do not compete.

    Args:
        min_resource: the first rung's step.
        reduction_factor: the share ``1 / reduction_factor`` kept at each rung.
        z: the standard errors of margin.
    """

    def __init__(self, min_resource: int = 1, reduction_factor: int = 3, z: float = 1.0) -> None:
        if min_resource < 1 or reduction_factor < 2 or not z >= 0:
            raise ValueError(
                f"need min_resource >= 1, reduction_factor >= 2, z >= 0; got "
                f"{min_resource!r}, {reduction_factor!r}, {z!r}."
            )
        self.min_resource = int(min_resource)
        self.reduction_factor = int(reduction_factor)
        self.z = float(z)

    def _is_rung(self, step: int) -> bool:
        rung = self.min_resource
        while rung < step:
            rung *= self.reduction_factor
        return rung == step

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or not self._is_rung(step):
            return False
        value = trial.intermediate_values[step]
        if not math.isfinite(value):
            return True
        competing = [value]
        for other in study.get_trials(deepcopy=False):
            if (
                other.number != trial.number
                and step in other.intermediate_values
                and not other.user_attrs.get(ATTR_PROBE)
            ):
                theirs = other.intermediate_values[step]
                if math.isfinite(theirs):
                    competing.append(theirs)
        competing.sort(reverse=True)
        keep = max(1, len(competing) // self.reduction_factor)
        cut = competing[keep - 1]
        se = trial.user_attrs.get(ATTR_REPORT_SE)
        margin = self.z * float(se) if se is not None and math.isfinite(float(se)) else 0.0
        return value + margin < cut
