"""Matrix builder, leave-one-out split and debug subset: the properties every trial relies on."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tuner.data import (
    Interactions,
    build_matrix,
    csr_from_pairs,
    debug_subset_indices,
    fingerprint,
    split_leave_one_out,
)
from tuner.data.matrix import subset, unique_inverse
from tuner.errors import DataError


def random_likes(n_users: int = 400, n_items: int = 300, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    per_user = rng.integers(1, 25, n_users)
    rows = np.repeat(np.arange(n_users), per_user)
    cols = rng.integers(0, n_items, rows.shape[0])
    return csr_from_pairs(rows, cols, (n_users, n_items))


def test_matrix_collapses_duplicates_sorts_and_maps_raw_ids() -> None:
    inter = Interactions(
        users=np.array([50, 7, 50, 50, 7], dtype=np.int64),
        items=np.array([900, 3, 12, 900, 900], dtype=np.int64),
        seen_users=np.array([7, 50, 61], dtype=np.int64),
        seen_items=np.array([3, 12, 900, 4], dtype=np.int64),
    )
    like = build_matrix(inter)
    m = like.matrix
    assert m.dtype == np.float32 and m.has_sorted_indices
    np.testing.assert_array_equal(like.user_ids, [7, 50])
    np.testing.assert_array_equal(like.item_ids, [3, 12, 900])
    np.testing.assert_array_equal(m.toarray(), [[1, 0, 1], [0, 1, 1]])
    assert (like.n_duplicates, like.dropped_users, like.dropped_items) == (1, 1, 1)


@pytest.mark.parametrize("big", [False, True])
def test_unique_inverse_matches_numpy(big: bool) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2**40 if big else 500, 2000)
    values, inverse = unique_inverse(x)
    ref_values, ref_inverse = np.unique(x, return_inverse=True)
    np.testing.assert_array_equal(values, ref_values)
    np.testing.assert_array_equal(inverse, ref_inverse)


def test_split_holds_out_exactly_one_like_per_held_out_user() -> None:
    m = random_likes()
    s = split_leave_one_out(m, test_frac=0.2, val_frac=0.2, seed=0)
    counts = np.diff(m.indptr)
    n_eligible = int((counts >= 2).sum())
    for held in (s.val, s.test):
        per_user = np.diff(held.indptr)
        assert set(np.unique(per_user)) <= {0, 1}
        assert np.all(counts[per_user == 1] >= 2)  # drawn among users with 2+ likes
    val_users = np.flatnonzero(np.diff(s.val.indptr))
    test_users = np.flatnonzero(np.diff(s.test.indptr))
    assert len(test_users) == round(0.2 * n_eligible)
    assert len(val_users) == round(0.2 * n_eligible)
    assert not set(val_users) & set(test_users)
    # Disjoint from train, and together exactly the input.
    assert s.train.multiply(s.val).nnz == 0 and s.train.multiply(s.test).nnz == 0
    assert ((s.train + s.val + s.test) != m).nnz == 0
    for x in (s.train, s.val, s.test):
        assert x.shape == m.shape and x.dtype == np.float32 and x.has_sorted_indices


@pytest.mark.parametrize(("test_frac", "val_frac"), [(0.1, 0.3), (0.25, 0.05), (0.5, 0.45)])
def test_fractions_are_right_to_one_user(test_frac: float, val_frac: float) -> None:
    m = random_likes(n_users=333)
    s = split_leave_one_out(m, test_frac=test_frac, val_frac=val_frac, seed=4)
    n_eligible = int((np.diff(m.indptr) >= 2).sum())
    assert abs(s.test.nnz - test_frac * n_eligible) <= 1
    assert abs(s.val.nnz - val_frac * n_eligible) <= 1


def test_same_seed_same_fingerprint_other_seed_other() -> None:
    m = random_likes()
    a = split_leave_one_out(m, seed=7)
    b = split_leave_one_out(m.copy(), seed=7)
    c = split_leave_one_out(m, seed=8)
    fa = fingerprint(a.train, a.val, a.test)
    assert fa == fingerprint(b.train, b.val, b.test)
    assert fa != fingerprint(c.train, c.val, c.test)
    assert len(fa) == 64


def test_fingerprint_ignores_index_dtype_but_not_content() -> None:
    s = split_leave_one_out(random_likes(), seed=0)
    wide = [x.copy() for x in (s.train, s.val, s.test)]
    for x in wide:
        x.indices = x.indices.astype(np.int64)
        x.indptr = x.indptr.astype(np.int64)
    assert fingerprint(*wide) == fingerprint(s.train, s.val, s.test)
    changed = s.train.copy()
    changed.data[0] = 2.0
    assert fingerprint(changed, s.val, s.test) != fingerprint(s.train, s.val, s.test)


def test_split_refuses_when_nobody_has_two_likes() -> None:
    m = csr_from_pairs(np.arange(10), np.arange(10), (10, 10))
    with pytest.raises(DataError, match="only 0 user"):
        split_leave_one_out(m)


@pytest.mark.parametrize(("t", "v"), [(0.0, 0.2), (1.0, 0.2), (0.2, -0.1), (0.6, 0.5)])
def test_split_refuses_bad_fractions(t: float, v: float) -> None:
    with pytest.raises(DataError, match="frac"):
        split_leave_one_out(random_likes(), test_frac=t, val_frac=v)


def test_debug_subset_keeps_top_items_and_a_seeded_share_of_users() -> None:
    m = random_likes(n_users=500, n_items=400)
    users, items = debug_subset_indices(m, items_frac=0.1, users_frac=0.2, seed=0)
    assert len(items) == 40 and len(users) == 100
    pop = np.bincount(m.indices, minlength=400)
    assert pop[items].min() >= np.sort(pop)[::-1][39]  # the 40 most liked
    again, _ = debug_subset_indices(m, items_frac=0.1, users_frac=0.2, seed=0)
    other, _ = debug_subset_indices(m, items_frac=0.1, users_frac=0.2, seed=1)
    np.testing.assert_array_equal(users, again)
    assert not np.array_equal(users, other)


def test_subset_drops_rows_and_columns_left_empty() -> None:
    inter = Interactions(
        users=np.array([0, 0, 1, 2], dtype=np.int64), items=np.array([0, 1, 2, 2], dtype=np.int64)
    )
    like = build_matrix(inter)
    sub = subset(like, np.array([0, 1]), np.array([0, 1]))  # user 1 only liked item 2
    np.testing.assert_array_equal(sub.user_ids, [0])
    np.testing.assert_array_equal(sub.item_ids, [0, 1])
    np.testing.assert_array_equal(sub.items["index"], [0, 1])
