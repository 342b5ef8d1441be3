"""Item-based objectives: fit item-item neighbours on train, score the item-based recommender."""

from __future__ import annotations

import abc
import inspect
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from tuner.errors import ConfigError, SolverError
from tuner.objectives._base import ATTR_REPORT_SE, ATTR_VAL_SE, K, Objective

if TYPE_CHECKING:
    import optuna
    import scipy.sparse as sp

    from tuner.metrics import RankingMetrics
    from tuner.similarities import Neighbors

# Arguments of a neighbour function that belong to the run (its cores, its progress, a subset
# of anchors for tests), not to the configuration.
_RUN_ARGUMENTS = frozenset({"items", "num_threads", "progress"})


class _FunctionParameters:
    """``NeighborObjective.parameters``: the keyword arguments of the neighbour function."""

    def __get__(self, obj: object, cls: type[NeighborObjective]) -> frozenset[str]:
        signature = inspect.signature(cls.neighbors_function())
        return frozenset(
            name
            for name, p in signature.parameters.items()
            if p.kind == inspect.Parameter.KEYWORD_ONLY and name not in _RUN_ARGUMENTS
        )


class NeighborObjective(Objective):
    """Validation MRR@100 of the item-based recommender built from one neighbour method.

    A subclass names the method (``name``) and its neighbour function
    (:meth:`neighbors_function`, e.g. :func:`tuner.similarities.slim_neighbors`); the
    parameters a search space may set are that function's keyword arguments (but
    ``num_threads``, ``progress`` and ``items``), so a best configuration calls it directly.
    Within :meth:`__call__`:

    1. ``space.suggest(trial)`` picks the keyword arguments;
    2. every item's neighbours are fitted on ``data.train``;
    3. the value is MRR@100 over all validation users of the item-based recommender: a user's
       score of item j is the sum of j's similarities to the items the user liked in train
       (j's top-K list), train likes excluded from the ranking
       (:func:`tuner.similarities.compare.item_recommender_scorer`, the similarity report's
       downstream figure); it is reported once, at step 1 (there are no iterations to prune
       between).

    User attributes as for factor trials where they mean something: ``val_mrr_se``,
    ``hr_at_100``, ``ndcg_at_100``, ``n_val_users``, ``fit_seconds``, ``eval_seconds``, and
    ``neighbours_mean`` (non-zero similarities per warm item before the top-K cut) plus the
    method's convergence counts where it has some (SLIM: ``n_not_converged``).

    The constructor takes the factor objectives' arguments, so the study machinery builds
    every objective the same way; ``report_users``, ``patience`` and ``min_gain`` have no use
    here and the methods are deterministic (``seed`` is not used).
    """

    kind: ClassVar[str] = "items"
    parameters: ClassVar[frozenset[str]] = _FunctionParameters()  # type: ignore[assignment]

    @classmethod
    @abc.abstractmethod
    def neighbors_function(cls) -> Callable[..., Neighbors]:
        """The neighbour function: ``f(user_items, **params, num_threads=T) -> Neighbors``."""

    @classmethod
    def fit_neighbors(
        cls, user_items: sp.csr_matrix, params: Mapping[str, Any], *, num_threads: int = 0
    ) -> Neighbors:
        """Every item's neighbours on ``user_items`` (n_users, n_items) under ``params``.

        Raises:
            ConfigError: a parameter the method does not take, or a value it refuses.
        """
        unknown = sorted(set(params) - cls.parameters)
        if unknown:
            raise ConfigError(
                f"Method {cls.name!r} takes no parameter(s) {unknown}; "
                f"known: {sorted(cls.parameters)}."
            )
        return cls.neighbors_function()(user_items, **dict(params), num_threads=num_threads)

    @staticmethod
    def score(
        neighbors: Neighbors, user_items: sp.csr_matrix, heldout: sp.csr_matrix
    ) -> RankingMetrics:
        """MRR@100 (HR, NDCG) of the item-based recommender of ``neighbors`` on ``heldout``,
        scoring from ``user_items`` and excluding them from the ranking."""
        from tuner.metrics import evaluate_scorer
        from tuner.similarities.compare import item_recommender_scorer

        scorer = item_recommender_scorer(neighbors, user_items)
        return evaluate_scorer(scorer, user_items, heldout, k=K)

    def build(self, params: Mapping[str, Any]) -> Callable[[sp.csr_matrix], Neighbors]:
        """The method with ``params``, unfitted: call it on a (n_users, n_items) matrix."""
        return lambda user_items: self.fit_neighbors(
            user_items, params, num_threads=self.num_threads
        )

    def __call__(self, trial: optuna.trial.Trial) -> float:
        import numpy as np

        params = self.space.suggest(trial)
        t0 = time.perf_counter()
        neighbors = self.build(params)(self.data.train)
        fit_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        metrics = self.score(neighbors, self.data.train, self.data.val)
        eval_seconds = time.perf_counter() - t1
        warm = np.diff(self.data.train.tocsc().indptr) > 0
        value = float(metrics.mrr)
        trial.set_user_attr("fit_seconds", round(fit_seconds, 4))
        trial.set_user_attr("eval_seconds", round(eval_seconds, 4))
        trial.set_user_attr(ATTR_REPORT_SE, float(metrics.mrr_se))
        trial.set_user_attr(ATTR_VAL_SE, float(metrics.mrr_se))
        trial.set_user_attr("n_val_users", int(metrics.n_users))
        trial.set_user_attr("hr_at_100", float(metrics.hr))
        trial.set_user_attr("ndcg_at_100", float(metrics.ndcg))
        trial.set_user_attr(
            "neighbours_mean", float(neighbors.n_nonzero[warm].mean()) if warm.any() else 0.0
        )
        if "n_not_converged" in neighbors.info:
            trial.set_user_attr("n_not_converged", int(neighbors.info["n_not_converged"]))
        if not math.isfinite(value):
            trial.set_user_attr("fail_reason", f"validation MRR@100 is {value}")
            raise SolverError(f"Validation MRR@100 is {value} for parameters {params}.")
        trial.report(value, step=1)
        return value
