"""numba kernels for item-item similarities: a bounded top-K heap, cosine from the sparse
user-item matrix, cosine from dense scores, and SLIM's non-negative elastic net.

Every kernel works on a list of anchor items and writes each anchor's top-K neighbours into
preallocated ``(n_anchors, k)`` outputs: neighbour indices (int32, -1 where an anchor has fewer
than ``k`` neighbours) and scores (float32, 0 there), best first. Ties are broken towards the
smaller neighbour index, so results do not depend on the order candidates are met in.

Parallel kernels split the anchors into ``n_blocks`` interleaved strides, one per thread, each
with its own scratch row (allocated by the caller, reset to zero after every anchor). The
caller passes anchors in a shuffled order so that expensive (popular) anchors spread evenly.

Each kernel has a plain NumPy reference (``*_reference``) that the tests compare against.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from tuner._compat import prefetch as _prefetch

# ---------------------------------------------------------------------------------------------
# bounded top-K: a min-heap whose root is the worst kept candidate


@njit(cache=True, inline="always")
def _worse(va: float, ia: int, vb: float, ib: int) -> bool:
    """(va, ia) ranks below (vb, ib): a lower score, or an equal score and a larger index."""
    return va < vb or (va == vb and ia > ib)


@njit(cache=True)
def _sift_down(vals: np.ndarray, idxs: np.ndarray, pos: int, size: int) -> None:
    while True:
        left = 2 * pos + 1
        if left >= size:
            return
        child = left
        right = left + 1
        if right < size and _worse(vals[right], idxs[right], vals[left], idxs[left]):
            child = right
        if _worse(vals[child], idxs[child], vals[pos], idxs[pos]):
            vals[pos], vals[child] = vals[child], vals[pos]
            idxs[pos], idxs[child] = idxs[child], idxs[pos]
            pos = child
        else:
            return


@njit(cache=True)
def heap_offer(vals: np.ndarray, idxs: np.ndarray, size: int, v: float, i: int) -> int:
    """Offer candidate ``(v, i)`` to the heap ``vals[:size], idxs[:size]``; return the new size.

    Args:
        vals: (k,) float32 heap scores.
        idxs: (k,) int32 heap item indices.
        size: number of filled slots.
        v: candidate score.
        i: candidate item index.
    """
    k = vals.shape[0]
    if size < k:
        pos = size
        vals[pos] = v
        idxs[pos] = i
        while pos > 0:
            parent = (pos - 1) >> 1
            if _worse(vals[pos], idxs[pos], vals[parent], idxs[parent]):
                vals[pos], vals[parent] = vals[parent], vals[pos]
                idxs[pos], idxs[parent] = idxs[parent], idxs[pos]
                pos = parent
            else:
                break
        return size + 1
    if _worse(v, i, vals[0], idxs[0]) or (v == vals[0] and i == idxs[0]):
        return size
    vals[0] = v
    idxs[0] = i
    _sift_down(vals, idxs, 0, size)
    return size


@njit(cache=True)
def heap_finish(vals: np.ndarray, idxs: np.ndarray, size: int) -> None:
    """Sort the heap best first in place and pad the unfilled tail with (-1, 0)."""
    for end in range(size - 1, 0, -1):
        vals[0], vals[end] = vals[end], vals[0]
        idxs[0], idxs[end] = idxs[end], idxs[0]
        _sift_down(vals, idxs, 0, end)
    for p in range(size, vals.shape[0]):
        vals[p] = 0.0
        idxs[p] = -1


def topk_reference(
    scores: np.ndarray, k: int, *, exclude: int = -1, valid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of the heap: top-``k`` of a dense score row, best first.

    Args:
        scores: (n,) scores; entries that are NaN are treated as absent.
        k: number of neighbours to keep.
        exclude: an index never returned (the anchor itself), -1 for none.
        valid: (n,) bool mask of allowed indices, or None for all.

    Returns:
        (k,) int32 indices (-1 padded) and (k,) float32 scores (0 padded).
    """
    n = scores.shape[0]
    keep = ~np.isnan(scores)
    if valid is not None:
        keep &= valid
    if 0 <= exclude < n:
        keep[exclude] = False
    cand = np.flatnonzero(keep)
    order = np.lexsort((cand, -scores[cand].astype(np.float64)))[:k]
    idx = np.full(k, -1, dtype=np.int32)
    val = np.zeros(k, dtype=np.float32)
    idx[: order.size] = cand[order]
    val[: order.size] = scores[cand[order]]
    return idx, val


# ---------------------------------------------------------------------------------------------
# cosine on the sparse user-item matrix


@njit(parallel=True, fastmath=True, cache=True)
def cosine_topk(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    inv_norms: np.ndarray,
    anchors: np.ndarray,
    out_idx: np.ndarray,
    out_val: np.ndarray,
    out_nnz: np.ndarray,
    acc: np.ndarray,
    touched: np.ndarray,
) -> None:
    """Top-K cosine neighbours of each anchor item, one sparse row product at a time.

    For anchor i the co-occurrence row ``X[:, i].T @ X`` is accumulated into a dense scratch row
    (users of i, then their items), scaled by the column norms and reduced to the top K; the
    item x item matrix never exists.

    Args:
        indptr, indices, data: CSR of X, (n_users, n_items), non-negative weights.
        t_indptr, t_indices, t_data: CSR of X.T (the columns of X); weights > 0.
        inv_norms: (n_items,) float32, 1 / ||X[:, j]||, 0 for items without likes.
        anchors: (m,) int64 anchor item indices.
        out_idx: (m, k) int32 output neighbours.
        out_val: (m, k) float32 output cosine scores.
        out_nnz: (m,) int64 output, number of items co-occurring with the anchor.
        acc: (n_blocks, n_items) float32 zeroed scratch.
        touched: (n_blocks, n_items + 1) int32 scratch (one slot more than items: the
            branch-free count writes before it knows whether the item is new).
    """
    n_blocks = acc.shape[0]
    m = anchors.shape[0]
    k = out_val.shape[1]
    for b in prange(n_blocks):
        ac = acc[b]
        tl = touched[b]
        for a in range(b, m, n_blocks):
            i = anchors[a]
            n_touched = 0
            for p in range(t_indptr[i], t_indptr[i + 1]):
                u = t_indices[p]
                xu = t_data[p]
                for q in range(indptr[u], indptr[u + 1]):
                    j = indices[q]
                    # weights are > 0, so a zero accumulator means "not met yet"; counted
                    # without a branch, which would mispredict on the freshly loaded value
                    v = ac[j]
                    tl[n_touched] = j
                    n_touched += v == 0.0
                    ac[j] = v + xu * data[q]
            size = 0
            vals = out_val[a]
            idxs = out_idx[a]
            scale = inv_norms[i]
            n_co = 0
            # once the heap is full, a score below its worst kept one is rejected right away
            # (a finite start: fastmath may assume no infinities)
            thresh = -1e300
            for t in range(n_touched):
                j = tl[t]
                v = ac[j]
                ac[j] = 0.0
                if j != i:
                    n_co += 1
                    score = v * scale * inv_norms[j]
                    if score >= thresh:
                        size = heap_offer(vals, idxs, size, score, j)
                        if size == k:
                            thresh = vals[0]
            heap_finish(vals, idxs, size)
            out_nnz[a] = n_co


