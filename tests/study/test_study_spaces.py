"""Search spaces: the shipped files load, suggestions stay in bounds, bad files are refused."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from tuner.errors import ConfigError
from tuner.objectives import OBJECTIVES
from tuner.study.spaces import (
    SPACES_DIR,
    check_enqueued,
    default_space_path,
    load_enqueue,
    load_space,
    parse_space,
)

SHIPPED = sorted(p.name for p in SPACES_DIR.glob("*.toml"))


def test_shipped_spaces_are_the_six_expected() -> None:
    assert SHIPPED == [
        "als-wide.toml", "als.toml", "cosine.toml", "ials-wide.toml", "ials.toml", "slim.toml",
    ]  # fmt: skip


def test_item_spaces_hold_the_course_and_fixed_settings() -> None:
    slim = load_space(default_space_path("slim"), known=OBJECTIVES["slim"].parameters)
    alpha, l1_ratio = (next(p for p in slim.params if p.name == n) for n in ("alpha", "l1_ratio"))
    # the course's alpha=1e-4 and values three orders larger, its l1_ratio=0.15
    assert alpha.log and alpha.low == 1e-4 and alpha.high >= 1e-1
    assert l1_ratio.low <= 0.15 <= l1_ratio.high == 1.0
    course = load_enqueue(SPACES_DIR / "enqueue" / "slim-course.toml")
    assert course == [{"alpha": 1e-4, "l1_ratio": 0.15}]
    check_enqueued(course, slim, "slim-course.toml")
    cosine = load_space(default_space_path("cosine"), known=OBJECTIVES["cosine"].parameters)
    top_k, shrinkage = cosine.params
    assert (top_k.name, top_k.low, top_k.high, top_k.log) == ("top_k", 10, 1000, True)
    assert (shrinkage.name, shrinkage.low, shrinkage.high) == ("shrinkage", 0.0, 100.0)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_space_loads_and_suggests_within_bounds(name: str) -> None:
    model = name.split("-")[0].removesuffix(".toml")
    space = load_space(SPACES_DIR / name, known=OBJECTIVES[model].parameters, model=model)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        params = space.suggest(study.ask())
        for p in space.params:
            if p.type == "categorical":
                assert params[p.name] in p.choices
            else:
                assert p.low is not None and p.high is not None
                assert p.low <= params[p.name] <= p.high


def test_course_spaces_match_the_course() -> None:
    als = {p.name: p for p in load_space(default_space_path("als")).params}
    assert (als["factors"].low, als["factors"].high) == (20, 100)
    assert (als["regularization"].low, als["regularization"].high, als["regularization"].log) == (
        1e-5,
        1e-2,
        True,
    )
    assert (als["iterations"].low, als["iterations"].high) == (3, 5)
    ials = {p.name: p for p in load_space(default_space_path("ials")).params}
    assert (ials["factors"].low, ials["factors"].high) == (100, 200)
    assert (ials["regularization"].low, ials["regularization"].high) == (1e-5, 1e-3)
    assert (ials["alpha"].low, ials["alpha"].high) == (10.0, 100.0)


GOOD = """
model = "ials"
[params.factors]
type = "int"
low = 8
high = 16
[params.reg_scaling]
type = "categorical"
choices = ["none", "frequency"]
[fixed]
cg_steps = 2
"""


def test_fixed_kwargs_are_merged_into_every_suggestion() -> None:
    space = parse_space(GOOD, known=OBJECTIVES["ials"].parameters, model="ials")
    params = space.suggest(optuna.create_study().ask())
    assert params["cg_steps"] == 2
    assert set(params) == {"factors", "reg_scaling", "cg_steps"}


def test_canonical_form_ignores_comments_and_layout() -> None:
    a = parse_space(GOOD)
    b = parse_space("# a comment\n" + GOOD.replace('type = "int"', 'type   =   "int"  # k'))
    c = parse_space(GOOD.replace("high = 16", "high = 17"))
    assert a.canonical() == b.canonical()
    assert a.canonical() != c.canonical()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "model = 'ials'\nbogus = 1\n[params.factors]\ntype='int'\nlow=1\nhigh=2",
            "unknown top-level key",
        ),
        (
            "model = 'ials'\n[params.factors]\ntype='int'\nlow=1\nhigh=2\nlgo=true",
            "unknown key(s) ['lgo']",
        ),
        ("model = 'ials'\n[params.factors]\ntype='int'\nlow=9\nhigh=2", "low > high"),
        (
            "model = 'ials'\n[params.regularization]\ntype='float'\nlow=0.0\nhigh=1.0\nlog=true",
            "must be > 0 with log = true",
        ),
        ("model = 'ials'\n[params.momentum]\ntype='float'\nlow=0.1\nhigh=1.0", "does not know"),
        (
            "model = 'ials'\n[params.reg_scaling]\ntype='categorical'\nchoices=[]",
            "non-empty list 'choices'",
        ),
        ("model = 'ials'\n[params.factors]\ntype='integer'\nlow=1\nhigh=2", "has type 'integer'"),
        ("model = 'ials'\n[params.factors]\ntype='int'\nlow=1.5\nhigh=2", "must be an integer"),
        ("model = 'ials'\n[params.factors]\ntype='int'\nhigh=2", "finite number 'low'"),
        ("model = 'als'\n[params.factors]\ntype='int'\nlow=1\nhigh=2", "is for model 'als'"),
        ("model = 'ials'", "at least one [params.NAME]"),
        ("model = 'ials'\n[params.factors\n", "not valid TOML"),
        (
            "model = 'ials'\n[params.factors]\ntype='int'\nlow=1\nhigh=2\n[fixed]\nfactors=3",
            "both searches and fixes",
        ),
    ],
)
def test_invalid_space_is_one_clear_error(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_space(text, known=OBJECTIVES["ials"].parameters, model="ials", source="s.toml")
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_space_file_names_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="search_spaces"):
        load_space(tmp_path / "nope.toml")


def test_enqueue_files_json_and_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "q.json"
    as_json.write_text(json.dumps([{"factors": 99, "regularization": 6.47e-5}]))
    as_toml = tmp_path / "q.toml"
    as_toml.write_text("[[trials]]\nfactors = 99\nregularization = 6.47e-5\n")
    assert (
        load_enqueue(as_json)
        == load_enqueue(as_toml)
        == [{"factors": 99, "regularization": 6.47e-5}]
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"factors": 3}')
    with pytest.raises(ConfigError, match="list of parameter tables"):
        load_enqueue(bad)


@pytest.mark.parametrize("model", ["als", "ials"])
def test_shipped_course_best_fits_the_course_space(model: str) -> None:
    trials = load_enqueue(SPACES_DIR / "enqueue" / f"{model}-course-best.toml")
    check_enqueued(trials, load_space(default_space_path(model)), "course best")
    with pytest.raises(ConfigError, match="does not search"):
        check_enqueued([{"momentum": 1}], load_space(default_space_path(model)), "x")


@pytest.mark.parametrize("model", ["als", "ials"])
def test_wide_spaces_hold_the_loops_best_lambdas_in_one_continuous_space(model: str) -> None:
    space = load_space(SPACES_DIR / f"{model}-wide.toml", known=OBJECTIVES[model].parameters)
    params = {p.name: p for p in space.params}
    # one continuous space: no categorical scaling choice splitting TPE's trials
    assert all(p.type != "categorical" for p in space.params)
    assert space.fixed["reg_scaling"] == "relative"
    # iterations are a maximum, not searched (a trial's value is its best iteration's)
    assert "iterations" not in params and space.fixed["iterations"] >= 10
    reg, nu = params["regularization"], params["reg_nu"]
    assert reg.log and reg.low is not None and reg.high is not None
    # the unscaled lambdas the plain loop found best (62 and 134) and the course's small ones
    for found in (62.0, 134.0, 1e-2):
        assert reg.low <= found <= reg.high
    assert (nu.low, nu.high) == (0.0, 1.0)  # unscaled to frequency-proportional (ALS-WR)
    if model == "ials":
        assert params["alpha"].low is not None and params["alpha"].high is not None
        assert params["alpha"].low <= 1.0 and params["alpha"].high >= 70.0


@pytest.mark.parametrize("model", ["als", "ials"])
def test_wide_start_points_fit_the_wide_spaces(model: str) -> None:
    space = load_space(SPACES_DIR / f"{model}-wide.toml", known=OBJECTIVES[model].parameters)
    trials = load_enqueue(SPACES_DIR / "enqueue" / f"{model}-wide-start.toml")
    assert len(trials) == 3
    check_enqueued(trials, space, "wide start")
    bounds = {p.name: (p.low, p.high) for p in space.params}
    for params in trials:
        assert params.keys() == bounds.keys()  # every searched parameter set, none fixed
        for name, value in params.items():
            low, high = bounds[name]
            assert low is not None and high is not None and low <= value <= high
