"""The similarities comparison as one self-contained HTML page (plotly.js inlined once)."""

from __future__ import annotations

import html
import itertools
import math
from typing import Any

from tuner.reports._html import page

# a method's colour is its position in the comparison's methods (plotly's D3 palette, without
# the grey of the references)
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#bcbd22", "#17becf",
)  # fmt: skip
REF_COLOR = "#7f7f7f"


def method_colors(methods: list[str]) -> dict[str, str]:
    """method -> colour, by the method's position in ``methods`` (repeating past the palette)."""
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(methods)}


def _tick_label(v: float) -> str:
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:g}"


def _log_axis(title: str | None, values: list[float]) -> dict[str, Any]:
    """A log axis that says so in its title, with full-size tick labels at 1-2-5 steps over the
    range of ``values`` (plotly's own log ticks label the steps inside a decade with small
    digits that are hard to read); only powers of ten when that would be too many."""
    positive = [v for v in values if v is not None and v > 0]
    axis: dict[str, Any] = {"type": "log", "title": f"{title} (log scale)" if title else None}
    if not positive:
        return axis
    lo, hi = min(positive), max(positive)
    decades = range(math.floor(math.log10(lo)), math.floor(math.log10(hi)) + 2)
    ticks: list[float] = []
    for steps in ((1, 2, 5), (1,)):
        ticks = [
            m * 10.0**e for e in decades for m in steps if lo / 2.5 <= m * 10.0**e <= hi * 2.5
        ]
        if len(ticks) <= 10:
            break
    axis.update(tickvals=ticks, ticktext=[_tick_label(t) for t in ticks])
    return axis


def _labels_with_data(cmp: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, label) of the same-label statistics that some method could measure: a data set
    without authors (sources) or topics has no rate for any method."""
    pm = cmp["per_method"]
    keys = [("same_source_at_10", "same author"), ("same_topic_at_10", "same topic")]
    return [
        (key, label)
        for key, label in keys
        if any(pm[m].get(key) and pm[m][key]["rate"] is not None for m in cmp["methods"])
    ]


def _constant_nnz(cmp: dict[str, Any]) -> list[str]:
    """Methods whose every item has the same number of non-zero similarities (the factor
    methods score every warm item): their distribution is one spike, not worth a line."""
    out = []
    for m in cmp["methods"]:
        npi = cmp["per_method"][m]["neighbours_per_item"]
        if npi["p10"] is not None and npi["p10"] == npi["max"]:
            out.append(m)
    return out


# (anchor id, title, plotly figure, note under the title or "")
Figure = tuple[str, str, Any, str]


def _figures(cmp: dict[str, Any]) -> list[Figure]:
    """Every chart that has data to show."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    methods: list[str] = cmp["methods"]
    pm = cmp["per_method"]
    color = method_colors(methods)
    figs: list[Figure] = []

    # similarity distributions: one panel per method, the scales differ (SLIM weights vs cosine)
    with_hist = [m for m in methods if "histogram" in pm[m]["scores"]]
    if with_hist:
        fig = make_subplots(rows=1, cols=len(with_hist), subplot_titles=with_hist)
        for c, m in enumerate(with_hist, 1):
            h = pm[m]["scores"]["histogram"]
            edges = h["edges"]
            mids = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
            fig.add_trace(
                go.Bar(x=mids, y=h["counts"], name=m, marker_color=color[m], showlegend=False),
                row=1,
                col=c,
            )
            fig.update_xaxes(title_text="similarity", row=1, col=c)
        # every panel on the same kind of axis; only the first is titled (they share it)
        for c, m in enumerate(with_hist, 1):
            counts = pm[m]["scores"]["histogram"]["counts"]
            title = "kept (item, neighbour) pairs" if c == 1 else None
            fig.update_yaxes(**_log_axis(title, counts), row=1, col=c)
        fig.update_layout(height=360, bargap=0.02)
        figs.append(("scores", "Distribution of the kept similarity values", fig, ""))

    # neighbours per item before the top-K cut, for the methods where that number varies
    constant = _constant_nnz(cmp)
    varying = [m for m in methods if m not in constant and pm[m]["neighbours_per_item"]["max"]]
    note = ""
    if constant:
        counts = sorted({int(pm[m]["neighbours_per_item"]["max"]) for m in constant})
        note = (
            f"{' and '.join(constant)} give every item a non-zero similarity to "
            f"{' / '.join(f'{c:,}' for c in counts)} items (all of them), so "
            f"{'it is' if len(constant) == 1 else 'they are'} not drawn."
        )
    if varying:
        fig = go.Figure()
        nnz_x: list[float] = []
        for m in varying:
            h = pm[m]["neighbours_per_item"]["log10_histogram"]
            mids = [10 ** ((a + b) / 2) - 1 for a, b in itertools.pairwise(h["edges"])]
            nnz_x += mids
            fig.add_trace(
                go.Scatter(
                    x=mids, y=h["counts"], mode="lines+markers", name=m, line_color=color[m]
                )
            )
        fig.update_layout(
            height=360,
            xaxis=_log_axis("items with a non-zero similarity (before the top-K cut)", nnz_x),
            yaxis={"title": "anchor items"},
        )
        figs.append(("nnz", "Neighbours per item", fig, note))

    # overlap heatmaps
    if len(methods) > 1:
        fig = make_subplots(rows=1, cols=2, subplot_titles=("Jaccard@10", "Jaccard@100"))
        for c, key in enumerate(("jaccard_at_10", "jaccard_at_100"), 1):
            z = [[1.0 if a == b else None for b in methods] for a in methods]
            for p in cmp["pairs"]:
                i, j = methods.index(p["a"]), methods.index(p["b"])
                z[i][j] = z[j][i] = p[key]
            text = [["" if v is None else f"{v:.2f}" for v in row] for row in z]
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
        figs.append(("overlap", "Top-K overlap between methods", fig, ""))

    # coverage
    fig = go.Figure(
        go.Bar(
            x=methods,
            y=[pm[m]["coverage_at_10"] for m in methods],
            marker_color=[color[m] for m in methods],
            text=[f"{100 * pm[m]['coverage_at_10']:.1f}%" for m in methods],
            textposition="outside",
        )
    )
    fig.update_layout(
        height=340, yaxis={"title": "share of warm items in someone's top-10", "range": [0, 1.1]}
    )
    figs.append(("coverage", "Catalogue coverage of the top-10 lists", fig, ""))

    # popularity of neighbours against the anchor's popularity
    fig = go.Figure()
    lo, hi = None, None
    all_x: list[float] = []
    all_y: list[float] = []
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
        all_x += xs
        all_y += ys
        lo = min([*xs, *([lo] if lo else [])])
        hi = max([*xs, *([hi] if hi else [])])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=m, line_color=color[m]))
    if lo and hi:
        fig.add_trace(
            go.Scatter(
                x=[lo, hi], y=[lo, hi], mode="lines", name="same as anchor",
                line={"dash": "dot", "color": REF_COLOR},
            )
        )  # fmt: skip
    fig.update_layout(
        height=380,
        xaxis=_log_axis("anchor likes (median of a popularity decile)", all_x),
        yaxis=_log_axis("mean likes of its top-10 neighbours (median)", [*all_y, *all_x]),
    )
    figs.append(("popularity", "Popularity of neighbours vs the anchor's popularity", fig, ""))

    # same author / topic, where the data has those labels
    keys = _labels_with_data(cmp)
    if not keys:
        return _downstream(cmp, figs)
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
    title = " and ".join(label for _, label in keys).capitalize() + " among the top-10"
    figs.append(("labels", title.replace("author", "author (source)", 1), fig, ""))
    return _downstream(cmp, figs)


