"""Loaders: each turns one input layout into :class:`~tuner.data.interactions.Interactions`.

Registry :data:`LOADERS` maps ``--source`` names to loader functions
``loader(path, *, seed, scale, **options) -> Interactions``. Every problem with the input is a
:class:`~tuner.errors.DataError` with one line naming the file, the line where it helps, and
the fix.
"""

from __future__ import annotations

import difflib
import gzip
import inspect
import io
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.data import synthetic
from tuner.data.interactions import Interactions
from tuner.data.matrix import sorted_unique
from tuner.errors import DataError

ZEN_RATINGS = "zen_ratings.csv"
ZEN_NAMES = "zen_item_to_name.csv"
ZEN_SOURCES = "zen_item_to_source.csv"
ZEN2_RATINGS = "user_ratings.gz"
ZEN2_META = "item_meta.gz"
ZEN2_COUNTS = "item_counts.csv"

# Column names tried, case-insensitively, when --user-col / --item-col / --rating-col are unset.
USER_COLUMNS = ("userid", "user_id", "user", "uid", "visitorid", "customer_id")
ITEM_COLUMNS = (
    "movieid", "item_id", "itemid", "item", "artistid", "artist_id", "movie_id", "iid",
    "bookid", "book_id", "article_id", "id",
)  # fmt: skip
RATING_COLUMNS = ("rating", "weight", "count", "score", "plays", "value", "like")
NAME_COLUMNS = ("name", "title")

# A whole list literal: "[1, 2, 3]" or "[]", ids possibly negative (rejected later, by name).
_LIST_RE = r"\s*\[\s*(?:-?\d+\s*(?:,\s*-?\d+\s*)*)?\]\s*"


# ---------------------------------------------------------------------------- shared helpers


def _need_path(path: Path | None, source: str, what: str) -> Path:
    if path is None:
        raise DataError(f"--source {source} needs --path ({what}). Fix: pass --path P.")
    if not path.exists():
        raise DataError(f"--path {path} does not exist. Fix: pass {what}.")
    return path


def _need_file(path: Path, what: str, flag: str = "--path") -> Path:
    """``path`` if it is a file; else a DataError naming ``flag``, the option that gave it."""
    if path.is_dir():
        raise DataError(
            f"{flag} {path} is a directory, but the {what} must be a file. "
            f"Fix: pass the file itself, {flag} FILE."
        )
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist. Fix: check {flag}.")
    return path


