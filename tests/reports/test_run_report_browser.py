"""The run's report.html in headless Chromium: every section of the contents list is on the
page, every figure drawn, no console error, nothing fetched."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> str | None:
    for path in CHROMIUM_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


@pytest.mark.browser
def test_run_report_renders_in_headless_chromium(run_out: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI; 'make browser' installs Debian's package")
        pytest.skip("chromium is not installed (run 'make browser' to install Debian's package)")
    report = run_out / "report.html"
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--no-first-run", f"--user-data-dir={tmp_path}",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom",
        report.as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None, dom[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', root.group(0)))
    assert attrs.get("data-checked") == "yes", "the page's self-check did not run"
    assert json.loads(attrs["data-errors"].replace("&quot;", '"')) == []
    # every figure of the file is on the page and drawn (has plotly's main-svg)
    in_file = len(re.findall(r'class="plotly-graph-div"', report.read_text(encoding="utf-8")))
    expected = int(attrs["data-figures-expected"])
    assert expected == in_file
    assert int(attrs["data-figures-found"]) == expected
    assert int(attrs["data-figures-drawn"]) == expected
    # each study's history and fit-seconds charts (the others depend on what its trials
    # reported) and the similarities' six or more
    assert expected >= 2 * 2 + 6
    # every entry of the contents list leads to an element of the rendered page
    nav = re.search(r'<nav id="contents">(.*?)</nav>', dom, re.S)
    assert nav is not None
    links = re.findall(r'href="#([^"]+)"', nav.group(1))
    assert len(links) >= 1 + 2 * 6 + 5
    ids = set(re.findall(r'\sid="([^"]+)"', dom))
    assert [link for link in links if link not in ids] == []
    # console messages of the page itself (chromium logs them as CONSOLE lines)
    console = [
        line for line in proc.stderr.splitlines() if "CONSOLE" in line and "report.html" in line
    ]
    assert not [line for line in console if "error" in line.lower()], console
