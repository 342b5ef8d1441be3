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
PAST_PATIENCE = SCRIPT.with_name("past_patience.py")


def _bench() -> ModuleType:
    pytest.importorskip("implicit")
    spec = importlib.util.spec_from_file_location("bench_tuning", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve the script's annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    argv = ["--datasets", "synthetic", "--synthetic-scale", "0.01", "--seeds", "1"]
    assert _bench().main([*argv, "--n-trials", "2", "--json", str(out)]) == 0
    return out


@pytest.mark.slow
def test_both_sides_report_a_test_mrr(bench_json: Path) -> None:
    out = bench_json
    figures = json.loads(out.read_text(encoding="utf-8"))["datasets"]["synthetic"]
    (run,) = figures["per_seed"]
    for side in ("loop", "same_trials", "same_time"):
        assert math.isfinite(run[side]["test_mrr"]) and 0.0 <= run[side]["test_mrr"] <= 1.0
    assert run["loop"]["n_finished"] == 2 and run["same_trials"]["n_finished"] == 2
    assert math.isfinite(figures["summary"]["same_trials_test_mrr_ratio"])


@pytest.mark.slow
def test_past_patience_reproduces_the_export_at_patience_1(
    bench_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("bench_past_patience", PAST_PATIENCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.kept_iteration([0.1, 0.3, 0.2, 0.4, 0.35, 0.3, 0.2], 1) == 2
    assert module.kept_iteration([0.1, 0.3, 0.2, 0.4, 0.35, 0.3, 0.2], 3) == 4

    argv = [str(bench_json), "--datasets", "synthetic", "--patience", "1,3"]
    assert module.main(argv) == 0
    out = capsys.readouterr().out
    assert "does not reproduce" not in out
    assert "synthetic: patience 3 - patience 1, test MRR@100:" in out


def test_missing_dataset_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _bench().main(["--datasets", "movielens,synthetic", "--data-root", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert str(tmp_path / "ml-latest-small" / "ratings.csv") in err
    assert "--datasets synthetic" in err
