"""A pruner that knows how noisy a validation MRR is."""

from __future__ import annotations

import math

import optuna

from tuner.objectives import ATTR_REPORT_SE


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
