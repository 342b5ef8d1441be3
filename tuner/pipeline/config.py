"""The configuration of a whole ``tuner run``: defaults, a TOML file, command-line overrides.

A run is described by four tables, each optional in the TOML file::

    name = "zen"                      # names the studies (<name>-als, <name>-ials) and the outputs
                                      # default: from the data, e.g. interactions-ratings-3fa2c1

    [data]                            # what `tuner prepare` gets
    source = "zen"                    # zen, zen-v2, interactions, lists, synthetic
    path = "/data/zen"
    seed = 0
    test_frac = 0.2
    val_frac = 0.2
    # scale, debug_items, debug_users, and loader options (sep, user_col, min_rating, ...)

    [study]
    storage = "postgresql+psycopg://postgres@127.0.0.1/tuner"   # default: SQLite under storage/
    models = ["als", "ials", "slim", "cosine"]
    n_trials = { als = 12, ials = 12 }        # or one number for all; default 30, slim/cosine 8
    workers = 1
    pruner = "sha"
    seed = 0
    spaces = { ials = "search_spaces/ials-wide.toml" }   # default: see COURSE_SPACE_SOURCES
    enqueue = { ials = "my_known_good.json" }            # default: the course's SLIM point

    [similarities]
    top_k = 100
    methods = ["cosine", "slim", "als", "ials"]
    anchors = []

    [output]
    dir = "storage/runs/zen"                                    # default: <storage>/runs/<name>

Unknown keys, wrong types and out-of-range values raise :class:`~tuner.errors.ConfigError`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from tuner.data import LOADERS
from tuner.data.loaders import unknown_option
from tuner.errors import ConfigError
from tuner.objectives import OBJECTIVES
from tuner.similarities import METHODS as SIMILARITY_METHODS
from tuner.similarities import available_methods, factor_methods
from tuner.study.factories import PRUNERS
from tuner.study.spaces import SPACES_DIR, default_space_path

# The registries are the single source of truth: a new loader, model or pruner is valid here too.
SOURCES = tuple(LOADERS)
MODELS = tuple(OBJECTIVES)
METHODS = tuple(SIMILARITY_METHODS)

# The embedded default: a Zen-shaped synthetic small enough for a quick first `make run`
# on two cores; `--scale 1` is the full Zen size.
DEFAULT_SCALE = 0.1
DEFAULT_TRIALS = 30
# item-based methods (SLIM, cosine) report once per trial, so nothing is pruned, and a SLIM
# trial costs far more than a factor trial at the default scale: a small budget each
DEFAULT_ITEM_TRIALS = 8
# the course's SLIM settings, tried first in a run's SLIM study (tuned against course, fairly)
DEFAULT_ENQUEUE = {"slim": str(SPACES_DIR / "enqueue" / "slim-course.toml")}


def default_trials(model: str) -> int:
    """A run's default budget of ``model``: by its objective's kind (factors or items)."""
    return DEFAULT_ITEM_TRIALS if OBJECTIVES[model].kind == "items" else DEFAULT_TRIALS


# The course's search spaces (search_spaces/<model>.toml) were drawn for Zen; the Zen sources and
# the Zen-shaped synthetic keep them, every other data set gets <model>-wide.toml by default.
COURSE_SPACE_SOURCES = ("zen", "zen-v2", "synthetic")

DEFAULTS: dict[str, Any] = {
    "name": None,
    "data": {
        "source": "synthetic",
        "path": None,
        "seed": 0,
        "test_frac": 0.2,
        "val_frac": 0.2,
        "scale": None,
        "debug_items": None,
        "debug_users": None,
        "options": {},
    },
    "study": {
        "storage": None,
        "models": list(MODELS),
        "n_trials": {model: default_trials(model) for model in MODELS},
        "workers": 1,
        "pruner": "sha",
        "seed": 0,
        "spaces": {},
        "enqueue": {m: f for m, f in DEFAULT_ENQUEUE.items() if m in MODELS},
    },
    "similarities": {
        "enabled": True,
        "top_k": 100,
        "methods": list(METHODS),
        "anchors": [],
    },
    "output": {"dir": None},
}

_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}")


def _merge(base: dict[str, Any], update: dict[str, Any], where: str) -> None:
    for key, value in update.items():
        if key not in base:
            if where == "[data]":
                base["options"][key] = value
                continue
            valid = ", ".join(sorted(base))
            raise _fail(where, f"unknown key {key!r}; valid keys are {valid}")
        if isinstance(base[key], dict) and key not in ("n_trials", "options", "spaces", "enqueue"):
            if not isinstance(value, dict):
                raise _fail(where, f"{key!r} must be a table, got {value!r}")
            _merge(base[key], value, f"[{key}]")
        else:
            base[key] = value


def _check_fraction(where: str, name: str, value: Any, *, closed_high: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = (ok and 0 < value < 1) or (closed_high and value == 1)
    if not ok:
        interval = "(0, 1]" if closed_high else "(0, 1)"
        raise _fail(where, f"{name} must be a number in {interval}, got {value!r}")


def _check_int(where: str, name: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _fail(where, f"{name} must be an integer >= {low}, got {value!r}")


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """Check types and ranges of a merged configuration; return it with derived defaults filled."""
    data, study, sims, output = (
        config["data"],
        config["study"],
        config["similarities"],
        config["output"],
    )
    if data["source"] not in SOURCES:
        raise _fail(
            "[data]", f"source must be one of {', '.join(SOURCES)}, got {data['source']!r}"
        )
    if not isinstance(data["options"], dict):
        raise _fail("[data]", f"options must be a table, got {data['options']!r}")
    other_keys = [k for k in DEFAULTS["data"] if k != "options"]
    problem = unknown_option(data["source"], data["options"], also=other_keys)
    if problem is not None:
        raise _fail(
            "[data]", f"{problem}. Fix: correct the name in --option KEY=VALUE (or [data])"
        )
    if data["source"] != "synthetic" and not data["path"]:
        raise _fail("[data]", f"source {data['source']!r} needs a path (--path DIR or data.path)")
    if data["source"] == "synthetic" and data["scale"] is None:
        data["scale"] = DEFAULT_SCALE
    if data["scale"] is not None:
        _check_fraction("[data]", "scale", data["scale"], closed_high=True)
    _check_int("[data]", "seed", data["seed"], 0)
    for name in ("test_frac", "val_frac"):
        _check_fraction("[data]", name, data[name])
    if data["test_frac"] + data["val_frac"] >= 1:
        raise _fail("[data]", "test_frac + val_frac must be < 1 so that some users stay in train")
    for name in ("debug_items", "debug_users"):
        if data[name] is not None:
            _check_fraction("[data]", name, data[name], closed_high=True)

    models = study["models"]
    if not isinstance(models, list) or not models or any(m not in MODELS for m in models):
        raise _fail(
            "[study]", f"models must be a non-empty list of {', '.join(MODELS)}, got {models!r}"
        )
    n_trials = study["n_trials"]
    if isinstance(n_trials, int) and not isinstance(n_trials, bool):
        study["n_trials"] = n_trials = {m: n_trials for m in MODELS}
    if not isinstance(n_trials, dict) or set(n_trials) - set(MODELS):
        raise _fail(
            "[study]",
            f"n_trials must be a number or a table of {', '.join(MODELS)}, got {n_trials!r}",
        )
    for model in models:
        n_trials.setdefault(model, default_trials(model))
        _check_int("[study]", f"n_trials.{model}", n_trials[model], 1)
    _check_int("[study]", "workers", study["workers"], 1)
    _check_int("[study]", "seed", study["seed"], 0)
    if study["pruner"] not in PRUNERS:
        raise _fail(
            "[study]", f"pruner must be one of {', '.join(PRUNERS)}, got {study['pruner']!r}"
        )
    if isinstance(study["spaces"], dict):
        wide = data["source"] not in COURSE_SPACE_SOURCES
        for model in models:
            study["spaces"].setdefault(model, str(default_space_path(model, wide=wide)))
    for table in ("spaces", "enqueue"):
        entries = study[table]
        if not isinstance(entries, dict) or set(entries) - set(MODELS):
            raise _fail(
                "[study]", f"{table} must be a table keyed by {', '.join(MODELS)}, got {entries!r}"
            )
        for model, file in entries.items():
            if not Path(file).is_file():
                raise _fail(
                    "[study]",
                    f"{table}.{model} file {file!r} does not exist; "
                    "give the path of an existing file",
                )

    methods = sims["methods"]
    valid = available_methods()
    if not isinstance(methods, list) or any(m not in valid for m in methods):
        raise _fail(
            "[similarities]", f"methods must be a list of {', '.join(valid)}, got {methods!r}"
        )
    _check_int("[similarities]", "top_k", sims["top_k"], 1)
    if not isinstance(sims["anchors"], list):
        raise _fail(
            "[similarities]", f"anchors must be a list of item ids, got {sims['anchors']!r}"
        )
    # a factor method's similarities are the item factors of its study's best model
    missing = [m for m in methods if m in factor_methods() and m not in models]
    if sims["enabled"] and missing:
        raise _fail(
            "[similarities]",
            f"methods {'/'.join(missing)} need the {', '.join(missing)} study; "
            "add it to study.models or drop it from similarities.methods",
        )
    if output["dir"] is not None and not isinstance(output["dir"], str):
        raise _fail("[output]", f"dir must be a path, got {output['dir']!r}")
    if config["name"] is None:
        config["name"] = default_name(data)
    elif not isinstance(config["name"], str) or not _NAME.fullmatch(config["name"]):
        raise _fail(
            "run", f"name must be letters, digits, '.', '-' or '_', got {config['name']!r}"
        )
    return config


def data_digest(data: dict[str, Any]) -> str:
    """sha256 (hex) of a data description, its path resolved: the same data, the same digest."""
    described = dict(data)
    if described["path"] is not None:
        described["path"] = str(Path(described["path"]).expanduser().resolve())
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def data_label(data: dict[str, Any]) -> str:
    """The readable part of a run name: source, then the scale (synthetic) or the file's stem
    (interactions, lists), and ``debug`` for a debug subset; e.g. ``interactions-ratings``."""
    parts = [str(data["source"])]
    if data["source"] == "synthetic":
        parts.append(f"{data['scale']:g}")
    elif data["path"] is not None and data["source"] in ("interactions", "lists"):
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(data["path"]).name.split(".")[0])
        if stem.strip("._-"):
            parts.append(stem)
    if data["debug_items"] or data["debug_users"]:
        parts.append("debug")
    return "-".join(parts)


def default_name(data: dict[str, Any]) -> str:
    """The run name when none is given: :func:`data_label` and 6 hex digits of the data's digest,
    e.g. ``synthetic-0.1-3fa2c1``, so that runs on other data (another file, seed, option)
    never share studies."""
    return f"{data_label(data)}-{data_digest(data)[:6]}"


def load_config(
    path: str | Path | None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Defaults, then the TOML file (if any), then command-line overrides; validated."""
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(
                f"run configuration {str(path)!r} does not exist; "
                "pass the path of a TOML file (see 'tuner run --help')"
            )
        try:
            loaded = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"run configuration {str(path)!r} is not valid TOML ({exc}); fix the file"
            ) from None
        _merge(config, loaded, "run")
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.rpartition(".")
        target = config[section] if section else config
        target[key] = value
    return validate(config)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(config: dict[str, Any]) -> str:
    """The resolved configuration as TOML (``None`` values omitted), loadable by ``--config``."""
    lines = [f"name = {_toml_value(config['name'])}"]
    for section in ("data", "study", "similarities", "output"):
        lines.append(f"\n[{section}]")
        for key, value in config[section].items():
            if value is None or (value == {} and key in ("options", "spaces", "enqueue")):
                continue
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
