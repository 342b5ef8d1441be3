"""One self-contained HTML page per ``tuner run``: the summary, each study, the similarities.

Whatever a study's trials recorded is drawn, whatever the model: a curve of intermediate values
only where trials reported more than one step, a cost chart only where trials recorded
``fit_seconds``, importances only where parameters varied over complete trials.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner._io import write_text_atomic
from tuner.objectives import ATTR_BEST_ITERATION, ATTR_VAL_SE
from tuner.reports._html import page
from tuner.reports.similarities import _log_axis, report_sections

if TYPE_CHECKING:
    import optuna

#: Complete trials listed in a study's table of best trials.
N_BEST = 10

COMPLETE_COLOR = "#1f77b4"
PRUNED_COLOR = "#b0b0b0"
BEST_COLOR = "#d62728"
FLOOR_COLOR = "#7f7f7f"

# From the run page, the similarity stage's files are one directory down.
_COMPARISON_LINK = (
    '<a href="similarities/comparison.json">comparison.json</a> (in similarities/, beside '
    'the stage\'s own page <a href="similarities/report.html">report.html</a>)'
)


class _Page:
    """Sections of the page being built: the contents list, the body, the figure count."""

    def __init__(self) -> None:
        self.body: list[str] = []
        self.contents: list[tuple[int, str, str]] = []  # (level, anchor id, title)
        self.n_figures = 0
        self._ids: set[str] = set()

    def anchor(self, *parts: str) -> str:
        """A unique HTML id made of ``parts`` (any text: model and study names are free)."""
        base = "-".join(re.sub(r"[^A-Za-z0-9_]+", "-", p).strip("-").lower() for p in parts)
        anchor, n = base or "section", 2
        while anchor in self._ids:
            anchor, n = f"{base}-{n}", n + 1
        self._ids.add(anchor)
        return anchor

    def heading(self, level: int, anchor: str, title: str, extra: str = "") -> None:
        self.contents.append((level, anchor, title))
        self.body.append(f'<h{level} id="{anchor}">{html.escape(title)}{extra}</h{level}>')

    def figure(self, fig: Any, div_id: str) -> None:
        fig.update_layout(margin={"l": 60, "r": 20, "t": 40, "b": 50}, template="plotly_white")
        self.body.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id))
        self.n_figures += 1

    def note(self, text: str, css_class: str = "") -> None:
        cls = f"muted note {css_class}".strip()
        self.body.append(f'<p class="{cls}">{html.escape(text)}</p>')

    def contents_html(self) -> str:
        """Nested list of links: level-2 headings, with their level-3 headings under them."""
        out = ['<nav id="contents"><h2>Contents</h2><ul>']
        open_sub = False
        for level, anchor, title in self.contents:
            link = f'<a href="#{anchor}">{html.escape(title)}</a>'
            if level == 2:
                if open_sub:
                    out.append("</ul></li>")
                    open_sub = False
                out.append(f"<li>{link}")
                out.append("<ul>")
                open_sub = True
            else:
                out.append(f"<li>{link}</li>")
        if open_sub:
            out.append("</ul></li>")
        out.append("</ul></nav>")
        # a level-2 entry without sub-entries leaves an empty list: drop it
        return "".join(out).replace("<ul></ul>", "")


# Styles of this page's own parts, on top of the shared page's.
_CSS = """
.nowrap { white-space: nowrap; }
nav#contents ul { margin: .2rem 0; } nav#contents > ul > li { margin-top: .3rem; }
"""


def _with_se(value: float | None, se: float | None) -> str:
    """``0.1234 ± 0.0056``, as the closing summary prints it (kept on one line)."""
    if value is None:
        return "–"
    text = f"{value:.4f}" if se is None else f"{value:.4f} ± {se:.4f}"
    return f"<span class=nowrap>{text}</span>"


def _params_text(params: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _table(head: list[str], rows: list[list[str]], css_class: str = "") -> str:
    """A table of already escaped cells."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _summary(p: _Page, summary: Mapping[str, Any]) -> None:
    from tuner.study import describe

    p.heading(2, p.anchor("summary"), "Run summary")
    rows = []
    for model, s in summary["models"].items():
        trials = f"{s['n_complete']}/{s['n_pruned']}/{s['n_failed']}/{s.get('n_interrupted', 0)}"
        rows.append(
            [
                html.escape(model),
                html.escape(str(s["study_name"])),
                _with_se(s["val_mrr_at_100"], s.get("val_mrr_se")),
                _with_se(s["test_mrr_at_100"], s.get("test_mrr_se")),
                trials,
                html.escape(_params_text(s["params"])),
            ]
        )
    pop = summary["popularity"]
    rows.append(
        [
            "popularity",
            "–",
            f"{pop['val_mrr_at_100']:.4f}",
            f"{pop['test_mrr_at_100']:.4f}",
            "–",
            "(floor: the most liked items for everyone)",
        ]
    )
    head = [
        "model", "study", "val MRR@100", "test MRR@100",
        "trials (ok/pruned/failed/interrupted)", "best params",
    ]  # fmt: skip
    p.body.append(_table(head, rows, "run-summary"))
    p.note(
        "Validation MRR@100 is the best trial's, on the validation users; test MRR@100 is its "
        "configuration refitted on train + validation and scored on the test users. ± one "
        "standard error over the users."
    )
    facts = [
        ("run", summary.get("name")),
        ("data", summary.get("data_dir")),
        ("data fingerprint", str(summary.get("data_fingerprint", ""))[:12] or None),
        ("storage", describe(summary["storage"]) if summary.get("storage") else None),
        ("output directory", summary.get("output_dir")),
        ("wall time", f"{summary['seconds']:.0f} s" if "seconds" in summary else None),
    ]
    items = "".join(
        f"<li>{html.escape(k)}: <code>{html.escape(str(v))}</code></li>"
        for k, v in facts
        if v is not None
    )
    p.body.append(f"<ul class=summary>{items}</ul>")


