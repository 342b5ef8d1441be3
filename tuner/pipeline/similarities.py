"""The similarities stage of ``tuner run`` and ``tuner similarities``: compute with a progress
bar, then write the neighbour files, the items file, ``comparison.json`` and ``report.html``
in one go.

The neighbour files hold raw ids only and are gzip-compressed (names repeated on every row
would make them many times larger): ``pd.read_csv("neighbors_cosine.csv.gz")`` reads one, and
``items.csv`` gives every item's name once.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tqdm import tqdm

    from tuner.similarities import Neighbors, SimilarityResults

# rows per CSV write: bounds the memory of the formatted text at full size
CSV_CHUNK = 1_000_000
# the items' raw ids and names, beside the neighbour files
ITEMS_FILE = "items.csv"


class ProgressBar:
    """A ``progress(method, done, total)`` callback that draws one tqdm bar per method on
    ``file`` (stderr by default).

    The bar is drawn only when ``file`` is a terminal: in a log file its redraws would be
    garbled lines; the one-line messages of :func:`compute_all`'s ``log`` say what runs there.
    A method's bar opens at its ``done=0`` call and closes at ``done=total`` or when another
    method starts; :meth:`write` closes an open bar before its line, so lines and bars never mix.
    """

    def __init__(self, file: TextIO | None = None) -> None:
        self.file = file if file is not None else sys.stderr
        self.method: str | None = None
        self.bar: tqdm | None = None

    def __call__(self, method: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if method != self.method:
            self.close()
            self.method = method
            isatty = getattr(self.file, "isatty", None)
            self.bar = tqdm(
                total=total,
                desc=method,
                unit=" items",
                file=self.file,
                disable=not (isatty is not None and isatty()),
                leave=False,
                dynamic_ncols=True,
            )
        if self.bar is None:
            return
        self.bar.total = total
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None

    def write(self, write: Callable[[str], None]) -> Callable[[str], None]:
        """``write`` behind a close of the open bar: a log callback for :func:`compute_all`."""

        def log(message: str) -> None:
            self.close()
            write(message)

        return log


def write_neighbors_csv(path: Path, nb: Neighbors, items: pd.DataFrame) -> int:
    """A method's neighbour file, gzip-compressed CSV with the columns item, rank, neighbour,
    score: item and neighbour as raw ids, rank from 1, one row per kept neighbour, items in
    their index order. Returns the number of rows.

    The bytes depend only on the neighbours (no time stamp in the gzip header).
    """
    raw = items["raw_id"].to_numpy()
    rows, ranks = np.nonzero(nb.indices >= 0)
    nbrs = nb.indices[rows, ranks]
    scores = nb.scores[rows, ranks]
    with (
        gzip.GzipFile(path, mode="wb", compresslevel=6, mtime=0) as raw_fh,
        io.TextIOWrapper(raw_fh, encoding="utf-8", newline="") as fh,
    ):
        fh.write("item,rank,neighbour,score\n")
        for lo in range(0, rows.size, CSV_CHUNK):
            sl = slice(lo, lo + CSV_CHUNK)
            pd.DataFrame(
                {
                    "item": raw[rows[sl]],
                    "rank": ranks[sl] + 1,
                    "neighbour": raw[nbrs[sl]],
                    "score": scores[sl],
                }
            ).to_csv(fh, header=False, index=False, float_format="%.6g")
    return int(rows.size)


def write_items_csv(path: Path, items: pd.DataFrame) -> None:
    """``items.csv``: item (raw id), name; the names of the neighbour files' ids."""
    table = pd.DataFrame({"item": items["raw_id"], "name": items["name"]})
    table.to_csv(path, index=False, encoding="utf-8")


def neighbors_file(method: str) -> str:
    """The name of a method's neighbour file in the similarities directory."""
    return f"neighbors_{method}.csv.gz"


def write_similarities(
    out: str | Path,
    results: SimilarityResults,
    items: pd.DataFrame,
    *,
    extra_files: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``results`` into ``out`` atomically (the directory is replaced as a whole):
    one neighbour file per method (:func:`write_neighbors_csv`), ``items.csv`` (raw id, name),
    ``comparison.json``, ``report.html`` and ``extra_files`` (name -> text, e.g. the run's
    ``run.toml``).

    Read a neighbour file with its names::

        nb = pd.read_csv("neighbors_cosine.csv.gz")
        names = pd.read_csv("items.csv", index_col="item")["name"]
        nb["neighbour_name"] = nb["neighbour"].map(names)

    Args:
        out: the output directory.
        results: what :func:`tuner.similarities.compute_all` returned.
        items: the prepared items table the results index (raw ids and names).
        extra_files: more text files to write beside them.

    Returns:
        The paths written, in ``out`` (neighbour files first).
    """
    from tuner._io import atomic_dir, write_text_atomic
    from tuner.reports import render_report

    out = Path(out)
    cmp = results.comparison
    names = [neighbors_file(m) for m in results.neighbors]
    names += [ITEMS_FILE, "comparison.json", "report.html", *(extra_files or {})]
    with atomic_dir(out) as tmp:
        for m, nb in results.neighbors.items():
            write_neighbors_csv(tmp / neighbors_file(m), nb, items)
        write_items_csv(tmp / ITEMS_FILE, items)
        write_text_atomic(
            tmp / "comparison.json", json.dumps(cmp, indent=2, ensure_ascii=False) + "\n"
        )
        write_text_atomic(tmp / "report.html", render_report(cmp))
        for name, text in (extra_files or {}).items():
            write_text_atomic(tmp / name, text)
    return [out / name for name in names]


def run_similarities(
    data: Any,
    out: str | Path,
    *,
    log: Callable[[str], None],
    extra_files: Mapping[str, str] | None = None,
    **compute: Any,
) -> SimilarityResults:
    """Compute the similarities of ``data`` (:func:`tuner.similarities.compute_all` with the
    keyword arguments ``compute``) with a progress bar on stderr, then write them into ``out``
    (:func:`write_similarities`).

    Args:
        data: a :class:`tuner.data.PreparedData`.
        out: the output directory.
        log: where the one-line messages go (a method started / finished, writing).
        extra_files: more text files to write beside the outputs (name -> text).
        **compute: ``compute_all``'s keyword arguments (``factor_params``, ``methods``, ...).
    """
    from tuner.similarities import compute_all

    bar = ProgressBar()
    say = bar.write(log)
    try:
        results = compute_all(data, progress=bar, log=say, **compute)
    finally:
        bar.close()
    say("writing neighbours, comparison.json and report.html ...")
    write_similarities(out, results, data.items, extra_files=extra_files)
    return results
