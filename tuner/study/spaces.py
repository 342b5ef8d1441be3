"""Declarative search spaces: one TOML file per model under ``search_spaces/``.

A space file looks like this (parameter names are the solver's constructor kwargs)::

    model = "ials"

    [params.factors]          # course: k
    type = "int"
    low = 100
    high = 200

    [params.regularization]   # course: lambda
    type = "float"
    low = 1e-5
    high = 1e-3
    log = true

    [params.reg_scaling]
    type = "categorical"
    choices = ["none", "frequency"]

    [fixed]                   # optional: constructor kwargs held constant
    cg_steps = 3

Everything is validated on load; any problem is one :class:`~tuner.errors.ConfigError` line.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner.errors import ConfigError

if TYPE_CHECKING:
    import optuna

SPACES_DIR = Path(__file__).resolve().parents[2] / "search_spaces"

_PARAM_TYPES = ("int", "float", "categorical")
_TOP_KEYS = {"model", "description", "params", "fixed"}
_NUMERIC_KEYS = {"type", "low", "high", "log", "step", "sample_high"}
_CATEGORICAL_KEYS = {"type", "choices"}


@dataclass(frozen=True)
class Param:
    """One searched parameter.

    Attributes:
        name: solver constructor kwarg.
        type: "int", "float" or "categorical".
        low, high: inclusive bounds (numeric types).
        log: sample on a log scale (numeric types; requires low > 0).
        step: grid step (numeric types, not with log).
        choices: the categorical values.
        sample_high: numeric types: sample in ``[low, sample_high]`` only and reach up to
            ``high`` by probes of the best configurations (:mod:`tuner.study.probes`).
    """

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()
    sample_high: float | None = None

    def suggest(self, trial: optuna.trial.BaseTrial) -> Any:
        """Ask ``trial`` for this parameter's value."""
        if self.type == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        assert self.low is not None and self.high is not None
        if self.type == "int":
            step = int(self.step) if self.step is not None else 1
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=step, log=self.log
            )
        return trial.suggest_float(
            self.name, float(self.low), float(self.high), step=self.step, log=self.log
        )


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space.

    Attributes:
        model: the objective's registry key ("als", "ials").
        params: searched parameters in file order.
        fixed: constructor kwargs held constant in every trial.
        text: the file's contents, stored verbatim in the study's attributes.
        source: where the space was read from (a path, or "study attributes").
    """

    model: str
    params: tuple[Param, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    source: str = ""

    def suggest(self, trial: optuna.trial.BaseTrial) -> dict[str, Any]:
        """Suggest every parameter; returns fixed kwargs merged with the suggested ones."""
        values = dict(self.fixed)
        for param in self.params:
            values[param.name] = param.suggest(trial)
        return values

    def canonical(self) -> str:
        """A comment- and layout-independent form, used to compare two spaces for equality."""
        return json.dumps(
            {
                "model": self.model,
                "params": [p.__dict__ | {"choices": list(p.choices)} for p in self.params],
                "fixed": self.fixed,
            },
            sort_keys=True,
        )

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]


def default_space_path(model: str, *, wide: bool = False) -> Path:
    """``search_spaces/<model>.toml`` (the course's space) or ``<model>-wide.toml``; a model
    with one space only (slim, cosine: already wide) gets ``<model>.toml`` either way."""
    path = SPACES_DIR / f"{model}-wide.toml"
    return path if wide and path.is_file() else SPACES_DIR / f"{model}.toml"


def load_space(
    path: str | Path, *, known: Collection[str] | None = None, model: str | None = None
) -> SearchSpace:
    """Read and validate a space file.

    Args:
        path: the TOML file.
        known: constructor kwargs the objective accepts; any other parameter is refused.
        model: when given, the file's ``model`` must equal it.

    Raises:
        ConfigError: unreadable file, invalid TOML, or any rule in :func:`parse_space`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Cannot read search space {str(path)!r}: {exc.strerror}. "
            f"Pass an existing TOML file (shipped ones are in {SPACES_DIR})."
        ) from None
    return parse_space(text, known=known, model=model, source=str(path))


