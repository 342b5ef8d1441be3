"""The run configuration: defaults, TOML files, overrides, round trip, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuner.errors import ConfigError
from tuner.pipeline import DEFAULT_SCALE, load_config, to_toml


def test_defaults_are_the_embedded_synthetic() -> None:
    config = load_config(None)
    assert config["data"]["source"] == "synthetic"
    assert config["data"]["scale"] == DEFAULT_SCALE
    assert config["name"] == f"synthetic-{DEFAULT_SCALE:g}"
    assert config["study"]["models"] == ["als", "ials"]
    assert config["study"]["n_trials"]["als"] >= 1


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
    assert config["study"]["n_trials"] == {"als": 7, "ials": 7}
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
