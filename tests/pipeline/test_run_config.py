"""The run configuration: defaults, TOML files, overrides, round trip, and clear refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tuner.errors import ConfigError
from tuner.pipeline import DEFAULT_SCALE, load_config, to_toml
from tuner.study.spaces import default_space_path


def test_defaults_are_the_embedded_synthetic() -> None:
    config = load_config(None)
    assert config["data"]["source"] == "synthetic"
    assert config["data"]["scale"] == DEFAULT_SCALE
    assert re.fullmatch(rf"synthetic-{DEFAULT_SCALE:g}-[0-9a-f]{{6}}", config["name"])
    assert config["study"]["models"] == ["als", "ials", "slim", "cosine"]
    assert config["study"]["n_trials"]["als"] >= 1
    # the item-based studies get small budgets, SLIM's starts from the course's settings
    assert config["study"]["n_trials"]["slim"] == config["study"]["n_trials"]["cosine"] == 8
    assert Path(config["study"]["enqueue"]["slim"]).name == "slim-course.toml"
    assert Path(config["study"]["spaces"]["cosine"]).name == "cosine.toml"


def test_toml_file_then_overrides(tmp_path: Path) -> None:
    file = tmp_path / "run.toml"
    file.write_text(
        'name = "course"\n'
        '[data]\nsource = "lists"\npath = "users.dat"\nlists_format = "count"\n'
        '[study]\nn_trials = 7\npruner = "median"\n'
        '[similarities]\nmethods = ["cosine", "als"]\nanchors = [5, 7]\n',
        encoding="utf-8",
    )
    config = load_config(file, {"study.workers": 2})
    assert config["name"] == "course"
    assert config["data"]["options"] == {"lists_format": "count"}
    assert config["data"]["scale"] is None
    assert config["study"]["n_trials"] == {"als": 7, "ials": 7, "slim": 7, "cosine": 7}
    assert config["study"]["pruner"] == "median"
    assert config["study"]["workers"] == 2
    assert config["similarities"]["anchors"] == [5, 7]


def test_resolved_configuration_round_trips(tmp_path: Path) -> None:
    config = load_config(None, {"study.n_trials": {"als": 3, "ials": 4}, "data.seed": 5})
    file = tmp_path / "resolved.toml"
    file.write_text(to_toml(config), encoding="utf-8")
    assert load_config(file) == config


@pytest.mark.parametrize(
    ("toml", "overrides", "needle"),
    [
        ("[study]\nbudget = 3\n", {}, "unknown key 'budget'"),
        ('[data]\nsource = "csv"\n', {}, "source must be one of"),
        ('[data]\nsource = "zen"\n', {}, "needs a path"),
        ("", {"data.test_frac": 1.5}, "test_frac must be a number in (0, 1)"),
        ("", {"data.test_frac": 0.5, "data.val_frac": 0.5}, "test_frac + val_frac must be < 1"),
        ("", {"study.n_trials": 0}, "n_trials.als must be an integer >= 1"),
        ("", {"study.pruner": "asha"}, "pruner must be one of"),
        ("", {"study.models": ["svd"]}, "models must be a non-empty list"),
        ('[study]\nspaces = { ials = "/nonexistent.toml" }\n', {}, "does not exist"),
        ('[similarities]\nmethods = ["bm25"]\n', {}, "methods must be a list of"),
        ("", {"study.models": ["als"]}, "need the ials study"),
        ('name = "a b"\n', {}, "name must be letters"),
        ("[study\n", {}, "is not valid TOML"),
    ],
)
def test_bad_configuration_is_one_clear_error(
    tmp_path: Path, toml: str, overrides: dict, needle: str
) -> None:
    file = tmp_path / "run.toml"
    file.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(file, overrides)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_missing_configuration_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def _interactions(path: Path, **overrides: object) -> dict:
    return load_config(
        None,
        {"data.source": "interactions", "data.path": str(path), "data.scale": None, **overrides},
    )


def test_default_spaces_course_for_zen_shaped_data_wide_for_others(tmp_path: Path) -> None:
    table = tmp_path / "ratings.csv"
    table.write_text("userId,movieId,rating\n1,2,5\n", encoding="utf-8")
    synthetic = load_config(None)
    other = _interactions(table)
    for model in ("als", "ials"):
        assert synthetic["study"]["spaces"][model] == str(default_space_path(model))
        assert other["study"]["spaces"][model] == str(default_space_path(model, wide=True))
    # The resolved run.toml names the spaces used, so a resumed run keeps them.
    assert f'ials = "{default_space_path("ials", wide=True)}"' in to_toml(other)
    # A space given explicitly wins over the default.
    mine = tmp_path / "mine.toml"
    mine.write_text('model = "als"\n', encoding="utf-8")
    assert _interactions(table, **{"study.spaces": {"als": str(mine)}})["study"]["spaces"] == {
        "als": str(mine),
        "ials": str(default_space_path("ials", wide=True)),
        # the item-based methods have one space, wide already
        "slim": str(default_space_path("slim")),
        "cosine": str(default_space_path("cosine")),
    }


def test_default_names_tell_data_sets_apart(tmp_path: Path) -> None:
    a, b = tmp_path / "ml-small" / "ratings.csv", tmp_path / "ml-25m" / "ratings.csv"
    for path in (a, b):
        path.parent.mkdir()
        path.write_text("userId,movieId,rating\n1,2,5\n", encoding="utf-8")
    names = {
        _interactions(a)["name"],
        _interactions(b)["name"],
        _interactions(a, **{"data.seed": 1})["name"],
        _interactions(a, **{"data.options": {"min_rating": 4}})["name"],
        load_config(None)["name"],
        load_config(None, {"data.seed": 1})["name"],
    }
    assert len(names) == 6
    assert all(n.startswith("interactions-ratings-") for n in names if "interactions" in n)
    # the same description, the same name
    assert _interactions(a)["name"] == _interactions(a)["name"]


def test_run_flags_offer_every_registered_pruner_and_source() -> None:
    from tuner.cli import build_parser
    from tuner.commands.run import overrides_from_args
    from tuner.data import LOADERS
    from tuner.study.factories import PRUNERS

    parser = build_parser()
    for pruner in PRUNERS:  # e.g. "noise", which `tuner study` offered and `tuner run` refused
        args = parser.parse_args(["run", "--pruner", pruner])
        assert overrides_from_args(args)["study.pruner"] == pruner
    for source in LOADERS:
        assert parser.parse_args(["run", "--source", source]).source == source
