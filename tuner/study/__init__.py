"""Optuna studies: storage, search spaces, pruners, workers, orchestration and export.

Public API used by ``tuner run``: :func:`run_study`, :func:`export_study`, :func:`load_best`.
"""

from __future__ import annotations

from tuner.study.export import best_summary, export_study, load_best, write_figures
from tuner.study.factories import PRUNERS, make_pruner, make_sampler, pruner_config
from tuner.study.orchestrate import run_study, split_threads
from tuner.study.spaces import (
    Param,
    SearchSpace,
    default_space_path,
    load_enqueue,
    load_space,
    parse_space,
)
from tuner.study.storage import describe, open_storage
from tuner.study.worker import (
    ATTR_BUDGET,
    ATTR_DATA_DIR,
    ATTR_FINGERPRINT,
    ATTR_METRIC,
    ATTR_MIN_GAIN,
    ATTR_MODEL,
    ATTR_PATIENCE,
    ATTR_PRUNER,
    ATTR_REPORT_USERS,
    ATTR_SAMPLER,
    ATTR_SEED,
    ATTR_SPACE,
    TrialCounts,
    WorkerResult,
    check_compatible,
    load_study,
    run_worker,
    trial_counts,
)

__all__ = [
    "ATTR_BUDGET",
    "ATTR_DATA_DIR",
    "ATTR_FINGERPRINT",
    "ATTR_METRIC",
    "ATTR_MIN_GAIN",
    "ATTR_MODEL",
    "ATTR_PATIENCE",
    "ATTR_PRUNER",
    "ATTR_REPORT_USERS",
    "ATTR_SAMPLER",
    "ATTR_SEED",
    "ATTR_SPACE",
    "PRUNERS",
    "Param",
    "SearchSpace",
    "TrialCounts",
    "WorkerResult",
    "best_summary",
    "check_compatible",
    "default_space_path",
    "describe",
    "export_study",
    "load_best",
    "load_enqueue",
    "load_space",
    "load_study",
    "make_pruner",
    "make_sampler",
    "open_storage",
    "parse_space",
    "pruner_config",
    "run_study",
    "run_worker",
    "split_threads",
    "trial_counts",
    "write_figures",
]
