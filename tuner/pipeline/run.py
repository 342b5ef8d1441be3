"""``tuner run``: prepare -> ALS and iALS studies -> exports -> similarities -> summary.

Every step is resumable: the prepared split is reused when its description has not changed,
the studies continue where they stopped (finished trials count towards the budget), and the
exports and the report are rewritten from the storage.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from tuner._io import write_text_atomic
from tuner.paths import default_storage_url, tuner_home
from tuner.pipeline.config import data_digest, data_label, to_toml


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def data_dir_for(config: dict[str, Any]) -> Path:
    """Where the prepared split of this data description lives; the same description, the same
    directory (whatever the run's name), so a second run (or a resumed one) reuses it instead of
    preparing again."""
    data = config["data"]
    return tuner_home() / "data" / f"{data_label(data)}-{data_digest(data)[:10]}"


def output_dir_for(config: dict[str, Any]) -> Path:
    if config["output"]["dir"]:
        return Path(config["output"]["dir"]).expanduser().resolve()
    return tuner_home() / "runs" / config["name"]


def study_name_for(config: dict[str, Any], model: str) -> str:
    return f"{config['name']}-{model}"


def _prepare(config: dict[str, Any]) -> Path:
    from tuner.data import prepare

    data = config["data"]
    out = data_dir_for(config)
    if (out / "manifest.json").is_file():
        _say(f"data: reusing the prepared split in {out}")
        return out
    _say(f"data: preparing source {data['source']!r} into {out}")
    kwargs: dict[str, Any] = {
        "path": data["path"],
        "seed": data["seed"],
        "test_frac": data["test_frac"],
        "val_frac": data["val_frac"],
        "debug_items": data["debug_items"],
        "debug_users": data["debug_users"],
        **data["options"],
    }
    if data["scale"] is not None:
        kwargs["scale"] = data["scale"]
    prepare(data["source"], out, **kwargs)
    return out


def _refuse_mixed_studies(
    config: dict[str, Any], storage: str, spaces: dict[str, Path], fingerprint: str
) -> None:
    """Refuse, before any trial, a run whose name already holds studies on other data or over
    another search space: continuing them would mix two experiments in one study.

    Raises:
        StorageError: naming the study, what differs, and ``--name``.
    """
    import optuna

    from tuner.errors import StorageError
    from tuner.objectives import OBJECTIVES
    from tuner.study import ATTR_FINGERPRINT, ATTR_SPACE, load_space, open_storage, parse_space

    store = open_storage(storage, heartbeat=None)
    existing = set(optuna.get_all_study_names(storage=store))
    run = config["name"]
    for model, space in spaces.items():
        name = study_name_for(config, model)
        if name not in existing:
            continue
        attrs = optuna.load_study(study_name=name, storage=store).user_attrs
        theirs = attrs.get(ATTR_FINGERPRINT)
        if theirs is not None and theirs != fingerprint:
            raise StorageError(
                f"Run {run!r} already has study {name!r} on other data (fingerprint "
                f"{theirs[:12]}..., this data {fingerprint[:12]}...). Pass another --name for "
                "this data, or the data settings of that run (its run.toml)."
            )
        stored_space = attrs.get(ATTR_SPACE)
        if stored_space is None:
            continue
        known = OBJECTIVES[model].parameters
        mine = load_space(space, known=known, model=model)
        if parse_space(stored_space, source=f"study {name!r}").canonical() != mine.canonical():
            raise StorageError(
                f"Run {run!r} already has study {name!r} over another search space than "
                f"{str(space)!r}. Pass another --name, or that study's space as "
                f"[study] spaces.{model} (its run.toml names it)."
            )


def run_pipeline(config: dict[str, Any]) -> dict[str, Any]:
    """Run (or resume) the whole job described by a validated configuration.

    Returns the summary also written to ``<output>/summary.json``.
    """
    from tuner.data import load_prepared
    from tuner.metrics import popularity_baseline
    from tuner.objectives import OBJECTIVES
    from tuner.study import (
        default_space_path,
        export_study,
        load_space,
        open_storage,
        run_study,
        trial_counts,
    )

    started = time.perf_counter()
    study_cfg = config["study"]
    storage = study_cfg["storage"] or default_storage_url()
    out = output_dir_for(config)
    # Refuse a bad storage or search space before any data is prepared or output written.
    open_storage(storage, heartbeat=None, create=True)
    spaces = {
        model: Path(study_cfg["spaces"].get(model) or default_space_path(model))
        for model in study_cfg["models"]
    }
    for model, space in spaces.items():
        load_space(space, known=OBJECTIVES[model].parameters, model=model)

    data_dir = _prepare(config)
    data = load_prepared(data_dir)
    m = data.manifest
    _say(
        f"data: {m['n_users']:,} users x {m['n_items']:,} items, {m['n_likes']:,} likes; "
        f"held out {m['n_val']:,} validation and {m['n_test']:,} test likes "
        f"(fingerprint {data.fingerprint[:12]})"
    )

    sims_cfg = config["similarities"]
    if sims_cfg["enabled"] and sims_cfg["anchors"]:
        from tuner.similarities import resolve_anchors

        resolve_anchors(data.items, sims_cfg["anchors"])  # an unknown id fails before tuning

    _refuse_mixed_studies(config, storage, spaces, data.fingerprint)

    floor_val = popularity_baseline(data.train, data.train, data.val)
    train_val = data.train_val()
    floor_test = popularity_baseline(train_val, train_val, data.test)

    best: dict[str, dict[str, Any]] = {}
    interrupted: dict[str, int] = {}
    for model, space in spaces.items():
        name = study_name_for(config, model)
        n_trials = study_cfg["n_trials"][model]
        _say(
            f"study {name!r}: {model} on {space.name}, budget {n_trials} trials, "
            f"{study_cfg['workers']} worker(s), pruner {study_cfg['pruner']}"
        )
        study = run_study(
            data_dir=data_dir,
            model=model,
            storage=storage,
            study_name=name,
            n_trials=n_trials,
            workers=study_cfg["workers"],
            space_path=space,
            pruner=study_cfg["pruner"],
            seed=study_cfg["seed"],
            enqueue=study_cfg["enqueue"].get(model),
        )
        interrupted[model] = trial_counts(study).interrupted
        _say(f"study {name!r}: exporting the best configuration (refit on train+validation)")
        model_out = out / model
        best[model] = export_study(
            storage=storage, study_name=name, out=model_out, data_dir=data_dir
        )
        write_text_atomic(model_out / "run.toml", to_toml(config))

    sims: dict[str, Any] | None = None
    if sims_cfg["enabled"] and sims_cfg["methods"]:
        from tuner.model import load_model
        from tuner.pipeline.similarities import run_similarities
        from tuner.similarities import factor_methods

        _say(f"similarities: {', '.join(sims_cfg['methods'])} (top {sims_cfg['top_k']})")
        sims_out = out / "similarities"
        factor = [model for model in best if model in factor_methods()]
        # the item-based methods use their study's best settings, as the factor methods do
        item = [model for model in best if OBJECTIVES[model].kind == "items"]
        sims = run_similarities(
            data,
            sims_out,
            factor_params={model: best[model]["params"] for model in factor},
            item_params={model: best[model]["params"] for model in item},
            settings_from={
                model: f"tuned: study {study_name_for(config, model)!r}, "
                f"trial {best[model]['trial_number']}"
                for model in best
            },
            # the exported models' factors, not a second fit of the same configuration
            fitted={model: load_model(best[model]["model_dir"]) for model in factor},
            top_k=sims_cfg["top_k"],
            methods=tuple(sims_cfg["methods"]),
            anchors=tuple(sims_cfg["anchors"]),
            log=lambda message: _say(f"similarities: {message}"),
            extra_files={"run.toml": to_toml(config)},
        ).comparison

    summary = {
        "name": config["name"],
        "storage": storage,
        "data_dir": str(data_dir),
        "data_fingerprint": data.fingerprint,
        "output_dir": str(out),
        "popularity": {"val_mrr_at_100": floor_val.mrr, "test_mrr_at_100": floor_test.mrr},
        "models": {
            model: {
                "study_name": study_name_for(config, model),
                "params": b["params"],
                "val_mrr_at_100": b["val_mrr_at_100"],
                "val_mrr_se": b.get("val_mrr_se"),
                "test_mrr_at_100": b["test_mrr_at_100"],
                "test_mrr_se": b.get("test_mrr_se"),
                "trial_number": b["trial_number"],
                "n_complete": b["n_complete"],
                "n_pruned": b["n_pruned"],
                "n_failed": b["n_failed"],
                "n_interrupted": interrupted[model],
                "best_params_file": str(out / model / "best_params.json"),
                "model_dir": b["model_dir"],
            }
            for model, b in best.items()
        },
        "report": str(out / "report.html"),
        "similarities_report": (
            str(out / "similarities" / "report.html") if sims is not None else None
        ),
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_text_atomic(out / "run.toml", to_toml(config))
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2, default=float) + "\n")
    from tuner.reports import write_run_report

    _say(f"report: writing {out / 'report.html'}")
    write_run_report(out, summary, storage, similarities=sims is not None)
    print(format_summary(summary, config))
    return summary


def _format_params(params: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _with_se(value: float, se: float | None) -> str:
    """``0.1234 ± 0.0056``: a mean with its standard error (the split's noise)."""
    return f"{value:.4f}" if se is None else f"{value:.4f} ± {se:.4f}"


def format_summary(summary: dict[str, Any], config: dict[str, Any]) -> str:
    """The closing summary a user reads: results beside the floor, outputs, next commands."""
    pop = summary["popularity"]
    rows = [
        (
            "model",
            "val MRR@100",
            "test MRR@100",
            "trials (ok/pruned/failed/interrupted)",
            "best params",
        )
    ]
    for model, s in summary["models"].items():
        rows.append(
            (
                model,
                _with_se(s["val_mrr_at_100"], s.get("val_mrr_se")),
                _with_se(s["test_mrr_at_100"], s.get("test_mrr_se")),
                f"{s['n_complete']}/{s['n_pruned']}/{s['n_failed']}/{s.get('n_interrupted', 0)}",
                _format_params(s["params"]),
            )
        )
    rows.append(
        (
            "popularity",
            f"{pop['val_mrr_at_100']:.4f}",
            f"{pop['test_mrr_at_100']:.4f}",
            "-",
            "(floor)",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    table = "\n".join(
        "  " + "  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    )
    storage = summary["storage"]
    data_dir = summary["data_dir"]
    lines = [
        "",
        f"Run {summary['name']!r} finished in {summary['seconds']:.0f} s.",
        "",
        table,
        "",
        "Outputs:",
        f"  prepared data   {data_dir}",
        f"  run directory   {summary['output_dir']}  (summary.json, run.toml)",
    ]
    for model, s in summary["models"].items():
        lines.append(f"  {model:<15} {s['best_params_file']}")
        if s.get("model_dir"):
            lines.append(f"  {model + ' model':<15} {s['model_dir']}")
    lines.append(f"  report          {summary['report']}  (summary, studies, similarities)")
    first = next(iter(summary["models"].values()), None)
    if first is not None and first.get("model_dir"):
        lines += [
            "",
            "Use the model (raw user and item ids; --json for machines):",
            f"  tuner recommend --model {shlex.quote(first['model_dir'])} --user USER_ID",
            f"  tuner similar --model {shlex.quote(first['model_dir'])} --item ITEM_ID",
        ]
    lines += [
        "",
        "Watch the studies:",
        f"  tuner dashboard --storage {shlex.quote(storage)}",
    ]
    if first is not None:
        lines += [
            "Add workers from another shell (same machine):",
            f"  tuner worker --storage {shlex.quote(storage)} --data {shlex.quote(data_dir)} "
            f"--study-name {shlex.quote(first['study_name'])}",
            "Add workers from another machine: use a PostgreSQL storage "
            "(tuner run --storage postgresql+psycopg://USER@HOST/DB), copy the prepared data "
            "directory there, and run the same 'tuner worker' command with that URL.",
        ]
    return "\n".join(lines)