def cosine_reference(x: np.ndarray) -> np.ndarray:
    """Dense item x item cosine of a small dense (n_users, n_items) matrix; NaN on the diagonal
    and for pairs that never co-occur (the kernel only ranks co-occurring items)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=0)
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    xn = x * inv
    sim = xn.T @ xn
    co = (x.T > 0).astype(np.int64) @ (x > 0).astype(np.int64)
    sim[co == 0] = np.nan
    np.fill_diagonal(sim, np.nan)
    return sim


# ---------------------------------------------------------------------------------------------
# top-K of dense score rows (cosine of factors)


@njit(parallel=True, fastmath=True, cache=True)
def dense_topk(
    scores: np.ndarray,
    anchors: np.ndarray,
    valid: np.ndarray,
    out_idx: np.ndarray,
    out_val: np.ndarray,
) -> None:
    """Top-K of each row of a dense score block, skipping the anchor itself and invalid items.

    Args:
        scores: (m, n_items) float32 scores of anchors against every item.
        anchors: (m,) int64 global index of each row's anchor (excluded from its own list).
        valid: (n_items,) bool, items allowed as neighbours.
        out_idx: (m, k) int32 output neighbours.
        out_val: (m, k) float32 output scores.
    """
    m, n = scores.shape
    for a in prange(m):
        vals = out_val[a]
        idxs = out_idx[a]
        row = scores[a]
        size = 0
        i = anchors[a]
        kk = vals.shape[0]
        # once the heap is full, anything below its worst kept score is rejected without a call
        thresh = -np.inf
        for j in range(n):
            v = row[j]
            if v < thresh or j == i or not valid[j]:
                continue
            size = heap_offer(vals, idxs, size, v, j)
            if size == kk:
                thresh = vals[0]
        heap_finish(vals, idxs, size)


# ---------------------------------------------------------------------------------------------
# SLIM: per item a non-negative elastic net by coordinate descent


@njit(cache=True, inline="always")
def _enet_coordinate(c: float, diag: float, wk: float, l1: float, l2: float) -> float:
    """New value of a non-negative elastic-net weight ``wk`` from ``c = x_k . r`` (r the
    residual with wk in place) and ``diag = x_k . x_k``: soft-threshold at l1, shrink by l2."""
    tmp = c + diag * wk - l1
    return tmp / (diag + l2) if tmp > 0.0 else 0.0


@njit(cache=True, inline="always")
def _col_dot_until(
    lo: int,
    hi: int,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    r: np.ndarray,
    base: float,
    stop: float,
) -> tuple[float, bool]:
    """``base + sum_p t_data[p] * r[t_indices[p]]`` over ``lo <= p < hi`` (one column of X
    against a residual that is <= 0 there), ended early once the running value is <= ``stop``:
    the rest can only lower it. The running value is looked at every 8 likes (early-ended walks
    are short); four independent sums let the gathers overlap, where one sum would wait on its
    previous add at every like.

    Returns:
        (the value, or the running value when it stopped early (an upper bound); True if
        every term was added).
    """
    d0 = 0.0
    d1 = 0.0
    d2 = 0.0
    d3 = 0.0
    p = lo
    while p + 8 <= hi:
        for _ in range(2):
            d0 += t_data[p] * r[t_indices[p]]
            d1 += t_data[p + 1] * r[t_indices[p + 1]]
            d2 += t_data[p + 2] * r[t_indices[p + 2]]
            d3 += t_data[p + 3] * r[t_indices[p + 3]]
            p += 4
        if base + ((d0 + d1) + (d2 + d3)) <= stop and p < hi:
            return base + ((d0 + d1) + (d2 + d3)), False
    while p < hi:
        d0 += t_data[p] * r[t_indices[p]]
        p += 1
    return base + ((d0 + d1) + (d2 + d3)), True


# loops over columns (of X.T or X) prefetch the column this many columns ahead
COLUMN_AHEAD = 4


@njit(cache=True, inline="always")
def _prefetch_column(
    items: np.ndarray, t: int, n: int, t_indptr: np.ndarray, t_indices: np.ndarray
) -> None:
    """In a loop over the columns of ``items[:n]`` (of X.T, or rows of X with users for
    items), at ``t``: prefetch the start of the column ``COLUMN_AHEAD`` items ahead and the
    span of the one twice as far. Each column's first line is otherwise a cache miss that waits
    behind the mispredicted end of the loop over the column before."""
    if t + 2 * COLUMN_AHEAD < n:
        _prefetch(t_indptr, items[t + 2 * COLUMN_AHEAD])
    if t + COLUMN_AHEAD < n:
        _prefetch(t_indices, t_indptr[items[t + COLUMN_AHEAD]])


@njit(cache=True, inline="always")
def _zero_on_users(
    v: np.ndarray, j: int, al: np.ndarray, n: int, t_indptr: np.ndarray, t_indices: np.ndarray
) -> None:
    """Zero the per-user vector ``v`` on the users of item j and of the items ``al[:n]``."""
    for p in range(t_indptr[j], t_indptr[j + 1]):
        v[t_indices[p]] = 0.0
    for t in range(n):
        _prefetch_column(al, t, n, t_indptr, t_indices)
        k = al[t]
        for p in range(t_indptr[k], t_indptr[k + 1]):
            v[t_indices[p]] = 0.0


# a like of the working set as one sortable key: its user above, its position in W below
# (positions are < 2**POS_BITS, so the Gram cap stays below 32768)
POS_BITS = 15
_POS_MASK = (1 << POS_BITS) - 1


@njit(cache=True)
def _sorted_new_likes(
    al: np.ndarray,
    s_old: int,
    s: int,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    unit: bool,
    user_bits: int,
    ka: np.ndarray,
    va: np.ndarray,
    kb: np.ndarray,
    vb: np.ndarray,
    hist: np.ndarray,
) -> tuple[int, bool]:
    """Keys ``user << POS_BITS | position`` of the likes of the items ``al[s_old:s]``, sorted.

    Made in order of position, then sorted stably by user in LSD radix passes (digits of at
    most 11 bits: the counts stay in L1), so they come out ordered by (user, position).
    Values follow their keys unless ``unit`` (every like 1).

    Returns:
        (number of keys, True if they ended in ``ka`` / ``va``, False if in ``kb`` / ``vb``).
    """
    n = 0
    for a in range(s_old, s):
        _prefetch_column(al, a, s, t_indptr, t_indices)
        k = al[a]
        for p in range(t_indptr[k], t_indptr[k + 1]):
            ka[n] = (np.int64(t_indices[p]) << POS_BITS) | a
            if not unit:
                va[n] = t_data[p]
            n += 1
    passes = max(1, (user_bits + 10) // 11)
    width = (user_bits + passes - 1) // passes
    mask = (1 << width) - 1
    in_a = True
    for step in range(passes):
        shift = POS_BITS + step * width
        src_k, src_v, dst_k, dst_v = (ka, va, kb, vb) if in_a else (kb, vb, ka, va)
        for d in range(mask + 1):
            hist[d] = 0
        for i in range(n):
            hist[(src_k[i] >> shift) & mask] += 1
        if n == 0 or hist[(src_k[0] >> shift) & mask] == n:
            continue  # one digit value: the pass would not move anything
        total = 0
        for d in range(mask + 1):
            c = hist[d]
            hist[d] = total
            total += c
        for i in range(n):
            key = src_k[i]
            d = (key >> shift) & mask
            pos = hist[d]
            hist[d] = pos + 1
            dst_k[pos] = key
            if not unit:
                dst_v[pos] = src_v[i]
        in_a = not in_a
    return n, in_a


@njit(cache=True)
def _extend_gram(
    al: np.ndarray,
    s_old: int,
    s: int,
    n_keys: int,
    sq_norms: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    unit: bool,
    user_bits: int,
    g2: np.ndarray,
    keys: np.ndarray,
    vals: np.ndarray,
    ka: np.ndarray,
    va: np.ndarray,
    kb: np.ndarray,
    vb: np.ndarray,
    hist: np.ndarray,
) -> int:
    """Grow G[W, W] = X[:, W].T @ X[:, W] in ``g2[:s, :s]`` from the first ``s_old`` working-set
    items (already there) to the first ``s``.

    ``keys[:n_keys]`` holds the likes of the first ``s_old`` items as (user, position) keys in
    sorted order (see :func:`_sorted_new_likes`); the new items' likes are radix-sorted and
    merged in from the back, so each user's likes of W form one run, ordered by position with
    the new items last. The merge notes where each new key lands; from there a walk back over
    the same user's earlier likes adds each pair once, into the new item's row (the lower
    triangle), and users without a new like cost nothing. The diagonal is the squared column
    norm; the upper triangle is a tiled mirror. Old entries stay in place: the block has a
    fixed row stride. The sorted keys are kept between rounds, so a round sorts only the new
    items' likes, and the walks back touch only the users that have a new like.

    Args:
        al: working-set items in position order.
        n_keys: number of keys of the first ``s_old`` items in ``keys`` (0 when s_old = 0).
        unit: every like is 1 (values are neither read nor kept).
        user_bits: bits of the largest user index (>= 1).
        g2: (cap, stride) float32 block, or uint16 if ``unit`` and every count fits, stride >
            cap (padded so that the rows of a tile do not all fall into the same cache set).
        keys, vals: (>= likes of W) int64 (or uint32 if user_bits + POS_BITS <= 32) / float32,
            the sorted likes (kept between calls).
        ka, va, kb, vb: (>= likes of the new items) radix scratch of the same types (the one
            the sort does not end in then holds the new keys' merged positions).
        hist: (>= 2048) int64 scratch.

    Returns:
        The number of keys of the first ``s`` items (the next call's ``n_keys``).
    """
    n_new, in_a = _sorted_new_likes(
        al, s_old, s, t_indptr, t_indices, t_data, unit, user_bits, ka, va, kb, vb, hist
    )
    nk, nv = (ka, va) if in_a else (kb, vb)
    landed = kb if in_a else ka  # free now: where each new key lands
    # merge from the back: an old key moves only to a slot at or past its own
    i = n_keys - 1
    o = n_keys + n_new - 1
    for t in range(n_new - 1, -1, -1):
        key = nk[t]
        while i >= 0 and keys[i] > key:
            keys[o] = keys[i]
            if not unit:
                vals[o] = vals[i]
            i -= 1
            o -= 1
        keys[o] = key
        if not unit:
            vals[o] = nv[t]
        landed[t] = o
        o -= 1
    total = n_keys + n_new
    for a in range(s_old, s):
        row = g2[a]
        for b in range(a):
            row[b] = 0.0
        row[a] = sq_norms[al[a]]
    # each new like pairs with the likes of its user before it: its user's old likes and
    # earlier new ones, all at smaller positions, so into the new item's row (the lower
    # triangle: one row per new like, where adding into its column took a cache line a pair)
    # Most new likes are their user's first in W and pair with nothing: a branch-free pass
    # keeps only those whose key before is the same
    # user's, so every walk below takes at least one step and does not mispredict on whether
    # there is anything to walk
    n_pl = 0
    for t in range(1 if n_new > 0 and landed[0] == 0 else 0, n_new):
        o = landed[t]
        landed[n_pl] = o
        n_pl += (keys[o - 1] >> POS_BITS) == (keys[o] >> POS_BITS)
    for t in range(n_pl):
        o = landed[t]
        user = keys[o] >> POS_BITS
        b = keys[o] & _POS_MASK
        i1 = o - 1
        if unit:
            while i1 >= 0 and (keys[i1] >> POS_BITS) == user:
                g2[b, keys[i1] & _POS_MASK] += 1
                i1 -= 1
        else:
            v2 = vals[o]
            while i1 >= 0 and (keys[i1] >> POS_BITS) == user:
                g2[b, keys[i1] & _POS_MASK] += vals[i1] * v2
                i1 -= 1
    # mirror the new lower entries into the upper triangle: per band of 16 new rows, each
    # row above takes its 16 entries from the band's column (one cache line written per row)
    tile = 16
    for b0 in range(s_old, s, tile):
        b1 = min(b0 + tile, s)
        for a in range(b1 - 1):
            ra = g2[a]
            for b in range(max(b0, a + 1), b1):
                ra[b] = g2[b, a]
    return total


# share of the stopping threshold below which the dense sweeps defer a weight's step
DEFER = 0.25
# the optimality checks prefetch the column of the candidate this many walks ahead, its first
# PREFETCH_LIKES likes (5 cache lines, as much as most early-ended walks read)
PREFETCH_AHEAD = 6
PREFETCH_LIKES = 80
# loops over item lists (touched items, candidates) prefetch the item this many ahead
ITEM_AHEAD = 8

# _bucket_order keeps the top 11 bits of a float32 (sign, exponent, 3 bits of the mantissa):
# 8 buckets an octave, each spanning [lo, at most 1.125 lo)
_BUCKET_SHIFT = 20
_BUCKET_SPAN = 1.125


@njit(cache=True)
def _bucket_order(vals: np.ndarray, n: int, hist: np.ndarray, out: np.ndarray) -> None:
    """Order ``vals[:n]`` (positive float32) by decreasing value into ``out[:n]``, to 1/8 of an
    octave: a counting sort on the top 11 bits of the floats (sign, exponent and 3 bits of the
    mantissa; for positive floats the bits order as the values do). A value's bucket spans
    [lo, 1.125 lo); order within a bucket is arbitrary. O(n), where a comparison sort is
    O(n log n).

    Args:
        vals: (>= n,) float32, contiguous, every value > 0.
        hist: (>= 2048,) int64 scratch.
        out: (>= n,) int32 output positions into vals.
    """
    bits = vals.view(np.int32)
    lo = 2048
    hi = -1
    for t in range(n):
        d = bits[t] >> _BUCKET_SHIFT
        lo = min(lo, d)
        hi = max(hi, d)
    for d in range(hi - lo + 1):
        hist[d] = 0
    for t in range(n):
        hist[hi - (bits[t] >> _BUCKET_SHIFT)] += 1
    total = 0
    for d in range(hi - lo + 1):
        c = hist[d]
        hist[d] = total
        total += c
    for t in range(n):
        d = hi - (bits[t] >> _BUCKET_SHIFT)
        out[hist[d]] = t
        hist[d] += 1


class SlimWorkspace(NamedTuple):
    """Scratch of :func:`slim_topk`, made by ``tuner.similarities.slim._slim_workspace``.

    Every field has a leading ``n_blocks`` axis (one row per thread; :func:`_thread_rows`
    takes a thread's row of each); the shapes below are a row's. All of them are zero between
    anchors except the lists and the buffers, which are written before they are read.

    Attributes:
        r: (n_users,) float64, the residual ``x_j - X w`` of the fallback sweeps.
        r32: (n_users,) float32, the residual of the optimality checks.
        g: (n_items,) float32, ``G[:, j]`` over the touched items.
        bd: (n_items,) float32, the checks' bounds.
        w: (n_items,) float64, the weights.
        st: (n_items,) int8, an item's state: 1 touched, 2 candidate, 3 working, 4 candidate
            with a check in ``ck``.
        tl: (n_items + 1,) int32, the touched items (the branch-free count writes one ahead).
        cl, al: (n_items,) int32, the candidates and the working set W, in order of joining.
        hv, hi: (>= max(init, grow, cap),) float32 / int32, a heap of items by one-step value.
        gm: (cap, stride) float32 ``G[W, W]`` (cap = largest dense working set, stride > cap);
            uint16 for likes when no item has more than 65,535.
        gw, ww, q0: (cap,) float64, ``G[W, j]``, ``w[W]`` and ``G[W, W] w[W]`` at the end of
            a round; qw: (cap,) float32 or float64, the sweeps' running ``G[W, W] w[W]``.
        ws_keys, ws_vals, keys_a, vals_a, keys_b, vals_b: (nnz(X),) int64 or uint32 / float32
            ((1,) values for likes): the working set's likes sorted by user, and the radix
            sort's buffers (see :func:`_extend_gram`).
        hist: (2048,) int64 counting-sort scratch.
        ck: (n_items,) float64, a checked candidate's last ``c_k`` (or the upper bound where
            its walk ended) minus ``||x_k||`` times the drift so far.
        ov, oi, op: (n_items,) float32 / int32 / int32, the open candidates' one-step bounds,
            their items and their check order.
        rj: (n_users,) float32, the residual on the users of j while the checks zero it.
        open_span: (2, n_items) int64, an open candidate's column span in X.T;
            open_terms: (3, n_items) float64, its bound, ``||x_k||^2 + l2`` and ``||x_k||``.
        cp_, cli, clv: (longest column + 1,) int64, (nnz(X),) int32 and float32 ((1,) for
            likes): the likes of column j's users restricted to the candidates, per user (CSR).
    """

    r: np.ndarray
    r32: np.ndarray
    g: np.ndarray
    bd: np.ndarray
    w: np.ndarray
    st: np.ndarray
    tl: np.ndarray
    cl: np.ndarray
    al: np.ndarray
    hv: np.ndarray
    hi: np.ndarray
    gm: np.ndarray
    gw: np.ndarray
    ww: np.ndarray
    qw: np.ndarray
    ws_keys: np.ndarray
    ws_vals: np.ndarray
    keys_a: np.ndarray
    vals_a: np.ndarray
    keys_b: np.ndarray
    vals_b: np.ndarray
    hist: np.ndarray
    ck: np.ndarray
    q0: np.ndarray
    ov: np.ndarray
    oi: np.ndarray
    op: np.ndarray
    rj: np.ndarray
    open_span: np.ndarray
    open_terms: np.ndarray
    cp_: np.ndarray
    cli: np.ndarray
    clv: np.ndarray


@njit(cache=True, inline="always")
def _thread_rows(ws: SlimWorkspace, b: int) -> SlimWorkspace:
    """Thread b's row of every workspace field."""
    return SlimWorkspace(
        ws.r[b], ws.r32[b], ws.g[b], ws.bd[b], ws.w[b], ws.st[b], ws.tl[b], ws.cl[b], ws.al[b],
        ws.hv[b], ws.hi[b], ws.gm[b], ws.gw[b], ws.ww[b], ws.qw[b], ws.ws_keys[b],
        ws.ws_vals[b], ws.keys_a[b], ws.vals_a[b], ws.keys_b[b], ws.vals_b[b], ws.hist[b],
        ws.ck[b], ws.q0[b], ws.ov[b], ws.oi[b], ws.op[b], ws.rj[b], ws.open_span[b],
        ws.open_terms[b], ws.cp_[b], ws.cli[b], ws.clv[b],
    )  # fmt: skip


@njit(cache=True, inline="always")
def _screen(
    j: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    sq_norms: np.ndarray,
    l1: float,
    l2: float,
    init: int,
    ws: SlimWorkspace,
) -> tuple[int, int, int]:
    """Screening of anchor j: ``r32 = x_j``, the Gram column ``g = X^T x_j`` over the touched
    items and the candidates (``g[k] > l1``: with X >= 0 and w >= 0, ``c_k <= g[k]``, so no
    other item can move); the ``init`` candidates of largest one-step value, the first working
    set, are left in the heap ``hv`` / ``hi``.

    Returns:
        (number of touched items, of candidates, of items in the heap).
    """
    r32, g, st, tl, cl = ws.r32, ws.g, ws.st, ws.tl, ws.cl
    hv = ws.hv[:init]
    hi = ws.hi[:init]
    n_touched = 0
    for p in range(t_indptr[j], t_indptr[j + 1]):
        r32[t_indices[p]] = t_data[p]
    for p in range(t_indptr[j], t_indptr[j + 1]):
        _prefetch_column(t_indices, p, t_indptr[j + 1], indptr, indices)
        u = t_indices[p]
        xu = t_data[p]
        for q in range(indptr[u], indptr[u + 1]):
            k = indices[q]
            # branch-free: a branch on the freshly loaded flag mispredicts and stalls
            tl[n_touched] = k
            n_touched += st[k] == 0
            st[k] = 1
            g[k] += xu * data[q]
    n_cand = 0
    size = 0
    for t in range(n_touched):
        if t + ITEM_AHEAD < n_touched:
            _prefetch(sq_norms, tl[t + ITEM_AHEAD])
        k = tl[t]
        if k != j and g[k] > l1:
            st[k] = 2
            cl[n_cand] = k
            n_cand += 1
            size = heap_offer(hv, hi, size, (g[k] - l1) / (sq_norms[k] + l2), k)
    return n_touched, n_cand, size


@njit(cache=True, inline="always")
def _candidate_likes(
    j: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    unit: bool,
    ws: SlimWorkspace,
) -> None:
    """The likes of column j's users restricted to the candidates (``st == 2``), per user, in
    ``cp_`` / ``cli`` / ``clv``: every round's bounds sum over these instead of all the likes
    of column j's users. Branch-free: a like is written, and kept if its item is a candidate.
    """
    st, cp_, cli, clv = ws.st, ws.cp_, ws.cli, ws.clv
    n_e = 0
    jp = t_indptr[j]
    for p in range(jp, t_indptr[j + 1]):
        _prefetch_column(t_indices, p, t_indptr[j + 1], indptr, indices)
        u = t_indices[p]
        cp_[p - jp] = n_e
        for q in range(indptr[u], indptr[u + 1]):
            k = indices[q]
            cli[n_e] = k
            if not unit:
                clv[n_e] = data[q]
            n_e += st[k] == 2
    cp_[t_indptr[j + 1] - jp] = n_e


@njit(cache=True, inline="always")
def _extend_working_gram(
    s_built: int,
    s: int,
    n_keys: int,
    sq_norms: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    unit: bool,
    user_bits: int,
    ws: SlimWorkspace,
) -> int:
    """Working-set Gram extension: ``G[W, W]`` from the first ``s_built`` items of W to the
    first ``s`` (:func:`_extend_gram`), and the new coordinates' ``G[j, W]``, ``w`` (0) and
    ``q0 = G w``. The earlier coordinates keep theirs from the last round (the new weights
    are 0, so G w is unchanged there).

    Returns:
        The number of sorted keys of the first ``s`` items (the next call's ``n_keys``).
    """
    al, g, gmb, gw, ww, q0 = ws.al, ws.g, ws.gm, ws.gw, ws.ww, ws.q0
    n_keys = _extend_gram(
        al, s_built, s, n_keys, sq_norms, t_indptr, t_indices, t_data, unit, user_bits, gmb,
        ws.ws_keys, ws.ws_vals, ws.keys_a, ws.vals_a, ws.keys_b, ws.vals_b, ws.hist,
    )  # fmt: skip
    for x1 in range(s_built, s):
        gw[x1] = g[al[x1]]
        ww[x1] = 0.0
    for x1 in range(s_built, s):
        acc = 0.0
        for x2 in range(s_built):
            acc += gmb[x1, x2] * ww[x2]
        q0[x1] = acc
    return n_keys


@njit(cache=True, inline="always")
def _dense_sweeps(
    s: int, sweeps: int, l1: float, l2: float, tol: float, max_iter: int, ws: SlimWorkspace
) -> int:
    """Sweeps on the dense ``G[W, W]`` until the largest step is <= tol x the largest weight
    (or ``max_iter`` sweeps in all), each changed weight costing |W|.

    The running ``G w`` (``qw``) starts from the exact ``q0``; it is float32 unless the
    tolerance is tight (see slim.py). A step of a weight that stays positive is deferred while
    it is below ``DEFER`` x the stopping threshold (the smallest updates are most of a
    converging sweep's); the sweep still counts it, so the stopping rule sees every pending
    step, and a weight that reaches or leaves zero always moves.

    Returns:
        The sweeps so far, these included.
    """
    gmb, gw, ww, qw, q0 = ws.gm, ws.gw, ws.ww, ws.qw, ws.q0
    for x1 in range(s):
        qw[x1] = q0[x1]
    skip = 0.0
    while True:
        max_dw = 0.0
        max_w = 0.0
        for x1 in range(s):
            wk = ww[x1]
            new = _enet_coordinate(gw[x1] - qw[x1], gmb[x1, x1], wk, l1, l2)
            d = new - wk
            if d != 0.0 and (abs(d) > skip or new == 0.0 or wk == 0.0):
                dq = qw.dtype.type(d)
                for x2 in range(s):
                    qw[x2] += dq * qw.dtype.type(gmb[x1, x2])
                ww[x1] = new
            if abs(d) > max_dw:
                max_dw = abs(d)
            if new > max_w:
                max_w = new
        sweeps += 1
        if max_dw <= tol * max_w or sweeps >= max_iter:
            break
        skip = DEFER * tol * max_w
    return sweeps


@njit(cache=True, inline="always")
def _finish_dense_round(
    s: int, t_indptr: np.ndarray, t_indices: np.ndarray, t_data: np.ndarray, ws: SlimWorkspace
) -> float:
    """After a round of dense sweeps: ``q0 = G w`` exactly again (float64), the weights into
    ``w`` and the checks' residual ``r32`` brought up to date.

    Returns:
        ``||X dw||`` of the round (from ``dw . G dw``, with a small floor for its rounding),
        the most any unit-norm gradient moved.
    """
    al, w, r32, gmb, ww, q0 = ws.al, ws.w, ws.r32, ws.gm, ws.ww, ws.q0
    dn = 1e-10
    for x1 in range(s):
        acc = 0.0
        for x2 in range(s):
            acc += gmb[x1, x2] * ww[x2]
        dn += (ww[x1] - w[al[x1]]) * (acc - q0[x1])
        q0[x1] = acc
    for x1 in range(s):
        _prefetch_column(al, x1, s, t_indptr, t_indices)
        k = al[x1]
        d = ww[x1] - w[k]
        if d != 0.0:
            for p in range(t_indptr[k], t_indptr[k + 1]):
                r32[t_indices[p]] -= d * t_data[p]
            w[k] = ww[x1]
    return np.sqrt(max(dn, 1e-10)) * (1.0 + 1e-6)


@njit(cache=True, inline="always")
def _start_residual(
    j: int,
    n_active: int,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    ws: SlimWorkspace,
) -> None:
    """W outgrew the Gram block: the float64 residual ``r = x_j - X w`` for the fallback."""
    r, w, al = ws.r, ws.w, ws.al
    for p in range(t_indptr[j], t_indptr[j + 1]):
        r[t_indices[p]] = t_data[p]
    for t in range(n_active):
        k = al[t]
        wk = w[k]
        if wk != 0.0:
            for p in range(t_indptr[k], t_indptr[k + 1]):
                r[t_indices[p]] -= wk * t_data[p]


@njit(cache=True, inline="always")
def _residual_sweeps(
    j: int,
    n_active: int,
    sweeps: int,
    sq_norms: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    l1: float,
    l2: float,
    tol: float,
    max_iter: int,
    ws: SlimWorkspace,
) -> int:
    """The fallback's sweeps on the float64 residual (each coordinate a pass over its column),
    with the same stopping rule as :func:`_dense_sweeps`; then ``r32`` takes the residual.

    Returns:
        The sweeps so far, these included.
    """
    r, r32, w, al = ws.r, ws.r32, ws.w, ws.al
    while True:
        max_dw = 0.0
        max_w = 0.0
        for t in range(n_active):
            k = al[t]
            wk = w[k]
            dot = 0.0
            for p in range(t_indptr[k], t_indptr[k + 1]):
                dot += t_data[p] * r[t_indices[p]]
            new = _enet_coordinate(dot, sq_norms[k], wk, l1, l2)
            if new != wk:
                d = new - wk
                for p in range(t_indptr[k], t_indptr[k + 1]):
                    r[t_indices[p]] -= d * t_data[p]
                w[k] = new
                if abs(d) > max_dw:
                    max_dw = abs(d)
            if new > max_w:
                max_w = new
        sweeps += 1
        if max_dw <= tol * max_w or sweeps >= max_iter:
            break
    for p in range(t_indptr[j], t_indptr[j + 1]):
        r32[t_indices[p]] = r[t_indices[p]]
    for t in range(n_active):
        k = al[t]
        for p in range(t_indptr[k], t_indptr[k + 1]):
            r32[t_indices[p]] = r[t_indices[p]]
    return sweeps


@njit(cache=True, inline="always")
def _column_bounds(
    j: int, n_cand: int, unit: bool, t_indptr: np.ndarray, t_indices: np.ndarray, ws: SlimWorkspace
) -> None:
    """First part of the optimality checks: every candidate's bound
    ``bd[k] = sum_{u in col j} x_uk r_u >= c_k`` (users outside column j have ``r_u <= 0``),
    then ``r32`` saved into ``rj`` and zeroed on the users of j, so that the exact checks
    (:func:`_strongest_violators`) add only the terms <= 0."""
    r32, bd, cl, rj, cp_, cli, clv = ws.r32, ws.bd, ws.cl, ws.rj, ws.cp_, ws.cli, ws.clv
    jp = t_indptr[j]
    for t in range(n_cand):
        bd[cl[t]] = 0.0
    for p in range(jp, t_indptr[j + 1]):
        ru = r32[t_indices[p]]
        if ru != 0.0:
            if unit:
                for e in range(cp_[p - jp], cp_[p - jp + 1]):
                    bd[cli[e]] += ru
            else:
                for e in range(cp_[p - jp], cp_[p - jp + 1]):
                    bd[cli[e]] += clv[e] * ru
    for p in range(jp, t_indptr[j + 1]):
        u = t_indices[p]
        rj[p - jp] = r32[u]
        r32[u] = 0.0


@njit(cache=True, inline="always")
def _open_candidates(
    n_cand: int,
    dense: bool,
    drift: float,
    l1: float,
    l2: float,
    sq_norms: np.ndarray,
    t_indptr: np.ndarray,
    ws: SlimWorkspace,
) -> int:
    """The candidates outside W that may violate optimality: bound above l1 and, for one
    checked before (``st == 4``, dense rounds only), its last value plus ``||x_k||`` x the
    drift above l1 (with a margin of 1e-4 l1 for the float32 residual's rounding). Each gets
    the upper bound of its one-step value in ``ov`` and what its walk needs in the open list
    (copied here, in a loop whose cache misses overlap).

    Returns:
        The number of open candidates.
    """
    st, bd, cl, ck, ov, oi = ws.st, ws.bd, ws.cl, ws.ck, ws.ov, ws.oi
    olo, ohi = ws.open_span[0], ws.open_span[1]
    obd, oden, onorm = ws.open_terms[0], ws.open_terms[1], ws.open_terms[2]
    n_open = 0
    for t in range(n_cand):
        if t + ITEM_AHEAD < n_cand:
            k_next = cl[t + ITEM_AHEAD]
            _prefetch(ck, k_next)
            _prefetch(sq_norms, k_next)
            _prefetch(t_indptr, k_next)
        k = cl[t]
        if (st[k] == 2 or st[k] == 4) and bd[k] > l1:
            ub = bd[k]
            sqk = sq_norms[k]
            norm = np.sqrt(sqk)
            if st[k] == 4 and dense:
                ub_drift = ck[k] + norm * drift
                if ub_drift < l1 * (1.0 - 1e-4):
                    continue
                ub = min(ub, ub_drift)
            # (> 0 for the bucket order; the drift bound's margin may leave ub a little
            # below l1)
            ov[n_open] = max((ub - l1) / (sqk + l2), 1e-30)
            oi[n_open] = k
            olo[n_open] = t_indptr[k]
            ohi[n_open] = t_indptr[k + 1]
            obd[n_open] = bd[k]
            oden[n_open] = sqk + l2
            onorm[n_open] = norm
            n_open += 1
    return n_open


@njit(cache=True, inline="always")
def _strongest_violators(
    n_open: int,
    lim: int,
    drift: float,
    l1: float,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    ws: SlimWorkspace,
) -> int:
    """Exact checks of the open candidates, by decreasing bound (:func:`_bucket_order`),
    keeping the ``lim`` strongest violators by one-step value in the heap ``hv`` / ``hi``.

    A walk starts from the candidate's bound and adds the terms of the users outside column j
    (all <= 0, see :func:`_col_dot_until`): it ends once the value is <= l1 (no violator), or
    once the quota is full and it cannot beat the weakest violator kept. Once the quota is
    full, a candidate whose bound is below the weakest kept is skipped, and one below it by
    more than the order's resolution ends the checks. Each walk's value goes to ``ck``.

    Returns:
        The number of violators in the heap.
    """
    st, ck, ov, oi, op, r32 = ws.st, ws.ck, ws.ov, ws.oi, ws.op, ws.r32
    olo, ohi = ws.open_span[0], ws.open_span[1]
    obd, oden, onorm = ws.open_terms[0], ws.open_terms[1], ws.open_terms[2]
    _bucket_order(ov, n_open, ws.hist, op)
    added = 0
    hvl = ws.hv[:lim]
    hil = ws.hi[:lim]
    # a walk's own reads are in the open list (L1 / L2) and its column's first PREFETCH_LIKES
    # likes were prefetched a few walks before: a walk that ends early would otherwise wait on
    # cache misses in a row, which the mispredicted end of the walk before keeps from
    # overlapping
    for t in range(n_open):
        if t + PREFETCH_AHEAD < n_open:
            t_ahead = op[t + PREFETCH_AHEAD]
            hi_ahead = min(ohi[t_ahead], olo[t_ahead] + PREFETCH_LIKES)
            for p_ahead in range(olo[t_ahead], hi_ahead, 16):
                _prefetch(t_indices, p_ahead)
        t2 = op[t]
        v = ov[t2]
        if added == lim and v * (1.0 + 1e-6) < hvl[0]:
            # a later candidate's bound is below its bucket's top, < span x v
            if v * (_BUCKET_SPAN * (1.0 + 1e-6)) < hvl[0]:
                break
            continue
        k = oi[t2]
        den = oden[t2]
        stop = l1
        if added == lim:
            stop += hvl[0] * den
        dot, full = _col_dot_until(olo[t2], ohi[t2], t_indices, t_data, r32, obd[t2], stop)
        st[k] = 4
        ck[k] = dot - onorm[t2] * drift
        if full and dot > l1:
            added = heap_offer(hvl, hil, added, (dot - l1) / den, k)
    return added


@njit(cache=True, inline="always")
def _restore_column(
    j: int, t_indptr: np.ndarray, t_indices: np.ndarray, ws: SlimWorkspace
) -> None:
    """Undo :func:`_column_bounds`' zeroing: ``r32`` on the users of j from ``rj``."""
    r32, rj = ws.r32, ws.rj
    jp = t_indptr[j]
    for p in range(jp, t_indptr[j + 1]):
        r32[t_indices[p]] = rj[p - jp]


@njit(cache=True, inline="always")
def _join(added: int, n_active: int, ws: SlimWorkspace) -> int:
    """The first ``added`` items of the heap ``hi`` (the first working set, or a round's
    violators) join W; returns the new |W|."""
    st, al, hi = ws.st, ws.al, ws.hi
    for t in range(added):
        k = hi[t]
        st[k] = 3
        al[n_active] = k
        n_active += 1
    return n_active


@njit(cache=True, inline="always")
def _write_topk(n_active: int, vals: np.ndarray, idxs: np.ndarray, ws: SlimWorkspace) -> int:
    """Top-K of the working set's positive weights into ``vals`` / ``idxs``, best first.

    Returns:
        The number of positive weights.
    """
    al, w = ws.al, ws.w
    size = 0
    nnz = 0
    for t in range(n_active):
        k = al[t]
        if w[k] > 0.0:
            nnz += 1
            size = heap_offer(vals, idxs, size, w[k], k)
    heap_finish(vals, idxs, size)
    return nnz


@njit(cache=True, inline="always")
def _reset(
    j: int,
    n_active: int,
    n_touched: int,
    dense: bool,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    ws: SlimWorkspace,
) -> None:
    """Zero the scratch that the next anchor reads: the residuals are non-zero only on users
    of j and of W (the float64 one only if the fallback ran), the per-item arrays only on the
    touched items."""
    r, r32, w, al, tl, g, bd, st = ws.r, ws.r32, ws.w, ws.al, ws.tl, ws.g, ws.bd, ws.st
    _zero_on_users(r32, j, al, n_active, t_indptr, t_indices)
    if not dense:
        _zero_on_users(r, j, al, n_active, t_indptr, t_indices)
    for t in range(n_active):
        w[al[t]] = 0.0
    for t in range(n_touched):
        k = tl[t]
        g[k] = 0.0
        bd[k] = 0.0
        st[k] = 0


@njit(fastmath=True, cache=True)
def _solve_stride(
    b: int,
    n_blocks: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    sq_norms: np.ndarray,
    l1: float,
    l2: float,
    tol: float,
    max_iter: int,
    init: int,
    grow: int,
    unit: bool,
    user_bits: int,
    anchors: np.ndarray,
    out_idx: np.ndarray,
    out_val: np.ndarray,
    out_nnz: np.ndarray,
    out_sweeps: np.ndarray,
    ws: SlimWorkspace,
) -> None:
    """:func:`slim_topk` for the anchors ``b, b + n_blocks, ...`` on one thread's workspace
    row. A function of its own rather than the parallel loop's body: numba's parallel
    transform of the inlined phases let the checks' bounds leak from one anchor to the next."""
    cap = ws.gm.shape[0]
    m = anchors.shape[0]
    for a in range(b, m, n_blocks):
        j = anchors[a]
        n_touched, n_cand, n_first = _screen(
            j, indptr, indices, data, t_indptr, t_indices, t_data, sq_norms, l1, l2, init, ws
        )
        _candidate_likes(j, indptr, indices, data, t_indptr, t_indices, unit, ws)
        n_active = _join(n_first, 0, ws)
        sweeps = 0
        # sum over rounds of ||X dw||, the most any ||x_k|| = 1 gradient has moved since
        # the start (meaningful only while dense: the fallback does not track it)
        drift = 0.0
        s_built = 0  # rows and columns of G[W, W] already in gm
        n_keys = 0  # their likes, sorted by user, in ws_keys
        dense = True  # False once W outgrew gm: sweeps on the float64 residual r
        while n_active > 0:
            if dense and n_active <= cap:
                n_keys = _extend_working_gram(
                    s_built, n_active, n_keys, sq_norms, t_indptr, t_indices, t_data, unit,
                    user_bits, ws,
                )  # fmt: skip
                s_built = n_active
                sweeps = _dense_sweeps(n_active, sweeps, l1, l2, tol, max_iter, ws)
                drift += _finish_dense_round(n_active, t_indptr, t_indices, t_data, ws)
            else:
                if dense:
                    dense = False
                    _start_residual(j, n_active, t_indptr, t_indices, t_data, ws)
                sweeps = _residual_sweeps(
                    j, n_active, sweeps, sq_norms, t_indptr, t_indices, t_data, l1, l2, tol,
                    max_iter, ws,
                )  # fmt: skip
            if sweeps >= max_iter:
                break
            _column_bounds(j, n_cand, unit, t_indptr, t_indices, ws)
            n_open = _open_candidates(n_cand, dense, drift, l1, l2, sq_norms, t_indptr, ws)
            lim = min(max(grow, n_active), ws.hv.shape[0])
            added = _strongest_violators(n_open, lim, drift, l1, t_indices, t_data, ws)
            _restore_column(j, t_indptr, t_indices, ws)
            if added == 0:
                break
            n_active = _join(added, n_active, ws)
        out_nnz[a] = _write_topk(n_active, out_val[a], out_idx[a], ws)
        out_sweeps[a] = sweeps
        _reset(j, n_active, n_touched, dense, t_indptr, t_indices, ws)


@njit(parallel=True, fastmath=True, cache=True)
def slim_topk(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    sq_norms: np.ndarray,
    l1: float,
    l2: float,
    tol: float,
    max_iter: int,
    init: int,
    grow: int,
    unit: bool,
    user_bits: int,
    anchors: np.ndarray,
    out_idx: np.ndarray,
    out_val: np.ndarray,
    out_nnz: np.ndarray,
    out_sweeps: np.ndarray,
    workspace: SlimWorkspace,
) -> None:
    """SLIM coefficients of each anchor item j, reduced to the top K by weight.

    Solves, as scikit-learn's ``ElasticNet(alpha, l1_ratio, positive=True, fit_intercept=False)``
    on ``X`` with column j removed and target ``X[:, j]``::

        min_w 1/(2n) ||x_j - X w||^2 + alpha l1_ratio |w|_1 + alpha (1 - l1_ratio) / 2 |w|^2,
        w >= 0, w_j = 0,

    by cyclic coordinate descent (``l1``, ``l2`` are the penalties times n), exactly, on a
    small working set W. A zero weight k moves only if ``c_k = x_k . r > l1`` for the residual
    ``r = x_j - X w``. Per anchor, in phases:

    1. screening (:func:`_screen`, :func:`_candidate_likes`): only items with ``G[k, j] > l1``
       can move; the first W is the ``init`` of them with the largest one-step value
       (:func:`_join`);
    2. per round, the working-set Gram extension (:func:`_extend_working_gram`) and sweeps on
       ``G[W, W]`` (:func:`_dense_sweeps`, :func:`_finish_dense_round`), or, once W outgrows
       the block, sweeps on a float64 residual (:func:`_start_residual`,
       :func:`_residual_sweeps`), until scikit-learn's stopping rule holds;
    3. optimality checks of the zero candidates outside W (:func:`_column_bounds`,
       :func:`_open_candidates`, :func:`_strongest_violators`): cheap upper bounds rule out
       most, exact walks that may end early the rest; up to max(grow, |W|) of the strongest
       violators join W (:func:`_join`) and the next round starts; none means the optimum;
    4. top-K of the positive weights (:func:`_write_topk`) and the scratch reset
       (:func:`_reset`).

    The callers number the users by decreasing activity: the checks' walks meet the heaviest
    users, whose residuals are the most negative, first, which is what lets them end early.

    Args:
        indptr, indices, data: CSR of X, (n_users, n_items), weights > 0 (``data`` may be a
            broadcast 1 when ``unit``).
        t_indptr, t_indices, t_data: CSR of X.T, indices sorted.
        sq_norms: (n_items,) float64 squared column norms (the Gram diagonal).
        l1, l2: n * alpha * l1_ratio and n * alpha * (1 - l1_ratio).
        tol: relative convergence tolerance; max_iter: maximum sweeps per anchor.
        init: size of the first working set; grow: a round adds at most max(grow, |W|)
            violators (<= the heap's length).
        unit: every like is 1; user_bits: bits of the largest user index (>= 1).
        anchors: (m,) int64 anchor items.
        out_idx, out_val: (m, k) int32 / float32 outputs, largest weights first.
        out_nnz: (m,) int32, number of non-zero coefficients (before the top-K cut).
        out_sweeps: (m,) int32, sweeps used (``max_iter`` means not converged).
        workspace: the per-thread scratch (:class:`SlimWorkspace`), zeroed.
    """
    n_blocks = workspace.r.shape[0]
    for b in prange(n_blocks):
        _solve_stride(
            b, n_blocks, indptr, indices, data, t_indptr, t_indices, t_data, sq_norms, l1, l2,
            tol, max_iter, init, grow, unit, user_bits, anchors, out_idx, out_val, out_nnz,
            out_sweeps, _thread_rows(workspace, b),
        )  # fmt: skip


def slim_reference(
    x: np.ndarray, alpha: float, l1_ratio: float, *, tol: float = 1e-10, max_iter: int = 100_000
) -> np.ndarray:
    """Dense NumPy coordinate descent of the same objective for every item (small data only).

    Returns:
        (n_items, n_items) float64 W with column j = item j's coefficients (W[j, j] = 0).
    """
    x = np.asarray(x, dtype=np.float64)
    n, n_items = x.shape
    gram = x.T @ x
    l1 = alpha * l1_ratio * n
    l2 = alpha * (1.0 - l1_ratio) * n
    out = np.zeros((n_items, n_items))
    for j in range(n_items):
        w = np.zeros(n_items)
        for _ in range(max_iter):
            max_dw = 0.0
            for k in range(n_items):
                if k == j:
                    continue
                tmp = gram[k, j] - gram[k] @ w + gram[k, k] * w[k] - l1
                new = tmp / (gram[k, k] + l2) if tmp > 0 else 0.0
                max_dw = max(max_dw, abs(new - w[k]))
                w[k] = new
            if max_dw <= tol * max(w.max(), 0.0):
                break
        out[:, j] = w
    return out
