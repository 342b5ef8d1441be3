"""Load -> matrix -> (debug subset) -> split -> one prepared directory, and reading it back.

A prepared directory holds ``train.npz``, ``val.npz``, ``test.npz`` (scipy.sparse.save_npz),
``items.csv`` (index, raw_id, name, source[, topic]), ``users.csv`` (index, raw_id) and
``manifest.json``. It is written under a temporary name and renamed at the end, so a failure
leaves nothing behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tuner import __version__
from tuner._io import atomic_dir
from tuner.data.loaders import load, nullable_int64
from tuner.data.matrix import LikeMatrix, build_matrix, subset
from tuner.data.split import check_fraction, debug_subset_indices, fingerprint, split_leave_one_out
from tuner.errors import DataError

FORMAT = "tuner-prepared"
FORMAT_VERSION = 1
MATRIX_FILES = ("train.npz", "val.npz", "test.npz")


class DataWarning(UserWarning):
    """Something in the input was odd but usable (e.g. names for item ids with no like)."""


@dataclass
class PreparedData:
    """A prepared split read back from disk.

    Attributes:
        path: the prepared directory.
        train: (n_users, n_items) CSR float32, sorted indices; every like not held out.
        val: (n_users, n_items) CSR float32; one held-out like per validation user.
        test: (n_users, n_items) CSR float32; one held-out like per test user.
        items: one row per column: ``index``, ``raw_id``, ``name``, ``source`` (nullable Int64)
            and, for synthetic data, ``topic``.
        manifest: the contents of ``manifest.json``.
        user_ids: (n_users,) raw user id of each row (int64, or ``str`` for text ids).
    """

    path: Path
    train: sp.csr_matrix
    val: sp.csr_matrix
    test: sp.csr_matrix
    items: pd.DataFrame
    manifest: dict[str, Any]
    user_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def fingerprint(self) -> str:
        """sha256 over the three matrices, as recorded when the split was written."""
        return str(self.manifest["fingerprint"])

    @property
    def n_users(self) -> int:
        return int(self.train.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.train.shape[1])

    def train_val(self) -> sp.csr_matrix:
        """train + val as one (n_users, n_items) CSR float32 with sorted indices (final refit)."""
        out = (self.train + self.val).tocsr().astype(np.float32)
        out.sort_indices()
        return out


def is_prepared_dir(path: str | Path) -> bool:
    """True when ``path`` holds a manifest written by :func:`prepare`."""
    manifest = Path(path) / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _check_out(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise DataError(f"--out {out} is an existing file. Fix: pass a directory path.")
    if is_prepared_dir(out):
        if not overwrite:
            raise DataError(
                f"--out {out} already holds a prepared split. Fix: pass --overwrite to replace "
                "it (atomically), or choose another --out."
            )
        return
    if any(out.iterdir()):
        raise DataError(
            f"--out {out} exists and is not a prepared data directory; refusing to replace it. "
            "Fix: choose a new or empty --out directory."
        )


def prepare(
    source: str,
    out: str | Path,
    *,
    path: str | Path | None = None,
    seed: int = 0,
    test_frac: float = 0.2,
    val_frac: float = 0.2,
    debug_items: float | None = None,
    debug_users: float | None = None,
    scale: float = 1.0,
    overwrite: bool = False,
    log: Callable[[str], None] | None = None,
    **loader_options: Any,
) -> dict[str, Any]:
    """Load ``source``, build the like matrix, split it and write ``out/`` atomically.

    Args:
        source: one of ``zen``, ``zen-v2``, ``interactions``, ``lists``, ``synthetic``.
        out: directory to write; must not exist, be empty, or (with ``overwrite``) be a prepared
            directory.
        path: input file or directory (not used by ``synthetic``).
        seed: seed of the split, the debug subset and the synthetic generator.
        test_frac: share of users with 2+ likes held out for test.
        val_frac: share of users with 2+ likes held out for validation.
        debug_items: keep only the top share of items by popularity (course's debug subset).
        debug_users: keep a seeded random share of users.
        scale: synthetic only: shrinks users and items together (1.0 = Zen shape).
        overwrite: replace an existing prepared directory.
        log: called with one short progress line per stage (the CLI prints them).
        **loader_options: source-specific options (see :mod:`tuner.data.loaders`).

    Returns:
        The manifest dict also written to ``out/manifest.json``.

    Raises:
        DataError: any bad input; nothing is written then.
    """
    out = Path(out)
    test_frac = check_fraction("test_frac", test_frac)
    val_frac = check_fraction("val_frac", val_frac)
    for name, value in (("debug_items", debug_items), ("debug_users", debug_users)):
        if value is not None:
            check_fraction(name, value)
    _check_out(out, overwrite)

    say = log or (lambda _line: None)
    t0 = time.perf_counter()
    inter = load(source, path, seed=seed, scale=scale, **loader_options)
    t_load = time.perf_counter() - t0
    say(f"loaded {inter.n_likes:,} likes from {source} in {t_load:.1f} s")
    like = build_matrix(inter)
    full_shape = like.matrix.shape
    if debug_items is not None or debug_users is not None:
        users, items = debug_subset_indices(
            like.matrix, items_frac=debug_items, users_frac=debug_users, seed=seed
        )
        like = subset(like, users, items)
        if like.matrix.nnz == 0:
            raise DataError(
                f"the debug subset (--debug-items {debug_items}, --debug-users {debug_users}) "
                "keeps no like. Fix: use larger fractions."
            )
    t_build = time.perf_counter() - t0 - t_load
    say(f"built the {like.matrix.shape[0]:,} x {like.matrix.shape[1]:,} matrix in {t_build:.1f} s")
    split = split_leave_one_out(like.matrix, test_frac=test_frac, val_frac=val_frac, seed=seed)
    t_split = time.perf_counter() - t0 - t_load - t_build
    say(f"split in {t_split:.1f} s; writing {out}")
    fp = fingerprint(split.train, split.val, split.test)

    for message in inter.warnings:
        warnings.warn(message, DataWarning, stacklevel=2)
    manifest = _manifest(
        source=source,
        path=path,
        seed=seed,
        test_frac=test_frac,
        val_frac=val_frac,
        debug_items=debug_items,
        debug_users=debug_users,
        scale=scale,
        loader_options=loader_options,
        like=like,
        full_shape=full_shape,
        n_eligible=split.n_eligible,
        counts=(split.train.nnz, split.val.nnz, split.test.nnz),
        fp=fp,
        inter_details=inter.details,
        inter_warnings=inter.warnings,
        timings={"load": t_load, "build": t_build, "split": t_split},
    )
    # Re-check just before writing: another process may have created `out` meanwhile.
    _check_out(out, overwrite)
    with atomic_dir(out, overwrite=True) as tmp:
        for name, m in zip(MATRIX_FILES, (split.train, split.val, split.test), strict=True):
            sp.save_npz(tmp / name, m, compressed=False)
        like.items.to_csv(tmp / "items.csv", index=False)
        pd.DataFrame({"index": np.arange(like.user_ids.shape[0]), "raw_id": like.user_ids}).to_csv(
            tmp / "users.csv", index=False
        )
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return manifest


def _manifest(
    *,
    source: str,
    path: str | Path | None,
    seed: int,
    test_frac: float,
    val_frac: float,
    debug_items: float | None,
    debug_users: float | None,
    scale: float,
    loader_options: dict[str, Any],
    like: LikeMatrix,
    full_shape: tuple[int, int],
    n_eligible: int,
    counts: tuple[int, int, int],
    fp: str,
    inter_details: dict[str, object],
    inter_warnings: list[str],
    timings: dict[str, float],
) -> dict[str, Any]:
    m = like.matrix
    n_users, n_items = m.shape
    user_likes = np.diff(m.indptr)
    item_likes = np.bincount(m.indices, minlength=n_items)
    top = np.argsort(-item_likes, kind="stable")[:10]
    has_topic = "topic" in like.items
    top_items = [
        {
            "index": int(i),
            "raw_id": _plain(like.item_ids[i]),
            "name": str(like.items["name"].iat[i]),
            "likes": int(item_likes[i]),
            **({"topic": str(like.items["topic"].iat[i])} if has_topic else {}),
        }
        for i in top
    ]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "source": source,
        "path": None if path is None else str(Path(path).resolve()),
        "seed": int(seed),
        "test_frac": test_frac,
        "val_frac": val_frac,
        "debug_items": debug_items,
        "debug_users": debug_users,
        "scale": float(scale) if source == "synthetic" else None,
        "loader_options": {k: _jsonable(v) for k, v in loader_options.items() if v is not None},
        "n_users": int(n_users),
        "n_items": int(n_items),
        "n_likes": int(m.nnz),
        "n_train": int(counts[0]),
        "n_val": int(counts[1]),
        "n_test": int(counts[2]),
        "density": float(m.nnz / (n_users * n_items)),
        "n_eligible_users": n_eligible,
        "dropped_users": like.dropped_users,
        "dropped_items": like.dropped_items,
        "duplicates_collapsed": like.n_duplicates,
        "debug_subset_of": list(full_shape) if (debug_items or debug_users) else None,
        "likes_per_user": _stats(user_likes),
        "likes_per_item": _stats(item_likes),
        "top_items": top_items,
        "fingerprint": fp,
        "loader": {k: _jsonable(v) for k, v in inter_details.items()},
        "warnings": list(inter_warnings),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "files": [*MATRIX_FILES, "items.csv", "users.csv", "manifest.json"],
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "tuner_version": __version__,
    }


def _stats(x: np.ndarray) -> dict[str, float]:
    return {
        "min": int(x.min()),
        "median": float(np.median(x)),
        "mean": round(float(x.mean()), 3),
        "max": int(x.max()),
    }


def _jsonable(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v.resolve())
    return v


def load_prepared(path: str | Path) -> PreparedData:
    """Read a directory written by :func:`prepare` and check it against its fingerprint.

    Raises:
        DataError: the directory is missing, is not a prepared split, or its files changed.
    """
    path = Path(path)
    fix = f"Fix: run 'tuner prepare --source ... --out {path}' first, or pass the right --data."
    if not path.is_dir():
        raise DataError(f"prepared data directory {path} does not exist. {fix}")
    if not is_prepared_dir(path):
        raise DataError(f"{path} is not a prepared data directory (no tuner manifest.json). {fix}")
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"{path} was prepared in format version {manifest.get('format_version')!r}; this "
            f"tuner reads version {FORMAT_VERSION}. Fix: prepare it again with this version."
        )
    mats = []
    for name in MATRIX_FILES:
        try:
            m = sp.load_npz(path / name).tocsr().astype(np.float32, copy=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read {path / name}: {exc}. {fix}") from None
        m.sort_indices()
        mats.append(m)
    train, val, test = mats
    if fingerprint(train, val, test) != manifest.get("fingerprint"):
        raise DataError(
            f"the matrices in {path} do not match the fingerprint in its manifest.json (files "
            f"changed after 'tuner prepare'). {fix}"
        )
    try:
        items = pd.read_csv(
            path / "items.csv",
            dtype={"name": str, "topic": str, "source": str},
            keep_default_na=False,
        )
        users = pd.read_csv(path / "users.csv", keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the id maps in {path}: {exc}. {fix}") from None
    items["source"], bad = nullable_int64(items["source"])
    if bad is not None:
        raise DataError(f"{path / 'items.csv'} line {bad + 2}: bad source id. {fix}")
    return PreparedData(
        path=path,
        train=train,
        val=val,
        test=test,
        items=items,
        manifest=manifest,
        user_ids=_raw_id_column(users["raw_id"]),
    )


def _plain(raw_id: Any) -> int | str:
    """A raw id as JSON writes it: an int, or the text id as it was."""
    return raw_id if isinstance(raw_id, str) else int(raw_id)


def _raw_id_column(column: pd.Series) -> np.ndarray:
    """users.csv's raw ids: int64 when they are all integers, else the text as written."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy(dtype=np.int64)
    return column.astype(str).to_numpy(dtype=object)


def summary(manifest: dict[str, Any], out: str | Path | None = None) -> str:
    """A short human summary of a prepared split (what ``tuner prepare`` prints)."""
    m = manifest
    lines = [
        f"source      {m['source']}" + (f" ({m['path']})" if m.get("path") else ""),
        f"matrix      {m['n_users']:,} users x {m['n_items']:,} items, {m['n_likes']:,} likes, "
        f"density {m['density']:.3%}",
    ]
    loader = m.get("loader") or {}
    if "parse_seconds" in loader:
        lines.append(
            f"parsed      {loader.get('rows', 0):,} rows, {loader.get('ids', 0):,} item ids in "
            f"{loader['parse_seconds']:.2f} s"
        )
    if m.get("debug_subset_of"):
        u, i = m["debug_subset_of"]
        lines.append(f"debug       subset of {u:,} x {i:,} (--debug-items/--debug-users)")
    lines.append(
        f"dropped     {m['dropped_users']:,} users and {m['dropped_items']:,} items with no "
        f"like; {m['duplicates_collapsed']:,} duplicate likes collapsed"
    )
    lu, li = m["likes_per_user"], m["likes_per_item"]
    lines.append(
        f"per user    likes min {lu['min']} / median {lu['median']:g} / mean {lu['mean']:g} / "
        f"max {lu['max']}"
    )
    lines.append(
        f"per item    likes min {li['min']} / median {li['median']:g} / mean {li['mean']:g} / "
        f"max {li['max']}"
    )
    lines.append(
        f"split       seed {m['seed']}: train {m['n_train']:,} likes; validation "
        f"{m['n_val']:,} users x 1 like; test {m['n_test']:,} users x 1 like "
        f"(from {m['n_eligible_users']:,} users with 2+ likes)"
    )
    lines.append(f"fingerprint {m['fingerprint']}")
    lines.append("most liked" + ("" if m["top_items"] else "  (none)"))
    for rank, it in enumerate(m["top_items"], 1):
        name = it["name"] or "(no name)"
        topic = f" [{it['topic']}]" if it.get("topic") else ""
        lines.append(f"  {rank:>2}. {it['likes']:>7,}  {name}{topic}  (id {it['raw_id']})")
    if out is not None:
        lines.append(f"written     {out}/  ({' '.join(m['files'])})")
    return "\n".join(lines)
