"""A sweep of bad inputs across the commands: each answers one clear line on stderr, exits with
status 2, and leaves no partial output behind."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tuner.cli import main


@dataclass
class Ctx:
    tmp: Path
    data: Path  # a prepared split with a study built on it
    other: Path  # another prepared split (other seed, other fingerprint)
    storage: str
    study: str
    busy_port: int  # a port another socket listens on


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, prepared_small: Path) -> Iterator[Ctx]:
    from tuner.data import prepare

    root = tmp_path_factory.mktemp("cli-errors")
    other = root / "other"
    prepare("synthetic", other, scale=0.02, seed=1)
    storage = f"sqlite:///{root / 'studies.db'}"
    argv = [
        "study",
        "--data",
        str(prepared_small),
        "--model",
        "als",
        "--study-name",
        "built",
        "--storage",
        storage,
        "--n-trials",
        "1",
        "--no-progress",
    ]
    assert main(argv) == 0
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield Ctx(root, prepared_small, other, storage, "built", listener.getsockname()[1])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _zen_dir(tmp: Path, ratings: str) -> Path:
    d = tmp / "zen"
    _write(d / "zen_ratings.csv", ratings)
    _write(d / "zen_item_to_name.csv", "id,name\n1,Один\n2,Два\n")
    _write(d / "zen_item_to_source.csv", "id,source\n1,-5\n2,7\n")
    return d


def _exit_status(argv: list[str]) -> int:
    """main's return value, or the status of the SystemExit that argparse raises on a usage
    error (what the console script exits with either way)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


Case = Callable[[Ctx, Path], list[str]]

