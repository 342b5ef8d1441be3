"""The one input check and the one numba thread helper that solvers and similarities share."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from tuner.errors import ConfigError, DataError
from tuner.similarities import cosine_neighbors
from tuner.solvers import ALS, check_user_items, numba_threads


def _unsorted(dtype: type = np.float32) -> sp.csr_matrix:
    """3 x 4 likes with each row's indices in reverse order, a duplicate and a stored zero."""
    indptr = np.array([0, 3, 5, 8], dtype=np.int32)
    indices = np.array([3, 1, 0, 2, 0, 3, 3, 1], dtype=np.int32)
    data = np.array([1, 2, 1, 1, 0, 1, 2, 1], dtype=dtype)
    m = sp.csr_matrix((data, indices, indptr), shape=(3, 4))
    assert not m.has_sorted_indices
    return m


def _arrays(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return m.data.copy(), m.indices.copy(), m.indptr.copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_leaves_the_callers_matrix_unchanged(dtype: type) -> None:
    x = _unsorted(dtype)
    dense = x.toarray()
    before = _arrays(x)
    m = check_user_items(x)
    for was, now in zip(before, _arrays(x), strict=True):
        np.testing.assert_array_equal(was, now)
    assert x.dtype == dtype
    # the result is canonical: sorted, duplicates summed, the stored zero dropped
    assert m.dtype == np.float32 and m.has_canonical_format
    assert (m.data != 0).all()
    np.testing.assert_array_equal(m.toarray(), dense.astype(np.float32))
    assert not np.shares_memory(m.indices, x.indices)


def test_a_canonical_matrix_is_returned_as_it_is() -> None:
    x = check_user_items(_unsorted())
    assert check_user_items(x) is x


@pytest.mark.parametrize(
    "bad",
    [
        np.ones((3, 3)),
        sp.csr_matrix((0, 4), dtype=np.float32),
        sp.csr_matrix(np.zeros((2, 2), dtype=np.float32)),
        sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 1.0]], dtype=np.float32)),
        sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 1.0]], dtype=np.float32)),
    ],
)
def test_check_refuses_bad_input(bad: object) -> None:
    with pytest.raises(DataError):
        check_user_items(bad)


def test_fits_and_similarities_leave_the_callers_matrix_unchanged() -> None:
    x = _unsorted()
    before = _arrays(x)
    ALS(factors=2, iterations=1).fit(x)
    cosine_neighbors(x, top_k=2)
    for was, now in zip(before, _arrays(x), strict=True):
        np.testing.assert_array_equal(was, now)


def test_numba_threads_sets_caps_and_restores() -> None:
    previous = numba.get_num_threads()
    with numba_threads(1) as threads:
        assert threads == 1 == numba.get_num_threads()
    assert numba.get_num_threads() == previous
    with numba_threads(0) as threads:
        assert threads == previous
    with numba_threads(10_000) as threads:
        assert threads == numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    assert numba.get_num_threads() == previous
    with pytest.raises(ConfigError, match="num_threads"), numba_threads(-1):
        pass
