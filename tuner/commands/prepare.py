"""``tuner prepare``: load a data set, build the like matrix, split it, write a prepared dir."""

from __future__ import annotations

import argparse
import sys
import warnings

from tuner.commands._common import int_at_least

HELP = "load a data set, build the like matrix and write the fixed train/val/test split"
DESCRIPTION = """\
Load likes from one of the supported layouts, build a binary users x items matrix (duplicates
collapsed, users/items without likes dropped), optionally cut the course's debug subset, and
hold out one like for each of a seeded 20% of users (test) and another 20% (validation).
Writes OUT/train.npz, val.npz, test.npz, items.csv, users.csv and manifest.json (with a
sha256 fingerprint of the split) atomically, then prints a summary.

Sources and --path:
  zen           directory with zen_ratings.csv (user_id, item_ids="[1, 2, 3]"),
                zen_item_to_name.csv (id,name) and zen_item_to_source.csv (id,source)
  zen-v2        directory with user_ratings.gz (JSON lines with a trainRatings dict
                item -> 1/-1; likes are 1), item_meta.gz (JSON lines) and item_counts.csv
  interactions  a CSV/TSV of user, item[, rating] (MovieLens ratings.csv / u.data, Last.fm
                user_artists.dat); see --user-col, --item-col, --rating-col, --min-rating;
                ids may be text (Amazon, Yelp), kept as written
  lists         one line per user: 'user item item ...' (Gowalla/LightGCN train.txt) or
                'count item item ...' with --lists-format count (CiteULike users.dat)
  synthetic     the built-in Zen-shaped generator (no --path; --scale 0.02 for a small set)

Examples:
  tuner prepare --source synthetic --scale 0.02 --out storage/data/synthetic-small
  tuner prepare --source zen --path ~/zen --out storage/data/zen
  tuner prepare --source zen --path ~/zen --debug-items 0.03 --debug-users 0.03 --out dbg
  tuner prepare --source interactions --path ml-latest-small/ratings.csv --min-rating 4 \\
      --names ml-latest-small/movies.csv --out storage/data/ml
  tuner prepare --source interactions --path ml-100k/u.data --no-header --min-rating 4 --out ml
  tuner prepare --source lists --path citeulike-a/users.dat --lists-format count --out cul
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        required=True,
        choices=("zen", "zen-v2", "interactions", "lists", "synthetic"),
        help="input layout (see above)",
    )
    parser.add_argument("--path", metavar="P", help="input file or directory (not synthetic)")
    parser.add_argument("--out", required=True, metavar="DIR", help="prepared directory to write")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out when it already holds a prepared split (atomically)",
    )
    split = parser.add_argument_group("split and subset")
    split.add_argument(
        "--seed", type=int_at_least(0), default=0, help="split/subset/generator seed (0)"
    )
    split.add_argument(
        "--test-frac",
        type=float,
        default=0.2,
        metavar="F",
        help="share of users with 2+ likes held out for test (0.2)",
    )
    split.add_argument(
        "--val-frac",
        type=float,
        default=0.2,
        metavar="F",
        help="share of users with 2+ likes held out for validation (0.2)",
    )
    split.add_argument(
        "--debug-items",
        type=float,
        metavar="F",
        help="keep only the top F of items by popularity, e.g. 0.03 (course's debug subset)",
    )
    split.add_argument(
        "--debug-users", type=float, metavar="F", help="keep a seeded random F of users"
    )
    split.add_argument(
        "--scale",
        type=float,
        default=1.0,
        metavar="S",
        help="synthetic only: shrink users and items together (1 = Zen's 75,910 x 104,503)",
    )
    loader = parser.add_argument_group("loader options (interactions; lists takes --names)")
    loader.add_argument(
        "--user-col",
        metavar="COL",
        help="user column: a header name, or a 0-based position (default: userId/user_id/user/"
        "userID..., or column 0)",
    )
    loader.add_argument(
        "--item-col",
        metavar="COL",
        help="item column (default: movieId/item_id/item/artistID..., or column 1)",
    )
    loader.add_argument(
        "--rating-col",
        metavar="COL",
        help="rating/weight column (default: rating/weight/count if present, or column 2 with "
        "--no-header); rows with rating 0 (or below --min-rating) are not likes",
    )
    loader.add_argument(
        "--sep",
        metavar="S",
        help="field separator, e.g. ',' or '\\t' (default: guessed from the first line)",
    )
    loader.add_argument(
        "--no-header",
        action="store_true",
        help="the table has no header line (default: detected; a first line of numbers is data)",
    )
    loader.add_argument(
        "--min-rating", type=float, metavar="R", help="a like is rating >= R (MovieLens: 4)"
    )
    loader.add_argument(
        "--names",
        metavar="PATH",
        help="item names table (id, name/title), e.g. movies.csv or Last.fm artists.dat",
    )
    loader.add_argument(
        "--lists-format",
        choices=("user", "count"),
        help="lists: first number on a line is the user id ('user', Gowalla) or the item count "
        "('count', CiteULike; the user id is then the 0-based line number)",
    )


def run(args: argparse.Namespace) -> int:
    from tuner.data import DataWarning, prepare, summary

    # Only options the user set reach the loader; a loader that does not take one says so.
    options = {
        "user_col": args.user_col,
        "item_col": args.item_col,
        "rating_col": args.rating_col,
        "sep": args.sep,
        "header": False if args.no_header else None,
        "min_rating": args.min_rating,
        "names": args.names,
        "lists_format": args.lists_format,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        manifest = prepare(
            args.source,
            args.out,
            path=args.path,
            seed=args.seed,
            test_frac=args.test_frac,
            val_frac=args.val_frac,
            debug_items=args.debug_items,
            debug_users=args.debug_users,
            scale=args.scale,
            overwrite=args.overwrite,
            log=lambda line: print(f"tuner prepare: {line}", flush=True),
            **options,
        )
    for w in caught:
        print(f"tuner prepare: warning: {w.message}", file=sys.stderr)
    print(summary(manifest, out=args.out))
    print(
        f"next: tuner study --data {args.out} --model ials --study-name NAME --n-trials 50",
        flush=True,
    )
    return 0
