"""benchmarks/tuning.py end to end on a tiny synthetic split (no wall-clock assertion)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "tuning.py"


def _bench() -> ModuleType:
    pytest.importorskip("implicit")
    spec = importlib.util.spec_from_file_location("bench_tuning", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve the script's annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_both_sides_report_a_test_mrr(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = ["--datasets", "synthetic", "--synthetic-scale", "0.01", "--seeds", "1"]
    assert _bench().main([*argv, "--n-trials", "2", "--json", str(out)]) == 0

    figures = json.loads(out.read_text(encoding="utf-8"))["datasets"]["synthetic"]
    (run,) = figures["per_seed"]
    for side in ("loop", "same_trials", "same_time"):
        assert math.isfinite(run[side]["test_mrr"]) and 0.0 <= run[side]["test_mrr"] <= 1.0
    assert run["loop"]["n_finished"] == 2 and run["same_trials"]["n_finished"] == 2
    assert math.isfinite(figures["summary"]["same_trials_test_mrr_ratio"])


def test_missing_dataset_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _bench().main(["--datasets", "movielens,synthetic", "--data-root", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert str(tmp_path / "ml-latest-small" / "ratings.csv") in err
    assert "--datasets synthetic" in err
