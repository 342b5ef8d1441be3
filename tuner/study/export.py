"""Read a finished study: best parameters, the test score of a refit, trials and figures."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner._io import atomic_dir, write_text_atomic
from tuner.errors import StorageError
from tuner.objectives import ATTR_BEST_ITERATION, ATTR_VAL_SE, METRIC
from tuner.study.storage import describe
from tuner.study.worker import (
    ATTR_DATA_DIR,
    ATTR_FINGERPRINT,
    ATTR_MODEL,
    ATTR_SEED,
    check_compatible,
    load_study,
    trial_counts,
)

if TYPE_CHECKING:
    import optuna

#: The model directory inside an export's output (see :func:`tuner.load_model`).
MODEL_DIR = "model"

FIGURES = (
    "optimization_history",
    "intermediate_values",
    "parallel_coordinate",
    "param_importances",
)


def _best_trial(study: optuna.Study, storage: str) -> optuna.trial.FrozenTrial:
    try:
        return study.best_trial
    except ValueError:
        raise StorageError(
            f"Study {study.study_name!r} in {describe(storage)!r} has no complete trial yet; "
            "run 'tuner study' or 'tuner worker' on it first."
        ) from None


def _model(study: optuna.Study) -> str:
    model = study.user_attrs.get(ATTR_MODEL)
    if model is None:
        raise StorageError(
            f"Study {study.study_name!r} records no model; it was not created by 'tuner study'."
        )
    return str(model)


def load_best(storage: str, study_name: str) -> tuple[str, dict[str, Any]]:
    """The study's model key and the best trial's constructor kwargs.

    ``tuner.solvers.build_model(model, params, seed=...)`` rebuilds the best model (fixed kwargs
    of the space included, ``iterations`` at the best trial's best iteration).

    Raises:
        StorageError: missing study or no complete trial.
    """
    study = load_study(storage, study_name)
    return _model(study), _params(study, _best_trial(study, storage))


def _params(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """The trial's constructor kwargs, with ``iterations`` set to its best iteration.

    A trial's value is its best iteration's score (see :class:`tuner.objectives.Objective`),
    so the configuration that reproduces it stops there.
    """
    from tuner.study.spaces import parse_space
    from tuner.study.worker import ATTR_SPACE

    fixed: dict[str, Any] = {}
    text = study.user_attrs.get(ATTR_SPACE)
    if text:
        fixed = dict(parse_space(text, source=f"study {study.study_name!r}").fixed)
    params = {**fixed, **trial.params}
    best_iteration = trial.user_attrs.get(ATTR_BEST_ITERATION)
    if best_iteration and "iterations" in params:
        params["iterations"] = int(best_iteration)
    return params


def _max_iterations(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> int | None:
    from tuner.study.spaces import parse_space
    from tuner.study.worker import ATTR_SPACE

    if "iterations" in trial.params:
        return int(trial.params["iterations"])
    text = study.user_attrs.get(ATTR_SPACE)
    fixed = parse_space(text, source="study").fixed if text else {}
    return int(fixed["iterations"]) if "iterations" in fixed else None


#: Trials whose validation MRR@100 is within this many standard errors of the best one's are
#: reported as indistinguishable from it.
NOISE_SE = 2.0


def noise_note(study: optuna.Study, best: optuna.trial.FrozenTrial) -> tuple[int, str | None]:
    """How many complete trials are within noise of the best, and a warning when several are.

    Returns ``(n_within, message)``; ``n_within`` counts the best trial itself.
    """
    from optuna.trial import TrialState

    se = best.user_attrs.get(ATTR_VAL_SE)
    if best.value is None or se is None:
        return 1, None
    floor = float(best.value) - NOISE_SE * float(se)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    close = [t for t in complete if t.value is not None and t.value >= floor]
    if len(close) < 2:
        return 1, None
    numbers = ", ".join(f"#{t.number}" for t in sorted(close, key=lambda t: -(t.value or 0.0))[:5])
    users = best.user_attrs.get("n_val_users")
    return len(close), (
        f"{len(close)} trials ({numbers}{', ...' if len(close) > 5 else ''}) are within "
        f"{NOISE_SE:g} standard errors ({NOISE_SE * float(se):.4f}) of the best validation "
        f"MRR@100 on {users} users: the split cannot tell them apart; their test MRR@100 "
        "decides, or a larger validation set (tuner prepare --val-frac)."
    )


def best_summary(storage: str, study_name: str) -> dict[str, Any]:
    """What ``tuner best`` prints: model, params, validation MRR@100, trial number, the
    study's seed (a refit with it gives the study's factors), counts."""
    study = load_study(storage, study_name)
    best = _best_trial(study, storage)
    counts = trial_counts(study)
    n_close, note = noise_note(study, best)
    se = best.user_attrs.get(ATTR_VAL_SE)
    return {
        "study_name": study_name,
        "model": _model(study),
        "params": _params(study, best),
        "val_mrr_at_100": float(best.value) if best.value is not None else None,
        "val_mrr_se": float(se) if se is not None else None,
        "n_val_users": best.user_attrs.get("n_val_users"),
        "best_iteration": best.user_attrs.get(ATTR_BEST_ITERATION),
        "max_iterations": _max_iterations(study, best),
        "trials_within_noise": n_close,
        "noise_warning": note,
        "trial_number": best.number,
        "seed": int(study.user_attrs.get(ATTR_SEED, 0)),
        "n_complete": counts.complete,
        "n_pruned": counts.pruned,
        "n_failed": counts.failed,
        "storage": describe(storage),
    }


def export_study(
    *,
    storage: str,
    study_name: str,
    out: str | Path,
    data_dir: str | Path | None = None,
    num_threads: int = 0,
    write_model: bool = True,
) -> dict[str, Any]:
    """Write ``best_params.json``, ``trials.csv``, ``figures/*.html`` and ``model/`` into ``out``.

    The best parameters are refitted once on train + validation (:func:`tuner.model.refit`,
    with the study's seed) and scored on test (MRR@100), the number to quote; that fit is the
    model directory ``model/`` (:func:`tuner.load_model`), so ``tuner fit`` on the same
    configuration gives the same factors. Each file is written atomically; ``figures/`` and
    ``model/`` are replaced as a whole.

    A study of an item-based objective (``kind`` "items": SLIM, cosine item-kNN) has no
    factor model: its best neighbours are refitted on train + validation and the item-based
    recommender is scored on test, and no ``model/`` is written (``model_dir`` is None).

    Args:
        storage: storage URL.
        study_name: the study.
        out: output directory (created; other files in it are left alone).
        data_dir: prepared split; default: the one recorded in the study. Its fingerprint must
            match the study's.
        num_threads: numba threads for the refit (0 = numba's default).
        write_model: write the refitted model as ``out/model`` (``tuner export --no-model``
            skips it; the refit still gives the test figure); ignored for item-based studies.

    Returns:
        The best_params dict (also in ``best_params.json``); ``model_dir`` names the model
        directory (None without one).

    Raises:
        StorageError: missing study, no complete trial, or data with another fingerprint.
    """
    from tuner.data import load_prepared
    from tuner.metrics import evaluate
    from tuner.model import METRIC_KEYS, check_model_out, refit, save_model
    from tuner.objectives import NeighborObjective, get_objective

    summary = best_summary(storage, study_name)
    objective_cls = get_objective(summary["model"])
    factors = objective_cls.kind == "factors"
    write_model = write_model and factors
    study = load_study(storage, study_name)
    directory = data_dir if data_dir is not None else study.user_attrs.get(ATTR_DATA_DIR)
    if directory is None:
        raise StorageError(f"Study {study_name!r} records no data directory; pass --data DIR.")
    data = load_prepared(directory)
    check_compatible(study.user_attrs, study_name=study_name, fingerprint=data.fingerprint)
    out = Path(out)
    model_dir = out / MODEL_DIR
    if write_model:
        check_model_out(model_dir, option="--out")  # before the refit, not after

    t0 = time.perf_counter()
    seed = summary["seed"]
    train_val = data.train_val()
    if factors:
        fitted = refit(
            data, summary["model"], summary["params"], seed=seed, num_threads=num_threads
        )
        refit_seconds = time.perf_counter() - t0
        assert fitted.user_factors is not None and fitted.item_factors is not None
        test = evaluate(
            fitted.user_factors, fitted.item_factors, train_val, data.test, k=100,
            num_threads=num_threads,
        )  # fmt: skip
    else:
        assert issubclass(objective_cls, NeighborObjective)
        neighbors = objective_cls.fit_neighbors(
            train_val, summary["params"], num_threads=num_threads
        )
        refit_seconds = time.perf_counter() - t0
        test = objective_cls.score(neighbors, train_val, data.test)
    best = {
        "model": summary["model"],
        "kind": objective_cls.kind,
        "params": summary["params"],
        "val_mrr_at_100": summary["val_mrr_at_100"],
        "val_mrr_se": summary["val_mrr_se"],
        "test_mrr_at_100": float(test.mrr),
        "test_mrr_se": float(test.mrr_se),
        "n_test_users": int(test.n_users),
        "best_iteration": summary["best_iteration"],
        "max_iterations": summary["max_iterations"],
        "trials_within_noise": summary["trials_within_noise"],
        "noise_warning": summary["noise_warning"],
        "test_hr_at_100": float(test.hr),
        "test_ndcg_at_100": float(test.ndcg),
        "seed": seed,
        "refit_seconds": round(refit_seconds, 3),
        "trial_number": summary["trial_number"],
        "n_complete": summary["n_complete"],
        "n_pruned": summary["n_pruned"],
        "n_failed": summary["n_failed"],
        "data_fingerprint": study.user_attrs.get(ATTR_FINGERPRINT, data.fingerprint),
        "study_name": study_name,
        "storage": describe(storage),
        "model_dir": str(model_dir) if write_model else None,
    }
    out.mkdir(parents=True, exist_ok=True)
    if write_model:
        save_model(
            model_dir,
            fitted,
            data,
            model_name=summary["model"],
            params=summary["params"],
            seed=seed,
            metrics={key: best[key] for key in METRIC_KEYS},
            source={
                "study_name": study_name,
                "storage": describe(storage),
                "trial_number": summary["trial_number"],
            },
        )
    write_text_atomic(out / "best_params.json", json.dumps(best, indent=2) + "\n")
    frame = study.trials_dataframe(multi_index=False)
    # A named metric comes out as "value_<name>"; keep Optuna's usual "value" column.
    frame = frame.rename(columns={f"value_{METRIC}": "value"})
    write_text_atomic(out / "trials.csv", frame.to_csv(index=False))
    write_figures(study, out / "figures")
    return best


def write_figures(study: optuna.Study, out: Path) -> list[str]:
    """Optuna's plotly figures as HTML (plotly.js once, beside them). Returns the file names.

    Parameter importances need two complete trials with varying parameters and different
    values (with one value for all, every importance is the same, which says nothing);
    otherwise that figure is skipped.
    """
    import optuna.visualization as vis
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    n_values = len({t.value for t in complete})
    makers = {
        "optimization_history": vis.plot_optimization_history,
        "intermediate_values": vis.plot_intermediate_values,
        "parallel_coordinate": vis.plot_parallel_coordinate,
        "param_importances": vis.plot_param_importances,
    }
    written: list[str] = []
    with atomic_dir(out) as tmp:
        for name, make in makers.items():
            if name == "param_importances" and n_values < 2:
                continue
            try:
                fig = make(study)
            except (ValueError, RuntimeError, ZeroDivisionError):
                # Importances refuse a study whose parameters never varied; skip that figure.
                continue
            fig.write_html(tmp / f"{name}.html", include_plotlyjs="directory")
            written.append(f"{name}.html")
    return written