def _downstream(cmp: dict[str, Any], figs: list[Figure]) -> list[Figure]:
    """``figs`` and the downstream chart (item-based recommenders against the references)."""
    import plotly.graph_objects as go

    methods: list[str] = cmp["methods"]
    pm = cmp["per_method"]
    down = [m for m in methods if "downstream" in pm[m]]
    if down:
        refs = cmp.get("references", {})
        names = [f"{m} (item-based)" for m in down]
        vals = [pm[m]["downstream"]["mrr"] for m in down]
        errors = [pm[m]["downstream"].get("mrr_se") for m in down]
        color = method_colors(methods)
        colors = [color[m] for m in down]
        labels = cmp.get("reference_labels", {})
        # the factor models' own scores, then the popularity floor
        for name in sorted(refs, key=lambda r: r == "popularity"):
            names.append(labels.get(name, name))
            vals.append(refs[name]["mrr"])
            errors.append(refs[name].get("mrr_se"))
            colors.append(REF_COLOR)
        bars = go.Bar(
            x=names, y=vals, marker_color=colors,
            text=[_with_error(v, e) for v, e in zip(vals, errors, strict=True)],
            textposition="outside",
        )  # fmt: skip
        if all(e is not None for e in errors):
            bars.error_y = {"type": "data", "array": errors, "color": "#444"}
        fig = go.Figure(bars)
        fig.update_layout(height=380, yaxis={"title": f"test MRR@{cmp['eval_k']}"})
        figs.append(
            (
                "downstream",
                "Downstream: item-based recommenders on the test users",
                fig,
                "Bars show ± one standard error over the test users.",
            )
        )
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


def _sig(x: float | None, digits: int = 2) -> str:
    """``x`` to ``digits`` significant digits, without an exponent (timings: 0.064, 2, 63)."""
    if x is None:
        return "–"
    return f"{float(f'{x:.{digits}g}'):,g}"


def _pct(x: float | None) -> str:
    """A share as a percentage with one decimal: items and pairs number in the thousands, so
    the sampling noise is a few tenths of a percent at most."""
    return "–" if x is None else f"{100 * x:.1f}%"


def _with_error(value: float | None, se: float | None) -> str:
    """``value ± se``, both to the decimal of the standard error's second significant digit
    (0.073 ± 0.010): more digits would be noise. Without an error: 4 decimals."""
    if value is None:
        return "–"
    if se is None or not se > 0:
        return f"{value:.4f}"
    decimals = max(0, 1 - math.floor(math.log10(se)))
    return f"{value:.{decimals}f} ± {se:.{decimals}f}"


