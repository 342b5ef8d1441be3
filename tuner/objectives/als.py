"""ALS (explicit-style alternating least squares on the binary like matrix)."""

from __future__ import annotations

from typing import ClassVar

from tuner.objectives._base import Objective


class ALSObjective(Objective):
    """Validation MRR@100 of :class:`tuner.solvers.ALS` (course names: k = factors,
    lambda = regularization)."""

    name: ClassVar[str] = "als"
