"""iALS (Hu, Koren & Volinsky's confidence-weighted implicit ALS)."""

from __future__ import annotations

from typing import ClassVar

from tuner.objectives._base import Objective


class IALSObjective(Objective):
    """Validation MRR@100 of :class:`tuner.solvers.IALS` (course names: k = factors,
    lambda = regularization, alpha = confidence weight)."""

    name: ClassVar[str] = "ials"
    parameters: ClassVar[frozenset[str]] = frozenset(
        {
            "factors",
            "regularization",
            "iterations",
            "alpha",
            "solver",
            "cg_steps",
            "reg_scaling",
            "reg_alpha0",
            "reg_nu",
            "init_scale",
        }
    )

    @classmethod
    def model_class(cls) -> type:
        from tuner.solvers import IALS

        return IALS
