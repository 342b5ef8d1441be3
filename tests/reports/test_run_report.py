"""report.html of a run: self-contained, every section linked, the summary's numbers, and a
study with little to draw (one complete trial; one-step trials without fit times) gets notes
instead of empty figures."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import optuna
import pytest

from tuner.reports import render_run_report

STUDY_SECTIONS = ("best", "history", "intermediate", "importances", "cost")


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _figure_ids(text: str) -> list[str]:
    return re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', text)


def test_run_report_is_self_contained(run_out: Path) -> None:
    from plotly.offline import get_plotlyjs

    text = (run_out / "report.html").read_text(encoding="utf-8")
    js = get_plotlyjs()
    assert text.count(js[:200]) == 1  # the bundle, once for all figures
    # outside the bundle (which names a topojson default URL, used by geo maps only): no URL
    rest = text.replace(js, "")
    assert not re.search(r"<script[^>]+src=", rest)
    assert "https://" not in rest and "http://" not in rest
    n = int(re.search(r'data-n-figures="(\d+)"', text).group(1))  # type: ignore[union-attr]
    assert n == len(_figure_ids(text))


def test_every_section_is_in_the_contents_and_exists(run_out: Path) -> None:
    text = (run_out / "report.html").read_text(encoding="utf-8")
    nav = re.search(r'<nav id="contents">(.*?)</nav>', text, re.S)
    assert nav is not None
    links = re.findall(r'href="#([^"]+)"', nav.group(1))
    ids = set(re.findall(r'id="([^"]+)"', text))
    assert links and set(links) <= ids
    assert len(links) == len(set(links))
    summary = _summary(run_out)
    assert "summary" in links
    for model in summary["models"]:
        for part in STUDY_SECTIONS:
            assert f"study-{model}-{part}" in links
    # the similarity comparison's own sections, each under its title
    assert "similarities" in links
    for title in ("Summary", "Per method", "Parameters"):
        assert f'<a href="#similarities-{title.lower().replace(" ", "-")}">{title}</a>' in text


def test_report_shows_the_run_summary_and_each_study(run_out: Path) -> None:
    text = (run_out / "report.html").read_text(encoding="utf-8")
    summary = _summary(run_out)
    table = re.search(r'<table class="run-summary">.*?</table>', text, re.S)
    assert table is not None
    for model, s in summary["models"].items():
        # as the closing summary prints them
        for split in ("val", "test"):
            value, se = s[f"{split}_mrr_at_100"], s[f"{split}_mrr_se"]
            assert f"{value:.4f} ± {se:.4f}" in table.group(0)
        counts = f"{s['n_complete']}/{s['n_pruned']}/{s['n_failed']}/{s['n_interrupted']}"
        assert counts in table.group(0)
        for key, value in s["params"].items():
            shown = f"{value:.3g}" if isinstance(value, float) else str(value)
            assert f"{key}={shown}" in table.group(0)
        study = optuna.load_study(study_name=s["study_name"], storage=summary["storage"])
        # every complete trial of this small study is in its table of best trials, the
        # exported one named
        best = re.search(rf'id="study-{model}-best".*?(<table.*?</table>)', text, re.S)
        assert best is not None
        complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
        assert best.group(1).count("<tr>") == 1 + len(complete)
        assert f"#{s['trial_number']} (exported)" in best.group(1)
        figures = _figure_ids(text)
        assert f"fig-study-{model}-history" in figures
        assert f"fig-study-{model}-cost" in figures  # these trials record fit_seconds
    pop = summary["popularity"]
    assert f"{pop['val_mrr_at_100']:.4f}" in table.group(0)
    assert f"{pop['test_mrr_at_100']:.4f}" in table.group(0)
    # the comparison's figures are embedded, and its link to the numbers points to the file
    comparison = json.loads((run_out / "similarities" / "comparison.json").read_text())
    assert "fig-downstream" in _figure_ids(text)
    assert html.escape(comparison["summary"][0]) in text
    assert 'href="similarities/comparison.json"' in text


def _copy(trial: optuna.trial.FrozenTrial) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(
        params=trial.params,
        distributions=trial.distributions,
        value=trial.value,
        intermediate_values=trial.intermediate_values,
        user_attrs=trial.user_attrs,
    )


def test_study_with_one_complete_trial_has_a_note_instead_of_importances(run_out: Path) -> None:
    summary = _summary(run_out)
    s = summary["models"]["als"]
    real = optuna.load_study(study_name=s["study_name"], storage=summary["storage"])
    first = real.get_trials(states=(optuna.trial.TrialState.COMPLETE,))[0]
    study = optuna.create_study(study_name="one-trial", direction="maximize")
    study.add_trial(_copy(first))
    one = copy.deepcopy(summary)
    one["models"] = {"als": {**s, "study_name": "one-trial", "trial_number": 0}}

    text = render_run_report(one, {"als": study}, None)
    figures = _figure_ids(text)
    assert "fig-study-als-importances" not in figures
    note = re.search(r'<p class="muted note no-importances">([^<]*)</p>', text)
    assert note is not None and "at least 2 complete trials" in note.group(1)
    assert "fig-study-als-history" in figures
    # without a comparison the page says so and has no similarity section
    assert "No similarity comparison in this run." in text
    assert 'id="similarities"' not in text
    n = re.search(r'data-n-figures="(\d+)"', text)
    assert n is not None and int(n.group(1)) == len(figures)


def test_one_step_trials_without_fit_times_get_notes_not_empty_figures() -> None:
    # an item-based method's trials: one report each, no fit_seconds, any model name
    study = optuna.create_study(study_name="run-slim", direction="maximize")
    dists = {
        "alpha": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "l1_ratio": optuna.distributions.FloatDistribution(0.0, 1.0),
    }
    for i, (alpha, l1, value) in enumerate(
        [(1e-4, 0.15, 0.02), (1e-3, 0.5, 0.03), (1e-2, 0.9, 0.025), (3e-4, 0.3, 0.035)]
    ):
        study.add_trial(
            optuna.trial.create_trial(
                params={"alpha": alpha, "l1_ratio": l1}, distributions=dists, value=value,
                intermediate_values={1: value}, user_attrs={"val_mrr_se": 0.004 + i / 1000},
            )
        )  # fmt: skip
    summary = {
        "name": "run",
        "storage": "sqlite:///unused.db",
        "popularity": {"val_mrr_at_100": 0.01, "test_mrr_at_100": 0.009},
        "models": {
            "slim": {
                "study_name": "run-slim", "params": {"alpha": 3e-4, "l1_ratio": 0.3},
                "val_mrr_at_100": 0.035, "val_mrr_se": 0.007, "test_mrr_at_100": 0.03,
                "test_mrr_se": 0.006, "trial_number": 3, "n_complete": 4, "n_pruned": 0,
                "n_failed": 0,
            }
        },
    }  # fmt: skip
    text = render_run_report(summary, {"slim": study}, None)
    figures = _figure_ids(text)
    assert "fig-study-slim-intermediate" not in figures
    assert "fig-study-slim-cost" not in figures
    assert re.search(r'class="muted note no-intermediate">[^<]*more than one step', text)
    assert re.search(r'class="muted note no-cost">[^<]*fit_seconds', text)
    assert "fig-study-slim-history" in figures
    assert "fig-study-slim-importances" in figures
    assert "0.0350 ± 0.0070" in text


@pytest.mark.parametrize("bad", ["{not json", ""])
def test_a_broken_comparison_file_is_one_clear_error(
    run_out: Path, tmp_path: Path, bad: str
) -> None:
    from tuner.errors import DataError
    from tuner.reports import write_run_report

    summary = _summary(run_out)
    (tmp_path / "similarities").mkdir()
    (tmp_path / "similarities" / "comparison.json").write_text(bad)
    with pytest.raises(DataError, match=r"comparison\.json' is not valid JSON"):
        write_run_report(tmp_path, summary, summary["storage"])
    assert not (tmp_path / "report.html").exists()
