"""The fixed, seeded leave-one-out split every trial evaluates on, its fingerprint, and the
course's debug subset."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from tuner.errors import DataError


@dataclass
class Split:
    """Train / validation / test matrices of one shape.

    Attributes:
        train: (n_users, n_items) CSR float32, every like not held out.
        val: (n_users, n_items) CSR float32, exactly one like per validation user.
        test: (n_users, n_items) CSR float32, exactly one like per test user.
        n_eligible: users with at least 2 likes (the pool test and validation users come from).
    """

    train: sp.csr_matrix
    val: sp.csr_matrix
    test: sp.csr_matrix
    n_eligible: int


def check_fraction(name: str, value: object) -> float:
    """Return ``value`` as a float when it lies strictly in (0, 1); else raise DataError."""
    try:
        frac = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        frac = float("nan")
    if not 0.0 < frac < 1.0:
        flag = "--" + name.replace("_", "-")
        raise DataError(
            f"{flag} must be a fraction in (0, 1); got {value!r}. Fix: pass e.g. {flag} 0.2."
        )
    return frac


def split_leave_one_out(
    matrix: sp.csr_matrix, *, test_frac: float = 0.2, val_frac: float = 0.2, seed: int = 0
) -> Split:
    """Hold out one random like of a seeded share of users for test, then for validation.

    ``round(test_frac * n_eligible)`` test users are drawn among the users with at least 2 likes,
    then ``round(val_frac * n_eligible)`` validation users among the eligible users left; each
    loses one uniformly drawn like to its held-out matrix. Same matrix and seed give the same
    split bit for bit (one ``numpy.random.default_rng(seed)`` drives every draw).

    Args:
        matrix: (n_users, n_items) CSR float32 binary likes with sorted indices.
        test_frac: share of eligible users held out for test, in (0, 1).
        val_frac: share of eligible users held out for validation, in (0, 1).
        seed: split seed.

    Raises:
        DataError: bad fractions, or too few users with 2+ likes to hold anything out.
    """
    test_frac = check_fraction("test_frac", test_frac)
    val_frac = check_fraction("val_frac", val_frac)
    if test_frac + val_frac >= 1.0:
        raise DataError(
            f"--test-frac {test_frac} + --val-frac {val_frac} must be < 1 so that some users "
            "keep all their likes for training. Fix: lower one of them (defaults 0.2 + 0.2)."
        )
    counts = np.diff(matrix.indptr)
    eligible = np.flatnonzero(counts >= 2)
    n_eligible = int(eligible.shape[0])
    n_test = round(test_frac * n_eligible)
    n_val = round(val_frac * n_eligible)
    if n_test < 1 or n_val < 1:
        raise DataError(
            f"the split needs at least one test and one validation user among the users with "
            f"2+ likes, but only {n_eligible} user(s) of {matrix.shape[0]} have 2+ likes "
            f"(test {n_test}, validation {n_val}), so no train/held-out split is possible. "
            "Fix: use more data, a larger --debug-users / --debug-items, or larger fractions."
        )
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(eligible)[: n_test + n_val]
    # One like per chosen user: a uniform position inside its row.
    pick = matrix.indptr[chosen] + (rng.random(chosen.shape[0]) * counts[chosen]).astype(np.int64)
    pick = np.minimum(pick, matrix.indptr[chosen + 1] - 1)

    role = np.zeros(matrix.nnz, dtype=np.int8)  # 0 train, 1 test, 2 validation
    role[pick[:n_test]] = 1
    role[pick[n_test:]] = 2
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), counts)
    parts = [_select(matrix, rows, role == r) for r in (0, 1, 2)]
    if parts[0].nnz == 0:
        raise DataError(
            "the split leaves no train like. Fix: lower --test-frac / --val-frac or use more data."
        )
    return Split(train=parts[0], val=parts[2], test=parts[1], n_eligible=n_eligible)


def _select(matrix: sp.csr_matrix, rows: np.ndarray, mask: np.ndarray) -> sp.csr_matrix:
    indices = matrix.indices[mask]
    indptr = np.zeros(matrix.shape[0] + 1, dtype=matrix.indptr.dtype)
    np.cumsum(np.bincount(rows[mask], minlength=matrix.shape[0]), out=indptr[1:])
    out = sp.csr_matrix(
        (np.ones(indices.shape[0], dtype=np.float32), indices, indptr), shape=matrix.shape
    )
    out.has_sorted_indices = True
    return out


def fingerprint(train: sp.csr_matrix, val: sp.csr_matrix, test: sp.csr_matrix) -> str:
    """sha256 hex over shape, indptr, indices and data of train, val and test (in that order).

    Arrays are hashed as little-endian int64 (shape, indptr, indices) and float32 (data), so the
    value does not depend on the index dtype scipy picked when loading.
    """
    h = hashlib.sha256()
    for m in (train, val, test):
        m = m.tocsr()
        if not m.has_sorted_indices:
            m = m.sorted_indices()
        h.update(np.asarray(m.shape, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(m.indptr, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(m.indices, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(m.data, dtype="<f4").tobytes())
    return h.hexdigest()


def debug_subset_indices(
    matrix: sp.csr_matrix, *, items_frac: float | None, users_frac: float | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the course's debug subset.

    The top ``items_frac`` of items by like count (ties broken by index) and a seeded random
    ``users_frac`` of users; ``None`` keeps all of that axis.

    Returns:
        (users, items): int64 row and column indices to keep, increasing.
    """
    n_users, n_items = matrix.shape
    items = np.arange(n_items, dtype=np.int64)
    users = np.arange(n_users, dtype=np.int64)
    if items_frac is not None:
        frac = check_fraction("debug_items", items_frac)
        k = max(1, round(frac * n_items))
        pop = np.bincount(matrix.indices, minlength=n_items)
        items = np.sort(np.argsort(-pop, kind="stable")[:k]).astype(np.int64)
    if users_frac is not None:
        frac = check_fraction("debug_users", users_frac)
        k = max(1, round(frac * n_users))
        # A separate stream from the split's, so changing the subset never shifts the split draws.
        rng = np.random.default_rng([seed, 1])
        users = np.sort(rng.choice(n_users, size=k, replace=False)).astype(np.int64)
    return users, items
