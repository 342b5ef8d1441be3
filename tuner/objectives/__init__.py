"""Pluggable trial objectives: fit a model on train, score validation MRR@100.

Adding a model = one module with an :class:`Objective` subclass, one TOML file in
``search_spaces/`` and one line in :data:`OBJECTIVES`.
"""

from __future__ import annotations

from tuner.errors import ConfigError
from tuner.objectives._base import ATTR_REPORT_SE, DEFAULT_PATIENCE, METRIC, Objective
from tuner.objectives.als import ALSObjective
from tuner.objectives.ials import IALSObjective

OBJECTIVES: dict[str, type[Objective]] = {
    "als": ALSObjective,
    "ials": IALSObjective,
}


def get_objective(model: str) -> type[Objective]:
    """The objective class registered as ``model``; ConfigError lists the valid keys."""
    try:
        return OBJECTIVES[model]
    except KeyError:
        raise ConfigError(
            f"Unknown model {model!r}; choose one of {sorted(OBJECTIVES)}."
        ) from None


__all__ = [
    "ATTR_REPORT_SE",
    "DEFAULT_PATIENCE",
    "METRIC",
    "OBJECTIVES",
    "ALSObjective",
    "IALSObjective",
    "Objective",
    "get_objective",
]
