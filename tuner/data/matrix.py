"""Raw-id likes -> a binary users x items CSR matrix with the id maps and an items table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tuner.data.interactions import Interactions
from tuner.errors import DataError


@dataclass
class LikeMatrix:
    """A binary like matrix and the maps back to raw ids.

    Attributes:
        matrix: (n_users, n_items) CSR float32, all stored values 1.0, sorted indices, no
            duplicates, no empty row or column.
        user_ids: (n_users,) raw user id of each row, increasing: int64, or ``str`` objects
            when the input's ids are text.
        item_ids: (n_items,) raw item id of each column, increasing (int64 or ``str``).
        items: table with columns ``index``, ``raw_id``, ``name``, ``source`` and (when the
            loader knows it) ``topic``, one row per column.
        n_duplicates: like rows collapsed because the same (user, item) pair repeated.
        dropped_users: users the input mentioned that ended with no like.
        dropped_items: items the input mentioned that ended with no like.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    items: pd.DataFrame
    n_duplicates: int = 0
    dropped_users: int = 0
    dropped_items: int = 0


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-d integer array.

    Sort + neighbour compare; NumPy 2's hash-based ``np.unique`` is several times slower on
    millions of int64 keys.
    """
    s = np.sort(x)
    if s.shape[0] == 0:
        return s
    keep = np.empty(s.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def unique_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, (n,) int64 position of each element of ``x`` among them)."""
    if x.shape[0] and x.min() >= 0 and x.max() < max(4 * x.shape[0], 1 << 20):
        # Ids are usually dense small integers: a lookup table beats sorting millions of keys.
        present = np.bincount(x, minlength=1) > 0
        lookup = np.cumsum(present) - 1
        return np.flatnonzero(present).astype(np.int64), lookup[x]
    order = np.argsort(x)
    s = x[order]
    new = np.empty(s.shape[0], dtype=bool)
    if s.shape[0]:
        new[0] = True
        np.not_equal(s[1:], s[:-1], out=new[1:])
    group = np.cumsum(new) - 1
    inverse = np.empty(x.shape[0], dtype=np.int64)
    inverse[order] = group
    return s[new], inverse


