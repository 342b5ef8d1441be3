"""tuner similarities: item-item neighbours of cosine, SLIM and every factor model, compared in a
report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tuner.commands._common import add_data, add_storage, resolve_storage
from tuner.similarities import ITEM_METHODS, available_methods
from tuner.solvers import MODELS, model_label

_LABELS = [model_label(m) for m in MODELS]
HELP = f"compute and compare item-item similarities (cosine, SLIM, {', '.join(_LABELS)})"
DESCRIPTION = f"""\
Every item's top-K neighbours under cosine item2item, SLIM (non-negative elastic net) and the
cosine of the item factors of each model ({" / ".join(_LABELS)}), fit on train + validation
(never on test). A factor model uses the best parameters of a study (--MODEL-study, read from
--storage) or a best_params.json file written by 'tuner export' (--MODEL-params), MODEL one of
{", ".join(MODELS)}. SLIM and cosine use fixed settings (SLIM: the course's alpha=1e-4,
l1_ratio=0.15; cosine: no shrinkage, --top-k neighbours) unless --slim-params / --cosine-params
give others, e.g. the best_params.json of a 'tuner study --model slim' (what 'tuner run' does).

Writes into --out: neighbors_<method>.csv.gz (item, rank, neighbour, score; raw ids,
gzip-compressed, pandas.read_csv reads it as it is), items.csv (raw id, name),
comparison.json (every metric) and report.html (self-contained, opens offline).

example:
  tuner similarities --data storage/data/zen --als-study als-1 --ials-study ials-1 \\
      --out storage/runs/similarities --anchors 73702,100834
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    for model in MODELS:
        label = model_label(model)
        parser.add_argument(
            f"--{model}-study", metavar="NAME", help=f"study whose best {label} params to use"
        )
    for model in MODELS:
        parser.add_argument(
            f"--{model}-params",
            metavar="FILE",
            help=f"best_params.json of {model_label(model)} (from 'tuner export')",
        )
    add_storage(parser)
    parser.add_argument(
        "--top-k", type=int, default=100, metavar="K", help="neighbours per item (default 100)"
    )
    methods = ",".join(available_methods())
    parser.add_argument(
        "--methods",
        default=methods,
        metavar="LIST",
        help=f"comma-separated subset of {methods} (default: all of them)",
    )
    parser.add_argument(
        "--anchors",
        default="",
        metavar="IDS",
        help="comma-separated raw item ids to show side by side (besides head/torso/tail items)",
    )
    for method in ITEM_METHODS:
        parser.add_argument(
            f"--{method}-params",
            metavar="FILE",
            help=f"fixed {method} settings: the best_params.json of a {method} study (from "
            "'tuner export') or a JSON object of them"
            + (', e.g. {"alpha": 0.002, "l1_ratio": 0.6}' if method == "slim" else ""),
        )
    parser.add_argument(
        "--slim-alpha", type=float, default=None, metavar="A", help="SLIM alpha (default 1e-4)"
    )
    parser.add_argument(
        "--slim-l1-ratio",
        type=float,
        default=None,
        metavar="R",
        help="SLIM l1_ratio (default 0.15)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, metavar="N", help="numba threads (0 = all cores)"
    )


def _params_file(path: str, model: str) -> tuple[dict[str, Any], int]:
    from tuner.errors import ConfigError

    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"--{model}-params file {path!r} does not exist. Fix: pass the best_params.json "
            "written by 'tuner export'."
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--{model}-params file {path!r} is not readable JSON: {exc}.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("params"), dict):
        raise ConfigError(
            f"--{model}-params file {path!r} has no 'params' object. Fix: pass the "
            "best_params.json written by 'tuner export'."
        )
    if doc.get("model", model) != model:
        raise ConfigError(
            f"--{model}-params file {path!r} holds {doc['model']!r} parameters, not {model!r}. "
            f"Fix: pass the {model} study's best_params.json."
        )
    return dict(doc["params"]), int(doc.get("seed", 0))


