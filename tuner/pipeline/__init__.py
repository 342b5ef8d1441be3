"""The whole job in one call: configuration (TOML + overrides) and the resumable pipeline."""

from __future__ import annotations

from tuner.pipeline.config import DEFAULT_SCALE, load_config, to_toml
from tuner.pipeline.run import run_pipeline

__all__ = ["DEFAULT_SCALE", "load_config", "run_pipeline", "to_toml"]
