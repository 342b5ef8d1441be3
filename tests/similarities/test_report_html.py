"""report.html is self-contained: plotly.js inlined exactly once, nothing fetched from outside."""

from __future__ import annotations

import re
from pathlib import Path


def test_report_is_self_contained(similarities_out: Path) -> None:
    from plotly.offline import get_plotlyjs

    text = (similarities_out / "report.html").read_text(encoding="utf-8")
    js = get_plotlyjs()
    assert text.count(js[:200]) == 1  # the bundle, once
    # outside the bundle (which names a topojson default URL, used by geo maps only): no URL
    rest = text.replace(js, "")
    assert not re.search(r"<script[^>]+src=", rest)
    assert "https://" not in rest and "http://" not in rest
    n = int(re.search(r'data-n-figures="(\d+)"', text).group(1))  # type: ignore[union-attr]
    assert n == len(re.findall(r'id="fig-', text)) >= 6


def test_report_shows_names_summary_and_side_by_side_lists(similarities_out: Path) -> None:
    import json

    cmp = json.loads((similarities_out / "comparison.json").read_text())
    text = (similarities_out / "report.html").read_text(encoding="utf-8")
    import html

    assert html.escape(cmp["summary"][0]) in text
    head = cmp["anchors"][0]
    assert html.escape(head["name"]) in text
    assert html.escape(head["neighbours"]["slim"][0]["name"]) in text
    for m in cmp["methods"]:
        assert f"<th>{m}</th>" in text