def _read_csv(path: Path, text: str | None = None, **kwargs: Any) -> pd.DataFrame:
    """pandas.read_csv of ``path`` (or of ``text`` already read from it), with every reader
    failure turned into one DataError line."""
    try:
        df = pd.read_csv(
            path if text is None else io.StringIO(text), encoding_errors="replace", **kwargs
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty. Fix: pass a file with data rows.") from None
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot parse {path}: {msg}. Fix: check the format/--sep.") from None
    if df.shape[0] == 0:
        raise DataError(f"{path} has a header but no data rows. Fix: pass a file with data.")
    return df


def _to_ids(values: pd.Series, what: str, path: Path, first_line: int) -> np.ndarray:
    """Non-negative int64 ids, or a DataError quoting the first bad value and its line.

    Args:
        values: the column as read.
        what: e.g. "user id".
        path: file, for the message.
        first_line: 1-based line number of row 0.
    """
    if pd.api.types.is_integer_dtype(values.dtype):
        ids = values.to_numpy(dtype=np.int64)
    elif pd.api.types.is_float_dtype(values.dtype):
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
        _fail_at(~np.isfinite(arr) | (arr != np.floor(arr)), values, what, path, first_line)
        ids = arr.astype(np.int64)
    else:
        # Strings are parsed exactly (no float round trip: 64-bit ids keep every digit).
        text = values.astype(str).str.strip()
        ok = text.str.fullmatch(r"[-+]?\d{1,18}").to_numpy(dtype=bool, na_value=False)
        _fail_at(~ok, values, what, path, first_line)
        ids = text.astype(np.int64).to_numpy()
    neg = ids < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise DataError(
            f"{path} line {first_line + i}: {what} {int(ids[i])} is negative. Fix: {what}s must "
            "be non-negative integers."
        )
    return ids


def _show(value: object) -> str:
    """repr of a cell as the user typed it (no ``np.float64(...)`` wrapper)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _ids_or_labels(
    values: pd.Series, what: str, path: Path, first_line: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer ids, or text ids (Amazon ASINs, Yelp ids, names) coded by their sorted position.

    A column whose every value is an integer holds integer ids (:func:`_to_ids`); otherwise
    every value is a text id, kept exactly as written (stripped). Float columns stay numeric.

    Returns:
        ``(ids, None)`` for integer ids; ``(codes, labels)`` for text ids, ``labels`` the
        sorted distinct ids (object array of str) and ``codes`` each row's position in it.
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        return _to_ids(values, what, path, first_line), None
    text = values.astype(str).str.strip()
    if text.str.fullmatch(r"[-+]?\d{1,18}").all():
        return _to_ids(values, what, path, first_line), None
    empty = (values.isna() | (text == "")).to_numpy(dtype=bool)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise DataError(
            f"{path} line {first_line + i}: the {what} is empty. Fix: every row needs a {what} "
            "(check the column choice/--sep)."
        )
    labels, codes = np.unique(text.to_numpy(dtype=str), return_inverse=True)
    return codes.astype(np.int64), labels.astype(object)


def _fail_at(bad: np.ndarray, values: pd.Series, what: str, path: Path, first_line: int) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path} line {first_line + i}: {what} {_show(values.iloc[i])} is not an integer. "
            f"Fix: {what}s must be non-negative integers (check the column choice/--sep)."
        )


def nullable_int64(cells: pd.Series) -> tuple[pd.api.extensions.ExtensionArray, int | None]:
    """Exact signed 64-bit integers from text cells; empty cells become <NA>.

    Returns:
        (values, bad_row): a nullable ``Int64`` array, and the first row that is not a 64-bit
        integer (``None`` when all parse). No float round trip, so large ids keep every digit.
    """
    text = cells.astype(str).str.strip()
    given = (text != "").to_numpy() & cells.notna().to_numpy()
    ok = text.str.fullmatch(r"[-+]?\d{1,19}").to_numpy(dtype=bool, na_value=False) | ~given
    parsed = None
    if ok.all():
        try:
            parsed = np.array(text[given].tolist(), dtype=np.int64)
        except OverflowError:
            parsed = None
    if parsed is None:
        if not ok.all():
            return pd.array([], dtype="Int64"), int(np.flatnonzero(~ok)[0])
        big = [i for i, t in enumerate(text) if given[i] and not -(2**63) <= int(t) < 2**63]
        return pd.array([], dtype="Int64"), big[0]
    values = pd.array(np.zeros(given.shape[0], dtype=np.int64), dtype="Int64")
    values[given] = parsed
    values[~given] = pd.NA
    return values, None


def _pick_column(
    columns: list[str], requested: str | None, candidates: Iterable[str], path: Path, what: str
) -> str | None:
    """Resolve --user-col / --item-col / --rating-col against a header."""
    if requested is not None:
        if requested in columns:
            return requested
        if requested.isdigit() and int(requested) < len(columns):
            return columns[int(requested)]
        raise DataError(
            f"{path} has no {what} column {requested!r} (columns: {', '.join(columns)}). "
            f"Fix: pass --{what}-col with one of these names or a 0-based position."
        )
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def _sniff_sep(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}. Fix: check --path.") from None
    if "\t" in first:
        return "\t"
    if "::" in first:
        return "::"
    for sep in (",", ";", "|"):
        if sep in first:
            return sep
    return r"\s+"


def _has_header(path: Path, sep: str) -> bool:
    """A first line made only of numbers is data (u.data, ratings.dat); anything else a header."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline().strip()
    if not first:
        return True
    fields = re.split(r"\s+", first) if sep == r"\s+" else first.split(sep)
    try:
        [float(f) for f in fields if f.strip()]
    except ValueError:
        return True
    return False


def _name_warning(meta: pd.DataFrame, items: np.ndarray, what: str) -> list[str]:
    """A warning when the metadata names item ids that no interaction mentions.

    Args:
        meta: metadata indexed by raw item id.
        items: raw item ids of every interaction read (likes or not).
        what: the metadata file's name, for the message.
    """
    seen = sorted_unique(items)
    ids = meta.index.to_numpy(dtype=np.int64)
    pos = np.minimum(np.searchsorted(seen, ids), max(seen.shape[0] - 1, 0))
    unknown = int(np.count_nonzero(seen[pos] != ids)) if seen.shape[0] else ids.shape[0]
    if unknown == 0:
        return []
    return [
        f"{what}: {unknown:,} of {meta.shape[0]:,} rows are for item ids that no interaction "
        "mentions; they are ignored (counted as dropped items)"
    ]


def _read_names(
    path: Path,
    id_col: str | None = None,
    name_col: str | None = None,
    labels: np.ndarray | None = None,
) -> pd.DataFrame:
    """An (id, name) table -> DataFrame indexed by raw id (int64) with a ``name`` column.

    With ``labels`` (the likes' text item ids, sorted), the ids are text too and the index is
    each id's position in ``labels``; ids that no like mentions get positions past its end.
    """
    _need_file(path, "names file", "--names")
    sep = _sniff_sep(path)
    engine = "c" if len(sep) == 1 else "python"
    df = _read_csv(path, sep=sep, dtype=str, keep_default_na=False, engine=engine)
    cols = [str(c) for c in df.columns]
    idc = _pick_column(cols, id_col, ("id", *ITEM_COLUMNS), path, "id") or cols[0]
    namec = _pick_column(cols, name_col, NAME_COLUMNS, path, "name")
    if namec is None:
        if len(cols) < 2:
            raise DataError(
                f"{path} has one column ({cols[0]}); a names file needs id and name columns. "
                "Fix: pass a table such as movies.csv (movieId,title) or artists.dat (id, name)."
            )
        namec = cols[1] if cols[0] == idc else cols[0]
    if labels is None:
        ids = _to_ids(df[idc], "item id", path, 2)
    else:
        text = df[idc].astype(str).str.strip().to_numpy(dtype=str)
        pos = np.minimum(np.searchsorted(labels, text), max(len(labels) - 1, 0))
        known = np.asarray(labels[pos] == text, dtype=bool) if len(labels) else np.zeros(0, bool)
        ids = np.where(known, pos, len(labels) + np.arange(text.shape[0])).astype(np.int64)
    return pd.DataFrame({"name": df[namec].to_numpy()}, index=pd.Index(ids, name="raw_id"))


def _folder(path: Path) -> Path:
    """--path may be the data directory or one of its files."""
    return path if path.is_dir() else path.parent


# ---------------------------------------------------------------------------- zen


def parse_list_column(values: pd.Series, path: Path, first_line: int) -> tuple[np.ndarray, ...]:
    """Parse a column of list literals such as ``"[15267, 61075, 81203]"`` without a Python loop.

    Fast path: check the brackets column-wide, strip them, join the whole column into one
    comma-separated string and let NumPy parse it in C; the id count must equal the commas
    counted per row. Only when that fails is each cell matched with a regex, to name the line.

    Args:
        values: (n_rows,) strings.
        path: file, for messages.
        first_line: 1-based line of row 0.

    Returns:
        (lengths, ids): (n_rows,) int64 list lengths and (sum(lengths),) int64 ids.

    Raises:
        DataError: an unparseable literal (with its line number) or a negative id.
    """
    s = values.astype(str).str.strip()
    inner = s.str[1:-1].str.strip()
    nonempty = inner.str.len().to_numpy() > 0
    lengths = np.where(nonempty, inner.str.count(",").to_numpy(dtype=np.int64) + 1, 0)
    brackets = (s.str[:1] == "[") & (s.str[-1:] == "]")
    ids: np.ndarray | None = None
    if brackets.all():
        joined = ",".join(inner[nonempty].tolist())
        try:
            ids = np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0, "i8")
        except ValueError:
            ids = None
        if ids is not None and ids.shape[0] != lengths.sum():
            ids = None
    if ids is None:
        ok = s.str.fullmatch(_LIST_RE).to_numpy(dtype=bool, na_value=False)
        i = int(np.flatnonzero(~ok)[0]) if not ok.all() else 0
        shown = s.iloc[i] if len(s.iloc[i]) <= 40 else s.iloc[i][:37] + "..."
        raise DataError(
            f"{path} line {first_line + i}: cannot parse the item list {shown!r}. Fix: each "
            'item_ids cell must be a list of integers such as "[15267, 61075]".'
        )
    if (ids < 0).any():
        row = int(np.searchsorted(np.cumsum(lengths), int(np.flatnonzero(ids < 0)[0]), "right"))
        raise DataError(
            f"{path} line {first_line + row}: negative item id in the list. Fix: item ids must "
            "be non-negative integers."
        )
    return lengths, ids