def _count_axis(title: str, values: list[int]) -> dict[str, Any]:
    """A linear axis of whole numbers (trials, steps): no ticks between them."""
    axis: dict[str, Any] = {"title": title, "tickformat": "d"}
    if values and max(values) - min(values) <= 20:
        axis.update(tick0=0, dtick=1)
    return axis


def _trial_text(trial: optuna.trial.FrozenTrial) -> str:
    """Hover text of a trial: its number, state and parameters."""
    state = trial.state.name.lower()
    return f"trial #{trial.number} ({state})<br>{html.escape(_params_text(trial.params))}"


def _floor_line(fig: Any, floor: float | None) -> None:
    """The popularity floor's validation MRR@100 across the whole chart, named on it."""
    if floor is None:
        return
    fig.add_hline(
        y=floor, line={"dash": "dot", "color": FLOOR_COLOR}, annotation_text="popularity floor",
        annotation_position="top left", annotation_font_color=FLOOR_COLOR,
    )  # fmt: skip


def _best_table(
    p: _Page, complete: list[optuna.trial.FrozenTrial], maximize: bool, exported: int | None
) -> None:
    ranked = sorted(complete, key=lambda t: float(t.value or 0.0), reverse=maximize)[:N_BEST]
    rows = []
    for t in ranked:
        attrs = t.user_attrs
        iteration = attrs.get(ATTR_BEST_ITERATION)
        run = attrs.get("iterations_run")
        fit = attrs.get("fit_seconds")
        rows.append(
            [
                f"#{t.number}" + (" (exported)" if t.number == exported else ""),
                _with_se(t.value, attrs.get(ATTR_VAL_SE)),
                "–" if iteration is None else f"{iteration} of {run}" if run else str(iteration),
                "–" if fit is None else f"{float(fit):.3g}",
                html.escape(_params_text(t.params)),
            ]
        )
    head = ["trial", "val MRR@100", "best iteration", "fit seconds", "searched params"]
    p.body.append(_table(head, rows, "best-trials"))
    if len(complete) > N_BEST:
        p.note(f"The best {N_BEST} of {len(complete)} complete trials.")