def _item_params(args: argparse.Namespace, method: str) -> dict[str, Any] | None:
    """The settings of ``--METHOD-params``: a best_params.json's ``params`` or a flat JSON
    object of the neighbour function's keyword arguments (None without the option)."""
    from tuner.errors import ConfigError
    from tuner.objectives import OBJECTIVES

    path = getattr(args, f"{method}_params")
    if path is None:
        return None
    option = f"--{method}-params file {path!r}"
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{option} is not readable: {exc.strerror}.") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{option} is not valid JSON: {exc}.") from None
    if isinstance(doc, dict) and isinstance(doc.get("params"), dict):
        if doc.get("model", method) != method:
            raise ConfigError(
                f"{option} holds {doc['model']!r} parameters, not {method!r}. "
                f"Fix: pass the {method} study's best_params.json."
            )
        doc = doc["params"]
    known = OBJECTIVES[method].parameters
    if not isinstance(doc, dict) or not doc or set(doc) - known:
        raise ConfigError(
            f"{option} must be a best_params.json or a JSON object of {sorted(known)}; "
            f"got {doc!r}."
        )
    return dict(doc)


def _resolve_params(
    args: argparse.Namespace, model: str, needed: bool
) -> tuple[dict[str, Any], int] | None:
    """The model's parameters and the seed its study used (so the refit is the export's)."""
    from tuner.errors import ConfigError

    study = getattr(args, f"{model}_study")
    path = getattr(args, f"{model}_params")
    if study and path:
        raise ConfigError(
            f"--{model}-study and --{model}-params are alternatives; pass one of them."
        )
    if not needed:
        return None
    if path:
        return _params_file(path, model)
    if study:
        from tuner.study import best_summary

        summary = best_summary(resolve_storage(args), study)
        if summary["model"] != model:
            raise ConfigError(
                f"--{model}-study {study!r} is a {summary['model']!r} study, not {model!r}. "
                f"Fix: pass the {model} study."
            )
        return dict(summary["params"]), summary["seed"]
    raise ConfigError(
        f"Method {model!r} needs --{model}-study NAME or --{model}-params FILE. "
        f"Fix: pass one, or leave {model} out of --methods."
    )


def run(args: argparse.Namespace) -> int:
    from tuner.data import load_prepared
    from tuner.errors import ConfigError
    from tuner.pipeline import neighbors_file, run_similarities
    from tuner.similarities import check_methods
    from tuner.similarities.slim import DEFAULT_ALPHA, DEFAULT_L1_RATIO

    methods = check_methods([m for m in args.methods.split(",") if m.strip()])
    if args.top_k < 1:
        raise ConfigError(f"--top-k must be >= 1. Got {args.top_k} instead.")
    resolved = {model: _resolve_params(args, model, model in methods) for model in MODELS}
    chosen = {model: r for model, r in resolved.items() if r is not None}
    item = {m: p for m in ITEM_METHODS if (p := _item_params(args, m)) is not None}
    if "slim" in item and (args.slim_alpha is not None or args.slim_l1_ratio is not None):
        raise ConfigError(
            "--slim-params and --slim-alpha / --slim-l1-ratio are alternatives; pass one."
        )
    settings_from = {m: f"from {getattr(args, f'{m}_params')}" for m in item}
    for model in chosen:
        study = getattr(args, f"{model}_study")
        settings_from[model] = (
            f"tuned: study {study!r}" if study else f"from {getattr(args, f'{model}_params')}"
        )
    data = load_prepared(args.data)
    anchors = [a.strip() for a in args.anchors.split(",") if a.strip()]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cmp = run_similarities(
        data,
        args.out,
        log=log,
        factor_params={model: r[0] for model, r in chosen.items()},
        seeds={model: r[1] for model, r in chosen.items()},
        top_k=args.top_k,
        methods=methods,
        anchors=anchors,
        num_threads=args.threads,
        slim_alpha=DEFAULT_ALPHA if args.slim_alpha is None else args.slim_alpha,
        slim_l1_ratio=DEFAULT_L1_RATIO if args.slim_l1_ratio is None else args.slim_l1_ratio,
        item_params=item,
        settings_from=settings_from,
    ).comparison
    out = Path(args.out)
    print(f"similarities of {len(methods)} methods in {cmp['seconds_total']:.0f} s:")
    for line in cmp["summary"]:
        print(f"  - {line}")
    for m in methods:
        print(f"  {out / neighbors_file(m)}")
    print(f"  {out / 'items.csv'}  (the names of the neighbour files' ids)")
    print(f"  {out / 'comparison.json'}")
    print(f"  {out / 'report.html'}  (open in a browser; works offline)")
    return 0