def parse_space(
    text: str,
    *,
    known: Collection[str] | None = None,
    model: str | None = None,
    source: str = "<string>",
) -> SearchSpace:
    """Validate a space given as TOML text (see the module docstring for the format).

    Raises:
        ConfigError: invalid TOML, unknown keys, low > high, log with low <= 0, a parameter the
            objective does not know, an empty categorical, a model mismatch.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Search space {source!r} is not valid TOML: {exc}.") from None
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"Search space {source!r} has unknown top-level key(s) {unknown}; "
            f"allowed: {sorted(_TOP_KEYS)}."
        )
    file_model = raw.get("model")
    if not isinstance(file_model, str) or not file_model:
        raise ConfigError(f'Search space {source!r} must set model = "als" or "ials".')
    if model is not None and file_model != model:
        raise ConfigError(
            f"Search space {source!r} is for model {file_model!r}, not {model!r}. "
            f"Pass a space written for {model!r} (e.g. search_spaces/{model}.toml)."
        )
    table = raw.get("params")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"Search space {source!r} must define at least one [params.NAME].")
    fixed = raw.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ConfigError(f"The [fixed] entry of search space {source!r} must be a table.")
    params = tuple(_parse_param(name, spec, source) for name, spec in table.items())
    names = [p.name for p in params]
    overlap = sorted(set(names) & set(fixed))
    if overlap:
        raise ConfigError(
            f"Search space {source!r} both searches and fixes {overlap}; keep each in one place."
        )
    if known is not None:
        strangers = sorted((set(names) | set(fixed)) - set(known))
        if strangers:
            raise ConfigError(
                f"Search space {source!r} names parameter(s) {strangers} that model "
                f"{file_model!r} does not know; known: {sorted(known)}."
            )
    return SearchSpace(
        model=file_model, params=params, fixed=dict(fixed), text=text, source=source
    )


def _parse_param(name: str, spec: Any, source: str) -> Param:
    where = f"Parameter {name!r} of search space {source!r}"
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where} must be a table with type/low/high. Got {spec!r} instead.")
    kind = spec.get("type")
    if kind not in _PARAM_TYPES:
        raise ConfigError(f"{where} has type {kind!r}; use one of {list(_PARAM_TYPES)}.")
    allowed = _CATEGORICAL_KEYS if kind == "categorical" else _NUMERIC_KEYS
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ConfigError(
            f"{where} has unknown key(s) {unknown}; a {kind} parameter allows {sorted(allowed)}."
        )
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where} needs a non-empty list 'choices'. Got {choices!r}.")
        if len(set(map(repr, choices))) != len(choices):
            raise ConfigError(f"{where} lists a choice twice in {choices!r}; list each once.")
        return Param(name=name, type=kind, choices=tuple(choices))
    bounds: dict[str, float] = {}
    for bound in ("low", "high"):
        value = spec.get(bound)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"{where} needs a finite number '{bound}'. Got {value!r} instead.")
        if kind == "int" and not float(value).is_integer():
            raise ConfigError(f"The {bound!r} bound of {where} must be an integer. Got {value!r}.")
        bounds[bound] = value
    low, high = bounds["low"], bounds["high"]
    if low > high:
        raise ConfigError(f"{where} has low > high ({low!r} > {high!r}); swap them.")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: 'log' must be true or false. Got {log!r} instead.")
    if log and low <= 0:
        raise ConfigError(
            f"The 'low' bound of {where} must be > 0 with log = true. Got {low!r} instead."
        )
    step = spec.get("step")
    if step is not None:
        if log:
            raise ConfigError(f"{where} sets both 'step' and log = true; keep one.")
        if not isinstance(step, int | float) or isinstance(step, bool) or step <= 0:
            raise ConfigError(f"{where}: 'step' must be > 0. Got {step!r} instead.")
    sample_high = spec.get("sample_high")
    if sample_high is not None:
        number = isinstance(sample_high, int | float) and not isinstance(sample_high, bool)
        if not number or not low < sample_high <= high:
            raise ConfigError(
                f"{where}: 'sample_high' must be a number above 'low' and at most 'high' "
                f"({low!r} < sample_high <= {high!r}). Got {sample_high!r} instead."
            )
        if kind == "int" and not float(sample_high).is_integer():
            raise ConfigError(f"{where}: 'sample_high' must be an integer. Got {sample_high!r}.")
        if step is not None:
            raise ConfigError(f"{where} sets both 'step' and 'sample_high'; keep one.")
    return Param(
        name=name, type=kind, low=low, high=high, log=log, step=step, sample_high=sample_high
    )


def load_enqueue(path: str | Path) -> list[dict[str, Any]]:
    """Read known parameter sets to try first.

    Accepts a JSON list of dicts, a JSON object ``{"trials": [...]}``, or TOML with
    ``[[trials]]`` tables.

    Raises:
        ConfigError: unreadable file or not a list of parameter tables.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read enqueue file {str(path)!r}: {exc.strerror}.") from None
    try:
        raw: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Enqueue file {str(path)!r} does not parse: {exc}.") from None
    if isinstance(raw, dict):
        raw = raw.get("trials")
    if not isinstance(raw, list) or not all(isinstance(t, dict) and t for t in raw):
        raise ConfigError(
            f"Enqueue file {str(path)!r} must hold a list of parameter tables "
            "(JSON [{...}, ...] or TOML [[trials]]); got something else."
        )
    return [dict(t) for t in raw]


def check_enqueued(trials: list[dict[str, Any]], space: SearchSpace, source: str) -> None:
    """Refuse enqueued parameters the space does not search (they would be silently ignored)."""
    searched = set(space.names)
    for i, params in enumerate(trials):
        extra = sorted(set(params) - searched)
        if extra:
            raise ConfigError(
                f"Entry {i} of enqueue file {source!r} sets {extra}, which space "
                f"{space.source!r} does not search; searched: {sorted(searched)}."
            )
