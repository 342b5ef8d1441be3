"""tuner similarities: item-item neighbours of cosine, SLIM, ALS and iALS, compared in a report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tuner.commands._common import add_data, add_storage, resolve_storage

HELP = "compute and compare item-item similarities (cosine, SLIM, ALS, iALS)"
DESCRIPTION = """\
Every item's top-K neighbours under cosine item2item, SLIM (non-negative elastic net) and the
cosine of ALS / iALS item factors, fit on train + validation (never on test). The factor models
use the best parameters of two studies (--als-study / --ials-study, read from --storage) or two
best_params.json files written by 'tuner export' (--als-params / --ials-params).

Writes into --out: neighbors_<method>.csv (item, rank, neighbour, score, names),
comparison.json (every metric) and report.html (self-contained, opens offline).

example:
  tuner similarities --data storage/data/zen --als-study als-1 --ials-study ials-1 \\
      --out storage/runs/similarities --anchors 73702,100834
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--als-study", metavar="NAME", help="study whose best ALS params to use")
    parser.add_argument("--ials-study", metavar="NAME", help="study whose best iALS params to use")
    parser.add_argument(
        "--als-params", metavar="FILE", help="best_params.json of ALS (from 'tuner export')"
    )
    parser.add_argument(
        "--ials-params", metavar="FILE", help="best_params.json of iALS (from 'tuner export')"
    )
    add_storage(parser)
    parser.add_argument(
        "--top-k", type=int, default=100, metavar="K", help="neighbours per item (default 100)"
    )
    parser.add_argument(
        "--methods",
        default="cosine,slim,als,ials",
        metavar="LIST",
        help="comma-separated subset of cosine,slim,als,ials (default: all four)",
    )
    parser.add_argument(
        "--anchors",
        default="",
        metavar="IDS",
        help="comma-separated raw item ids to show side by side (besides head/torso/tail items)",
    )
    parser.add_argument(
        "--slim-alpha", type=float, default=1e-4, metavar="A", help="SLIM alpha (default 1e-4)"
    )
    parser.add_argument(
        "--slim-l1-ratio",
        type=float,
        default=0.15,
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
    from tuner.similarities import ProgressLines, check_methods, compute_all

    methods = check_methods([m for m in args.methods.split(",") if m.strip()])
    if args.top_k < 1:
        raise ConfigError(f"--top-k must be >= 1. Got {args.top_k} instead.")
    als = _resolve_params(args, "als", "als" in methods)
    ials = _resolve_params(args, "ials", "ials" in methods)
    seeds = {m: r[1] for m, r in (("als", als), ("ials", ials)) if r is not None}
    data = load_prepared(args.data)
    anchors = [a.strip() for a in args.anchors.split(",") if a.strip()]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    cmp = compute_all(
        data,
        als_params=None if als is None else als[0],
        ials_params=None if ials is None else ials[0],
        seeds=seeds,
        out=args.out,
        top_k=args.top_k,
        methods=methods,
        anchors=anchors,
        num_threads=args.threads,
        slim_alpha=args.slim_alpha,
        slim_l1_ratio=args.slim_l1_ratio,
        progress=ProgressLines(lambda line: print(f"  {line}", file=sys.stderr, flush=True)),
        log=log,
    )
    out = Path(args.out)
    print(f"similarities of {len(methods)} methods in {cmp['seconds_total']:.0f} s:")
    for line in cmp["summary"]:
        print(f"  - {line}")
    for m in methods:
        print(f"  {out / f'neighbors_{m}.csv'}")
    print(f"  {out / 'comparison.json'}")
    print(f"  {out / 'report.html'}  (open in a browser; works offline)")
    return 0
