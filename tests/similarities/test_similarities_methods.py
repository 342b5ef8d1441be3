"""Known-answer behaviour of the methods and the comparison metrics on tiny matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tuner.errors import ConfigError, DataError
from tuner.similarities import Neighbors, cosine_neighbors, slim_neighbors
from tuner.similarities.compare import (
    compare,
    coverage_at,
    jaccard_at,
    pick_anchors,
    rank_correlation,
    resolve_anchors,
    same_label_rate,
)


def checkerboard(n_users: int = 40, n_items: int = 12, seed: int = 0) -> sp.csr_matrix:
    """Two user groups, each liking (most of) its own half of the items only."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n_users, n_items), dtype=np.float32)
    half_u, half_i = n_users // 2, n_items // 2
    x[:half_u, :half_i] = rng.random((half_u, half_i)) < 0.7
    x[half_u:, half_i:] = rng.random((n_users - half_u, n_items - half_i)) < 0.7
    return sp.csr_matrix(x)


def block_of(item: int, n_items: int = 12) -> int:
    return int(item >= n_items // 2)


@pytest.mark.parametrize("method", ["cosine", "slim"])
def test_neighbours_stay_inside_the_checkerboard_block(method: str) -> None:
    x = checkerboard()
    nb = (
        cosine_neighbors(x, top_k=11)
        if method == "cosine"
        else slim_neighbors(x, top_k=11, alpha=1e-3, l1_ratio=0.5)
    )
    for i in range(12):
        found = nb.indices[i][nb.indices[i] >= 0]
        assert found.size > 0
        assert i not in found
        assert {block_of(j) for j in found} == {block_of(i)}
    assert np.all(np.diff(nb.scores, axis=1) <= 1e-7)  # best first


def test_cold_item_gets_no_neighbours_and_is_nobodys_neighbour() -> None:
    x = checkerboard().tolil()
    x[:, 5] = 0
    x = x.tocsr()
    for nb in (cosine_neighbors(x, top_k=5), slim_neighbors(x, top_k=5)):
        assert (nb.indices[5] == -1).all()
        assert 5 not in nb.indices


def test_identical_items_are_each_others_best_cosine_neighbour() -> None:
    x = checkerboard().toarray()
    x[:, 3] = x[:, 1]
    nb = cosine_neighbors(sp.csr_matrix(x), top_k=3)
    assert nb.indices[1, 0] == 3 and nb.indices[3, 0] == 1
    assert nb.scores[1, 0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"alpha": 0.0}, ConfigError),
        ({"l1_ratio": 1.5}, ConfigError),
        ({"top_k": 0}, ConfigError),
        ({"num_threads": -1}, ConfigError),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        slim_neighbors(checkerboard(), **kwargs)


def test_negative_weights_are_refused() -> None:
    x = checkerboard()
    x.data[0] = -1.0
    with pytest.raises(DataError, match="non-negative"):
        cosine_neighbors(x)


def fixed(method: str, rows: list[list[int]], k: int = 3) -> Neighbors:
    idx = np.full((len(rows), k), -1, dtype=np.int32)
    val = np.zeros((len(rows), k), dtype=np.float32)
    for i, r in enumerate(rows):
        idx[i, : len(r)] = r
        val[i, : len(r)] = np.linspace(1.0, 0.5, len(r)) if r else []
    return Neighbors(method, idx, val, (idx >= 0).sum(axis=1))


def test_jaccard_coverage_and_rank_correlation() -> None:
    warm = np.ones(4, dtype=bool)
    a = fixed("a", [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])
    b = fixed("b", [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])
    c = fixed("c", [[], [], [], [0, 1, 2]])
    assert jaccard_at(a, b, warm, 10) == pytest.approx(1.0)
    assert jaccard_at(a, c, warm, 10) == pytest.approx(0.25)  # 1.0 on item 3, 0 elsewhere
    assert coverage_at(a, warm, 1) == pytest.approx(0.5)  # first neighbours: items 1 and 0
    assert coverage_at(c, warm, 10) == pytest.approx(0.75)
    rc = rank_correlation(a, b)
    assert rc["spearman"] == pytest.approx(1.0) and rc["n_shared_pairs"] == 12


def test_same_label_rate_and_chance() -> None:
    nb = fixed("a", [[1, 2], [0, 2], [3, 0], [2, 1]], k=2)
    labels = pd.Series(["x", "x", "y", "y"])
    out = same_label_rate(nb, labels, np.ones(4, dtype=bool), 10)
    assert out["rate"] == pytest.approx(4 / 8)
    assert out["chance"] == pytest.approx(0.5)
    # unknown labels (None) count on neither side
    labels = pd.Series(["x", None, "x", "x"])
    unknown = same_label_rate(nb, labels, np.ones(4, dtype=bool), 10)
    assert unknown["n_pairs"] == 4 and unknown["rate"] == pytest.approx(1.0)


def test_unknown_anchor_id_names_it() -> None:
    items = pd.DataFrame({"index": [0, 1], "raw_id": [101, 202], "name": ["a", "b"]})
    assert resolve_anchors(items, ["202", 101]) == [1, 0]
    with pytest.raises(DataError, match="'999'"):
        resolve_anchors(items, ["999"])


def test_anchors_cover_head_torso_tail_and_user_ids() -> None:
    pop = np.arange(1000, dtype=np.float64)[::-1]  # item 0 is the most popular
    warm = pop > 0
    picked = pick_anchors(pop, warm, [998, 0])
    assert picked[0] == {"index": 0, "group": "head"}
    assert {p["group"] for p in picked} == {"head", "torso", "tail", "user"}
    assert [p["index"] for p in picked if p["group"] == "user"] == [998]


def test_compare_on_checkerboard_prefers_in_block_neighbours() -> None:
    x = checkerboard()
    items = pd.DataFrame(
        {
            "index": range(12),
            "raw_id": [f"r{i}" for i in range(12)],
            "name": [f"item {i}" for i in range(12)],
            "source": [block_of(i) for i in range(12)],
            "topic": ["left" if block_of(i) == 0 else "right" for i in range(12)],
        }
    )
    nbs = {"cosine": cosine_neighbors(x, top_k=5), "slim": slim_neighbors(x, top_k=5)}
    cmp = compare(nbs, items=items, user_items=x, anchors=[7])
    for m in nbs:
        assert cmp["per_method"][m]["same_topic_at_10"]["rate"] == pytest.approx(1.0)
        assert cmp["per_method"][m]["same_source_at_10"]["chance"] == pytest.approx(0.5)
    assert "r7" in [a["raw_id"] for a in cmp["anchors"]]
    assert len(cmp["pairs"]) == 1 and cmp["summary"]
