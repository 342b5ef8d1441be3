"""``tuner similarities`` end to end on the small prepared split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuner.cli import main
from tuner.similarities import METHODS


def test_outputs_exist_and_csvs_hold_top_k_lists(
    similarities_out: Path, prepared_small: Path
) -> None:
    from tuner.data import load_prepared

    items = load_prepared(prepared_small).items
    names = pd.read_csv(similarities_out / "items.csv", index_col="item")["name"]
    assert names.to_dict() == dict(zip(items["raw_id"], items["name"], strict=True))
    for m in METHODS:
        # gzip-compressed, raw ids only: one read_csv call, the names one map away
        path = similarities_out / f"neighbors_{m}.csv.gz"
        assert path.read_bytes()[:2] == b"\x1f\x8b"
        df = pd.read_csv(path)
        assert list(df.columns) == ["item", "rank", "neighbour", "score"]
        assert df["neighbour"].map(names).notna().all()
        assert (df["item"] != df["neighbour"]).all()
        assert df.groupby("item")["rank"].max().max() <= 50
        first = df[df["rank"] == 1].set_index("item")["score"]
        second = df[df["rank"] == 2].set_index("item")["score"]
        assert (first.loc[second.index] >= second - 1e-6).all()
    assert (similarities_out / "report.html").stat().st_size > 1_000_000  # plotly.js inlined


def test_comparison_json_has_every_metric(similarities_out: Path, prepared_small: Path) -> None:
    from tuner.data import load_prepared

    cmp = json.loads((similarities_out / "comparison.json").read_text())
    data = load_prepared(prepared_small)
    assert cmp["methods"] == list(METHODS)
    # fit on train + validation, never on test
    assert cmp["n_likes_fit"] == data.train_val().nnz
    assert cmp["data"]["fit_on"] == "train+val"
    assert cmp["data"]["fingerprint"] == data.fingerprint
    assert len(cmp["pairs"]) == 6
    for p in cmp["pairs"]:
        assert 0 <= p["jaccard_at_10"] <= 1 and 0 <= p["jaccard_at_100"] <= 1
    assert set(cmp["references"]) == {"popularity", "als", "ials"}
    for m in METHODS:
        e = cmp["per_method"][m]
        assert 0 < e["coverage_at_10"] <= 1
        assert e["same_topic_at_10"]["rate"] > e["same_topic_at_10"]["chance"]
        assert 0 <= e["downstream"]["mrr"] <= 1
        assert e["neighbours_per_item"]["median"] > 0
    groups = [a["group"] for a in cmp["anchors"]]
    assert {"head", "torso", "tail"} <= set(groups)
    user = {str(r) for r in data.items["raw_id"].iloc[[3, 7]]}
    assert user <= {a["raw_id"] for a in cmp["anchors"]}
    # every anchor shows every method's list, best first
    for a in cmp["anchors"]:
        for m in METHODS:
            scores = [n["score"] for n in a["neighbours"][m]]
            assert scores == sorted(scores, reverse=True)
    assert cmp["summary"] and all(isinstance(s, str) for s in cmp["summary"])


def test_cosine_item_recommender_beats_popularity(similarities_out: Path) -> None:
    cmp = json.loads((similarities_out / "comparison.json").read_text())
    pop = cmp["references"]["popularity"]["mrr"]
    assert cmp["per_method"]["cosine"]["downstream"]["mrr"] > pop


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["similarities", *args])
    return code, capsys.readouterr().err


def test_unknown_anchor_is_one_clear_error(
    prepared_small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = run_cli(
        ["--data", str(prepared_small), "--methods", "cosine", "--anchors", "no-such-id",
         "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 2
    assert "'no-such-id'" in err and "raw_id" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--methods", "cosine,knn"], "Valid methods: cosine, slim, als, ials"),
        (["--methods", "als"], "--als-study NAME or --als-params FILE"),
        (["--methods", "als", "--als-params", "missing.json"], "does not exist"),
        (["--methods", "cosine", "--top-k", "0"], "--top-k must be >= 1"),
    ],
)
def test_bad_options_are_refused(
    prepared_small: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    code, err = run_cli(
        ["--data", str(prepared_small), "--out", str(tmp_path / "o"), *extra], capsys
    )
    assert code == 2
    assert message in err


def test_params_file_of_the_wrong_model_is_refused(
    prepared_small: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    params_files: tuple[Path, Path],
) -> None:
    code, err = run_cli(
        ["--data", str(prepared_small), "--out", str(tmp_path / "o"), "--methods", "als",
         "--als-params", str(params_files[1])],
        capsys,
    )  # fmt: skip
    assert code == 2 and "'ials' parameters, not 'als'" in err


def test_single_method_run_and_threads_do_not_change_results(
    prepared_small: Path, tmp_path: Path, similarities_out: Path
) -> None:
    out = tmp_path / "cos1"
    args = ["similarities", "--data", str(prepared_small), "--methods", "cosine"]
    assert main([*args, "--out", str(out), "--top-k", "50", "--threads", "1"]) == 0
    one = out / "neighbors_cosine.csv.gz"
    both = similarities_out / "neighbors_cosine.csv.gz"
    assert one.read_bytes() == both.read_bytes()
    assert np.isfinite(pd.read_csv(one)["score"]).all()


TINY_SPACE = """\
model = "{model}"
[params.factors]
type = "int"
low = 4
high = 8
[fixed]
iterations = 3
"""


def test_a_study_name_gives_the_exported_model(
    prepared_small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tuner.study import export_study, run_study

    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    for model, name in (("als", "als-best"), ("ials", "ials-oops")):
        space = tmp_path / f"{model}.toml"
        space.write_text(TINY_SPACE.format(model=model))
        run_study(
            data_dir=prepared_small, model=model, storage=storage, study_name=name,
            n_trials=2, space_path=space, seed=3,
        )  # fmt: skip
    best = export_study(
        storage=storage, study_name="als-best", out=tmp_path / "export", write_model=False
    )
    out = tmp_path / "out"
    code, err = run_cli(
        ["--data", str(prepared_small), "--out", str(out), "--methods", "als",
         "--als-study", "als-best", "--storage", storage],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    info = json.loads((out / "comparison.json").read_text())["per_method"]["als"]["info"]
    # the best trial's configuration refitted with the study's seed (3): the export's model
    assert info["params"] == best["params"]
    assert info["own_test"]["mrr"] == pytest.approx(best["test_mrr_at_100"], rel=1e-6)
    code, err = run_cli(
        ["--data", str(prepared_small), "--out", str(out), "--methods", "als",
         "--als-study", "ials-oops", "--storage", storage],
        capsys,
    )  # fmt: skip
    assert code == 2 and "is a 'ials' study, not 'als'" in err


def test_a_model_registered_in_models_is_a_method_with_flags_and_a_report_entry(
    prepared_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuner.solvers import IALS, MODELS

    class WideIALS(IALS):
        name = "wials"
        label = "wide iALS"

    monkeypatch.setitem(MODELS, "wials", WideIALS)
    fit = {"factors": 8, "regularization": 0.05, "iterations": 2, "alpha": 10.0}
    params = tmp_path / "wials.json"
    params.write_text(json.dumps({"model": "wials", "params": fit}))
    out = tmp_path / "out"
    argv = [
        "similarities", "--data", str(prepared_small), "--methods", "cosine,wials",
        "--wials-params", str(params), "--out", str(out), "--top-k", "20", "--threads", "1",
    ]  # fmt: skip
    assert main(argv) == 0
    cmp = json.loads((out / "comparison.json").read_text())
    assert cmp["methods"] == ["cosine", "wials"]
    assert set(cmp["references"]) == {"popularity", "wials"}
    assert cmp["per_method"]["wials"]["info"]["params"] == fit
    assert len(pd.read_csv(out / "neighbors_wials.csv.gz")) > 0
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "wide iALS model" in report
    assert "wials (item-based)" in report
