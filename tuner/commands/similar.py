"""tuner similar: the items closest to given items of a fitted model, by raw item id."""

from __future__ import annotations

import argparse

from tuner.commands._model import add_model, print_results

HELP = "items most similar to given items (cosine of a model's item factors)"
DESCRIPTION = """\
Print the N items closest to each given item by the cosine of the model's item factors (the
item itself left out), with the item names. Items are given by their raw ids (the raw_id
column of MODEL/items.csv).

example:
  tuner similar --model storage/models/ials --item 73702 --n 10
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model(parser)
    parser.add_argument(
        "--item",
        action="append",
        required=True,
        metavar="ID",
        help="raw item id (repeat for several items)",
    )


def run(args: argparse.Namespace) -> int:
    from tuner.model import load_model

    model = load_model(args.model)
    frame = model.similar_items(args.item, n=args.n)
    print_results(frame, "item", "similar_item", as_json=args.json)
    return 0
