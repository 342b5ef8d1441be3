"""Shared fixtures: a temporary TUNER_HOME for every test, a small prepared synthetic split,
and a fresh PostgreSQL database per test run (skipped with a reason where none is reachable)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("TUNER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def tuner_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own embedded-default root, never the checkout's storage/."""
    home = tmp_path / "tuner_home"
    home.mkdir()
    monkeypatch.setenv("TUNER_HOME", str(home))
    monkeypatch.delenv("TUNER_STORAGE", raising=False)
    return home


@pytest.fixture(scope="session")
def prepared_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared split of the Zen-shaped synthetic at scale 0.02 (about 1.5k users x 2k items)."""
    from tuner.data import prepare

    out = tmp_path_factory.mktemp("prepared") / "synthetic-0.02"
    prepare("synthetic", out, scale=0.02, seed=0)
    return out


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a runtime dependency
        pytest.skip("psycopg is not installed")
    name = f"tuner_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}".splitlines()[0])
    user_host = PG_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+psycopg://{user_host}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
def sigint_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in this test, as in a terminal, even where the suite was
    started with SIGINT ignored (nohup, a background job of a non-interactive shell)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


@dataclass
class RenderedPage:
    """A page as headless Chromium left it: its DOM, the attributes of its <html> element (the
    reports' self-check writes its findings there), its console lines and its errors."""

    dom: str
    attrs: dict[str, str]
    console: list[str]
    errors: list[str]


def _find_chromium() -> str | None:
    for path in CHROMIUM_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


@pytest.fixture
def render_page(tmp_path: Path) -> Callable[[Path], RenderedPage]:
    """``render_page(path)`` opens an HTML file in headless Chromium, without network, and
    returns what it drew; skips without Chromium, except in CI, where that fails."""
    chromium = _find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI; 'make browser' installs Debian's package")
        pytest.skip("chromium is not installed (run 'make browser' to install Debian's package)")

    def render(page: Path) -> RenderedPage:
        cmd = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom",
            page.as_uri(),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        root = re.search(r"<html[^>]*>", proc.stdout)
        assert root is not None, proc.stdout[:500]
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', root.group(0)))
        assert attrs.get("data-checked") == "yes", "the page's self-check did not run"
        # console messages of the page itself (chromium logs them as CONSOLE lines)
        console = [
            line for line in proc.stderr.splitlines() if "CONSOLE" in line and page.name in line
        ]
        errors = json.loads(attrs["data-errors"].replace("&quot;", '"'))
        return RenderedPage(proc.stdout, attrs, console, errors)

    return render