def load_zen(path: Path | None, *, seed: int = 0, scale: float = 1.0) -> Interactions:
    """The course's Zen files: ratings (list literals), item names, item sources.

    ``path`` is the directory holding ``zen_ratings.csv`` and, optionally,
    ``zen_item_to_name.csv`` (id,name) and ``zen_item_to_source.csv`` (id,source with signed
    64-bit sources), or the ratings file itself.
    """
    path = _need_path(path, "zen", f"the directory with {ZEN_RATINGS}")
    folder = _folder(path)
    ratings = _need_file(path if path.is_file() else folder / ZEN_RATINGS, ZEN_RATINGS)
    t0 = time.perf_counter()
    df = _read_csv(ratings, dtype={"item_ids": str}, keep_default_na=False)
    missing = [c for c in ("user_id", "item_ids") if c not in df.columns]
    if missing:
        raise DataError(
            f"{ratings} lacks column(s) {', '.join(missing)} (has: "
            f"{', '.join(map(str, df.columns))}). Fix: pass the course's {ZEN_RATINGS} with "
            "columns user_id,item_ids."
        )
    user_ids = _to_ids(df["user_id"], "user id", ratings, 2)
    lengths, items = parse_list_column(df["item_ids"], ratings, 2)
    users = np.repeat(user_ids, lengths)
    parse_seconds = time.perf_counter() - t0

    meta = pd.DataFrame(index=pd.Index([], dtype=np.int64, name="raw_id"))
    warnings: list[str] = []
    names_file = folder / ZEN_NAMES
    if names_file.is_file():
        names = _read_csv(names_file, dtype={"name": str}, keep_default_na=False)
        _require_columns(names, ("id", "name"), names_file)
        ids = _to_ids(names["id"], "item id", names_file, 2)
        meta = pd.DataFrame({"name": names["name"].to_numpy()}, index=pd.Index(ids, name="raw_id"))
        warnings += _name_warning(meta, items, ZEN_NAMES)
    else:
        warnings.append(f"{ZEN_NAMES} not found beside {ratings.name}; items have no names")
    sources_file = folder / ZEN_SOURCES
    if sources_file.is_file():
        src = _read_csv(sources_file, dtype={"source": str}, keep_default_na=False)
        _require_columns(src, ("id", "source"), sources_file)
        sids = _to_ids(src["id"], "item id", sources_file, 2)
        values, bad_row = nullable_int64(src["source"])
        if bad_row is not None:
            raise DataError(
                f"{sources_file} line {bad_row + 2}: source {src['source'].iloc[bad_row]!r} is "
                "not a signed 64-bit integer. Fix: sources must be integers in [-2**63, 2**63)."
            )
        source = pd.Series(values, index=pd.Index(sids, name="raw_id"))
        source = source[~source.index.duplicated()]
        meta = meta[~meta.index.duplicated()].join(source.rename("source"), how="outer")
    if "name" in meta:
        meta["name"] = meta["name"].fillna("")
    return Interactions(
        users=users,
        items=items,
        item_meta=meta,
        seen_users=user_ids,
        warnings=warnings,
        details={
            "rows": int(df.shape[0]),
            "ids": int(items.shape[0]),
            "parse_seconds": round(parse_seconds, 3),
        },
    )


