"""The run's report.html in headless Chromium: every section of the contents list is on the
page, every figure drawn, no console error, nothing fetched."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.conftest import RenderedPage


@pytest.mark.browser
def test_run_report_renders_in_headless_chromium(
    run_out: Path, render_page: Callable[[Path], RenderedPage]
) -> None:
    report = run_out / "report.html"
    page = render_page(report)
    dom, attrs = page.dom, page.attrs
    assert page.errors == []
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
    assert not [line for line in page.console if "error" in line.lower()], page.console
