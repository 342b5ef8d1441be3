"""`tuner dashboard` serves optuna-dashboard on the study storage over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import optuna
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_dashboard_answers_with_the_study_and_its_trials(
    finished_study: tuple[str, Path],
) -> None:
    url, _ = finished_study
    study = optuna.load_study(study_name="e", storage=url)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tuner", "dashboard", "--storage", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        listing = None
        deadline = time.monotonic() + 120  # only guards against hanging forever
        while listing is None and time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                listing = _get(f"{base}/api/studies")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert listing is not None, "the dashboard never answered"
        summaries = {s["study_name"]: s for s in listing["study_summaries"]}
        assert "e" in summaries
        detail = _get(f"{base}/api/studies/{summaries['e']['study_id']}")
        assert len(detail["trials"]) == len(study.trials)
        assert {t["number"] for t in detail["trials"]} == {t.number for t in study.trials}
        with urllib.request.urlopen(f"{base}/dashboard", timeout=10) as page:
            assert page.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
