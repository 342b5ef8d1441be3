"""`tuner run` tunes SLIM and cosine like the factor models (SLIM's study starts from the
course's settings) and its similarities use each study's best settings, named in the report."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from tuner.cli import main


def test_run_tunes_the_item_methods_and_uses_their_best(tuner_home: Path) -> None:
    argv = [
        "run", "--scale", "0.02", "--n-trials", "3", "--top-k", "20", "--name", "items",
        "--models", "slim,cosine", "--methods", "cosine,slim",
    ]  # fmt: skip
    assert main(argv) == 0
    out = tuner_home / "runs" / "items"
    summary = json.loads((out / "summary.json").read_text())
    storage = summary["storage"]
    slim = optuna.load_study(study_name="items-slim", storage=storage)
    assert slim.trials[0].params == {"alpha": 1e-4, "l1_ratio": 0.15}  # the course, enqueued
    cmp = json.loads((out / "similarities" / "comparison.json").read_text())
    report = (out / "similarities" / "report.html").read_text(encoding="utf-8")
    for model in ("slim", "cosine"):
        best = json.loads((out / model / "best_params.json").read_text())
        assert best["kind"] == "items" and best["model_dir"] is None
        assert not (out / model / "model").exists()
        assert summary["models"][model]["test_mrr_at_100"] == best["test_mrr_at_100"] > 0
        info = cmp["per_method"][model]["info"]
        assert info["params"] == best["params"]
        source = f"tuned: study 'items-{model}', trial {best['trial_number']}"
        assert info["settings_from"] == source
        assert source.replace("'", "&#x27;") in report
        # the downstream test figure of the stage is the export's (same fit, same scoring)
        down = cmp["per_method"][model]["downstream"]
        assert down["mrr"] == pytest.approx(best["test_mrr_at_100"], rel=1e-6)
