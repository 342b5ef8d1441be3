"""Each loader on tiny files in the exact real layouts (quoting, Cyrillic, 64-bit sources)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tuner.data import build_matrix, generate_synthetic, load
from tuner.data.writers import write_zen
from tuner.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"


def dense_by_raw_id(source: str, path: Path | str, **options: Any) -> dict[int, set[int]]:
    """raw user id -> set of raw item ids, read back from the built matrix."""
    like = build_matrix(load(source, path, **options))
    m = like.matrix
    return {
        int(like.user_ids[r]): {
            int(like.item_ids[c]) for c in m.indices[m.indptr[r] : m.indptr[r + 1]]
        }
        for r in range(m.shape[0])
    }


def test_zen_ratings_names_and_signed_sources() -> None:
    inter = load("zen", FIXTURES / "zen")
    like = build_matrix(inter)
    assert dense_by_raw_id("zen", FIXTURES / "zen") == {
        0: {15267, 61075, 81203},
        1: {61075},
        2: {15267, 100},
        5: {81203, 100, 61075, 15267},
    }
    assert like.dropped_users == 1  # user 3 has "[]"
    assert like.dropped_items == 1  # item 999 only has a name
    assert like.n_duplicates == 1  # user 2 lists 15267 twice
    items = like.items.set_index("raw_id")
    assert items.loc[15267, "name"] == "Как приготовить борщ, который понравится всем"
    assert items.loc[61075, "name"] == 'Футбол: "Спартак" снова впереди'
    assert items.loc[15267, "source"] == -5718237189634574389
    assert items.loc[100, "source"] == 9223372036854775807
    assert items.loc[81203, "source"] == -1
    assert any("1 of 5 rows are for item ids that no" in w for w in inter.warnings)


def test_zen_path_may_be_the_ratings_file() -> None:
    a = dense_by_raw_id("zen", FIXTURES / "zen")
    b = dense_by_raw_id("zen", FIXTURES / "zen" / "zen_ratings.csv")
    assert a == b


def test_zen_round_trip_of_the_generator_output(tmp_path: Path) -> None:
    like = build_matrix(generate_synthetic(scale=0.005, seed=3))
    write_zen(like, tmp_path)
    back = build_matrix(load("zen", tmp_path))
    assert (back.matrix != like.matrix).nnz == 0
    np.testing.assert_array_equal(back.user_ids, like.user_ids)
    assert back.items.equals(like.items.drop(columns="topic"))


def write_zen_v2(folder: Path) -> None:
    users = [
        {"userId": 0, "trainRatings": {"7": 1, "1043": 1, "12": -1}},
        {"userId": 1, "trainRatings": {"12": -1}},
        {"userId": 2, "trainRatings": {"1043": 1, "5": 1, "7": 1}},
        {"userId": 3, "trainRatings": {}},
    ]
    with gzip.open(folder / "user_ratings.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(u) + "\n" for u in users)
    meta = [
        {
            "itemId": 7,
            "title": "Почему коты мурлыкают",
            "content": "...",
            "image": [0.1, 0.2],
            "sourceId": -8961346193427154212,
        },
        {"itemId": 1043, "title": "Рецепт: борщ «как у бабушки»", "content": "..."},
        {"itemId": 5, "title": 'Обзор, тест и "мнение"', "content": ""},
        {"itemId": 12, "title": "Непопулярная статья", "content": ""},
        {"itemId": 99, "title": "Никем не оценена", "content": ""},
    ]
    with gzip.open(folder / "item_meta.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in meta)
    (folder / "item_counts.csv").write_text(
        "itemId,count\n7,2\n1043,2\n5,1\n12,2\n99,0\n", encoding="utf-8"
    )


def test_zen_v2_likes_are_ones_and_dislikes_are_not(tmp_path: Path) -> None:
    write_zen_v2(tmp_path)
    inter = load("zen-v2", tmp_path)
    like = build_matrix(inter)
    assert dense_by_raw_id("zen-v2", tmp_path) == {0: {7, 1043}, 2: {1043, 5, 7}}
    assert like.dropped_users == 2  # user 1 only disliked, user 3 rated nothing
    assert like.dropped_items == 2  # 12 (disliked only) and 99 (catalogue only)
    names = like.items.set_index("raw_id")["name"]
    assert names.loc[1043] == "Рецепт: борщ «как у бабушки»"
    assert names.loc[5] == 'Обзор, тест и "мнение"'
    sources = like.items.set_index("raw_id")["source"]
    assert sources.loc[7] == -8961346193427154212 and pd.isna(sources.loc[5])
    assert inter.details["dislikes"] == 2


def test_zen_v2_also_reads_a_csv_with_json_cells(tmp_path: Path) -> None:
    rows = [
        "userId,trainRatings\n",
        '0,"{""7"": 1, ""1043"": 1, ""12"": -1}"\n',
        '2,"{""5"": 1, ""7"": 1}"\n',
    ]
    with gzip.open(tmp_path / "user_ratings.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(rows)
    assert dense_by_raw_id("zen-v2", tmp_path) == {0: {7, 1043}, 2: {5, 7}}


def test_movielens_ratings_csv_with_min_rating_and_quoted_titles() -> None:
    path = FIXTURES / "movielens" / "ratings.csv"
    got = dense_by_raw_id(
        "interactions", path, min_rating=4, names=FIXTURES / "movielens" / "movies.csv"
    )
    assert got == {1: {1, 3}, 2: {1, 6}, 4: {6, 1}}  # user 3 only rated 3.5: dropped
    like = build_matrix(
        load("interactions", path, min_rating=4, names=FIXTURES / "movielens" / "movies.csv")
    )
    assert like.dropped_users == 1
    assert like.items.set_index("raw_id").loc[3, "name"] == "Grumpier Old Men (1995)"


@pytest.mark.parametrize("header", [False, None])
def test_movielens_u_data_without_header(header: bool | None) -> None:
    got = dense_by_raw_id(
        "interactions", FIXTURES / "ml-100k" / "u.data", header=header, min_rating=4
    )
    assert got == {196: {377}, 244: {51, 242}, 186: {377}}


def test_lastfm_weights_zero_are_not_likes_and_names_come_from_artists_dat() -> None:
    path = FIXTURES / "lastfm" / "user_artists.dat"
    inter = load("interactions", path, names=FIXTURES / "lastfm" / "artists.dat")
    like = build_matrix(inter)
    assert dense_by_raw_id("interactions", path) == {2: {51, 52}, 3: {51, 54}}
    assert like.dropped_users == 1 and like.dropped_items == 1  # user 4 / artist 53: weight 0
    assert like.items.set_index("raw_id").loc[54, "name"] == "Би-2"
    assert inter.warnings == []  # artist 53 has a name and a (zero) weight: known, not liked


def test_interactions_explicit_columns_and_separator(tmp_path: Path) -> None:
    path = tmp_path / "log.tsv"
    path.write_text("item\twho\tclicks\n10\t1\t3\n11\t1\t0\n10\t2\t1\n", encoding="utf-8")
    got = dense_by_raw_id(
        "interactions", path, user_col="who", item_col="item", rating_col="clicks", sep="\\t"
    )
    assert got == {1: {10}, 2: {10}}


def test_gowalla_lists_user_first() -> None:
    assert dense_by_raw_id("lists", FIXTURES / "gowalla" / "train.txt") == {
        0: {0, 1, 2, 3},
        1: {3, 4},
        2: {5},
        3: {0, 5, 1},
    }


def test_citeulike_lists_count_first_user_is_line_number() -> None:
    got = dense_by_raw_id("lists", FIXTURES / "citeulike" / "users.dat", lists_format="count")
    assert got == {0: {0, 1, 2}, 1: {2, 7}, 2: {5}, 3: {0, 1, 7, 5}}


def test_citeulike_count_mismatch_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "users.dat"
    path.write_text("2 0 1\n3 4 5\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2: count 3 but 2 item ids follow"):
        load("lists", path, lists_format="count")


def test_unknown_loader_option_is_refused() -> None:
    with pytest.raises(DataError, match="has no option 'min_rating'"):
        load("zen", FIXTURES / "zen", min_rating=4)
