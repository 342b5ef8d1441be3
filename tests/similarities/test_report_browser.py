"""report.html in headless Chromium: no console errors, every figure drawn, no network needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.conftest import RenderedPage


@pytest.mark.browser
def test_report_renders_in_headless_chromium(
    similarities_out: Path, render_page: Callable[[Path], RenderedPage]
) -> None:
    page = render_page(similarities_out / "report.html")
    attrs = page.attrs
    assert page.errors == []
    expected = int(attrs["data-figures-expected"])
    assert expected >= 6
    assert int(attrs["data-figures-found"]) == expected
    assert int(attrs["data-figures-drawn"]) == expected
    assert not [line for line in page.console if "error" in line.lower()], page.console
