"""String ids (Amazon, Yelp, Last.fm names) end to end: prepare, study, fit, recommend, similar.

Every command that takes or prints an id uses the raw id of the input file, never a row number.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuner.cli import main

SPACE = """\
model = "als"
[params.factors]
type = "int"
low = 4
high = 8
[fixed]
iterations = 3
"""


@pytest.fixture(scope="module")
def string_id_likes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ratings CSV whose user and item ids are Amazon-like strings, with item names."""
    root = tmp_path_factory.mktemp("string-ids")
    rng = np.random.default_rng(5)
    users = [f"A{n:05d}XK" for n in range(150)]
    items = [f"B00-{n:04d}" for n in range(60)]
    rows = [
        (u, items[j])
        for u in users
        for j in rng.choice(len(items), size=rng.integers(4, 12), replace=False)
    ]
    pd.DataFrame(rows, columns=["user", "item"]).to_csv(root / "likes.csv", index=False)
    names = pd.DataFrame({"item": items, "name": [f"Product {i}" for i in items]})
    names.to_csv(root / "names.csv", index=False)
    return root


def test_string_ids_go_through_prepare_study_fit_and_recommend(
    string_id_likes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = string_id_likes
    data = tmp_path / "data"
    argv = ["prepare", "--source", "interactions", "--path", str(root / "likes.csv")]
    assert main([*argv, "--names", str(root / "names.csv"), "--out", str(data)]) == 0
    users = pd.read_csv(data / "users.csv", dtype=str, keep_default_na=False)
    assert users.iloc[:, -1].str.match(r"A\d{5}XK").all()  # raw ids kept as text

    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = ["--data", str(data), "--model", "als", "--study-name", "s", "--storage", url]
    assert main(["study", *study, "--space", str(space), "--n-trials", "2", "--no-progress"]) == 0
    model = tmp_path / "model"
    argv = ["fit", "--data", str(data), "--study-name", "s", "--storage", url]
    assert main([*argv, "--out", str(model)]) == 0
    capsys.readouterr()

    user = "A00007XK"
    assert main(["recommend", "--model", str(model), "--user", user, "--n", "5", "--json"]) == 0
    (answer,) = json.loads(capsys.readouterr().out)
    assert answer["user"] == user
    liked = set(pd.read_csv(root / "likes.csv").query("user == @user")["item"])
    recommended = [r["item"] for r in answer["results"]]
    assert len(recommended) == 5 and all(i.startswith("B00-") for i in recommended)
    # filter_liked by default: none of the user's training likes (validation/test may be)
    assert len(liked - set(recommended)) >= len(liked) - 1
    assert all(r["name"] == f"Product {r['item']}" for r in answer["results"])

    item = "B00-0003"
    assert main(["similar", "--model", str(model), "--item", item, "--n", "3", "--json"]) == 0
    (similar,) = json.loads(capsys.readouterr().out)
    assert similar["item"] == item
    found = [r["similar_item"] for r in similar["results"]]
    assert len(found) == 3 and item not in found and all(i.startswith("B00-") for i in found)

    # A row number is not an id: one line naming the file the ids are in, exit 2.
    assert main(["recommend", "--model", str(model), "--user", "7"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "'7'" in line and "users.csv" in line
