"""The contract every objective follows, and the trial loop they share."""

from __future__ import annotations

import abc
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from tuner.errors import SolverError

if TYPE_CHECKING:
    import optuna

    from tuner.data import PreparedData

METRIC = "val_mrr_at_100"
K = 100
#: Iterations without a new best validation MRR@100 before a trial's fit stops.
DEFAULT_PATIENCE = 1
#: A new best that improves the last one by less than this share of it does not reset patience.
DEFAULT_MIN_GAIN = 0.0
#: The trial attribute holding the standard error of a trial's value (its validation MRR@100).
ATTR_VAL_SE = "val_mrr_se"
#: The trial attribute naming the iteration a trial's value belongs to (a refit that runs that
#: many iterations reproduces it).
ATTR_BEST_ITERATION = "best_iteration"
#: The trial attribute holding the standard error of the value last reported (the best
#: iteration's so far); the noise-aware pruner weighs reported values by it.
ATTR_REPORT_SE = "report_mrr_se"
#: The trial attribute of a probe, a copy of a trial with one parameter doubled that the study
#: enqueued (:mod:`tuner.study.probes`): ``{parameter: value}``. A probe is never pruned.
ATTR_PROBE = "probe"


class Space(Protocol):
    """What an objective needs from a search space (:class:`tuner.study.spaces.SearchSpace`)."""

    def suggest(self, trial: optuna.trial.BaseTrial) -> dict[str, Any]: ...


class _SolverParameters:
    """``Objective.parameters``: the solver's constructor arguments, read from its signature."""

    def __get__(self, obj: object, cls: type[Objective]) -> frozenset[str]:
        from tuner.solvers import model_parameters

        return model_parameters(cls.name)


@dataclass
class Patience:
    """When a fit stops early: after ``patience`` iterations in a row without a gain.

    An iteration is a new best when it scores above every earlier one (the first always is); it
    resets the count only when it improves the best by at least ``min_gain`` times it (0: any
    improvement does). ``patience`` None never stops a fit. Feed it every iteration's score with
    :meth:`update`, then ask :meth:`ran_out`.
    """

    patience: int | None = DEFAULT_PATIENCE
    min_gain: float = DEFAULT_MIN_GAIN
    best_iteration: int = 0
    best_value: float = -math.inf
    gained: int = 0

    def update(self, iteration: int, value: float) -> bool:
        """Take ``iteration``'s (1-based) score; True when it is the new best."""
        if self.best_iteration and not value > self.best_value:
            return False
        if not self.best_iteration or value - self.best_value >= self.min_gain * self.best_value:
            self.gained = iteration
        self.best_iteration, self.best_value = iteration, value
        return True

    def ran_out(self, iteration: int) -> bool:
        """True when the fit should stop after ``iteration``."""
        return self.patience is not None and iteration - self.gained >= self.patience


@dataclass
class _Best:
    """What the best iteration so far in a fit scored, and its factors."""

    metrics: Any = None
    user_factors: np.ndarray | None = None
    item_factors: np.ndarray | None = None


