"""The similarities stage with tuned settings: --slim-params / --cosine-params fix the item
methods' settings (a best_params.json or a small JSON object), the report names them, and a
neighbourhood larger than --top-k is the one the downstream recommender votes with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuner.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_params_files_fix_slim_and_cosine(
    prepared_small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tuner.data import load_prepared
    from tuner.metrics import evaluate_scorer
    from tuner.similarities import cosine_neighbors
    from tuner.similarities.compare import item_recommender_scorer

    slim = tmp_path / "slim.json"
    slim.write_text(json.dumps({"alpha": 0.003, "l1_ratio": 0.6}))
    cosine = tmp_path / "best_params.json"  # as 'tuner export' writes it
    cosine.write_text(json.dumps({"model": "cosine", "params": {"top_k": 50, "shrinkage": 5.0}}))
    out = tmp_path / "out"
    argv = [
        "similarities", "--data", str(prepared_small), "--methods", "cosine,slim",
        "--slim-params", str(slim), "--cosine-params", str(cosine), "--top-k", "20",
        "--out", str(out), "--threads", "1",
    ]  # fmt: skip
    code, err = _run(argv, capsys)
    assert code == 0, err
    cmp = json.loads((out / "comparison.json").read_text())
    info = {m: cmp["per_method"][m]["info"] for m in ("slim", "cosine")}
    assert info["slim"]["params"] == {"top_k": 20, "alpha": 0.003, "l1_ratio": 0.6}
    assert info["slim"]["settings_from"] == f"from {slim}"
    assert cmp["settings"]["slim_alpha"] == 0.003
    assert info["cosine"]["params"] == {"top_k": 50, "shrinkage": 5.0}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"from {slim}: top_k=20, alpha=0.003, l1_ratio=0.6" in report
    # the compared lists keep --top-k neighbours; the recommender votes with all 50
    assert cmp["per_method"]["cosine"]["neighbours_per_item"]["share_full_top_k"] > 0
    import pandas as pd

    rows = pd.read_csv(out / "neighbors_cosine.csv.gz")
    assert rows["rank"].max() == 20
    assert not (out / "neighbors_slim.csv.gz").stat().st_size == 0
    data = load_prepared(prepared_small)
    x = data.train_val()
    nb = cosine_neighbors(x, top_k=50, shrinkage=5.0)
    expected = evaluate_scorer(item_recommender_scorer(nb, x), x, data.test, k=100)
    assert cmp["per_method"]["cosine"]["downstream"]["mrr"] == pytest.approx(expected.mrr)


def test_without_params_slim_is_the_course_and_fixed(similarities_out: Path) -> None:
    cmp = json.loads((similarities_out / "comparison.json").read_text())
    info = cmp["per_method"]["slim"]["info"]
    assert info["settings_from"] == "fixed"
    assert (info["params"]["alpha"], info["params"]["l1_ratio"]) == (1e-4, 0.15)
    cosine = cmp["per_method"]["cosine"]["info"]
    assert cosine["settings_from"] == "fixed" and cosine["shrinkage"] == 0.0


@pytest.mark.parametrize(
    ("content", "extra", "needle"),
    [
        ('{"alpha": 0.01, "top_k": 5, "gamma": 1}', [], "must be a best_params.json or a JSON"),
        ('{"model": "als", "params": {"alpha": 1}}', [], "holds 'als' parameters, not 'slim'"),
        ("{nope", [], "is not valid JSON"),
        ('{"alpha": 0.01}', ["--slim-alpha", "0.1"], "are alternatives; pass one"),
    ],
)
def test_bad_slim_params_are_one_line(
    content: str,
    extra: list[str],
    needle: str,
    prepared_small: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slim = tmp_path / "slim.json"
    slim.write_text(content)
    argv = [
        "similarities", "--data", str(prepared_small), "--methods", "slim",
        "--slim-params", str(slim), "--out", str(tmp_path / "out"), *extra,
    ]  # fmt: skip
    code, err = _run(argv, capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
