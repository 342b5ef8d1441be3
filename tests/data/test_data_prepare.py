"""prepare / load_prepared round trip and the ``tuner prepare`` command, including every bad
input: one line on stderr, exit status 2, nothing written."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from tuner.cli import main
from tuner.data import DataWarning, PreparedData, fingerprint, load_prepared, prepare
from tuner.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"


def test_prepared_small_round_trip(prepared_small: Path) -> None:
    data = load_prepared(prepared_small)
    assert isinstance(data, PreparedData)
    m = data.manifest
    for key in ("source", "n_users", "n_items", "n_likes", "n_train", "n_val", "n_test", "seed"):
        assert key in m
    assert m["source"] == "synthetic" and m["seed"] == 0
    assert (data.n_users, data.n_items) == (m["n_users"], m["n_items"])
    assert (data.train.nnz, data.val.nnz, data.test.nnz) == (m["n_train"], m["n_val"], m["n_test"])
    assert m["n_train"] + m["n_val"] + m["n_test"] == m["n_likes"]
    assert data.fingerprint == fingerprint(data.train, data.val, data.test)
    for x in (data.train, data.val, data.test, data.train_val()):
        assert isinstance(x, sp.csr_matrix) and x.dtype == np.float32 and x.has_sorted_indices
        assert x.shape == (data.n_users, data.n_items)
    assert data.train_val().nnz == m["n_train"] + m["n_val"]
    assert list(data.items.columns) == ["index", "raw_id", "name", "source", "topic"]
    np.testing.assert_array_equal(data.items["index"], np.arange(data.n_items))
    assert data.items["source"].dtype == "Int64"
    assert data.user_ids.shape == (data.n_users,)


def test_same_seed_same_fingerprint_across_runs(tmp_path: Path) -> None:
    a = prepare("synthetic", tmp_path / "a", scale=0.005, seed=5)
    b = prepare("synthetic", tmp_path / "b", scale=0.005, seed=5)
    c = prepare("synthetic", tmp_path / "c", scale=0.005, seed=6)
    assert a["fingerprint"] == b["fingerprint"] != c["fingerprint"]
    for name in ("train.npz", "val.npz", "test.npz", "items.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_debug_subset_through_prepare(tmp_path: Path) -> None:
    full = prepare("synthetic", tmp_path / "full", scale=0.02, seed=0)
    dbg = prepare(
        "synthetic", tmp_path / "dbg", scale=0.02, seed=0, debug_items=0.1, debug_users=0.5
    )
    assert dbg["debug_subset_of"] is not None
    assert dbg["n_items"] <= round(0.1 * full["n_items"])
    assert dbg["n_users"] <= round(0.5 * full["n_users"])
    # The most liked item of the full data survives the top-items cut.
    assert full["top_items"][0]["raw_id"] in {t["raw_id"] for t in dbg["top_items"]}


def test_load_prepared_refuses_other_dirs_and_changed_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_prepared(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(DataError, match="not a prepared data directory"):
        load_prepared(tmp_path / "plain")
    out = tmp_path / "p"
    prepare("synthetic", out, scale=0.005, seed=0)
    shutil.copy(out / "val.npz", out / "test.npz")
    with pytest.raises(DataError, match="do not match the fingerprint"):
        load_prepared(out)


def test_overwrite_replaces_a_prepared_dir(tmp_path: Path) -> None:
    out = tmp_path / "work" / "p"
    first = prepare("synthetic", out, scale=0.005, seed=0)
    with pytest.raises(DataError, match="--overwrite"):
        prepare("synthetic", out, scale=0.005, seed=1)
    second = prepare("synthetic", out, scale=0.005, seed=1, overwrite=True)
    assert first["fingerprint"] != second["fingerprint"]
    assert load_prepared(out).fingerprint == second["fingerprint"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["p"]  # no temporary left behind


def test_unknown_name_ids_warn_with_a_count(tmp_path: Path) -> None:
    with pytest.warns(DataWarning, match="1 of 5 rows"):
        prepare("zen", tmp_path / "z", path=FIXTURES / "zen", test_frac=0.3, val_frac=0.3)


def test_manifest_records_loader_options_given_as_paths(tmp_path: Path) -> None:
    ml = FIXTURES / "movielens"
    with pytest.warns(DataWarning, match="movies.csv"):
        manifest = prepare(
            "interactions", tmp_path / "ml", path=ml / "ratings.csv", min_rating=4,
            names=ml / "movies.csv", test_frac=0.34, val_frac=0.34,
        )  # fmt: skip
    assert manifest["loader_options"] == {
        "min_rating": 4,
        "names": str((ml / "movies.csv").resolve()),
    }
    assert json.loads((tmp_path / "ml" / "manifest.json").read_text(encoding="utf-8")) == manifest


def test_cli_prints_a_summary_with_the_most_liked_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ml"
    rc = main(
        [
            "prepare", "--source", "interactions",
            "--path", str(FIXTURES / "movielens" / "ratings.csv"),
            "--min-rating", "4", "--names", str(FIXTURES / "movielens" / "movies.csv"),
            "--test-frac", "0.34", "--val-frac", "0.34", "--out", str(out),
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 0
    assert "3 users x 3 items" in captured.out
    assert "Toy Story (1995)" in captured.out  # liked by all three users
    assert "fingerprint" in captured.out
    assert "warning: movies.csv: 1 of 4 rows" in captured.err
    assert load_prepared(out).manifest["n_users"] == 3


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def zen_dir(ratings: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        write(tmp / "in" / "zen_ratings.csv", ratings)
        return ["--source", "zen", "--path", str(tmp / "in")]

    return make


def table(text: str, *extra: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        path = write(tmp / "in" / "t.csv", text)
        return ["--source", "interactions", "--path", str(path), *extra]

    return make


def lists(text: str, *extra: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        path = write(tmp / "in" / "l.txt", text)
        return ["--source", "lists", "--path", str(path), *extra]

    return make


def zen_v2(line: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        (tmp / "in").mkdir()
        with gzip.open(tmp / "in" / "user_ratings.gz", "wt", encoding="utf-8") as fh:
            fh.write(json.dumps({"userId": 0, "trainRatings": {"1": 1, "2": 1}}) + "\n" + line)
        return ["--source", "zen-v2", "--path", str(tmp / "in")]

    return make


def fixed(*args: str) -> Callable[[Path], list[str]]:
    return lambda tmp: list(args)


SYN = ("--source", "synthetic", "--scale", "0.005")
GOOD_LISTS = "0 1 2\n1 2 3\n2 1 3\n3 4 5\n4 1 5\n"

BAD_INPUTS: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "missing path": (fixed("--source", "zen", "--path", "/nonexistent/zen"), "does not exist"),
    "no --path": (fixed("--source", "zen"), "needs --path"),
    "dir without ratings file": (
        lambda t: ["--source", "zen", "--path", str(t)],
        "does not exist",
    ),
    "zen wrong columns": (
        zen_dir('user,items\n1,"[1, 2]"\n'),
        "lacks column(s) user_id, item_ids",
    ),
    "zen unparseable list": (zen_dir('user_id,item_ids\n0,"[1, 2]"\n1,"[3, 4.5]"\n'), "line 3"),
    "zen unclosed list": (zen_dir('user_id,item_ids\n0,"[1, 2"\n'), "line 2: cannot parse"),
    "zen non-integer user": (zen_dir('user_id,item_ids\n0,"[1]"\nbob,"[2]"\n'), "'bob'"),
    "zen negative item": (zen_dir('user_id,item_ids\n0,"[1, -7]"\n'), "line 2: negative"),
    "zen empty file": (zen_dir(""), "is empty"),
    "zen header only": (zen_dir("user_id,item_ids\n"), "no data rows"),
    "zen all lists empty": (zen_dir('user_id,item_ids\n0,"[]"\n1,"[]"\n'), "holds no like"),
    "zen-v2 bad json": (zen_v2("{oops\n"), "line 2: not valid JSON"),
    "zen-v2 no trainRatings": (zen_v2('{"userId": 1}\n'), "line 2: no 'trainRatings'"),
    "zen-v2 rating 5": (zen_v2('{"userId": 1, "trainRatings": {"3": 5}}\n'), "not -1 or 1"),
    "table no item column": (table("userId,foo\n1,2\n"), "no recognizable item column"),
    "table unknown --user-col": (table("u,i\n1,2\n", "--user-col", "who"), "no user column 'who'"),
    # text ids are ids (Amazon, Yelp); an empty one is not
    "table empty text item": (table("userId,movieId\n1,b7\n1,\n"), "line 3: the item id is empty"),
    "table float item": (table("userId,movieId\n1,2.5\n"), "line 2: item id 2.5"),
    "table negative user": (
        table("userId,movieId\n1,2\n-3,2\n"),
        "line 3: user id -3 is negative",
    ),
    "table empty": (table(""), "is empty"),
    "table all-zero weights": (
        table("userID\tartistID\tweight\n1\t2\t0\n2\t2\t0\n"),
        "every value in column 'weight' is 0",
    ),
    "table rating not a number": (table("userId,movieId,rating\n1,2,good\n"), "not a number"),
    "min-rating without rating": (
        table("userId,movieId\n1,2\n", "--min-rating", "4"),
        "needs a rating column",
    ),
    "lists bad token": (lists("0 1 2\n1 x 3\n"), "line 2: 'x'"),
    "lists negative id": (lists("0 1 -2\n"), "line 1: '-2'"),
    "lists empty": (lists("\n\n"), "is empty"),
    "only single likes": (lists("0 1\n1 2\n2 3\n"), "only 0 user(s)"),
    "test-frac above 1": (fixed(*SYN, "--test-frac", "1.5"), "--test-frac must be a fraction"),
    "val-frac zero": (fixed(*SYN, "--val-frac", "0"), "--val-frac must be a fraction"),
    "fractions sum to 1": (fixed(*SYN, "--test-frac", "0.6", "--val-frac", "0.4"), "must be < 1"),
    "debug-items above 1": (fixed(*SYN, "--debug-items", "2"), "--debug-items must be a fraction"),
    "scale too small": (fixed("--source", "synthetic", "--scale", "0.0001"), "at least 50"),
    "scale on real data": (lists(GOOD_LISTS, "--scale", "0.5"), "--scale applies to"),
    "option the loader lacks": (lists(GOOD_LISTS, "--min-rating", "4"), "has no option"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_no_output(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = BAD_INPUTS[case]
    args = make(tmp_path)
    out = tmp_path / "out" / "prepared"
    rc = main(["prepare", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tuner prepare: error: ")
    assert expected in lines[0]
    assert "Fix:" in lines[0] or "fix" in lines[0].lower()
    assert not out.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_refuses_to_replace_a_directory_that_is_not_prepared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    write(out / "notes.txt", "keep me")
    rc = main(["prepare", *SYN, "--out", str(out), "--overwrite"])
    err = capsys.readouterr().err
    assert rc == 2 and "is not a prepared data directory" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_existing_prepared_dir_needs_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p"
    assert main(["prepare", *SYN, "--out", str(out)]) == 0
    before = (out / "manifest.json").read_bytes()
    capsys.readouterr()
    assert main(["prepare", *SYN, "--seed", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert (out / "manifest.json").read_bytes() == before
    assert main(["prepare", *SYN, "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    assert (out / "manifest.json").read_bytes() != before


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["prepare", "--help"])
    text = capsys.readouterr().out
    assert "tuner prepare --source" in text and "--lists-format" in text


def test_zen_prepared_keeps_64_bit_sources_exactly_and_missing_ones_as_na(tmp_path: Path) -> None:
    src = tmp_path / "zen"
    shutil.copytree(FIXTURES / "zen", src)
    lines = (src / "zen_item_to_source.csv").read_text(encoding="utf-8").splitlines()
    write(src / "zen_item_to_source.csv", "\n".join(lines[:-1]) + "\n")  # item 100 loses it
    with pytest.warns(DataWarning):
        prepare("zen", tmp_path / "p", path=src, test_frac=0.3, val_frac=0.3)

    items = load_prepared(tmp_path / "p").items.set_index("raw_id")
    assert items.loc[15267, "source"] == -5718237189634574389
    assert items.loc[61075, "source"] == 8431620371946228745
    assert items["source"].isna().sum() == 1 and items["source"].isna().loc[100]
    assert items.loc[61075, "name"] == 'Футбол: "Спартак" снова впереди'