class Objective(abc.ABC):
    """Fit one model per trial on the prepared train split and score validation MRR@100.

    A subclass names its solver (``name``, a key of :data:`tuner.solvers.MODELS`); the
    parameters a search space may set are that solver's constructor arguments, and the trial
    loop is shared. Within :meth:`__call__`:

    1. ``space.suggest(trial)`` picks the constructor kwargs; ``iterations`` is the most the
       trial may run (searched or fixed);
    2. the model is fitted on ``data.train`` with a callback after every iteration that scores
       validation MRR@100 (on a fixed, seeded subsample of validation users when there are more
       than ``report_users``), keeps the factors of the best iteration so far, calls
       ``trial.report(best_so_far, step=iteration)`` and raises :class:`optuna.TrialPruned`
       when ``trial.should_prune()``; the fit stops early once ``patience`` iterations in a
       row have not improved on the best by at least ``min_gain`` times it (a smaller gain
       still makes a new best, whose factors are kept, but the curve has flattened);
    3. the returned value is MRR@100 over *all* validation users of the best iteration's
       factors (Rendle et al., "Revisiting the Performance of iALS on Item Recommendation
       Benchmarks", score every epoch rather than search the epoch count): scores often peak,
       then fall as the factors overfit, and the last iteration would hide the peak.

    User attributes: ``best_iteration`` (the iteration the value belongs to; a refit with
    ``iterations=best_iteration`` reproduces it), ``iterations_run``, ``val_mrr_se`` (the
    standard error of the value), ``hr_at_100``, ``ndcg_at_100``, ``n_val_users``,
    ``fit_seconds``, ``eval_seconds``, ``stopped_early`` (patience ran out), ``diverged`` (the
    solver blew up after the best iteration; the trial keeps that iteration), and
    ``fail_reason`` when the solver raises :class:`~tuner.errors.SolverError` before any
    iteration could be scored (the error is re-raised so Optuna records the trial as FAIL;
    run the study with ``catch=(SolverError,)`` to keep going).

    The data is loaded by the caller once per worker process, not once per trial.

    Args:
        data: the prepared split.
        space: anything with ``suggest(trial) -> dict`` of constructor kwargs.
        num_threads: numba threads for fitting and scoring (0 = numba's default).
        report_users: cap on validation users scored for the intermediate reports.
        seed: seeds the subsample of validation users and the solver's initialisation.
        patience: stop a fit after this many iterations without a new best (None: never).
        min_gain: the relative gain over the best so far an iteration needs to reset
            ``patience`` (0.01: 1%; 0: any gain does).
    """

    name: ClassVar[str]
    #: What a trial fits, which decides what the study machinery can do with its best
    #: configuration: "factors" (a factor model: ``tuner fit``, a model directory on export)
    #: or "items" (item-item neighbours, :class:`tuner.objectives.NeighborObjective`).
    kind: ClassVar[str] = "factors"
    #: Constructor kwargs a search space may set (searched or fixed).
    parameters: ClassVar[frozenset[str]] = _SolverParameters()  # type: ignore[assignment]

    def __init__(
        self,
        data: PreparedData,
        space: Space,
        *,
        num_threads: int = 0,
        report_users: int | None = 5000,
        seed: int = 0,
        patience: int | None = DEFAULT_PATIENCE,
        min_gain: float = DEFAULT_MIN_GAIN,
    ) -> None:
        self.data = data
        self.space = space
        self.num_threads = num_threads
        self.seed = seed
        self.patience = patience
        self.min_gain = float(min_gain)
        users = np.flatnonzero(np.diff(data.val.indptr)).astype(np.int64)
        if report_users is not None and report_users < users.size:
            rng = np.random.default_rng(seed)
            users = np.sort(rng.choice(users, size=report_users, replace=False))
            self.report_users: np.ndarray | None = users
        else:
            self.report_users = None

    def build(self, params: Mapping[str, Any]) -> Any:
        """A fresh, unfitted solver for ``params`` (:func:`tuner.solvers.build_model`)."""
        from tuner.solvers import build_model

        return build_model(self.name, params, seed=self.seed, num_threads=self.num_threads)

    def _score(self, user_factors: np.ndarray, item_factors: np.ndarray, users: Any) -> Any:
        from tuner.metrics import evaluate

        return evaluate(
            user_factors,
            item_factors,
            self.data.train,
            self.data.val,
            k=K,
            users=users,
            num_threads=self.num_threads,
        )

    def __call__(self, trial: optuna.trial.Trial) -> float:
        import optuna

        params = self.space.suggest(trial)
        model = self.build(params)
        total = int(getattr(model, "iterations", params.get("iterations", 0)))
        prunable = not trial.user_attrs.get(ATTR_PROBE)
        eval_seconds = 0.0
        best = _Best()
        rule = Patience(self.patience, self.min_gain)
        state: dict[str, Any] = {"iteration": 0, "stopped_early": False}

        def report(iteration: int, fitted: Any) -> bool:
            nonlocal eval_seconds
            t0 = time.perf_counter()
            metrics = self._score(fitted.user_factors, fitted.item_factors, self.report_users)
            state["iteration"] = iteration
            value = float(metrics.mrr)
            if rule.update(iteration, value):
                best.metrics = metrics
                best.user_factors = np.array(fitted.user_factors, copy=True)
                best.item_factors = np.array(fitted.item_factors, copy=True)
                trial.set_user_attr(ATTR_REPORT_SE, float(metrics.mrr_se))
            eval_seconds += time.perf_counter() - t0
            with warnings.catch_warnings():
                # A heartbeat retry inherits the dead trial's reports; Optuna keeps those.
                warnings.filterwarnings("ignore", message="The reported value is ignored")
                trial.report(rule.best_value, step=iteration)
            # Pruning at the last iteration saves nothing and throws away a finished fit.
            if prunable and iteration < total and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after iteration {iteration} of {total}")
            if iteration < total and rule.ran_out(iteration):
                state["stopped_early"] = True
                return True
            return False

        t_fit = time.perf_counter()

        def record_time() -> None:
            fit_seconds = time.perf_counter() - t_fit - eval_seconds
            trial.set_user_attr("fit_seconds", round(fit_seconds, 4))
            trial.set_user_attr("eval_seconds", round(eval_seconds, 4))
            trial.set_user_attr("iterations_run", int(state["iteration"]))

        try:
            model.fit(self.data.train, callback=report)
        except optuna.TrialPruned:
            record_time()
            raise
        except SolverError as exc:
            record_time()
            if rule.best_iteration == 0:
                trial.set_user_attr("fail_reason", str(exc))
                raise
            # The iterations before the blow-up stand: a refit that stops at the best one
            # reproduces its factors.
            trial.set_user_attr("diverged", str(exc))
        record_time()
        if rule.best_iteration == 0:  # iterations == 0: the initialisation is the model
            best.user_factors, best.item_factors = model.user_factors, model.item_factors
        if self.report_users is None and best.metrics is not None:
            final = best.metrics
        else:
            t0 = time.perf_counter()
            final = self._score(best.user_factors, best.item_factors, None)  # type: ignore[arg-type]
            eval_seconds += time.perf_counter() - t0
            trial.set_user_attr("eval_seconds", round(eval_seconds, 4))
        value = float(final.mrr)
        trial.set_user_attr(ATTR_BEST_ITERATION, int(rule.best_iteration))
        trial.set_user_attr("stopped_early", bool(state["stopped_early"]))
        trial.set_user_attr(ATTR_VAL_SE, float(final.mrr_se))
        trial.set_user_attr("n_val_users", int(final.n_users))
        trial.set_user_attr("hr_at_100", float(final.hr))
        trial.set_user_attr("ndcg_at_100", float(final.ndcg))
        if not math.isfinite(value):
            trial.set_user_attr("fail_reason", f"validation MRR@100 is {value}")
            raise SolverError(f"Validation MRR@100 is {value} for parameters {params}.")
        return value
