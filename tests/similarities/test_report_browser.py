"""report.html in headless Chromium: no console errors, every figure drawn, no network needed."""

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
def test_report_renders_in_headless_chromium(similarities_out: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI; 'make browser' installs Debian's package")
        pytest.skip("chromium is not installed (run 'make browser' to install Debian's package)")
    profile = tmp_path / "profile"
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom",
        (similarities_out / "report.html").as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    root = re.search(r"<html[^>]*>", proc.stdout)
    assert root is not None, proc.stdout[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', root.group(0)))
    assert attrs.get("data-checked") == "yes", "the page's self-check did not run"
    errors = json.loads(attrs["data-errors"].replace("&quot;", '"'))
    assert errors == []
    expected = int(attrs["data-figures-expected"])
    assert expected >= 6
    assert int(attrs["data-figures-found"]) == expected
    assert int(attrs["data-figures-drawn"]) == expected
    # console messages of the page itself (chromium logs them as CONSOLE lines)
    console = [
        line for line in proc.stderr.splitlines() if "CONSOLE" in line and "report.html" in line
    ]
    assert not [line for line in console if "error" in line.lower()], console
