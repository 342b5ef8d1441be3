"""tuner recommend: the top items of users of a fitted model, by raw user id."""

from __future__ import annotations

import argparse

from tuner.commands._model import add_model, print_results

HELP = "recommend items to users of a model written by 'tuner fit' or 'tuner export'"
DESCRIPTION = """\
Print each user's top N items by the model's scores (user factors . item factors), leaving out
what the user liked in train + validation, with the item names. Users are given by their raw
ids (the raw_id column of MODEL/users.csv).

example:
  tuner recommend --model storage/models/ials --user 42 --user 7 --n 10
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model(parser)
    parser.add_argument(
        "--user",
        action="append",
        required=True,
        metavar="ID",
        help="raw user id (repeat for several users)",
    )
    parser.add_argument(
        "--include-liked",
        action="store_true",
        help="keep the items the user already liked (default: leave them out)",
    )


def run(args: argparse.Namespace) -> int:
    from tuner.model import load_model

    model = load_model(args.model)
    frame = model.recommend(args.user, n=args.n, filter_liked=not args.include_liked)
    print_results(frame, "user", "item", as_json=args.json)
    return 0
