"""Typed configuration: defaults, YAML loading, per-section overrides and validation.

A configuration is built from up to three YAML layers, later layers overriding earlier ones key by key:

1. the defaults of the schema (:mod:`vae_genomics.config.schema`, documented one option per line
   in ``configs/default.yaml``);
2. the user's config file (``--config``, e.g. ``configs/example.yaml``);
3. the section's tuned values, ``<sections_dir>/<section>.yaml`` (default: ``configs/sections/``),
   when training or reporting one section.

YAML is read with ``yaml.safe_load`` only. An unknown key or a value of the wrong type is an error that
names the key and the file it came from. Relative paths are resolved against the working directory.
"""

from vae_genomics.config.loader import (
    build_config,
    deep_merge,
    key_origin,
    load_config,
    read_yaml,
    section_config_path,
)
from vae_genomics.config.schema import (
    CapacityConfig,
    Config,
    DataConfig,
    EvaluationConfig,
    ModelConfig,
    ObjectiveConfig,
    PriorConfig,
    ReencodeConfig,
    ReportConfig,
    RuntimeConfig,
    ScheduleConfig,
    TrainingConfig,
    VerdictConfig,
)

__all__ = [
    "CapacityConfig",
    "Config",
    "DataConfig",
    "EvaluationConfig",
    "ModelConfig",
    "ObjectiveConfig",
    "PriorConfig",
    "ReencodeConfig",
    "ReportConfig",
    "RuntimeConfig",
    "ScheduleConfig",
    "TrainingConfig",
    "VerdictConfig",
    "build_config",
    "deep_merge",
    "key_origin",
    "load_config",
    "read_yaml",
    "section_config_path",
]
