"""What ``tuner recommend`` and ``tuner similar`` share: the --model option and the output."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help="model directory written by 'tuner fit' or 'tuner export'",
    )
    parser.add_argument("--n", type=int, default=10, metavar="N", help="items per id (default 10)")
    parser.add_argument(
        "--json", action="store_true", help="print JSON (one object per id) instead of a table"
    )


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value json writes (int or str raw ids, float scores)."""
    return value.item() if hasattr(value, "item") else value


def print_results(frame: pd.DataFrame, query: str, result: str, *, as_json: bool) -> None:
    """Print one block per query id: a table (rank, id, score, name) or JSON."""
    if as_json:
        out = [
            {
                query: _plain(qid),
                "results": [
                    {
                        "rank": int(r["rank"]),
                        result: _plain(r[result]),
                        "name": r["name"],
                        "score": round(float(r["score"]), 6),
                    }
                    for r in group.to_dict("records")
                ],
            }
            for qid, group in frame.groupby(query, sort=False)
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    rows = [
        (str(r[query]), str(r["rank"]), str(r[result]), f"{r['score']:.4f}", str(r["name"]))
        for r in frame.to_dict("records")
    ]
    header = (query, "rank", result, "score", "name")
    widths = [
        max(len(h), *(len(row[c]) for row in rows)) if rows else len(h)
        for c, h in enumerate(header)
    ]
    print(
        "  ".join(
            h.ljust(w) if c in (0, 4) else h.rjust(w)
            for c, (h, w) in enumerate(zip(header, widths, strict=True))
        ).rstrip()
    )
    for row in rows:
        cells = [
            v.ljust(w) if c in (0, 4) else v.rjust(w)
            for c, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
