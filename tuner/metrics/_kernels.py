"""numba kernels of the ranking evaluator, with NumPy references.

Ranking policy (everywhere in tuner): a user's candidate list is every item not in their
``exclude`` row, ordered by decreasing score; equal scores are ordered by increasing item index
(a stable sort of ``-score``). The 0-based position of a held-out item in that list is its
*rank*: the number of candidates that score higher, or score the same and have a lower index.
Counting that number is exact for MRR, HR and NDCG at K and needs no top-K list; the count of a
user stops being updated once it reaches K (the item is then outside the top K).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, nogil=True)
def count_block(
    scores: np.ndarray,
    active: np.ndarray,
    item_ids: np.ndarray,
    block_start: int,
    ho_ptr: np.ndarray,
    ho_item: np.ndarray,
    ho_score: np.ndarray,
    counts: np.ndarray,
    ex_ptr: np.ndarray,
    ex_pos: np.ndarray,
    ex_cursor: np.ndarray,
    k: int,
    keep: np.ndarray,
) -> None:
    """Add one block of candidate scores to the rank counts of a chunk of users.

    Args:
        scores: (n_active, B) float32 scores of the active users against the block's items.
        active: (n_active,) int64 chunk-local user of each score row.
        item_ids: (B,) int32 item index of each block column.
        block_start: position of the block's first column in the scan order.
        ho_ptr: (n_chunk + 1,) int64 CSR pointer into the chunk's held-out entries.
        ho_item: (n_ho,) int32 held-out item indices.
        ho_score: (n_ho,) float32 their scores.
        counts: (n_ho,) int64 rank counts, updated in place.
        ex_ptr: (n_chunk + 1,) int64 CSR pointer into ``ex_pos``.
        ex_pos: (n_ex,) int64 scan positions of each user's excluded items, sorted per user.
        ex_cursor: (n_chunk,) int64 next unread entry of ``ex_pos`` per user, advanced here.
        k: cut-off K.
        keep: (n_active,) bool output: the user still has a held-out item with count < K.
    """
    n_cols = scores.shape[1]
    block_end = block_start + n_cols
    for r in range(active.shape[0]):
        c = active[r]
        row = scores[r]
        cur = ex_cursor[c]
        stop = cur
        while stop < ex_ptr[c + 1] and ex_pos[stop] < block_end:
            stop += 1
        best = k
        for e in range(ho_ptr[c], ho_ptr[c + 1]):
            t = ho_score[e]
            hid = ho_item[e]
            cnt = 0
            for j in range(n_cols):
                s = row[j]
                iid = item_ids[j]
                cnt += ((s > t) | ((s == t) & (iid < hid))) & (iid != hid)
            for q in range(cur, stop):
                j = ex_pos[q] - block_start
                s = row[j]
                iid = item_ids[j]
                cnt -= ((s > t) | ((s == t) & (iid < hid))) & (iid != hid)
            counts[e] += cnt
            best = min(best, counts[e])
        ex_cursor[c] = stop
        keep[r] = best < k


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def heldout_scores(
    users: np.ndarray,
    ho_ptr: np.ndarray,
    ho_item: np.ndarray,
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    out: np.ndarray,
) -> None:
    """Scores of the held-out entries: ``out[e] = U[users[c]] . V[ho_item[e]]`` for c's entries.

    Args:
        users: (n,) int64 user index of each evaluated user.
        ho_ptr: (n + 1,) int64 pointer into ``ho_item``.
        ho_item: (n_ho,) int32 held-out items.
        user_factors: (n_users, k) float32. item_factors: (n_items, k) float32.
        out: (n_ho,) float32 output.
    """
    k = user_factors.shape[1]
    for c in prange(users.shape[0]):
        u = users[c]
        for e in range(ho_ptr[c], ho_ptr[c + 1]):
            i = ho_item[e]
            acc = np.float32(0.0)
            for a in range(k):
                acc += user_factors[u, a] * item_factors[i, a]
            out[e] = acc


@njit(parallel=True, cache=True)
def exclusion_positions(
    users: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    position: np.ndarray,
    out_ptr: np.ndarray,
    out: np.ndarray,
) -> None:
    """Scan positions of each evaluated user's excluded items, sorted per user.

    Args:
        users: (n,) int64 evaluated users.
        indptr, indices: the exclude CSR.
        position: (n_items,) int64 scan position of each item.
        out_ptr: (n + 1,) int64 pointer (row lengths of ``users`` in exclude, cumulated).
        out: (out_ptr[-1],) int64 output.
    """
    for c in prange(users.shape[0]):
        u = users[c]
        o = out_ptr[c]
        n = indptr[u + 1] - indptr[u]
        for j in range(n):
            out[o + j] = position[indices[indptr[u] + j]]
        out[o : o + n] = np.sort(out[o : o + n])


@njit(cache=True)
def metrics_from_ranks(ho_ptr: np.ndarray, ranks: np.ndarray, k: int) -> np.ndarray:
    """Per-user (reciprocal rank, hit, NDCG) at K from the held-out ranks.

    Args:
        ho_ptr: (n + 1,) int64 pointer into ``ranks``; a user may have no usable entry.
        ranks: (n_ho,) int64 0-based ranks (anything >= K is a miss).
        k: cut-off K.

    Returns:
        (n, 3) float64: 1 / (first hit's rank + 1) or 0, hit in {0, 1}, and
        DCG / ideal DCG over the user's held-out items.
    """
    n = ho_ptr.shape[0] - 1
    out = np.zeros((n, 3))
    for c in range(n):
        first = k
        dcg = 0.0
        for e in range(ho_ptr[c], ho_ptr[c + 1]):
            r = ranks[e]
            if r < k:
                first = min(first, r)
                dcg += 1.0 / np.log2(r + 2.0)
        if first < k:
            out[c, 0] = 1.0 / (first + 1.0)
            out[c, 1] = 1.0
            ideal = 0.0
            for j in range(min(ho_ptr[c + 1] - ho_ptr[c], k)):
                ideal += 1.0 / np.log2(j + 2.0)
            out[c, 2] = dcg / ideal
    return out


# --------------------------------------------------------------------------- NumPy references


def ranks_reference(scores: np.ndarray, excluded: np.ndarray, heldout: np.ndarray) -> np.ndarray:
    """Brute-force ranks of one user's held-out items under the ranking policy.

    Args:
        scores: (n_items,) float scores.
        excluded: (n_items,) bool, True for items never recommended.
        heldout: (m,) int held-out items (not excluded).

    Returns:
        (m,) int64 0-based positions in the stable sort of ``-scores`` over non-excluded items.
    """
    candidates = np.flatnonzero(~excluded)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    position = np.empty(scores.shape[0], dtype=np.int64)
    position[order] = np.arange(order.shape[0])
    return position[np.asarray(heldout, dtype=np.int64)]


def count_block_reference(scores: np.ndarray, items: np.ndarray, score: float, item: int) -> int:
    """How many of ``items`` (with ``scores``) rank above (``score``, ``item``) — the kernel's
    comparison, written with NumPy for the kernel test."""
    above = (scores > score) | ((scores == score) & (items < item))
    return int(np.count_nonzero(above & (items != item)))
