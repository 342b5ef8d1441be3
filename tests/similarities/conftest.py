"""One end-to-end ``tuner similarities`` run on the small prepared split, shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# small, fast factor models: the tests check plumbing and agreement, not model quality
ALS_PARAMS = {"model": "als", "params": {"factors": 16, "regularization": 0.05, "iterations": 3}}
IALS_PARAMS = {
    "model": "ials",
    "params": {"factors": 16, "regularization": 0.05, "iterations": 3, "alpha": 10.0},
}


@pytest.fixture(scope="session")
def params_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("params")
    als, ials = d / "als.json", d / "ials.json"
    als.write_text(json.dumps(ALS_PARAMS))
    ials.write_text(json.dumps(IALS_PARAMS))
    return als, ials


@pytest.fixture(scope="session")
def similarities_out(
    prepared_small: Path, params_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Output directory of ``tuner similarities`` with all four methods and two user anchors."""
    from tuner.cli import main
    from tuner.data import load_prepared

    items = load_prepared(prepared_small).items
    anchors = ",".join(str(r) for r in items["raw_id"].iloc[[3, 7]])
    out = tmp_path_factory.mktemp("similarities") / "out"
    code = main(
        [
            "similarities", "--data", str(prepared_small), "--als-params", str(params_files[0]),
            "--ials-params", str(params_files[1]), "--out", str(out), "--top-k", "50",
            "--anchors", anchors, "--threads", "2",
        ]
    )  # fmt: skip
    assert code == 0
    return out
