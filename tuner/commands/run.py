"""``tuner run``: the whole job in one command (prepare, two studies, exports, similarities)."""

from __future__ import annotations

import argparse
from typing import Any

from tuner.commands._common import add_storage, int_at_least
from tuner.errors import ConfigError

HELP = "the whole job: prepare data, tune ALS, iALS, SLIM and cosine, export, compare similarities"
DESCRIPTION = """\
Prepare a dataset, run (or resume) an ALS, an iALS, a SLIM and a cosine item-kNN study, export
the best configurations (with a test MRR@100 from a refit on train+validation), compute the four
item-item similarities with the tuned settings and write the comparison report. Interrupted
with Ctrl-C and started again, it continues the same studies and reuses the prepared data.

With no arguments it runs on the embedded Zen-shaped synthetic data at a small scale, with the
studies in the SQLite file under storage/.

examples:
  tuner run
  tuner run --scale 1 --n-trials 30
  tuner run --source zen --path ~/data/zen --name zen
  tuner run --source interactions --path ratings.csv --option min_rating=4 --option sep=,
  tuner run --config run.toml --storage postgresql+psycopg://postgres@127.0.0.1/tuner
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The registries name the choices, so a new loader, model, method or pruner appears here.
    from tuner.data import LOADERS
    from tuner.objectives import OBJECTIVES
    from tuner.similarities import METHODS
    from tuner.study.factories import PRUNERS

    parser.add_argument("--config", metavar="TOML", help="run configuration file (see README)")
    parser.add_argument(
        "--name",
        help="run name: names the studies <name>-<model> (e.g. <name>-ials) and "
        "the output directory (default: from the source, e.g. synthetic-0.1)",
    )
    data = parser.add_argument_group("data")
    data.add_argument("--source", choices=tuple(LOADERS))
    data.add_argument("--path", help="input file or directory of the source")
    data.add_argument("--scale", type=float, help="synthetic size; 1 = full Zen shape")
    data.add_argument(
        "--seed", type=int_at_least(0), help="seed of the split (and of the synthetic data)"
    )
    data.add_argument(
        "--debug-items",
        type=float,
        metavar="FRAC",
        help="keep the top FRAC of items by popularity",
    )
    data.add_argument(
        "--debug-users", type=float, metavar="FRAC", help="keep a random FRAC of users"
    )
    data.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a loader option of 'tuner prepare' (e.g. min_rating=4, sep=';')",
    )
    study = parser.add_argument_group("studies")
    add_storage(study)
    study.add_argument(
        "--models", help=f"comma-separated models to tune (default: {','.join(OBJECTIVES)})"
    )
    study.add_argument(
        "--n-trials", type=int_at_least(1), metavar="N", help="trial budget of each study"
    )
    study.add_argument(
        "--workers", type=int_at_least(1), metavar="W", help="worker processes per study"
    )
    study.add_argument("--pruner", choices=PRUNERS)
    sims = parser.add_argument_group("similarities")
    sims.add_argument("--no-similarities", action="store_true", help="skip the similarity report")
    sims.add_argument("--methods", help=f"comma-separated: {','.join(METHODS)}")
    sims.add_argument("--anchors", help="comma-separated raw item ids to list in the report")
    sims.add_argument(
        "--top-k", type=int_at_least(1), metavar="K", help="neighbours per item (default 100)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="output directory (default storage/runs/NAME)"
    )


def _parse_value(text: str) -> Any:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Command-line values as dotted configuration keys (only those the user gave)."""
    out: dict[str, Any] = {}
    simple = {
        "name": "name",
        "source": "data.source",
        "path": "data.path",
        "scale": "data.scale",
        "seed": "data.seed",
        "debug_items": "data.debug_items",
        "debug_users": "data.debug_users",
        "storage": "study.storage",
        "n_trials": "study.n_trials",
        "workers": "study.workers",
        "pruner": "study.pruner",
        "top_k": "similarities.top_k",
        "out": "output.dir",
    }
    for attr, key in simple.items():
        value = getattr(args, attr)
        if value is not None:
            out[key] = value
    if args.source is not None and args.source != "synthetic" and args.scale is None:
        out["data.scale"] = None
    if args.models:
        out["study.models"] = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.methods:
        out["similarities.methods"] = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.anchors:
        out["similarities.anchors"] = [_parse_value(a.strip()) for a in args.anchors.split(",")]
    if args.no_similarities:
        out["similarities.enabled"] = False
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {item!r} must look like KEY=VALUE, e.g. min_rating=4")
        options[key.strip().replace("-", "_")] = _parse_value(value)
    if options:
        out["data.options"] = options
    return out


def run(args: argparse.Namespace) -> int:
    from tuner.pipeline import load_config, run_pipeline

    config = load_config(args.config, overrides_from_args(args))
    run_pipeline(config)
    return 0
