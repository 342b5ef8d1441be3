"""iALS (Hu, Koren & Volinsky's confidence-weighted implicit ALS)."""

from __future__ import annotations

from typing import ClassVar

from tuner.objectives._base import Objective


class IALSObjective(Objective):
    """Validation MRR@100 of :class:`tuner.solvers.IALS` (course names: k = factors,
    lambda = regularization, alpha = confidence weight)."""

    name: ClassVar[str] = "ials"
