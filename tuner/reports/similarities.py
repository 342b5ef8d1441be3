"""The similarities comparison as one self-contained HTML page (plotly.js inlined once)."""

from __future__ import annotations

import html
import itertools
import json
from typing import Any

from tuner.reports._html import page

COLORS = {"cosine": "#1f77b4", "slim": "#ff7f0e", "als": "#2ca02c", "ials": "#d62728"}
REF_COLOR = "#7f7f7f"


def _color(method: str) -> str:
    return COLORS.get(method, "#9467bd")


def _figures(cmp: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(anchor id, title, plotly figure) of every chart."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    methods: list[str] = cmp["methods"]
    pm = cmp["per_method"]
    figs: list[tuple[str, str, Any]] = []

    # similarity distributions: one panel per method, the scales differ (SLIM weights vs cosine)
    with_hist = [m for m in methods if "histogram" in pm[m]["scores"]]
    if with_hist:
        fig = make_subplots(rows=1, cols=len(with_hist), subplot_titles=with_hist)
        for c, m in enumerate(with_hist, 1):
            h = pm[m]["scores"]["histogram"]
            edges = h["edges"]
            mids = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
            fig.add_trace(
                go.Bar(x=mids, y=h["counts"], name=m, marker_color=_color(m), showlegend=False),
                row=1,
                col=c,
            )
            fig.update_xaxes(title_text="similarity", row=1, col=c)
        fig.update_yaxes(type="log", title_text="kept (item, neighbour) pairs", row=1, col=1)
        fig.update_layout(height=360, bargap=0.02)
        figs.append(("scores", "Distribution of the kept similarity values", fig))

    # neighbours per item before the top-K cut
    fig = go.Figure()
    for m in methods:
        h = pm[m]["neighbours_per_item"]["log10_histogram"]
        if not h["edges"]:
            continue
        edges = h["edges"]
        mids = [10 ** ((a + b) / 2) - 1 for a, b in itertools.pairwise(edges)]
        fig.add_trace(
            go.Scatter(x=mids, y=h["counts"], mode="lines+markers", name=m, line_color=_color(m))
        )
    fig.update_layout(
        height=360,
        xaxis={"type": "log", "title": "items with a non-zero similarity (before the top-K cut)"},
        yaxis={"title": "anchor items"},
    )
    figs.append(("nnz", "Neighbours per item", fig))

    # overlap heatmaps
    if len(methods) > 1:
        fig = make_subplots(rows=1, cols=2, subplot_titles=("Jaccard@10", "Jaccard@100"))
        for c, key in enumerate(("jaccard_at_10", "jaccard_at_100"), 1):
            z = [[1.0 if a == b else None for b in methods] for a in methods]
            for p in cmp["pairs"]:
                i, j = methods.index(p["a"]), methods.index(p["b"])
                z[i][j] = z[j][i] = p[key]
            text = [["" if v is None else f"{v:.3f}" for v in row] for row in z]
            fig.add_trace(
                go.Heatmap(
                    z=z,
                    x=methods,
                    y=methods,
                    text=text,
                    texttemplate="%{text}",
                    zmin=0,
                    zmax=1,
                    colorscale="Blues",
                    showscale=c == 2,
                ),
                row=1,
                col=c,
            )
        fig.update_layout(height=380)
        figs.append(("overlap", "Top-K overlap between methods", fig))

    # coverage
    fig = go.Figure(
        go.Bar(
            x=methods,
            y=[pm[m]["coverage_at_10"] for m in methods],
            marker_color=[_color(m) for m in methods],
            text=[f"{100 * pm[m]['coverage_at_10']:.1f}%" for m in methods],
            textposition="outside",
        )
    )
    fig.update_layout(
        height=340, yaxis={"title": "share of warm items in someone's top-10", "range": [0, 1.1]}
    )
    figs.append(("coverage", "Catalogue coverage of the top-10 lists", fig))

    # popularity of neighbours against the anchor's popularity
    fig = go.Figure()
    lo, hi = None, None
    for m in methods:
        p = pm[m]["popularity"]
        pts = [
            (a, n)
            for a, n in zip(p["anchor_likes_median"], p["neighbour_likes_median"], strict=True)
            if a is not None and n is not None and a > 0 and n > 0
        ]
        if not pts:
            continue
        xs, ys = zip(*pts, strict=True)
        lo = min([*xs, *([lo] if lo else [])])
        hi = max([*xs, *([hi] if hi else [])])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=m, line_color=_color(m)))
    if lo and hi:
        fig.add_trace(
            go.Scatter(
                x=[lo, hi], y=[lo, hi], mode="lines", name="same as anchor",
                line={"dash": "dot", "color": REF_COLOR},
            )
        )  # fmt: skip
    fig.update_layout(
        height=380,
        xaxis={"type": "log", "title": "anchor likes (median of a popularity decile)"},
        yaxis={"type": "log", "title": "mean likes of its top-10 neighbours (median)"},
    )
    figs.append(("popularity", "Popularity of neighbours vs the anchor's popularity", fig))

    # same author / topic
    keys = [("same_source_at_10", "same author")]
    if cmp.get("has_topic"):
        keys.append(("same_topic_at_10", "same topic"))
    fig = go.Figure()
    for key, label in keys:
        rates = [pm[m][key]["rate"] if pm[m].get(key) else None for m in methods]
        fig.add_trace(go.Bar(x=methods, y=rates, name=label))
        chance = next((pm[m][key]["chance"] for m in methods if pm[m].get(key)), None)
        if chance is not None:
            fig.add_trace(
                go.Scatter(
                    x=methods, y=[chance] * len(methods), mode="lines", name=f"{label}: chance",
                    line={"dash": "dot"},
                )
            )  # fmt: skip
    fig.update_layout(height=360, barmode="group", yaxis={"title": "share of top-10 neighbours"})
    figs.append(("labels", "Same author (source) and same topic among the top-10", fig))

    # downstream
    down = [m for m in methods if "downstream" in pm[m]]
    if down:
        refs = cmp.get("references", {})
        names = [f"{m} (item-based)" for m in down]
        vals = [pm[m]["downstream"]["mrr"] for m in down]
        colors = [_color(m) for m in down]
        for name, label in (
            ("als", "ALS model"),
            ("ials", "iALS model"),
            ("popularity", "popularity"),
        ):
            if name in refs:
                names.append(label)
                vals.append(refs[name]["mrr"])
                colors.append(REF_COLOR)
        fig = go.Figure(
            go.Bar(
                x=names, y=vals, marker_color=colors, text=[f"{v:.4f}" for v in vals],
                textposition="outside",
            )
        )  # fmt: skip
        fig.update_layout(height=380, yaxis={"title": f"test MRR@{cmp['eval_k']}"})
        figs.append(("downstream", "Downstream: item-based recommenders on the test users", fig))
    return figs


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return html.escape(str(x))


