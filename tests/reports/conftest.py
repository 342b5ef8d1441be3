"""One small real ``tuner run`` (both studies, exports, similarities) and its report.html,
shared by the run report's tests."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

RUN = ["run", "--scale", "0.02", "--n-trials", "3", "--top-k", "20", "--name", "report"]


@pytest.fixture(scope="session")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's output directory, with report.html written by ``write_run_report``."""
    from tuner.cli import main
    from tuner.reports import write_run_report

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    home = tmp_path_factory.mktemp("run_report_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TUNER_HOME", str(home))
        mp.delenv("TUNER_STORAGE", raising=False)
        assert main(RUN) == 0
        out = home / "runs" / "report"
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert write_run_report(out, summary, summary["storage"]) == out / "report.html"
    return out
