"""numba kernels for the per-row least-squares sweeps of ALS and iALS, with NumPy references.

Every sweep solves, for each row ``u`` of a CSR matrix (users for the user half, items for the
item half), the k x k system

    (diag(d) + lam[u] I + sum_i w_i y_i y_i^T) x_u = sum_i b_i y_i

over the row's stored entries ``i`` with value ``r_i``, where ``w_i = gw_a * r_i + gw_b`` and
``b_i = bw_a * r_i + bw_b``. ALS (the course's form) is ``d = 0, w = 1, b = r``; iALS
(Hu, Koren, Volinsky 2008) is ``w = alpha * r, b = 1 + alpha * r`` with ``diag(d)`` the other
side's Gram matrix Y^T Y *expressed in its eigenbasis*: the caller rotates the factors of both
sides by the eigenvectors of Y^T Y, so the shared Gram term is diagonal and costs O(k) per row
instead of O(k^2). Both Cholesky and conjugate gradient are invariant under that orthogonal
change of basis, so the solutions are those of the original system, rotated, up to rounding.

The exact sweep solves a row with n < k entries in its n-dimensional dual form (push-through
identity, below), an n x n Cholesky instead of a k x k one: most rows of a long-tailed catalogue
are short, so this is where most of its speed comes from.

Rows are split across workers cyclically after sorting them by length (``row_order``) so that
every worker gets the same mix of long and short rows; each worker owns one slot of the scratch
buffers, allocated by the caller before the parallel loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

# fastmath without "nnan"/"ninf": the kernels must still see a NaN or a non-positive pivot so
# that a diverging fit is reported instead of silently returned.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def cholesky_inplace(a: np.ndarray, n: int) -> bool:
    """Overwrite the lower triangle of ``a[:n, :n]`` with its Cholesky factor L (A = L L^T).

    Row-oriented (each entry is one contiguous dot product), four rows at a time.

    Args:
        a: (>= n, >= n) float64; only the lower triangle (j <= i) is read and written.
        n: order of the leading block to factor.

    Returns:
        False when a pivot is not strictly positive (the matrix is not numerically SPD).
    """
    for j in range(n):
        aj = a[j]
        s = aj[j]
        for m in range(j):
            s -= aj[m] * aj[m]
        if not s > 0.0:
            return False
        d = np.sqrt(s)
        aj[j] = d
        inv = 1.0 / d
        i = j + 1
        while i + 4 <= n:
            a0 = a[i]
            a1 = a[i + 1]
            a2 = a[i + 2]
            a3 = a[i + 3]
            t0 = a0[j]
            t1 = a1[j]
            t2 = a2[j]
            t3 = a3[j]
            for m in range(j):
                c = aj[m]
                t0 -= a0[m] * c
                t1 -= a1[m] * c
                t2 -= a2[m] * c
                t3 -= a3[m] * c
            a0[j] = t0 * inv
            a1[j] = t1 * inv
            a2[j] = t2 * inv
            a3[j] = t3 * inv
            i += 4
        while i < n:
            ai = a[i]
            t = ai[j]
            for m in range(j):
                t -= ai[m] * aj[m]
            ai[j] = t * inv
            i += 1
    return True


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def cholesky_solve_inplace(a: np.ndarray, n: int, b: np.ndarray) -> None:
    """Solve L L^T x = b in place given the factor from :func:`cholesky_inplace`.

    Args:
        a: (>= n, >= n) float64 holding L in its lower triangle.
        n: order of the system.
        b: (>= n,) float64 right-hand side, overwritten with x.
    """
    for i in range(n):
        t = b[i]
        for m in range(i):
            t -= a[i, m] * b[m]
        b[i] = t / a[i, i]
    for i in range(n - 1, -1, -1):
        t = b[i] / a[i, i]
        b[i] = t
        for m in range(i):
            b[m] -= a[i, m] * t


@njit(cache=True, nogil=True)
def syrk_lower(
    syrk: Any,
    g: np.ndarray,
    r: int,
    length: int,
    transpose: bool,
    beta: float,
    out: np.ndarray,
    args: np.ndarray,
    scalars: np.ndarray,
) -> None:
    """Lower triangle of a Gram matrix through BLAS SYRK (C row-major view of Fortran BLAS).

    ``transpose=False``: ``out[:length, :length] = beta * out + g[:r].T @ g[:r]`` with ``g``
    (r, length) row-major, ``out`` (length, length) row-major. ``transpose=True``:
    ``out = beta * out + g[:r] @ g[:r].T`` with ``out`` (r, r) row-major. Only the lower triangle
    (Fortran's upper) is written.

    Args:
        syrk: the :data:`tuner.solvers._blas.DSYRK` pointer.
        args: (4,) int32 scratch for BLAS's by-reference integers (per worker).
        scalars: (2,) float64 scratch for alpha and beta (per worker).
    """
    flags = args.view(np.uint8)
    if transpose:
        args[1] = r
        args[2] = length
        args[3] = r
        flags[0] = 85  # 'U'
        flags[1] = 84  # 'T'
    else:
        args[1] = length
        args[2] = r
        args[3] = length
        flags[0] = 85  # 'U'
        flags[1] = 78  # 'N'
    scalars[0] = 1.0
    scalars[1] = beta
    lda = args[2:3] if transpose else args[3:4]
    syrk(
        flags[0:1].ctypes.data, flags[1:2].ctypes.data, args[1:2].ctypes.data,
        args[2:3].ctypes.data, scalars[0:1].ctypes.data, g.ctypes.data, lda.ctypes.data,
        scalars[1:2].ctypes.data, out.ctypes.data, args[3:4].ctypes.data,
    )  # fmt: skip


# Below this many rows OpenBLAS's SYRK costs more than a full GEMM (measured, k = 100).
SYRK_MIN_ROWS = 64

# Long rows are gathered this many likes at a time (a GATHER_COLUMNS x k float64 panel stays in
# L2) and their Gram matrix accumulated panel by panel.
GATHER_COLUMNS = 256


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def solve_rows_exact(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    other: np.ndarray,
    diag: np.ndarray,
    lam: np.ndarray,
    gw_a: float,
    gw_b: float,
    bw_a: float,
    bw_b: float,
    woodbury_max: int,
    row_order: np.ndarray,
    out: np.ndarray,
    mat: np.ndarray,
    panel: np.ndarray,
    vec: np.ndarray,
    syrk: Any,
    blas_args: np.ndarray,
    blas_scalars: np.ndarray,
) -> None:
    """Exact per-row solve (Cholesky) of the system in the module docstring.

    The Gram matrices go through BLAS (SYRK, or GEMM for the smallest; single-threaded inside
    each worker); the Cholesky factorisation and the triangular solves are the kernels above.

    Args:
        indptr, indices, data: CSR of the rows to solve (data float32, > 0).
        other: (n_other, k) float32 factors of the other side (rotated for iALS).
        diag: (k,) float64 diagonal Gram term d (>= 0; zeros for ALS).
        lam: (n_rows,) float64 per-row regularization.
        gw_a, gw_b, bw_a, bw_b: weight coefficients (see module docstring).
        woodbury_max: rows with fewer entries than this (<= k) use the n x n dual form.
        row_order: (n_rows,) int64 rows sorted by length, dealt cyclically to workers.
        out: (n_rows, k) float32 solutions, written row by row (NaN row when not SPD).
        mat: (n_workers, k, k) float64 scratch (the k x k or the n x n dual system).
        panel: (n_workers, max(k, GATHER_COLUMNS) * k) float64 scratch (gathered rows).
        vec: (n_workers, 3, k) float64 scratch.
        syrk: :data:`tuner.solvers._blas.DSYRK`.
        blas_args: (n_workers, 4) int32 scratch. blas_scalars: (n_workers, 2) float64 scratch.
    """
    n_rows = row_order.shape[0]
    k = other.shape[1]
    n_workers = mat.shape[0]
    woodbury_max = min(woodbury_max, k)  # the dual system lives in the k x k scratch
    if panel.shape[1] < max(k, GATHER_COLUMNS) * k or mat.shape[1] < k or vec.shape[2] < k:
        raise ValueError("solve_rows_exact: scratch buffers are too small")
    dmin = np.inf
    for a in range(k):
        dmin = min(dmin, diag[a])
    for wkr in prange(n_workers):
        a_m = mat[wkr]
        flat = panel[wkr]
        b_args = blas_args[wkr]
        b_scalars = blas_scalars[wkr]
        b = vec[wkr, 0]
        q = vec[wkr, 1]
        s = vec[wkr, 2]
        for t in range(wkr, n_rows, n_workers):
            u = row_order[t]
            start = indptr[u]
            end = indptr[u + 1]
            n = end - start
            lam_u = lam[u]
            if n == 0:
                for a in range(k):
                    out[u, a] = 0.0
                continue
            ok = True
            if n < woodbury_max and dmin + lam_u > 0.0:
                # Dual form: with D = diag(d) + lam I and H = W^1/2 Y_I D^-1/2 (n x k),
                # x = D^-1/2 H^T (I + H H^T)^-1 W^-1/2 b  (push-through identity, no cancellation).
                h = flat[: n * k].reshape((n, k))
                for a in range(k):
                    q[a] = 1.0 / np.sqrt(diag[a] + lam_u)
                for j in range(n):
                    i = indices[start + j]
                    r = data[start + j]
                    sw = np.sqrt(gw_a * r + gw_b)
                    s[j] = (bw_a * r + bw_b) / sw
                    for a in range(k):
                        h[j, a] = sw * q[a] * other[i, a]
                m_n = a_m.ravel()[: n * n].reshape((n, n))
                if n >= SYRK_MIN_ROWS:
                    syrk_lower(syrk, h, n, k, True, 0.0, m_n, b_args, b_scalars)
                else:
                    np.dot(h, h.T, m_n)
                for j in range(n):
                    m_n[j, j] += 1.0
                ok = cholesky_inplace(m_n, n)
                if ok:
                    cholesky_solve_inplace(m_n, n, s)
                    for a in range(k):
                        b[a] = 0.0
                    for j in range(n):
                        sj = s[j]
                        for a in range(k):
                            b[a] += sj * h[j, a]
                    for a in range(k):
                        out[u, a] = b[a] * q[a]
            else:
                for a in range(k):
                    for m in range(a + 1):
                        a_m[a, m] = 0.0
                    b[a] = 0.0
                for p0 in range(start, end, GATHER_COLUMNS):
                    c = min(GATHER_COLUMNS, end - p0)
                    h = flat[: c * k].reshape((c, k))
                    for j in range(c):
                        i = indices[p0 + j]
                        r = data[p0 + j]
                        sw = np.sqrt(gw_a * r + gw_b)
                        bw = bw_a * r + bw_b
                        for a in range(k):
                            y = np.float64(other[i, a])
                            h[j, a] = sw * y
                            b[a] += bw * y
                    syrk_lower(syrk, h, c, k, False, 1.0, a_m, b_args, b_scalars)
                for a in range(k):
                    a_m[a, a] += diag[a] + lam_u
                ok = cholesky_inplace(a_m, k)
                if ok:
                    cholesky_solve_inplace(a_m, k, b)
                    for a in range(k):
                        out[u, a] = b[a]
            if not ok:
                for a in range(k):
                    out[u, a] = np.nan


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _weighted_gram_product(
    indices: np.ndarray,
    data: np.ndarray,
    start: int,
    end: int,
    other: np.ndarray,
    gw_a: float,
    gw_b: float,
    bw_a: float,
    bw_b: float,
    p: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out += sum_j (bw_j - w_j * y_j . p) y_j`` over the row's entries, four at a time.

    With ``bw = 0`` this adds -(Y^T W Y) p; with the b-weights it adds b - (Y^T W Y) p. Four
    rows share each pass over ``out`` and their dot products run as independent chains.
    """
    k = other.shape[1]
    j = start
    while j + 4 <= end:
        y0 = other[indices[j]]
        y1 = other[indices[j + 1]]
        y2 = other[indices[j + 2]]
        y3 = other[indices[j + 3]]
        d0 = np.float32(0.0)
        d1 = np.float32(0.0)
        d2 = np.float32(0.0)
        d3 = np.float32(0.0)
        for a in range(k):
            pa = p[a]
            d0 += y0[a] * pa
            d1 += y1[a] * pa
            d2 += y2[a] * pa
            d3 += y3[a] * pa
        r0 = data[j]
        r1 = data[j + 1]
        r2 = data[j + 2]
        r3 = data[j + 3]
        c0 = np.float32(bw_a * r0 + bw_b) - np.float32(gw_a * r0 + gw_b) * d0
        c1 = np.float32(bw_a * r1 + bw_b) - np.float32(gw_a * r1 + gw_b) * d1
        c2 = np.float32(bw_a * r2 + bw_b) - np.float32(gw_a * r2 + gw_b) * d2
        c3 = np.float32(bw_a * r3 + bw_b) - np.float32(gw_a * r3 + gw_b) * d3
        for a in range(k):
            out[a] += c0 * y0[a] + c1 * y1[a] + c2 * y2[a] + c3 * y3[a]
        j += 4
    while j < end:
        yi = other[indices[j]]
        d = np.float32(0.0)
        for a in range(k):
            d += yi[a] * p[a]
        r = data[j]
        c = np.float32(bw_a * r + bw_b) - np.float32(gw_a * r + gw_b) * d
        for a in range(k):
            out[a] += c * yi[a]
        j += 1


@njit(parallel=True, fastmath=FASTMATH, cache=True)
def solve_rows_cg(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    other: np.ndarray,
    diag: np.ndarray,
    lam: np.ndarray,
    gw_a: float,
    gw_b: float,
    bw_a: float,
    bw_b: float,
    cg_steps: int,
    row_order: np.ndarray,
    x: np.ndarray,
    vec: np.ndarray,
) -> None:
    """Conjugate-gradient steps per row, warm-started from the current solution.

    Same system and arguments as :func:`solve_rows_exact`, except:

    Args:
        diag: (k,) float32 diagonal Gram term.
        cg_steps: number of CG steps per row (stops earlier once the residual is ~0).
        x: (n_rows, k) float32 current solutions, updated in place; empty rows become 0.
        vec: (n_workers, 3, k) float32 scratch (residual, direction, A @ direction).
    """
    n_rows = row_order.shape[0]
    k = other.shape[1]
    n_workers = vec.shape[0]
    for wkr in prange(n_workers):
        res = vec[wkr, 0]
        p = vec[wkr, 1]
        ap = vec[wkr, 2]
        for t in range(wkr, n_rows, n_workers):
            u = row_order[t]
            start = indptr[u]
            end = indptr[u + 1]
            xu = x[u]
            if start == end:
                for a in range(k):
                    xu[a] = 0.0
                continue
            lam_u = np.float32(lam[u])
            for a in range(k):
                res[a] = -(diag[a] + lam_u) * xu[a]
            _weighted_gram_product(
                indices, data, start, end, other, gw_a, gw_b, bw_a, bw_b, xu, res
            )
            rs_old = np.float32(0.0)
            for a in range(k):
                p[a] = res[a]
                rs_old += res[a] * res[a]
            if rs_old < 1e-20:
                continue
            for _ in range(cg_steps):
                for a in range(k):
                    ap[a] = -(diag[a] + lam_u) * p[a]
                # Accumulates -(A p); the sign flips back below.
                _weighted_gram_product(
                    indices, data, start, end, other, gw_a, gw_b, 0.0, 0.0, p, ap
                )
                pap = np.float32(0.0)
                for a in range(k):
                    pap -= p[a] * ap[a]
                step = rs_old / pap
                rs_new = np.float32(0.0)
                for a in range(k):
                    xu[a] += step * p[a]
                    res[a] += step * ap[a]
                    rs_new += res[a] * res[a]
                if rs_new < 1e-20:
                    break
                beta = rs_new / rs_old
                for a in range(k):
                    p[a] = res[a] + beta * p[a]
                rs_old = rs_new


@njit(parallel=True, cache=True)
def max_abs(x: np.ndarray) -> float:
    """Largest |value| of a 2-D array; NaN when any entry is NaN (inf when any is inf)."""
    n = x.shape[0]
    best = np.zeros(n, dtype=np.float64)
    for i in prange(n):
        m = 0.0
        for a in range(x.shape[1]):
            v = abs(np.float64(x[i, a]))
            if np.isnan(v):
                m = v
                break
            m = max(m, v)
        best[i] = m
    worst = 0.0
    for i in range(n):
        if np.isnan(best[i]):
            return best[i]
        worst = max(worst, best[i])
    return worst


# --------------------------------------------------------------------------- NumPy references


def solve_rows_reference(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    other: np.ndarray,
    gram: np.ndarray,
    lam: np.ndarray,
    gw: tuple[float, float],
    bw: tuple[float, float],
) -> np.ndarray:
    """Dense NumPy reference of the exact sweep (in the original, unrotated basis).

    Args:
        gram: (k, k) float64 shared Gram term (Y^T Y for iALS, zeros for ALS).
        other: (n_other, k) float32 factors of the other side, unrotated.

    Returns:
        (n_rows, k) float64 solutions (zeros for empty rows).
    """
    n_rows = indptr.shape[0] - 1
    k = other.shape[1]
    out = np.zeros((n_rows, k))
    for u in range(n_rows):
        sl = slice(indptr[u], indptr[u + 1])
        if sl.start == sl.stop:
            continue
        y = other[indices[sl]].astype(np.float64)
        r = data[sl].astype(np.float64)
        w = gw[0] * r + gw[1]
        b = bw[0] * r + bw[1]
        a = gram + lam[u] * np.eye(k) + (y * w[:, None]).T @ y
        out[u] = np.linalg.solve(a, y.T @ b)
    return out


def solve_rows_cg_reference(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    other: np.ndarray,
    gram: np.ndarray,
    lam: np.ndarray,
    gw: tuple[float, float],
    bw: tuple[float, float],
    cg_steps: int,
    x0: np.ndarray,
) -> np.ndarray:
    """Dense NumPy reference of the CG sweep: ``cg_steps`` textbook CG steps from ``x0``."""
    x = np.array(x0, dtype=np.float64)
    k = other.shape[1]
    for u in range(indptr.shape[0] - 1):
        sl = slice(indptr[u], indptr[u + 1])
        if sl.start == sl.stop:
            x[u] = 0.0
            continue
        y = other[indices[sl]].astype(np.float64)
        r = data[sl].astype(np.float64)
        a = gram + lam[u] * np.eye(k) + (y * (gw[0] * r + gw[1])[:, None]).T @ y
        res = y.T @ (bw[0] * r + bw[1]) - a @ x[u]
        p = res.copy()
        rs_old = res @ res
        if rs_old < 1e-20:
            continue
        for _ in range(cg_steps):
            ap = a @ p
            step = rs_old / (p @ ap)
            x[u] += step * p
            res -= step * ap
            rs_new = res @ res
            if rs_new < 1e-20:
                break
            p = res + (rs_new / rs_old) * p
            rs_old = rs_new
    return x