def _history(
    p: _Page,
    prefix: str,
    finished: list[optuna.trial.FrozenTrial],
    maximize: bool,
    floor: float | None,
) -> None:
    import plotly.graph_objects as go
    from optuna.trial import TrialState

    fig = go.Figure()
    for state, color, name in (
        (TrialState.COMPLETE, COMPLETE_COLOR, "complete"),
        (TrialState.PRUNED, PRUNED_COLOR, "pruned (last reported value)"),
    ):
        trials = [t for t in finished if t.state == state and t.value is not None]
        if not trials:
            continue
        errors = [t.user_attrs.get(ATTR_VAL_SE) for t in trials]
        marker = go.Scatter(
            x=[t.number for t in trials], y=[t.value for t in trials], mode="markers",
            name=name, marker={"color": color, "size": 8}, text=[_trial_text(t) for t in trials],
            hovertemplate="%{text}<br>%{y:.4f}<extra></extra>",
        )  # fmt: skip
        if state == TrialState.COMPLETE and all(e is not None for e in errors):
            marker.error_y = {"type": "data", "array": errors, "color": "#9ecae1"}
        fig.add_trace(marker)
    complete = sorted(
        (t for t in finished if t.state == TrialState.COMPLETE and t.value is not None),
        key=lambda t: t.number,
    )
    if len(complete) >= 2:  # one trial is its own best: no line to draw
        best_x, best_y = [], []
        best = None
        for t in complete:
            v = float(t.value)  # type: ignore[arg-type]
            if best is None or (v > best if maximize else v < best):
                best = v
            best_x.append(t.number)
            best_y.append(best)
        fig.add_trace(
            go.Scatter(
                x=best_x, y=best_y, mode="lines", name="best so far", line_shape="hv",
                line={"color": BEST_COLOR},
            )
        )  # fmt: skip
    _floor_line(fig, floor)
    fig.update_layout(
        height=380,
        xaxis=_count_axis("trial number", [t.number for t in finished]),
        yaxis={"title": "validation MRR@100"},
    )
    p.figure(fig, f"fig-{prefix}-history")
    p.note("Complete trials with ± one standard error over the validation users.")


def _intermediate(p: _Page, prefix: str, trials: list[optuna.trial.FrozenTrial]) -> None:
    import plotly.graph_objects as go
    from optuna.trial import TrialState

    curves = [t for t in trials if len(t.intermediate_values) >= 2]
    if not curves:
        p.note(
            "No curve to draw: no trial of this study reported more than one step (a one-shot "
            "fit, or trials stopped at their first report).",
            "no-intermediate",
        )
        return
    fig = go.Figure()
    shown: set[str] = set()
    for t in sorted(trials, key=lambda t: t.number):
        if not t.intermediate_values:
            continue
        steps = sorted(t.intermediate_values)
        complete = t.state == TrialState.COMPLETE
        name = "complete" if complete else t.state.name.lower()
        fig.add_trace(
            go.Scatter(
                x=steps, y=[t.intermediate_values[s] for s in steps], mode="lines+markers",
                name=name, legendgroup=name, showlegend=name not in shown,
                line={"color": COMPLETE_COLOR if complete else PRUNED_COLOR, "width": 1.5},
                marker={"size": 5}, text=[_trial_text(t)] * len(steps),
                hovertemplate="%{text}<br>step %{x}: %{y:.4f}<extra></extra>",
            )
        )  # fmt: skip
        shown.add(name)
    fig.update_layout(
        height=380,
        xaxis=_count_axis("step (iteration)", [s for t in curves for s in t.intermediate_values]),
        yaxis={"title": "best validation MRR@100 so far (reported)"},
    )
    p.figure(fig, f"fig-{prefix}-intermediate")
    p.note(
        "What each trial reported after each step, the values the pruner compares; reports "
        "may score a subsample of the validation users."
    )


def _importance_reason(complete: list[optuna.trial.FrozenTrial]) -> str | None:
    """Why importances cannot be computed for these complete trials, or None when they can."""
    if len(complete) < 2:
        return (
            f"Parameter importances need at least 2 complete trials; this study has "
            f"{len(complete)}."
        )
    names = {k for t in complete for k in t.params}
    varied = [k for k in names if len({repr(t.params.get(k)) for t in complete}) > 1]
    if not varied:
        return "Parameter importances need a parameter that varies; no searched parameter did."
    if len({t.value for t in complete}) < 2:
        return "Parameter importances need trials with different values; all scored the same."
    return None