def _tables(cmp: dict[str, Any]) -> str:
    methods = cmp["methods"]
    pm = cmp["per_method"]
    parts = []
    rows = []
    for m in methods:
        e = pm[m]
        npi = e["neighbours_per_item"]
        rows.append(
            [
                m,
                _fmt(e["scores"]["q0.5"]),
                _fmt(e["scores"]["q0.9"]),
                _fmt(npi["median"], 0),
                _fmt(npi["share_full_top_k"]),
                _fmt(e["coverage_at_10"]),
                _fmt(e["popularity"]["mean_log10_ratio"], 2),
                _fmt(e["same_source_at_10"]["rate"]),
                _fmt(e["same_topic_at_10"]["rate"]) if e.get("same_topic_at_10") else "–",
                _fmt(e["downstream"]["mrr"], 4) if "downstream" in e else "–",
                _fmt(e["info"].get("seconds"), 1),
            ]
        )
    parts.append(
        _table(
            [
                "method", "median sim", "p90 sim", "median nnz", "full top-K", "coverage@10",
                "log10 pop ratio", "same author", "same topic", f"MRR@{cmp['eval_k']}", "seconds",
            ],
            rows,
        )
    )  # fmt: skip
    if cmp["pairs"]:
        prow = [
            [
                f"{p['a']} / {p['b']}",
                _fmt(p["jaccard_at_10"]),
                _fmt(p["jaccard_at_100"]),
                _fmt(p["spearman"]),
                f"{p['n_shared_pairs']:,}",
            ]
            for p in cmp["pairs"]
        ]
        parts.append("<h3>Pairs of methods</h3>")
        parts.append(
            _table(
                ["pair", "Jaccard@10", "Jaccard@100", "Spearman on shared pairs", "shared pairs"],
                prow,
            )
        )
    return "\n".join(parts)


def _anchors_html(cmp: dict[str, Any]) -> str:
    methods = cmp["methods"]
    blocks = []
    for a in cmp["anchors"]:
        title = (
            f"<h3>{html.escape(a['name'])} <span class=muted>(id {html.escape(a['raw_id'])}, "
            f"{a['likes']:,} likes, {a['group']})</span></h3>"
        )
        n_rows = max((len(a["neighbours"].get(m, [])) for m in methods), default=0)
        rows = []
        for r in range(n_rows):
            row = [str(r + 1)]
            for m in methods:
                lst = a["neighbours"].get(m, [])
                if r < len(lst):
                    n = lst[r]
                    row.append(
                        f"{html.escape(n['name'])}<br><span class=muted>id "
                        f"{html.escape(n['raw_id'])} · {n['likes']:,} likes · "
                        f"{n['score']:.3g}</span>"
                    )
                else:
                    row.append("")
            rows.append(row)
        body = _table(["#", *methods], rows) if rows else "<p class=muted>no neighbours</p>"
        blocks.append(f"<div class=anchor>{title}{body}</div>")
    return "\n".join(blocks)


def render_report(cmp: dict[str, Any], *, title: str = "Item-item similarities") -> str:
    """The full HTML page of a comparison dict (as returned by ``compare``)."""
    figs = _figures(cmp)
    sections = []
    summary = "".join(f"<li>{html.escape(s)}</li>" for s in cmp.get("summary", []))
    sections.append(f"<h2>Summary</h2><ul class=summary>{summary}</ul>")
    sections.append(f"<h2>Per method</h2>{_tables(cmp)}")
    for div_id, fig_title, fig in figs:
        fig.update_layout(margin={"l": 60, "r": 20, "t": 40, "b": 50}, template="plotly_white")
        sections.append(
            f"<h2>{html.escape(fig_title)}</h2>"
            + fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{div_id}")
        )
    sections.append(f"<h2>Top-{10} neighbours side by side</h2>{_anchors_html(cmp)}")
    details = {m: cmp["per_method"][m]["info"] for m in cmp["methods"]}
    sections.append(
        "<h2>Parameters</h2><pre>"
        + html.escape(json.dumps({"methods": details, "references": cmp.get("references", {})},
                                 indent=2, default=str))
        + "</pre>"
    )  # fmt: skip
    intro = (
        f"{cmp['n_items']:,} items ({cmp['n_warm_items']:,} with likes), {cmp['n_users']:,} "
        f"users, {cmp['n_likes_fit']:,} likes in train + validation (the similarities never see "
        f"test). Top-{cmp['top_k']} neighbours per item; methods: {', '.join(cmp['methods'])}."
    )
    return page(title, intro, "\n".join(sections), n_figures=len(figs))