def _require_columns(df: pd.DataFrame, needed: Iterable[str], path: Path) -> None:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {', '.join(missing)} (has: "
            f"{', '.join(map(str, df.columns))}). Fix: the file needs columns "
            f"{','.join(needed)}."
        )


# ---------------------------------------------------------------------------- zen-v2


def _json_lines(path: Path) -> list[tuple[int, Any]]:
    """(1-based line, record) for a gzip'd (or plain) JSON-lines, JSON-array or CSV file.

    The course ships these as JSON lines; a CSV with a header is accepted too, its cells that
    hold JSON objects (``trainRatings``) decoded.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}. Fix: pass an intact gzip file.") from None
    stripped = text.lstrip()
    if not stripped:
        raise DataError(f"{path} is empty. Fix: pass a file with one JSON object per line.")
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except ValueError as exc:
            raise DataError(f"{path}: invalid JSON ({exc}). Fix: check the file.") from None
        return list(enumerate(records, 1))
    if not stripped.startswith("{"):
        return _csv_records(path, text)
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append((n, json.loads(line)))
            except ValueError:
                raise DataError(
                    f"{path} line {n}: not valid JSON. Fix: one JSON object per line."
                ) from None
    return out


def _csv_records(path: Path, text: str) -> list[tuple[int, Any]]:
    df = _read_csv(path, text, dtype=str, keep_default_na=False)
    records = df.to_dict("records")
    for n, rec in enumerate(records, 2):
        for k, v in rec.items():
            if isinstance(v, str) and v.lstrip().startswith("{"):
                try:
                    rec[k] = json.loads(v)
                except ValueError:
                    raise DataError(
                        f"{path} line {n}: column {k!r} is not valid JSON. Fix: it must hold a "
                        'JSON object such as {"123": 1}.'
                    ) from None
    return list(enumerate(records, 2))


def _key(record: dict[str, Any], names: Iterable[str]) -> Any:
    for k in names:
        if k in record:
            return record[k]
    return None


def load_zen_v2(path: Path | None, *, seed: int = 0, scale: float = 1.0) -> Interactions:
    """The course's second Zen layout.

    ``user_ratings.gz``: one JSON object per line, ``{"userId": 17, "trainRatings": {"1043": 1,
    "77": -1}}`` (item id -> rating in {-1, 1}; likes are 1; a missing ``userId`` means the
    0-based line number). ``item_meta.gz`` (optional): JSON lines with ``itemId`` and ``title``
    (and ``sourceId`` when present). ``item_counts.csv`` (optional): the item catalogue
    (``itemId,count``); catalogue items without a like are counted as dropped.
    """
    path = _need_path(path, "zen-v2", f"the directory with {ZEN2_RATINGS}")
    folder = _folder(path)
    ratings = _need_file(path if path.is_file() else folder / ZEN2_RATINGS, ZEN2_RATINGS)
    t0 = time.perf_counter()
    records = _json_lines(ratings)
    user_list: list[int] = []
    keys: list[Iterable[str]] = []
    vals: list[Iterable[Any]] = []
    lengths = np.zeros(len(records), dtype=np.int64)
    for row, (n, rec) in enumerate(records):
        tr = rec.get("trainRatings") if isinstance(rec, dict) else None
        if not isinstance(tr, dict):
            raise DataError(
                f"{ratings} line {n}: no 'trainRatings' object. Fix: each line must look like "
                '{"userId": 0, "trainRatings": {"123": 1, "456": -1}}.'
            )
        uid = _key(rec, ("userId", "user_id", "userID", "user"))
        user_list.append(row if uid is None else uid)
        keys.append(tr.keys())
        vals.append(tr.values())
        lengths[row] = len(tr)
    line_of_row = np.array([n for n, _ in records], dtype=np.int64)
    user_ids = _to_ids(pd.Series(user_list, dtype=object), "user id", ratings, 1)
    flat_keys = pd.Series(list(itertools.chain.from_iterable(keys)), dtype=object)
    flat_vals = pd.to_numeric(
        pd.Series(list(itertools.chain.from_iterable(vals)), dtype=object), errors="coerce"
    ).to_numpy(dtype=np.float64, na_value=np.nan)
    users_all = np.repeat(user_ids, lengths)
    keys_num = pd.to_numeric(flat_keys, errors="coerce").to_numpy(dtype=np.float64, na_value=-1.0)
    bad_key = (keys_num < 0) | (keys_num != np.floor(keys_num))
    if bad_key.any():
        row = int(np.searchsorted(np.cumsum(lengths), int(np.flatnonzero(bad_key)[0]), "right"))
        raise DataError(
            f"{ratings} line {line_of_row[row]}: a trainRatings key is not a non-negative "
            'integer item id. Fix: keys must be item ids such as "1043".'
        )
    items_all = keys_num.astype(np.int64)
    bad_val = ~np.isin(flat_vals, (-1.0, 0.0, 1.0))
    if bad_val.any():
        row = int(np.searchsorted(np.cumsum(lengths), int(np.flatnonzero(bad_val)[0]), "right"))
        raise DataError(
            f"{ratings} line {line_of_row[row]}: a trainRatings value is not -1 or 1. Fix: "
            "ratings must be 1 (like) or -1 (dislike)."
        )
    like = flat_vals > 0
    parse_seconds = time.perf_counter() - t0

    meta = pd.DataFrame(index=pd.Index([], dtype=np.int64, name="raw_id"))
    warnings: list[str] = []
    meta_file = folder / ZEN2_META
    if meta_file.is_file():
        rows = [r for _, r in _json_lines(meta_file) if isinstance(r, dict)]
        ids = _to_ids(
            pd.Series([_key(r, ("itemId", "item_id", "id")) for r in rows], dtype=object),
            "item id",
            meta_file,
            1,
        )
        raw_sources = [_key(r, ("sourceId", "source_id", "source")) for r in rows]
        sources, bad = nullable_int64(
            pd.Series(["" if v is None else str(v) for v in raw_sources], dtype=object)
        )
        if bad is not None:
            raise DataError(
                f"{meta_file}: item {ids[bad]} has source {raw_sources[bad]!r}, not a signed "
                "64-bit integer. Fix: sourceId must be an integer (or absent)."
            )
        meta = pd.DataFrame(
            {"name": [str(_key(r, ("title", "name")) or "") for r in rows], "source": sources},
            index=pd.Index(ids, name="raw_id"),
        )
        warnings += _name_warning(meta, items_all, ZEN2_META)
    seen_items = items_all
    counts_file = folder / ZEN2_COUNTS
    if counts_file.is_file():
        counts = _read_csv(counts_file)
        cols = [str(c) for c in counts.columns]
        idc = _pick_column(cols, None, ("itemid", "item_id", "id", "item"), counts_file, "item")
        cat = _to_ids(counts[idc or cols[0]], "item id", counts_file, 2)
        seen_items = np.concatenate([seen_items, cat])
    return Interactions(
        users=users_all[like],
        items=items_all[like],
        item_meta=meta,
        seen_users=user_ids,
        seen_items=seen_items,
        warnings=warnings,
        details={
            "rows": len(records),
            "ids": int(flat_vals.shape[0]),
            "dislikes": int((flat_vals < 0).sum()),
            "parse_seconds": round(parse_seconds, 3),
        },
    )


# ---------------------------------------------------------------------------- interactions


def load_interactions(
    path: Path | None,
    *,
    seed: int = 0,
    scale: float = 1.0,
    user_col: str | None = None,
    item_col: str | None = None,
    rating_col: str | None = None,
    sep: str | None = None,
    header: bool | None = None,
    min_rating: float | None = None,
    names: str | Path | None = None,
) -> Interactions:
    """A table of (user, item[, rating]) rows: MovieLens ``ratings.csv`` / ``u.data``, Last.fm
    ``user_artists.dat`` and the like.

    A row is a like when its rating is ``>= min_rating`` (or ``> 0`` without ``min_rating``);
    without a rating column every row is a like. ``header=None`` detects the header: a first
    line made only of numbers is data. ``names`` is an optional (id, name/title) table.
    """
    path = _need_path(path, "interactions", "the interactions table")
    path = _need_file(path, "interactions table")
    if sep is not None:
        sep = sep.encode().decode("unicode_escape")  # let users type '\t'
    sep = sep or _sniff_sep(path)
    engine = "c" if len(sep) == 1 else "python"
    if header is None:
        header = _has_header(path, sep)
    df = _read_csv(path, sep=sep, header=0 if header else None, engine=engine)
    df.columns = [str(c) for c in df.columns]
    cols = list(df.columns)
    first_line = 2 if header else 1
    if header:
        ucol = _pick_column(cols, user_col, USER_COLUMNS, path, "user")
        icol = _pick_column(cols, item_col, ITEM_COLUMNS, path, "item")
        rcol = _pick_column(cols, rating_col, RATING_COLUMNS, path, "rating")
        for what, col in (("user", ucol), ("item", icol)):
            if col is None:
                raise DataError(
                    f"{path} has no recognizable {what} column (columns: {', '.join(cols)}). "
                    f"Fix: pass --{what}-col NAME (or --no-header if the file has no header)."
                )
    else:
        ucol = _pick_column(cols, user_col or "0", (), path, "user")
        icol = _pick_column(cols, item_col or "1", (), path, "item")
        rating_req = rating_col or ("2" if len(cols) > 2 else None)
        rcol = None if rating_req is None else _pick_column(cols, rating_req, (), path, "rating")
    if len(cols) < 2:
        raise DataError(
            f"{path} has {len(cols)} column with separator {sep!r}; a user and an item column "
            "are needed. Fix: pass the right --sep."
        )
    assert ucol is not None and icol is not None
    users, user_labels = _ids_or_labels(df[ucol], "user id", path, first_line)
    items, item_labels = _ids_or_labels(df[icol], "item id", path, first_line)
    details: dict[str, object] = {"rows": int(df.shape[0]), "user_col": ucol, "item_col": icol}
    if user_labels is not None or item_labels is not None:
        details["text_ids"] = [
            w for w, lab in (("user", user_labels), ("item", item_labels)) if lab is not None
        ]
    keep = np.ones(users.shape[0], dtype=bool)
    if rcol is not None:
        r = pd.to_numeric(df[rcol], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(r).any():
            i = int(np.flatnonzero(np.isnan(r))[0])
            raise DataError(
                f"{path} line {first_line + i}: rating {_show(df[rcol].iloc[i])} in column "
                f"{rcol!r} is not a number. Fix: pass the right --rating-col."
            )
        if not (r != 0).any():
            raise DataError(
                f"{path}: every value in column {rcol!r} is 0, so there is no like. Fix: pass "
                "the right --rating-col, or a file with non-zero weights."
            )
        keep = r >= min_rating if min_rating is not None else r > 0
        details.update(rating_col=rcol, min_rating=min_rating, below_threshold=int((~keep).sum()))
    elif min_rating is not None:
        raise DataError(
            f"--min-rating {min_rating} needs a rating column, but {path} has none recognized "
            f"(columns: {', '.join(cols)}). Fix: pass --rating-col NAME."
        )
    meta = None
    warnings: list[str] = []
    if names is not None:
        meta = _read_names(Path(names), labels=item_labels)
        warnings += _name_warning(meta, items, Path(names).name)
    return Interactions(
        users=users[keep],
        items=items[keep],
        item_meta=meta,
        seen_users=users,
        seen_items=items,
        warnings=warnings,
        details=details,
        user_labels=user_labels,
        item_labels=item_labels,
    )


# ---------------------------------------------------------------------------- lists


def load_lists(
    path: Path | None,
    *,
    seed: int = 0,
    scale: float = 1.0,
    lists_format: str = "user",
    names: str | Path | None = None,
) -> Interactions:
    """One line per user with whitespace-separated integers.

    ``lists_format="user"``: ``user item item ...`` (LightGCN/Gowalla ``train.txt``).
    ``lists_format="count"``: ``count item item ...`` (CiteULike ``users.dat``); the user id is
    the 0-based line number and ``count`` must equal the number of items on the line.
    ``names`` is an optional (id, name/title) table.
    """
    if lists_format not in ("user", "count"):
        raise DataError(
            f"--lists-format must be 'user' or 'count'; got {lists_format!r}. Fix: pass "
            "--lists-format user (Gowalla) or count (CiteULike)."
        )
    path = _need_path(path, "lists", "the lists file")
    path = _need_file(path, "lists file")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}. Fix: check --path.") from None
    lines = text.splitlines()
    if not text.strip():
        raise DataError(f"{path} is empty. Fix: pass a file with one line per user.")
    split = [ln.split() for ln in lines]
    lengths = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
    tokens = list(itertools.chain.from_iterable(split))
    try:
        values = np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        values = None
    if values is None or (values < 0).any():
        for n, parts in enumerate(split, 1):
            for tok in parts:
                if not re.fullmatch(r"\d+", tok):
                    raise DataError(
                        f"{path} line {n}: {tok!r} is not a non-negative integer id. Fix: each "
                        "line must hold whitespace-separated non-negative integers."
                    )
    assert values is not None
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    has = lengths > 0
    heads = values[starts[has]]
    line_no = np.flatnonzero(has)
    n_items_per_line = lengths - has
    if lists_format == "count":
        mismatch = heads != n_items_per_line[has]
        if mismatch.any():
            i = int(np.flatnonzero(mismatch)[0])
            raise DataError(
                f"{path} line {line_no[i] + 1}: count {heads[i]} but {n_items_per_line[has][i]} "
                "item ids follow. Fix: use --lists-format user if the first number is a user id."
            )
        user_of_line = np.arange(len(lines), dtype=np.int64)
    else:
        user_of_line = np.full(len(lines), -1, dtype=np.int64)
        user_of_line[has] = heads
    is_head = np.zeros(values.shape[0], dtype=bool)
    is_head[starts[has]] = True
    items = values[~is_head]
    users = np.repeat(user_of_line, n_items_per_line)
    meta = None
    warnings: list[str] = []
    if names is not None:
        meta = _read_names(Path(names))
        warnings += _name_warning(meta, items, Path(names).name)
    return Interactions(
        users=users,
        items=items,
        item_meta=meta,
        warnings=warnings,
        seen_users=user_of_line[user_of_line >= 0],
        details={"lines": len(lines), "ids": int(items.shape[0]), "format": lists_format},
    )


# ---------------------------------------------------------------------------- synthetic


def load_synthetic(path: Path | None, *, seed: int = 0, scale: float = 1.0) -> Interactions:
    """The Zen-shaped generator (:func:`tuner.data.synthetic.generate`); ``path`` is ignored."""
    return synthetic.generate(scale=scale, seed=seed)


LOADERS: dict[str, Callable[..., Interactions]] = {
    "zen": load_zen,
    "zen-v2": load_zen_v2,
    "interactions": load_interactions,
    "lists": load_lists,
    "synthetic": load_synthetic,
}


def loader_options(source: str) -> tuple[str, ...]:
    """The options the loader of ``source`` takes besides path, seed and scale (sorted)."""
    params = inspect.signature(LOADERS[source]).parameters
    return tuple(sorted(n for n in params if n not in ("path", "seed", "scale")))


def unknown_option(source: str, names: Iterable[str], also: Iterable[str] = ()) -> str | None:
    """The first of ``names`` that the loader of ``source`` does not take, as a phrase naming
    the nearest valid option (among the loader's and ``also``) and the loader's options; None
    when every name is valid."""
    valid = loader_options(source)
    pool = (*valid, *also)
    for name in names:
        if name in valid:
            continue
        near = difflib.get_close_matches(name, pool, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        listed = ", ".join(valid) if valid else "none"
        return f"--source {source} has no option {name!r}{hint}; its options are {listed}"
    return None


def load(
    source: str, path: str | Path | None, *, seed: int = 0, scale: float = 1.0, **options: Any
) -> Interactions:
    """Run the loader registered for ``source`` with its options (unset options dropped)."""
    if source not in LOADERS:
        raise DataError(
            f"unknown --source {source!r}. Fix: use one of {', '.join(sorted(LOADERS))}."
        )
    problem = unknown_option(source, (k for k, v in options.items() if v is not None))
    if problem is not None:
        raise DataError(f"{problem}. Fix: correct its name or drop it.")
    if source != "synthetic" and scale != 1.0:
        raise DataError(
            f"--scale applies to --source synthetic only; got --scale {scale} with --source "
            f"{source}. Fix: drop --scale (use --debug-items/--debug-users to shrink real data)."
        )
    options = {k: v for k, v in options.items() if v is not None}
    return LOADERS[source](None if path is None else Path(path), seed=seed, scale=scale, **options)
