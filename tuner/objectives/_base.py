"""The contract every objective follows, and the trial loop they share."""

from __future__ import annotations

import abc
import math
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from tuner.errors import SolverError

if TYPE_CHECKING:
    import optuna

    from tuner.data import PreparedData

METRIC = "val_mrr_at_100"
K = 100


class Space(Protocol):
    """What an objective needs from a search space (:class:`tuner.study.spaces.SearchSpace`)."""

    def suggest(self, trial: optuna.trial.BaseTrial) -> dict[str, Any]: ...


class Objective(abc.ABC):
    """Fit one model per trial on the prepared train split and score validation MRR@100.

    A subclass names its solver and the constructor kwargs a search space may set; the trial
    loop is shared. Within :meth:`__call__`:

    1. ``space.suggest(trial)`` picks the constructor kwargs;
    2. the model is fitted on ``data.train`` with a callback after every iteration that scores
       validation MRR@100 (on a fixed, seeded subsample of validation users when there are more
       than ``report_users``), calls ``trial.report(value, step=iteration)`` and raises
       :class:`optuna.TrialPruned` when ``trial.should_prune()``;
    3. the returned value is MRR@100 over *all* validation users.

    User attributes: ``hr_at_100``, ``ndcg_at_100``, ``fit_seconds``, ``eval_seconds``,
    ``iterations_run``, and ``fail_reason`` when the solver raises
    :class:`~tuner.errors.SolverError` (the error is re-raised so Optuna records the trial as
    FAIL; run the study with ``catch=(SolverError,)`` to keep going).

    The data is loaded by the caller once per worker process, not once per trial.

    Args:
        data: the prepared split.
        space: anything with ``suggest(trial) -> dict`` of constructor kwargs.
        num_threads: numba threads for fitting and scoring (0 = numba's default).
        report_users: cap on validation users scored for the intermediate reports.
        seed: seeds the subsample of validation users and the solver's initialisation.
    """

    name: ClassVar[str]
    #: Constructor kwargs a search space may set (searched or fixed).
    parameters: ClassVar[frozenset[str]]

    def __init__(
        self,
        data: PreparedData,
        space: Space,
        *,
        num_threads: int = 0,
        report_users: int | None = 5000,
        seed: int = 0,
    ) -> None:
        self.data = data
        self.space = space
        self.num_threads = num_threads
        self.seed = seed
        users = np.flatnonzero(np.diff(data.val.indptr)).astype(np.int64)
        if report_users is not None and report_users < users.size:
            rng = np.random.default_rng(seed)
            users = np.sort(rng.choice(users, size=report_users, replace=False))
            self.report_users: np.ndarray | None = users
        else:
            self.report_users = None

    @classmethod
    @abc.abstractmethod
    def model_class(cls) -> type:
        """The solver class; ``model_class()(**params, num_threads=n)`` builds a model."""

    def build(self, params: Mapping[str, Any]) -> Any:
        """A fresh, unfitted solver for ``params``."""
        kwargs = {"random_state": self.seed, **params, "num_threads": self.num_threads}
        return self.model_class()(**kwargs)

    def _score(self, model: Any, users: np.ndarray | None) -> Any:
        from tuner.metrics import evaluate

        return evaluate(
            model.user_factors,
            model.item_factors,
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
        eval_seconds = 0.0
        last: dict[str, Any] = {}

        def report(iteration: int, fitted: Any) -> bool:
            nonlocal eval_seconds
            t0 = time.perf_counter()
            metrics = self._score(fitted, self.report_users)
            eval_seconds += time.perf_counter() - t0
            last.update(iteration=iteration, metrics=metrics)
            with warnings.catch_warnings():
                # A heartbeat retry inherits the dead trial's reports; Optuna keeps those.
                warnings.filterwarnings("ignore", message="The reported value is ignored")
                trial.report(float(metrics.mrr), step=iteration)
            # Pruning at the last iteration saves nothing and throws away a finished fit.
            if iteration < total and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after iteration {iteration} of {total}")
            return False

        t_fit = time.perf_counter()

        def record_time() -> None:
            fit_seconds = time.perf_counter() - t_fit - eval_seconds
            trial.set_user_attr("fit_seconds", round(fit_seconds, 4))
            trial.set_user_attr("eval_seconds", round(eval_seconds, 4))
            trial.set_user_attr("iterations_run", int(last.get("iteration", 0)))

        try:
            model.fit(self.data.train, callback=report)
        except optuna.TrialPruned:
            record_time()
            raise
        except SolverError as exc:
            record_time()
            trial.set_user_attr("fail_reason", str(exc))
            raise
        record_time()
        if self.report_users is None and last.get("iteration") == total:
            final = last["metrics"]
        else:
            t0 = time.perf_counter()
            final = self._score(model, None)
            eval_seconds += time.perf_counter() - t0
            trial.set_user_attr("eval_seconds", round(eval_seconds, 4))
        value = float(final.mrr)
        trial.set_user_attr("hr_at_100", float(final.hr))
        trial.set_user_attr("ndcg_at_100", float(final.ndcg))
        if not math.isfinite(value):
            trial.set_user_attr("fail_reason", f"validation MRR@100 is {value}")
            raise SolverError(f"Validation MRR@100 is {value} for parameters {params}.")
        return value
