"""The whole job in one call: configuration (TOML + overrides), the resumable pipeline, and
the similarities stage (computed, then written with its report) that ``tuner similarities``
shares."""

from __future__ import annotations

from tuner.pipeline.config import DEFAULT_SCALE, load_config, to_toml
from tuner.pipeline.run import run_pipeline
from tuner.pipeline.similarities import (
    ProgressBar,
    neighbors_file,
    run_similarities,
    write_similarities,
)

__all__ = [
    "DEFAULT_SCALE",
    "ProgressBar",
    "load_config",
    "neighbors_file",
    "run_pipeline",
    "run_similarities",
    "to_toml",
    "write_similarities",
]
