"""Model directories: what is saved, and that recommend / similar_items / to_implicit rank as
the factors say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import scipy.sparse as sp

import tuner
from tuner.data import load_prepared
from tuner.errors import ConfigError, DataError
from tuner.model import load_model, refit, save_model


def _reference_top(scores: np.ndarray, exclude: np.ndarray, n: int) -> np.ndarray:
    """Top-n rows by score among those not in ``exclude`` (plain NumPy)."""
    candidates = np.setdiff1d(np.arange(scores.size), exclude)
    return candidates[np.argsort(-scores[candidates], kind="stable")][:n]


def test_model_json_records_the_configuration_and_the_data(
    model_dir: Path, tiny_study: tuple[str, str, Path]
) -> None:
    url, name, data_dir = tiny_study
    study = optuna.load_study(study_name=name, storage=url)
    data = load_prepared(data_dir)
    meta = json.loads((model_dir / "model.json").read_text())

    assert meta["model"] == "als"
    assert meta["params"] == study.best_trial.params
    assert meta["seed"] == 3
    assert meta["data_fingerprint"] == data.fingerprint
    assert meta["val_mrr_at_100"] == study.best_value
    assert meta["val_mrr_se"] == study.best_trial.user_attrs["val_mrr_se"]
    assert 0.0 < meta["test_mrr_at_100"] <= 1.0
    assert meta["test_mrr_se"] > 0.0
    assert meta["tuner_version"] == tuner.__version__
    assert meta["source"]["study_name"] == name

    user_factors = np.load(model_dir / "user_factors.npy")
    item_factors = np.load(model_dir / "item_factors.npy")
    assert user_factors.dtype == item_factors.dtype == np.float32
    assert user_factors.shape == (data.n_users, meta["factors"])
    assert item_factors.shape == (data.n_items, meta["factors"])
    liked = sp.load_npz(model_dir / "liked.npz")
    assert (liked != data.train_val()).nnz == 0
    assert (model_dir / "users.csv").read_bytes() == (data_dir / "users.csv").read_bytes()
    assert (model_dir / "items.csv").read_bytes() == (data_dir / "items.csv").read_bytes()
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(".model")]


@pytest.mark.parametrize("filter_liked", [True, False])
def test_recommend_after_a_round_trip_equals_the_numpy_ranking(
    prepared_tiny: Path, tmp_path: Path, filter_liked: bool
) -> None:
    data = load_prepared(prepared_tiny)
    params = {"factors": 6, "regularization": 0.5, "iterations": 3}
    fitted = refit(data, "als", params, seed=1)
    save_model(tmp_path / "m", fitted, data, model_name="als", params=params, seed=1)
    model = tuner.load_model(tmp_path / "m")

    users = pd.read_csv(prepared_tiny / "users.csv")
    items = pd.read_csv(prepared_tiny / "items.csv", keep_default_na=False)
    train_val = data.train_val()
    rows = [0, 5, 17, data.n_users - 1]
    raw = users["raw_id"].to_numpy()[rows]
    got = model.recommend(list(raw), n=10, filter_liked=filter_liked)

    assert list(got.columns) == ["user", "rank", "item", "name", "score"]
    for u, user_id in zip(rows, raw, strict=True):
        scores = fitted.user_factors[u] @ fitted.item_factors.T
        liked = train_val.indices[train_val.indptr[u] : train_val.indptr[u + 1]]
        top = _reference_top(scores, liked if filter_liked else np.empty(0, int), 10)
        mine = got[got["user"] == user_id]
        assert list(mine["rank"]) == list(range(1, 11))
        assert list(mine["item"]) == list(items["raw_id"].to_numpy()[top])
        assert list(mine["name"]) == list(items["name"].to_numpy()[top])
        np.testing.assert_allclose(mine["score"], scores[top], rtol=1e-6)
        if filter_liked:
            assert not set(mine["item"]) & set(items["raw_id"].to_numpy()[liked])


def test_similar_items_are_the_cosine_neighbours_without_the_item(model_dir: Path) -> None:
    model = load_model(model_dir)
    v = np.load(model_dir / "item_factors.npy").astype(np.float64)
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    rows = [0, 3, model.n_items - 1]
    got = model.similar_items([model.item_ids[i] for i in rows], n=5)

    for i in rows:
        cosine = unit @ unit[i]
        top = _reference_top(cosine, np.array([i]), 5)
        mine = got[got["item"] == model.item_ids[i]]
        assert list(mine["similar_item"]) == list(model.item_ids[top])
        np.testing.assert_allclose(mine["score"], cosine[top], rtol=1e-5)


def test_to_implicit_recommends_the_same_top_n(model_dir: Path) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    model = load_model(model_dir)
    als = model.to_implicit()
    assert isinstance(als, AlternatingLeastSquares)

    rows = np.arange(0, model.n_users, 37)
    ids, scores = als.recommend(rows, model.liked[rows], N=10)
    ours = model.recommend(list(model.user_ids[rows]), n=10)
    for k, u in enumerate(rows):
        mine = ours[ours["user"] == model.user_ids[u]]
        assert list(mine["item"]) == list(model.item_ids[ids[k]])
        np.testing.assert_allclose(mine["score"], scores[k], rtol=1e-5)

    # implicit lists the item itself first; tuner leaves it out.
    item_ids, _ = als.similar_items(np.arange(4), N=6)
    similar = model.similar_items(list(model.item_ids[:4]), n=5)
    for i in range(4):
        assert item_ids[i][0] == i
        mine = similar[similar["item"] == model.item_ids[i]]
        assert list(mine["similar_item"]) == list(model.item_ids[item_ids[i][1:]])


def test_ids_are_matched_as_text_and_unknown_ones_are_named(model_dir: Path) -> None:
    model = load_model(model_dir)
    first = model.user_ids[0]
    by_int = model.recommend(int(first), n=3)
    by_text = model.recommend(str(first), n=3)
    assert by_int.equals(by_text)
    with pytest.raises(DataError, match=r"Unknown user id '999999'.*users\.csv"):
        model.recommend(["999999"])
    with pytest.raises(DataError, match=r"Unknown item id 'nope'.*items\.csv"):
        model.similar_items("nope")
    with pytest.raises(ConfigError, match=r"n .* must be an integer >= 1"):
        model.recommend(first, n=0)


def test_load_model_refuses_a_directory_that_is_not_a_model(prepared_tiny: Path) -> None:
    with pytest.raises(DataError, match="not a model directory"):
        load_model(prepared_tiny)
    with pytest.raises(DataError, match="does not exist"):
        load_model(prepared_tiny.parent / "no-such-model")