# (id, argv builder given (ctx, per-case tmp dir), text the message must contain).
# Every case's argv writes (if anything) under "<case tmp>/out", which must not exist afterwards.
CASES: list[tuple[str, Case, str]] = [
    (
        "prepare-missing-path",
        lambda c, t: [
            "prepare",
            "--source",
            "zen",
            "--path",
            str(t / "nope"),
            "--out",
            str(t / "out"),
        ],
        "nope",
    ),
    (
        "prepare-empty-file",
        lambda c, t: [
            "prepare",
            "--source",
            "lists",
            "--path",
            str(_write(t / "users.dat", "")),
            "--out",
            str(t / "out"),
        ],
        "empty",
    ),
    (
        "prepare-fraction-outside",
        lambda c, t: [
            "prepare",
            "--source",
            "synthetic",
            "--scale",
            "0.02",
            "--test-frac",
            "1.5",
            "--out",
            str(t / "out"),
        ],
        "1.5",
    ),
    (
        "prepare-bad-list-literal",
        lambda c, t: [
            "prepare",
            "--source",
            "zen",
            "--out",
            str(t / "out"),
            "--path",
            str(_zen_dir(t, 'user_id,item_ids\n0,"[1, 2]"\n1,"[1, x2]"\n')),
        ],
        "line",
    ),
    (
        "prepare-wrong-columns",
        lambda c, t: [
            "prepare",
            "--source",
            "interactions",
            "--out",
            str(t / "out"),
            "--path",
            str(_write(t / "r.csv", "who,what,rating\n1,2,5\n")),
        ],
        "column",
    ),
    (
        "prepare-names-missing",
        lambda c, t: [
            "prepare",
            "--source",
            "interactions",
            "--path",
            str(_write(t / "r.csv", "user,item,rating\n1,2,5\n2,2,4\n")),
            "--names",
            str(t / "missing.csv"),
            "--out",
            str(t / "out"),
        ],
        "check --names",
    ),
    (
        "prepare-path-is-a-directory",
        lambda c, t: [
            "prepare",
            "--source",
            "interactions",
            "--path",
            str(t),
            "--out",
            str(t / "out"),
        ],
        "is a directory",
    ),
    (
        "prepare-missing-table",
        lambda c, t: [
            "prepare",
            "--source",
            "interactions",
            "--path",
            str(t / "nope.csv"),
            "--out",
            str(t / "out"),
        ],
        "pass the interactions table",
    ),
    (
        "prepare-negative-seed",
        lambda c, t: ["prepare", "--source", "synthetic", "--seed", "-1", "--out", str(t / "out")],
        "--seed",
    ),
    (
        "run-misspelt-option",
        lambda c, t: [
            "run",
            "--source",
            "interactions",
            "--path",
            str(_write(t / "r.csv", "user,item,rating\n1,2,5\n")),
            "--option",
            "min_ratng=4",
            "--out",
            str(t / "out"),
        ],
        "did you mean min_rating?",
    ),
    (
        "run-option-of-another-source",
        lambda c, t: ["run", "--option", "sep=,", "--out", str(t / "out")],
        "has no option 'sep'",
    ),
    (
        "run-missing-config",
        lambda c, t: ["run", "--config", str(t / "nope.toml"), "--out", str(t / "out")],
        "nope.toml",
    ),
    (
        "run-bad-toml",
        lambda c, t: [
            "run",
            "--config",
            str(_write(t / "run.toml", "[study\n")),
            "--out",
            str(t / "out"),
        ],
        "not valid TOML",
    ),
    (
        "run-bad-storage-url",
        lambda c, t: ["run", "--storage", "foo://bar", "--out", str(t / "out")],
        "foo://bar",
    ),
    (
        "run-unreachable-postgres",
        lambda c, t: [
            "run",
            "--storage",
            "postgresql+psycopg://postgres@127.0.0.1:1/tuner",
            "--out",
            str(t / "out"),
        ],
        "127.0.0.1",
    ),
    (
        "run-source-without-path",
        lambda c, t: ["run", "--source", "zen", "--out", str(t / "out")],
        "needs a path",
    ),
    (
        "run-bad-option",
        lambda c, t: ["run", "--option", "min_rating", "--out", str(t / "out")],
        "KEY=VALUE",
    ),
    (
        "run-zero-trials",
        lambda c, t: ["run", "--n-trials", "0", "--out", str(t / "out")],
        "argument --n-trials: must be an integer >= 1, got '0'",
    ),
    (
        "run-negative-trials",
        lambda c, t: ["run", "--n-trials", "-5", "--out", str(t / "out")],
        "argument --n-trials",
    ),
    (
        "run-zero-workers",
        lambda c, t: ["run", "--workers", "0", "--out", str(t / "out")],
        "argument --workers",
    ),
    (
        "study-negative-trials",
        lambda c, t: [
            "study",
            "--data",
            str(c.data),
            "--model",
            "als",
            "--study-name",
            "neg",
            "--storage",
            c.storage,
            "--n-trials",
            "-5",
        ],
        "argument --n-trials",
    ),
    (
        "study-zero-workers",
        lambda c, t: [
            "study",
            "--data",
            str(c.data),
            "--model",
            "als",
            "--study-name",
            "zero",
            "--storage",
            c.storage,
            "--workers",
            "0",
        ],
        "argument --workers",
    ),
    (
        "worker-zero-trials",
        lambda c, t: [
            "worker",
            "--study-name",
            c.study,
            "--storage",
            c.storage,
            "--n-trials",
            "0",
        ],
        "argument --n-trials",
    ),
    (
        "run-bad-space",
        lambda c, t: [
            "run",
            "--config",
            str(
                _write(
                    t / "run.toml",
                    f'[study]\nspaces = {{ als = "{_write(t / "als.toml", "bad = 1")}" }}\n',
                )
            ),
            "--out",
            str(t / "out"),
        ],
        "als.toml",
    ),
    (
        "study-missing-data",
        lambda c, t: [
            "study",
            "--data",
            str(t / "nope"),
            "--model",
            "ials",
            "--study-name",
            "x",
            "--storage",
            c.storage,
            "--n-trials",
            "1",
        ],
        "nope",
    ),
    (
        "study-space-low-above-high",
        lambda c, t: [
            "study",
            "--data",
            str(c.data),
            "--model",
            "als",
            "--study-name",
            "y",
            "--storage",
            c.storage,
            "--n-trials",
            "1",
            "--space",
            str(
                _write(
                    t / "space.toml",
                    'model = "als"\n[params.factors]\ntype = "int"\nlow = 50\nhigh = 10\n',
                )
            ),
        ],
        "factors",
    ),
    (
        "worker-unknown-study",
        lambda c, t: [
            "worker",
            "--study-name",
            "no-such-study",
            "--storage",
            c.storage,
            "--data",
            str(c.data),
        ],
        "no-such-study",
    ),
    (
        "worker-other-data",
        lambda c, t: [
            "worker",
            "--study-name",
            c.study,
            "--storage",
            c.storage,
            "--data",
            str(c.other),
        ],
        "fingerprint",
    ),
    (
        "best-unknown-study",
        lambda c, t: ["best", "--study-name", "no-such-study", "--storage", c.storage],
        "no-such-study",
    ),
    (
        "export-unknown-study",
        lambda c, t: [
            "export",
            "--study-name",
            "no-such-study",
            "--storage",
            c.storage,
            "--out",
            str(t / "out"),
        ],
        "no-such-study",
    ),
    (
        "export-other-data",
        lambda c, t: [
            "export",
            "--study-name",
            c.study,
            "--storage",
            c.storage,
            "--data",
            str(c.other),
            "--out",
            str(t / "out"),
        ],
        "fingerprint",
    ),
    ("dashboard-bad-storage", lambda c, t: ["dashboard", "--storage", "foo://bar"], "foo://bar"),
    (
        "dashboard-port-in-use",
        lambda c, t: ["dashboard", "--storage", c.storage, "--port", str(c.busy_port)],
        "Pick a free port, e.g. --port",
    ),
    (
        "dashboard-missing-sqlite",
        lambda c, t: ["dashboard", "--storage", f"sqlite:///{t}/out/studies.db"],
        "does not exist",
    ),
    # Read-only commands never create a storage (nor its directory: "out" must stay absent).
    (
        "best-missing-sqlite",
        lambda c, t: ["best", "--study-name", c.study, "--storage", f"sqlite:///{t}/out/s.db"],
        "No study storage at",
    ),
    (
        "best-default-storage-missing",
        lambda c, t: ["best", "--study-name", c.study],
        "No study storage at",
    ),
    (
        "best-missing-journal",
        lambda c, t: ["best", "--study-name", c.study, "--storage", f"journal://{t}/out/s.log"],
        "No study storage at",
    ),
    (
        "best-empty-sqlite-file",
        lambda c, t: [
            "best",
            "--study-name",
            c.study,
            "--storage",
            f"sqlite:///{_write(t / 'empty.db', '')}",
        ],
        "holds no Optuna studies",
    ),
    (
        "export-missing-sqlite",
        lambda c, t: [
            "export",
            "--study-name",
            c.study,
            "--storage",
            f"sqlite:///{t}/out/s.db",
            "--out",
            str(t / "out" / "export"),
        ],
        "No study storage at",
    ),
    (
        "worker-missing-sqlite",
        lambda c, t: ["worker", "--study-name", c.study, "--storage", f"sqlite:///{t}/out/s.db"],
        "No study storage at",
    ),
    # Writing commands create the file, but not a missing directory outside storage/.
    (
        "study-storage-directory-missing",
        lambda c, t: [
            "study",
            "--data",
            str(c.data),
            "--model",
            "als",
            "--study-name",
            "x",
            "--storage",
            f"sqlite:///{t}/out/dir/studies.db",
            "--n-trials",
            "1",
        ],
        "does not exist. Create it first",
    ),
    (
        "run-journal-directory-missing",
        lambda c, t: ["run", "--storage", f"journal://{t}/out/dir/s.log", "--out", str(t / "o")],
        "does not exist. Create it first",
    ),
    (
        "similarities-missing-params",
        lambda c, t: [
            "similarities",
            "--data",
            str(c.data),
            "--als-params",
            str(t / "nope.json"),
            "--ials-params",
            str(t / "nope.json"),
            "--out",
            str(t / "out"),
        ],
        "nope.json",
    ),
    (
        "similarities-bad-anchor",
        lambda c, t: [
            "similarities",
            "--data",
            str(c.data),
            "--methods",
            "cosine",
            "--anchors",
            "987654321",
            "--out",
            str(t / "out"),
            "--als-params",
            str(
                _write(
                    t / "p.json",
                    json.dumps({"model": "als", "params": {"factors": 8, "iterations": 1}}),
                )
            ),
            "--ials-params",
            str(
                _write(
                    t / "q.json",
                    json.dumps({"model": "ials", "params": {"factors": 8, "iterations": 1}}),
                )
            ),
        ],
        "987654321",
    ),
]


@pytest.mark.parametrize(("build", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_no_output(
    ctx: Ctx,
    tmp_path: Path,
    tuner_home: Path,
    capsys: pytest.CaptureFixture[str],
    build: Case,
    needle: str,
) -> None:
    argv = build(ctx, tmp_path)
    capsys.readouterr()
    assert _exit_status(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"tuner {argv[0]}: error: "), lines[0]
    assert needle in lines[0]
    assert not re.search(r"\b(\w+) \1\b", lines[0]), "a doubled word"
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    # Nothing half-done under the embedded default either: no prepared data, no run outputs.
    assert not (tuner_home / "runs").exists()
    assert not (tuner_home / "data").exists()
    if argv[0] in ("best", "export", "dashboard", "worker"):  # read-only: no storage either
        assert list(tuner_home.iterdir()) == []


def test_run_with_unknown_anchor_fails_before_tuning(
    tuner_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import optuna

    assert main(["run", "--scale", "0.02", "--name", "anchors", "--anchors", "987654321"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("tuner run: error: ") and "987654321" in lines[-1]
    assert not (tuner_home / "runs").exists()
    storage = f"sqlite:///{tuner_home / 'studies.db'}"
    assert optuna.get_all_study_names(storage) == []