def csr_from_pairs(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """Binary CSR float32 with sorted indices from (row, col) pairs; duplicates collapse to 1.

    Args:
        rows: (n,) integer row of each pair.
        cols: (n,) integer column of each pair.
        shape: (n_rows, n_cols).
    """
    n_rows, n_cols = shape
    keys = sorted_unique(rows.astype(np.int64) * n_cols + cols.astype(np.int64))
    idx_dtype = np.int32 if max(n_cols, keys.shape[0]) < np.iinfo(np.int32).max else np.int64
    indices = (keys % n_cols).astype(idx_dtype)
    counts = np.bincount(keys // n_cols, minlength=n_rows)
    indptr = np.zeros(n_rows + 1, dtype=idx_dtype)
    np.cumsum(counts, out=indptr[1:])
    data = np.ones(keys.shape[0], dtype=np.float32)
    m = sp.csr_matrix((data, indices, indptr), shape=shape)
    m.has_sorted_indices = True
    return m


def build_matrix(inter: Interactions) -> LikeMatrix:
    """Turn raw-id likes into the binary matrix, dropping users and items without likes.

    Raises:
        DataError: when no like is left (empty file, every rating filtered out, all zeros).
    """
    if inter.n_likes == 0:
        raise DataError(
            "the input holds no like (no row, or every rating was zero / below --min-rating). "
            "Fix: check --path, the columns and --min-rating."
        )
    user_ids, rows = unique_inverse(np.asarray(inter.users, dtype=np.int64))
    item_ids, cols = unique_inverse(np.asarray(inter.items, dtype=np.int64))
    matrix = csr_from_pairs(rows, cols, (user_ids.shape[0], item_ids.shape[0]))

    dropped_users = 0
    if inter.seen_users is not None:
        dropped_users = _count_missing(inter.seen_users, user_ids)
    catalogue = [] if inter.seen_items is None else [inter.seen_items]
    if inter.item_meta is not None:
        catalogue.append(inter.item_meta.index.to_numpy(dtype=np.int64))
    dropped_items = 0
    if catalogue:
        dropped_items = _count_missing(np.concatenate(catalogue), item_ids)

    items = items_table(item_ids, inter.item_meta)
    users_raw: np.ndarray = user_ids.astype(np.int64)
    items_raw: np.ndarray = item_ids.astype(np.int64)
    # Text ids were coded by their sorted position, so rows and columns stay in id order.
    if inter.user_labels is not None:
        users_raw = np.asarray(inter.user_labels, dtype=object)[user_ids]
    if inter.item_labels is not None:
        items_raw = np.asarray(inter.item_labels, dtype=object)[item_ids]
        items["raw_id"] = items_raw
    return LikeMatrix(
        matrix=matrix,
        user_ids=users_raw,
        item_ids=items_raw,
        items=items,
        n_duplicates=int(inter.n_likes - matrix.nnz),
        dropped_users=dropped_users,
        dropped_items=dropped_items,
    )


def _count_missing(seen: np.ndarray, kept: np.ndarray) -> int:
    """Distinct values of ``seen`` that are not in the sorted array ``kept``."""
    seen = sorted_unique(np.asarray(seen, dtype=np.int64))
    pos = np.minimum(np.searchsorted(kept, seen), max(kept.shape[0] - 1, 0))
    return int(np.count_nonzero(kept[pos] != seen)) if kept.shape[0] else int(seen.shape[0])


def items_table(item_ids: np.ndarray, meta: pd.DataFrame | None) -> pd.DataFrame:
    """Items table (index, raw_id, name, source[, topic]) for columns with raw ids ``item_ids``.

    Items the metadata does not know get an empty name and a missing source.
    """
    table = pd.DataFrame(
        {"index": np.arange(item_ids.shape[0], dtype=np.int64), "raw_id": item_ids}
    )
    if meta is None:
        meta = pd.DataFrame(index=pd.Index([], dtype=np.int64, name="raw_id"))
    meta = meta[~meta.index.duplicated(keep="first")]
    names = meta["name"] if "name" in meta else pd.Series(dtype=object)
    table["name"] = names.reindex(item_ids).fillna("").astype(str).to_numpy()
    sources = meta["source"] if "source" in meta else pd.Series(dtype="Int64")
    table["source"] = sources.astype("Int64").reindex(item_ids).array
    if "topic" in meta:
        table["topic"] = meta["topic"].reindex(item_ids).fillna("").astype(str).to_numpy()
    return table


def subset(like: LikeMatrix, users: np.ndarray, items: np.ndarray) -> LikeMatrix:
    """Restrict to the given rows and columns, then drop rows / columns left empty.

    The dropped counts stay those of the input: the caller reports what the subset cut.

    Args:
        like: the full matrix.
        users: (k,) int64 row indices to keep.
        items: (m,) int64 column indices to keep.
    """
    sub = like.matrix[np.sort(users)][:, np.sort(items)].tocsr()
    keep_rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    keep_cols = np.flatnonzero(np.bincount(sub.indices, minlength=sub.shape[1]) > 0)
    sub = sub[keep_rows][:, keep_cols].tocsr()
    sub.sort_indices()
    user_idx = np.sort(users)[keep_rows]
    item_idx = np.sort(items)[keep_cols]
    items_df = like.items.iloc[item_idx].reset_index(drop=True)
    items_df["index"] = np.arange(item_idx.shape[0], dtype=np.int64)
    return LikeMatrix(
        matrix=sub.astype(np.float32),
        user_ids=like.user_ids[user_idx],
        item_ids=like.item_ids[item_idx],
        items=items_df,
        n_duplicates=like.n_duplicates,
        dropped_users=like.dropped_users,
        dropped_items=like.dropped_items,
    )
