"""What the report's figures and tables show: no empty figure, log axes that say so with
readable labels, no section for data the set does not have, figures rounded to their noise."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tuner.cli import main


def _figures(report: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """fig id -> (traces, layout), read back from the Plotly.newPlot calls of the page."""
    decoder = json.JSONDecoder()
    out = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"fig-([\w-]+)",\s*', report):
        traces, end = decoder.raw_decode(report, match.end())
        rest = re.match(r",\s*", report[end:])
        assert rest is not None
        layout, _ = decoder.raw_decode(report, end + rest.end())
        out[match.group(1)] = (traces, layout)
    return out


def _has_data(trace: dict[str, Any]) -> bool:
    values = trace.get("z") if trace.get("type") == "heatmap" else trace.get("y")
    flat = np.asarray(values, dtype=object).ravel() if values is not None else []
    return any(v is not None and v != 0 for v in flat)


def _text(report: str) -> str:
    """The page without its scripts (plotly.js and the figures' data)."""
    return re.sub(r"<script.*?</script>", "", report, flags=re.S)


@pytest.fixture(scope="module")
def unlabelled_out(
    tmp_path_factory: pytest.TempPathFactory, params_files: tuple[Path, Path]
) -> Path:
    """The report of a data set whose items have no author (source) and no topic, like
    MovieLens: a user, item table written from the synthetic generator's likes."""
    from tuner.data import generate_synthetic, prepare

    root = tmp_path_factory.mktemp("unlabelled")
    likes = generate_synthetic(scale=0.01, seed=0)
    table = root / "likes.csv"
    rows = "\n".join(f"{u},{i}" for u, i in zip(likes.users, likes.items, strict=True))
    table.write_text("user,item\n" + rows + "\n", encoding="utf-8")
    data = root / "prepared"
    prepare("interactions", data, path=table)
    out = root / "out"
    argv = [
        "similarities", "--data", str(data), "--als-params", str(params_files[0]),
        "--ials-params", str(params_files[1]), "--out", str(out), "--top-k", "20",
        "--threads", "1",
    ]  # fmt: skip
    assert main(argv) == 0
    return out


@pytest.fixture(params=["labelled", "unlabelled"])
def report(request: pytest.FixtureRequest) -> str:
    name = "similarities_out" if request.param == "labelled" else "unlabelled_out"
    out = request.getfixturevalue(name)
    return (out / "report.html").read_text(encoding="utf-8")


def test_no_figure_is_empty(report: str) -> None:
    figures = _figures(report)
    assert len(figures) >= 6
    for fig_id, (traces, _) in figures.items():
        assert traces and any(_has_data(t) for t in traces), fig_id


def test_log_axes_say_so_and_label_their_ticks_in_full(report: str) -> None:
    logs = 0
    for fig_id, (_, layout) in _figures(report).items():
        for name, axis in layout.items():
            if not (name.startswith(("xaxis", "yaxis")) and axis.get("type") == "log"):
                continue
            logs += 1
            title = (axis.get("title") or {}).get("text")
            # subplots after the first share the first one's title
            assert title is None or title.endswith("(log scale)"), (fig_id, name, title)
            assert axis.get("ticktext"), (fig_id, name)
            assert all(re.fullmatch(r"[\d,.]+", t) for t in axis["ticktext"]), axis["ticktext"]
    assert logs >= 4  # the histograms' counts, the neighbour counts and both popularity axes


def test_methods_with_one_neighbour_count_are_named_not_drawn(similarities_out: Path) -> None:
    report = (similarities_out / "report.html").read_text(encoding="utf-8")
    traces, _ = _figures(report)["nnz"]
    # the factor methods score every item: one spike each at n_items, the same for both
    assert {t["name"] for t in traces} == {"cosine", "slim"}
    assert "als and ials give every item a non-zero similarity" in _text(report)


def test_tables_are_rounded_and_comparison_json_is_linked(similarities_out: Path) -> None:
    text = _text((similarities_out / "report.html").read_text(encoding="utf-8"))
    assert '<a href="comparison.json">comparison.json</a>' in text
    assert "<pre>" not in text
    assert not re.search(r"\d\.\d{5,}", text), re.search(r".{40}\d\.\d{5,}.{20}", text)
    cmp = json.loads((similarities_out / "comparison.json").read_text(encoding="utf-8"))
    down = cmp["per_method"]["cosine"]["downstream"]
    assert down["mrr_se"] > 0.001  # a few hundred test users: MRR to 3 decimals, not 15
    assert f"{down['mrr']:.3f} ± {down['mrr_se']:.3f}" in text
    # the summary's MRRs too: errors of about 0.01 leave 3 decimals
    assert "MRR@100" in cmp["summary"][0]
    assert not re.search(r"\d\.\d{4,}", cmp["summary"][0]), cmp["summary"][0]


def test_sections_without_data_are_left_out(unlabelled_out: Path, similarities_out: Path) -> None:
    labelled = (similarities_out / "report.html").read_text(encoding="utf-8")
    assert "labels" in _figures(labelled)
    assert "<th>same author</th>" in labelled
    report = (unlabelled_out / "report.html").read_text(encoding="utf-8")
    assert "labels" not in _figures(report)
    text = _text(report)
    assert "<th>same author</th>" not in text and "<th>same topic</th>" not in text
    assert "carry no author (source) or topic labels" in text
