"""Refit a tuned configuration on train + validation and write it as a model directory.

:func:`refit` is the one refit: ``tuner fit`` and ``tuner export`` both call it, so the same
configuration and seed give the same factors, and the model's test figure is the export's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner.errors import ConfigError, DataError
from tuner.model.artifact import check_model_out, save_model

if TYPE_CHECKING:
    from tuner.data import PreparedData
    from tuner.solvers import FactorizationModel


def refit(
    data: PreparedData,
    model_name: str,
    params: Mapping[str, Any],
    *,
    seed: int,
    num_threads: int = 0,
) -> FactorizationModel:
    """Fit ``model_name`` with ``params`` on ``data.train_val()`` (the final model).

    Args:
        data: the prepared split.
        model_name: registry key of the solver ("als", "ials").
        params: constructor arguments (a best configuration, fixed ones included).
        seed: the initialisation's ``random_state`` (a study's seed).
        num_threads: numba threads (0 = numba's default).

    Returns:
        The fitted model: ``user_factors`` (n_users, k) and ``item_factors`` (n_items, k)
        float32.

    Raises:
        ConfigError: unknown model or parameters.
        SolverError: the fit diverged.
    """
    from tuner.solvers import build_model

    model = build_model(model_name, params, seed=seed, num_threads=num_threads)
    return model.fit(data.train_val())


def _from_study(storage: str, study_name: str, fingerprint: str) -> dict[str, Any]:
    """Model, params, seed and validation figures of a study's best trial."""
    from tuner.study import best_summary, check_compatible, describe, load_study

    summary = best_summary(storage, study_name)
    study = load_study(storage, study_name)
    check_compatible(study.user_attrs, study_name=study_name, fingerprint=fingerprint)
    return {
        "model": summary["model"],
        "params": summary["params"],
        "seed": summary["seed"],
        "val_mrr_at_100": summary["val_mrr_at_100"],
        "val_mrr_se": summary["val_mrr_se"],
        "source": {
            "study_name": study_name,
            "storage": describe(storage),
            "trial_number": summary["trial_number"],
        },
    }


def _from_file(path: Path, fingerprint: str) -> dict[str, Any]:
    """Model, params, seed and validation figures of a ``best_params.json``."""
    fix = "Fix: pass a best_params.json written by 'tuner export'."
    try:
        best = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read --params {path}: {exc.strerror}. {fix}") from None
    except ValueError as exc:
        raise ConfigError(f"--params {path} is not valid JSON ({exc}). {fix}") from None
    if (
        not isinstance(best, dict)
        or not isinstance(best.get("model"), str)
        or not isinstance(best.get("params"), dict)
    ):
        raise ConfigError(f"--params {path} has no 'model' name and 'params' table. {fix}")
    theirs = best.get("data_fingerprint")
    if theirs is not None and theirs != fingerprint:
        raise DataError(
            f"--params {path} was tuned on data with fingerprint {str(theirs)[:12]}..., but "
            f"--data has fingerprint {fingerprint[:12]}...; pass the prepared split the study "
            "used."
        )
    return {
        "model": best["model"],
        "params": best["params"],
        "seed": int(best.get("seed", 0)),
        "val_mrr_at_100": best.get("val_mrr_at_100"),
        "val_mrr_se": best.get("val_mrr_se"),
        "source": {
            "params_file": str(path.resolve()),
            **{k: best[k] for k in ("study_name", "storage", "trial_number") if k in best},
        },
    }


def score_test(
    data: PreparedData, fitted: FactorizationModel, *, num_threads: int = 0
) -> dict[str, float | None]:
    """Test MRR@100 of a model refitted on train + validation, with its standard error."""
    from tuner.metrics import evaluate

    assert fitted.user_factors is not None and fitted.item_factors is not None
    test = evaluate(
        fitted.user_factors,
        fitted.item_factors,
        data.train_val(),
        data.test,
        k=100,
        num_threads=num_threads,
    )
    se = getattr(test, "mrr_se", None)
    return {"test_mrr_at_100": float(test.mrr), "test_mrr_se": None if se is None else float(se)}


def _check_factor_model(model: str, source: str) -> None:
    """Refuse an item-based configuration (SLIM, cosine): it has no factors to save."""
    from tuner.objectives import OBJECTIVES

    cls = OBJECTIVES.get(model)
    if cls is not None and cls.kind != "factors":
        factor = ", ".join(m for m, c in OBJECTIVES.items() if c.kind == "factors")
        raise ConfigError(
            f"{source!r} tunes {model!r}, an item-based method: 'tuner fit' and load_model are "
            f"for factor models ({factor}). Fix: pass its best_params.json to "
            f"'tuner similarities --{model}-params' for its neighbours."
        )


def fit_model(
    *,
    data_dir: str | Path,
    out: str | Path,
    study_name: str | None = None,
    storage: str | None = None,
    params_path: str | Path | None = None,
    num_threads: int = 0,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Refit a study's best configuration (or a ``best_params.json``) and write model ``out``.

    Args:
        data_dir: the prepared split the configuration was tuned on.
        out: the model directory (replaced atomically when it already holds a model).
        study_name: take the best trial of this study ...
        storage: ... in this storage URL;
        params_path: or the ``model`` / ``params`` (and ``seed``) of this file.
        num_threads: numba threads for the refit and the test score (0 = numba's default).
        log: called with one short progress line per stage.

    Returns:
        The contents of the model's ``model.json``.

    Raises:
        ConfigError: neither or both of study and file, a bad file or output path.
        StorageError: unknown study, no complete trial, or a study on other data.
        DataError: a bad prepared directory, or one with another fingerprint.
    """
    from tuner.data import load_prepared

    if (study_name is None) == (params_path is None):
        raise ConfigError("pass either --study-name or --params (one of them).")
    say = log or (lambda _line: None)
    check_model_out(out)
    data = load_prepared(data_dir)
    if study_name is not None:
        if storage is None:
            raise ConfigError("a --study-name needs its --storage URL.")
        config = _from_study(storage, study_name, data.fingerprint)
    else:
        assert params_path is not None
        config = _from_file(Path(params_path), data.fingerprint)
    _check_factor_model(config["model"], study_name or str(params_path))
    say(
        f"refitting {config['model']} on train + validation ({data.n_users:,} users x "
        f"{data.n_items:,} items), seed {config['seed']}"
    )
    fitted = refit(
        data, config["model"], config["params"], seed=config["seed"], num_threads=num_threads
    )
    metrics = {
        "val_mrr_at_100": config["val_mrr_at_100"],
        "val_mrr_se": config["val_mrr_se"],
        **score_test(data, fitted, num_threads=num_threads),
    }
    return save_model(
        out,
        fitted,
        data,
        model_name=config["model"],
        params=config["params"],
        seed=config["seed"],
        metrics=metrics,
        source=config["source"],
    )
