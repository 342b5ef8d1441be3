"""All methods on one prepared split: every method's neighbours and their comparison.

Computes only: writing the neighbour files, ``comparison.json`` and the report is the caller's
(:func:`tuner.pipeline.write_similarities`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuner.errors import ConfigError
from tuner.similarities._common import Neighbors, Progress
from tuner.similarities.slim import DEFAULT_ALPHA, DEFAULT_L1_RATIO
from tuner.solvers import MODELS, model_label

# methods computed from the user-item matrix alone; every solver of tuner.solvers.MODELS
# adds a factor method under its registry key
ITEM_METHODS: tuple[str, ...] = ("cosine", "slim")


def factor_methods() -> tuple[str, ...]:
    """The factor methods: the solvers registered in :data:`tuner.solvers.MODELS`, in order."""
    return tuple(MODELS)


def available_methods() -> tuple[str, ...]:
    """Every similarity method: the item methods, then the factor methods."""
    return ITEM_METHODS + factor_methods()


# the methods known when this module was imported (defaults and help texts)
METHODS: tuple[str, ...] = available_methods()


@dataclass
class SimilarityResults:
    """What :func:`compute_all` returns.

    Attributes:
        neighbors: method -> its :class:`Neighbors`, in the order of the methods asked for.
        comparison: the JSON-ready comparison dict (see :func:`tuner.similarities.compare`),
            with the data's description (``data``), the settings (``settings``) and the total
            seconds (``seconds_total``).
    """

    neighbors: dict[str, Neighbors]
    comparison: dict[str, Any]


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """Validated, de-duplicated method names in the given order."""
    valid = available_methods()
    out: list[str] = []
    for m in methods:
        m = m.strip().lower()
        if m not in valid:
            raise ConfigError(
                f"Unknown similarity method {m!r}. Valid methods: {', '.join(valid)}."
            )
        if m not in out:
            out.append(m)
    if not out:
        raise ConfigError(f"No similarity method given. Valid methods: {', '.join(valid)}.")
    return tuple(out)


def compute_all(
    data: Any,
    *,
    factor_params: Mapping[str, Mapping[str, Any]] | None = None,
    fitted: Mapping[str, Any] | None = None,
    seeds: Mapping[str, int] | None = None,
    top_k: int = 100,
    methods: Sequence[str] | None = None,
    anchors: Sequence[str | int] = (),
    num_threads: int = 0,
    slim_alpha: float = DEFAULT_ALPHA,
    slim_l1_ratio: float = DEFAULT_L1_RATIO,
    item_params: Mapping[str, Mapping[str, Any]] | None = None,
    settings_from: Mapping[str, str] | None = None,
    eval_k: int = 100,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> SimilarityResults:
    """Every requested method's top-K neighbours, fit on train + validation, compared.

    Writes nothing: :func:`tuner.pipeline.write_similarities` writes the results.

    Args:
        data: a :class:`tuner.data.PreparedData`.
        factor_params: factor method (a key of :data:`tuner.solvers.MODELS`) -> the model's
            constructor kwargs; required for every factor method among ``methods``.
        fitted: factor method -> an already fitted model (its ``user_factors`` and
            ``item_factors`` are used instead of a fit, e.g. the exported model).
        seeds: factor method -> the seed of its fit (a study's seed; default 0).
        top_k: neighbours per item.
        methods: a subset of :func:`available_methods` (None: all of them).
        anchors: raw item ids shown side by side in addition to head / torso / tail anchors.
        num_threads: numba threads (0 = numba's default).
        slim_alpha, slim_l1_ratio: SLIM's penalty (scikit-learn's ElasticNet parametrisation).
        item_params: item method ("cosine", "slim") -> keyword arguments of its neighbour
            function (a study's best, e.g.), over ``top_k`` and the SLIM penalty above. A
            ``top_k`` larger than ``top_k`` is the neighbourhood its downstream recommender
            votes with; the lists compared and returned keep the first ``top_k``.
        settings_from: method -> how its settings were chosen ("tuned: study 'x', trial 3"),
            shown beside them in the report (default: "fixed" for the item methods).
        eval_k: cut-off of the downstream test metrics.
        progress: ``progress(method, done, total)`` during the long steps; called with
            ``done=0`` when a method's long step starts and ``done=total`` when it ends.
        log: one-line messages (a method started / finished).

    Returns:
        :class:`SimilarityResults`: the neighbours per method and the comparison dict.

    Raises:
        ConfigError: unknown method, missing factor parameters, bad SLIM settings.
        DataError: an unknown anchor id.
    """
    from tuner.metrics import evaluate, popularity_baseline
    from tuner.similarities.compare import compare, resolve_anchors
    from tuner.similarities.cosine import cosine_neighbors
    from tuner.similarities.factors import factor_neighbors, fit_factor_model
    from tuner.similarities.slim import slim_neighbors

    say = log or (lambda _msg: None)
    methods = check_methods(available_methods() if methods is None else methods)
    factor_params = dict(factor_params or {})
    for m in methods:
        if m in MODELS and factor_params.get(m) is None:
            raise ConfigError(
                f"Method {m!r} needs the {model_label(m)} parameters (--{m}-study or "
                f"--{m}-params). Fix: pass them, or leave {m} out of --methods."
            )
    anchor_idx = resolve_anchors(data.items, anchors)
    x = data.train_val()
    warm = np.diff(x.tocsc().indptr) > 0
    references: dict[str, dict] = {}
    started = time.perf_counter()
    references["popularity"] = popularity_baseline(x, x, data.test, k=eval_k).as_dict()
    neighbors: dict[str, Neighbors] = {}
    # neighbourhoods larger than the compared top-K: the downstream recommender's
    recommenders: dict[str, Neighbors] = {}
    chosen = dict(settings_from or {})
    n_warm = int(warm.sum())
    for m in methods:
        say(f"{m}: computing top-{top_k} neighbours of {n_warm:,} items ...")
        t0 = time.perf_counter()
        if m not in MODELS and progress is not None:
            progress(m, 0, n_warm)
        if m in ITEM_METHODS:
            defaults: dict[str, Any] = {"top_k": top_k}
            if m == "slim":
                defaults.update(alpha=slim_alpha, l1_ratio=slim_l1_ratio)
            kwargs = {**defaults, **dict((item_params or {}).get(m) or {})}
            function = cosine_neighbors if m == "cosine" else slim_neighbors
            say(f"{m}: settings {kwargs} ({chosen.get(m, 'fixed')})")
            nb = function(x, **kwargs, num_threads=num_threads, progress=progress)
            nb.info.update(params=kwargs, settings_from=chosen.get(m, "fixed"))
            if nb.k > top_k:
                recommenders[m] = nb
                nb = Neighbors(
                    m, nb.indices[:, :top_k], nb.scores[:, :top_k], nb.n_nonzero, nb.info
                )
        else:
            params = dict(factor_params[m])
            params.pop("num_threads", None)
            t_fit = time.perf_counter()
            if fitted is not None and m in fitted:
                model = fitted[m]
                say(f"{m}: using the exported model's factors ({params})")
            else:
                seed = int((seeds or {}).get(m, 0))
                say(f"{m}: fitting the model on train + validation with {params}, seed {seed}")
                model = fit_factor_model(m, params, x, seed=seed, num_threads=num_threads)
            fit_seconds = time.perf_counter() - t_fit
            own = evaluate(
                model.user_factors, model.item_factors, x, data.test, k=eval_k,
                num_threads=num_threads,
            ).as_dict()  # fmt: skip
            references[m] = own
            if progress is not None:
                progress(m, 0, n_warm)
            nb = factor_neighbors(
                model.item_factors, method=m, top_k=top_k, warm=warm,
                num_threads=num_threads, progress=progress,
            )  # fmt: skip
            nb.info.update({"params": params, "fit_seconds": fit_seconds, "own_test": own})
            if m in chosen:
                nb.info["settings_from"] = chosen[m]
        nb.info["seconds"] = time.perf_counter() - t0
        neighbors[m] = nb
        say(f"{m}: done in {nb.info['seconds']:.1f} s")
    say("comparing the methods (overlaps, popularity, downstream test MRR) ...")
    cmp = compare(
        neighbors,
        items=data.items,
        user_items=x,
        test=data.test,
        references=references,
        anchors=anchor_idx,
        eval_k=eval_k,
        recommenders=recommenders,
    )
    cmp["data"] = {
        "path": str(data.path),
        "fingerprint": data.fingerprint,
        "source": data.manifest.get("source"),
        "fit_on": "train+val",
    }
    slim_used = neighbors["slim"].info["params"] if "slim" in neighbors else {
        "alpha": slim_alpha, "l1_ratio": slim_l1_ratio,
    }  # fmt: skip
    cmp["settings"] = {
        "top_k": int(top_k),
        "methods": list(methods),
        "slim_alpha": float(slim_used["alpha"]),
        "slim_l1_ratio": float(slim_used["l1_ratio"]),
        "num_threads": int(num_threads),
        "anchors": [str(a) for a in anchors],
    }
    cmp["seconds_total"] = time.perf_counter() - started
    return SimilarityResults(neighbors, cmp)