def _importances(
    p: _Page, prefix: str, study: optuna.Study, complete: list[optuna.trial.FrozenTrial]
) -> None:
    import optuna.visualization as vis
    from optuna.importance import FanovaImportanceEvaluator

    reason = _importance_reason(complete)
    fig = None
    if reason is None:
        try:
            fig = vis.plot_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:
            reason = f"Parameter importances could not be computed: {exc}"
    if fig is None:
        p.note(reason or "", "no-importances")
        return
    fig.update_layout(height=max(260, 60 + 40 * len(fig.data[0].y or ())), title=None)
    p.figure(fig, f"fig-{prefix}-importances")
    p.note(
        "fANOVA importances of the searched parameters over the complete trials (Optuna's "
        "evaluator, seed 0); with few trials they are rough."
    )


def _cost(
    p: _Page, prefix: str, finished: list[optuna.trial.FrozenTrial], floor: float | None
) -> None:
    import plotly.graph_objects as go
    from optuna.trial import TrialState

    timed = [t for t in finished if t.value is not None and "fit_seconds" in t.user_attrs]
    if not timed:
        p.note("No trial of this study records its fit time (fit_seconds).", "no-cost")
        return
    fig = go.Figure()
    for state, color, name in (
        (TrialState.COMPLETE, COMPLETE_COLOR, "complete"),
        (TrialState.PRUNED, PRUNED_COLOR, "pruned (seconds until pruned, last value)"),
    ):
        trials = [t for t in timed if t.state == state]
        if not trials:
            continue
        errors = [t.user_attrs.get(ATTR_VAL_SE) for t in trials]
        marker = go.Scatter(
            x=[float(t.user_attrs["fit_seconds"]) for t in trials],
            y=[t.value for t in trials], mode="markers", name=name,
            marker={"color": color, "size": 8}, text=[_trial_text(t) for t in trials],
            hovertemplate="%{text}<br>%{x:.3g} s: %{y:.4f}<extra></extra>",
        )  # fmt: skip
        if state == TrialState.COMPLETE and all(e is not None for e in errors):
            marker.error_y = {"type": "data", "array": errors, "color": "#9ecae1"}
        fig.add_trace(marker)
    seconds = [float(t.user_attrs["fit_seconds"]) for t in timed]
    _floor_line(fig, floor)
    positive = [s for s in seconds if s > 0]
    log = bool(positive) and len(positive) == len(seconds) and max(seconds) >= 10 * min(seconds)
    xaxis = _log_axis("fit seconds", seconds) if log else {"title": "fit seconds"}
    fig.update_layout(height=380, xaxis=xaxis, yaxis={"title": "validation MRR@100"})
    p.figure(fig, f"fig-{prefix}-cost")
    p.note(
        "Each trial's fitting time on the training split (scoring excluded) against its "
        "validation MRR@100: what a better score costs."
    )


def _study(
    p: _Page, model: str, s: Mapping[str, Any], study: optuna.Study, floor: float | None
) -> None:
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    complete = [t for t in finished if t.state == TrialState.COMPLETE and t.value is not None]
    maximize = study.direction == StudyDirection.MAXIMIZE
    prefix = p.anchor("study", model)
    p.heading(2, prefix, f"Study {study.study_name}")
    counts = {state: sum(t.state == state for t in trials) for state in TrialState}
    shown = ", ".join(f"{n} {state.name.lower()}" for state, n in counts.items() if n)
    p.note(f"Model {model}; {len(trials)} trials ({shown or 'none'}).")

    p.heading(3, f"{prefix}-best", "Best trials")
    if complete:
        _best_table(p, complete, maximize, s.get("trial_number"))
    else:
        p.note("No complete trial yet.")
    p.heading(3, f"{prefix}-history", "Optimisation history")
    if finished:
        _history(p, prefix, finished, maximize, floor)
    else:
        p.note("No finished trial yet.")
    p.heading(3, f"{prefix}-intermediate", "Intermediate values")
    _intermediate(p, prefix, finished)
    p.heading(3, f"{prefix}-importances", "Parameter importances")
    _importances(p, prefix, study, complete)
    p.heading(3, f"{prefix}-cost", "Validation MRR@100 against fit seconds")
    _cost(p, prefix, finished, floor)


