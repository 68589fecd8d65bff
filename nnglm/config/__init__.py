"""The experiment config: a YAML file (loader.py) checked against one frozen tree of pydantic models
(schema.py), with `--set` overrides and sweeps (overrides.py) and messages in the config's own words
(messages.py). The names other layers use are here."""

from nnglm.config.loader import read_yaml, shown
from nnglm.config.messages import unfit_value, validate
from nnglm.config.overrides import apply_overrides, describe_point, expand, expand_raw, load, plain_overrides
from nnglm.config.schema import (
    GENERATORS,
    Config,
    DataFrameData,
    FileData,
    InferenceConfig,
    StatsmodelsData,
    SyntheticData,
)

__all__ = [
    "GENERATORS",
    "Config",
    "DataFrameData",
    "FileData",
    "InferenceConfig",
    "StatsmodelsData",
    "SyntheticData",
    "apply_overrides",
    "describe_point",
    "expand",
    "expand_raw",
    "load",
    "plain_overrides",
    "read_yaml",
    "shown",
    "unfit_value",
    "validate",
]