def _tables(cmp: dict[str, Any]) -> str:
    methods = cmp["methods"]
    pm = cmp["per_method"]
    labels = _labels_with_data(cmp)
    parts = []
    rows = []
    for m in methods:
        e = pm[m]
        npi = e["neighbours_per_item"]
        down = e.get("downstream")
        rows.append(
            [
                m,
                _sig(e["scores"]["q0.5"], 3),
                _sig(e["scores"]["q0.9"], 3),
                "–" if npi["median"] is None else f"{npi['median']:,.0f}",
                _pct(npi["share_full_top_k"]),
                _pct(e["coverage_at_10"]),
                _fmt(e["popularity"]["mean_log10_ratio"], 2),
                *(_pct(e[key]["rate"]) if e.get(key) else "–" for key, _ in labels),
                _with_error(down["mrr"], down.get("mrr_se")) if down else "–",
                _sig(e["info"].get("seconds")),
            ]
        )
    head = [
        "method", "median sim", "p90 sim", "median nnz", "full top-K", "coverage@10",
        "log10 pop ratio", *(label for _, label in labels), f"MRR@{cmp['eval_k']}", "seconds",
    ]  # fmt: skip
    parts.append(_table(head, rows))
    if cmp["pairs"]:
        prow = [
            [
                f"{p['a']} / {p['b']}",
                _fmt(p["jaccard_at_10"], 2),
                _fmt(p["jaccard_at_100"], 2),
                _fmt(p["spearman"], 2),
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


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


#: Where the settings table points for the unrounded numbers, as seen from the report's page.
COMPARISON_LINK = '<a href="comparison.json">comparison.json</a> (beside this page)'


def _parameters_html(cmp: dict[str, Any], comparison_link: str = COMPARISON_LINK) -> str:
    """Each method's settings as ``key=value`` (the factor methods: the model's parameters),
    after how they were chosen where the comparison says ("tuned: study 'x', trial 3",
    "fixed"), and a link to comparison.json, which holds every number unrounded."""
    rows = []
    for m in cmp["methods"]:
        info = cmp["per_method"][m]["info"]
        params = info.get("params")
        if not isinstance(params, dict):
            params = {
                k: v
                for k, v in info.items()
                if k not in ("seconds", "threads") and not isinstance(v, dict | list)
            }
        shown = ", ".join(f"{k}={_value(v)}" for k, v in params.items())
        if info.get("settings_from"):
            shown = f"{info['settings_from']}: {shown}"
        rows.append([m, html.escape(shown) or "–", _sig(info.get("seconds"))])
    link = (
        "<p class=muted>Every number of this report, unrounded, with the settings of each "
        f"method: {comparison_link}.</p>"
    )
    return _table(["method", "settings", "seconds"], rows) + link


def report_sections(
    cmp: dict[str, Any], *, comparison_link: str = COMPARISON_LINK
) -> tuple[list[tuple[str, str]], int]:
    """The report's sections without the page around them, and the number of plotly figures
    in them (plotly.js not included): ``(title, HTML under the title)`` in page order.

    Args:
        cmp: a comparison dict (as returned by ``compare``).
        comparison_link: HTML of the link to comparison.json, as seen from the page that
            embeds the sections.
    """
    figs = _figures(cmp)
    sections = []
    summary = "".join(f"<li>{html.escape(s)}</li>" for s in cmp.get("summary", []))
    sections.append(("Summary", f"<ul class=summary>{summary}</ul>"))
    sections.append(("Per method", _tables(cmp)))
    for div_id, fig_title, fig, note in figs:
        fig.update_layout(margin={"l": 60, "r": 20, "t": 40, "b": 50}, template="plotly_white")
        caption = f"<p class=muted>{html.escape(note)}</p>" if note else ""
        sections.append(
            (
                fig_title,
                caption
                + fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{div_id}"),
            )
        )
    if not _labels_with_data(cmp):
        title, body = sections[-1]
        sections[-1] = (
            title,
            body + "\n<p class=muted id=no-labels>No same-author / same-topic comparison: the "
            "items of this data set carry no author (source) or topic labels.</p>",
        )
    sections.append((f"Top-{10} neighbours side by side", _anchors_html(cmp)))
    sections.append(("Parameters", _parameters_html(cmp, comparison_link)))
    return sections, len(figs)


def render_report(cmp: dict[str, Any], *, title: str = "Item-item similarities") -> str:
    """The full HTML page of a comparison dict (as returned by ``compare``)."""
    sections, n_figures = report_sections(cmp)
    body = "\n".join(f"<h2>{html.escape(t)}</h2>{content}" for t, content in sections)
    intro = (
        f"{cmp['n_items']:,} items ({cmp['n_warm_items']:,} with likes), {cmp['n_users']:,} "
        f"users, {cmp['n_likes_fit']:,} likes in train + validation (the similarities never see "
        f"test). Top-{cmp['top_k']} neighbours per item; methods: {', '.join(cmp['methods'])}."
    )
    return page(title, intro, body, n_figures=n_figures)