def _similarities(p: _Page, comparison: dict[str, Any]) -> None:
    sections, n_figures = report_sections(comparison, comparison_link=_COMPARISON_LINK)
    prefix = p.anchor("similarities")
    p.heading(2, prefix, "Item-item similarities")
    cmp = comparison
    p.note(
        f"{cmp['n_items']:,} items ({cmp['n_warm_items']:,} with likes), {cmp['n_users']:,} "
        f"users, {cmp['n_likes_fit']:,} likes in train + validation (the similarities never "
        f"see test). Top-{cmp['top_k']} neighbours per item; methods: "
        f"{', '.join(cmp['methods'])}."
    )
    for title, body in sections:
        p.heading(3, p.anchor(prefix, title), title)
        # the embedded sections' own sub-headings sit one level below this page's
        p.body.append(body.replace("<h3>", "<h4>").replace("</h3>", "</h4>"))
    p.n_figures += n_figures


def render_run_report(
    summary: dict[str, Any],
    studies: Mapping[str, optuna.Study],
    comparison: dict[str, Any] | None,
) -> str:
    """The run's report as one self-contained HTML page (plotly.js inlined once).

    Args:
        summary: the run summary (``summary.json``: ``models``, ``popularity``, ...).
        studies: the loaded study of each entry of ``summary["models"]``, by the same key.
        comparison: the similarity comparison (``similarities/comparison.json``), or None
            when the run computed none.

    Raises:
        KeyError: ``studies`` lacks a model of ``summary["models"]``.
    """
    p = _Page()
    _summary(p, summary)
    floor = summary.get("popularity", {}).get("val_mrr_at_100")
    for model, s in summary["models"].items():
        _study(p, model, s, studies[model], floor)
    if comparison is not None:
        _similarities(p, comparison)
    else:
        p.note("No similarity comparison in this run.", "no-similarities")
    models = ", ".join(summary["models"]) or "no models"
    intro = (
        f"Run {summary.get('name', '')!s}: the summary, each study ({models}) and the "
        "similarity comparison, on one page that opens offline."
    )
    body = f"<style>{_CSS}</style>\n" + p.contents_html() + "\n" + "\n".join(p.body)
    return page(f"tuner run {summary.get('name', '')}", intro, body, n_figures=p.n_figures)


def write_run_report(
    out_dir: str | Path, summary: dict[str, Any], storage_url: str, *, similarities: bool = True
) -> Path:
    """Write ``out_dir/report.html`` (atomically) from the run's studies and comparison.

    The studies named in ``summary["models"][m]["study_name"]`` are read from
    ``storage_url`` (no heartbeat: nothing is written there); ``out_dir/similarities/
    comparison.json`` is embedded when it exists and ``similarities`` is true (a run without
    its similarity stage passes False, so an older run's comparison is not shown as this one's).

    Returns:
        The report's path.

    Raises:
        StorageError: the storage cannot be opened or lacks one of the studies.
        DataError: comparison.json is not valid JSON.
    """
    from tuner.errors import DataError
    from tuner.study import load_study

    out = Path(out_dir)
    studies = {
        model: load_study(storage_url, s["study_name"]) for model, s in summary["models"].items()
    }
    comparison = None
    path = out / "similarities" / "comparison.json"
    if similarities and path.is_file():
        try:
            comparison = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{str(path)!r} is not valid JSON ({exc.msg}, line {exc.lineno}); run the "
                "similarities again (tuner run) or remove the file."
            ) from None
    report = out / "report.html"
    write_text_atomic(report, render_run_report(summary, studies, comparison))
    return report


__all__ = ["render_run_report", "write_run_report"]
