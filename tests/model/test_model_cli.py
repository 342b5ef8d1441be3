"""tuner fit / recommend / similar from the command line: tables with names, JSON, the same
factors from a study and from its best_params.json, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuner.cli import main


def _items(model_dir: Path) -> pd.DataFrame:
    return pd.read_csv(model_dir / "items.csv", keep_default_na=False)


def test_recommend_prints_a_table_with_item_names(
    model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tuner.model import load_model

    expected = load_model(model_dir).recommend([0, 4], n=3)
    assert (
        main(["recommend", "--model", str(model_dir), "--user", "0", "--user", "4", "--n", "3"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["user", "rank", "item", "score", "name"]
    assert len(lines) == 1 + 6
    for line, row in zip(lines[1:], expected.to_dict("records"), strict=True):
        user, rank, item, score = line.split()[:4]
        assert (int(user), int(rank), int(item)) == (row["user"], row["rank"], row["item"])
        assert float(score) == pytest.approx(row["score"], abs=1e-4)
        assert line.endswith(row["name"])


def test_recommend_and_similar_json(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = dict(zip(_items(model_dir)["raw_id"], _items(model_dir)["name"], strict=True))
    assert main(["recommend", "--model", str(model_dir), "--user", "2", "--json"]) == 0
    (user,) = json.loads(capsys.readouterr().out)
    assert user["user"] == 2
    assert [r["rank"] for r in user["results"]] == list(range(1, 11))
    assert all(r["name"] == names[r["item"]] for r in user["results"])

    item = int(_items(model_dir)["raw_id"].iat[0])
    assert (
        main(["similar", "--model", str(model_dir), "--item", str(item), "--n", "4", "--json"])
        == 0
    )
    (similar,) = json.loads(capsys.readouterr().out)
    assert similar["item"] == item
    found = [r["similar_item"] for r in similar["results"]]
    assert len(found) == 4 and item not in found
    scores = [r["score"] for r in similar["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("command", "flag", "bad", "listed_in"),
    [
        ("recommend", "--user", "999999", "users.csv"),
        ("similar", "--item", "no-such", "items.csv"),
    ],
)
def test_unknown_ids_answer_one_line_and_exit_2(
    model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    flag: str,
    bad: str,
    listed_in: str,
) -> None:
    assert main([command, "--model", str(model_dir), flag, "0", flag, bad]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert f"'{bad}'" in line and listed_in in line
    assert "'0'" not in line


def test_fit_from_the_study_and_from_its_best_params_give_the_same_factors(
    tiny_study: tuple[str, str, Path], model_dir: Path, tmp_path: Path
) -> None:
    url, name, data = tiny_study
    export = tmp_path / "export"
    argv = ["export", "--study-name", name, "--storage", url, "--out", str(export)]
    assert main(argv) == 0
    out = tmp_path / "from-params"
    argv = ["fit", "--data", str(data), "--params", str(export / "best_params.json")]
    assert main([*argv, "--out", str(out)]) == 0
    for name_ in ("user_factors.npy", "item_factors.npy"):
        from_params = np.load(out / name_)
        np.testing.assert_array_equal(from_params, np.load(model_dir / name_))
        # The export's own model directory is its single refit: the same factors again.
        np.testing.assert_array_equal(from_params, np.load(export / "model" / name_))
    best = json.loads((export / "best_params.json").read_text())
    meta = json.loads((out / "model.json").read_text())
    assert best["model_dir"] == str(export / "model")
    assert meta["seed"] == best["seed"]
    assert meta["test_mrr_at_100"] == pytest.approx(best["test_mrr_at_100"])
    exported = json.loads((export / "model" / "model.json").read_text())
    assert exported["test_mrr_at_100"] == best["test_mrr_at_100"]
    assert exported["source"]["trial_number"] == best["trial_number"]


def test_export_no_model_writes_no_model_directory(
    tiny_study: tuple[str, str, Path], tmp_path: Path
) -> None:
    url, name, _ = tiny_study
    export = tmp_path / "export"
    argv = ["export", "--study-name", name, "--storage", url, "--out", str(export), "--no-model"]
    assert main(argv) == 0
    assert sorted(p.name for p in export.iterdir()) == [
        "best_params.json", "figures", "trials.csv",
    ]  # fmt: skip
    assert json.loads((export / "best_params.json").read_text())["model_dir"] is None


def test_fit_refuses_to_replace_a_directory_that_is_not_a_model(
    tiny_study: tuple[str, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, name, data = tiny_study
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    argv = ["fit", "--data", str(data), "--study-name", name, "--storage", url, "--out", str(out)]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "not a model directory" in line
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "tuner_home"]


def test_fit_refuses_params_tuned_on_other_data(
    tiny_study: tuple[str, str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, data = tiny_study
    params = tmp_path / "best_params.json"
    params.write_text(
        json.dumps({"model": "als", "params": {"factors": 4}, "data_fingerprint": "ab" * 32})
    )
    argv = ["fit", "--data", str(data), "--params", str(params), "--out", str(tmp_path / "m")]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "fingerprint abababababab" in line
    assert not (tmp_path / "m").exists()
