"""Pluggable trial objectives: fit a model on train, score validation MRR@100.

Adding a model = one module with an :class:`Objective` subclass, one TOML file in
``search_spaces/`` and one line in :data:`OBJECTIVES`. Factor models ("als", "ials") subclass
:class:`Objective`; item-based methods ("slim", "cosine": item-item neighbours scored as an
item-based recommender) subclass :class:`NeighborObjective`. The study machinery tells them
apart by the class's ``kind`` ("factors" or "items"), never by name.
"""

from __future__ import annotations

from tuner.errors import ConfigError
from tuner.objectives._base import (
    ATTR_BEST_ITERATION,
    ATTR_PROBE,
    ATTR_REPORT_SE,
    ATTR_VAL_SE,
    DEFAULT_MIN_GAIN,
    DEFAULT_PATIENCE,
    METRIC,
    Objective,
    Patience,
)
from tuner.objectives._neighbors import NeighborObjective
from tuner.objectives.als import ALSObjective
from tuner.objectives.cosine import CosineObjective
from tuner.objectives.ials import IALSObjective
from tuner.objectives.slim import SLIMObjective

OBJECTIVES: dict[str, type[Objective]] = {
    "als": ALSObjective,
    "ials": IALSObjective,
    "slim": SLIMObjective,
    "cosine": CosineObjective,
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
    "ATTR_BEST_ITERATION",
    "ATTR_PROBE",
    "ATTR_REPORT_SE",
    "ATTR_VAL_SE",
    "DEFAULT_MIN_GAIN",
    "DEFAULT_PATIENCE",
    "METRIC",
    "OBJECTIVES",
    "ALSObjective",
    "CosineObjective",
    "IALSObjective",
    "NeighborObjective",
    "Objective",
    "Patience",
    "SLIMObjective",
    "get_objective",
]
