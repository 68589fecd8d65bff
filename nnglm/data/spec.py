"""What the data side reads of a run's config, made once from it (DataSpec.of): the data section, the
family, and the few settings of other sections that the data's checks need. table.load and split, newrows
and checks take it, never the whole config."""

from dataclasses import dataclass
from typing import Literal

from nnglm.config import Config, DataFrameData, FileData, StatsmodelsData, SyntheticData
from nnglm.vocabulary.families import Family


@dataclass(frozen=True)
class DataSpec:
    """What the data side reads of a run's config: made once, by `of`."""

    data: SyntheticData | FileData | StatsmodelsData | DataFrameData  # the data section
    family: Family  # model.family, its link and parameters
    family_assumed: bool  # model.family not set: the default family was assumed
    use_bias: bool  # model.use_bias
    hidden: tuple[int, ...]  # model.hidden
    seed: int  # seed: the generators' draw, the held-out rows
    dtype: str  # train.dtype
    standardize: bool  # train.standardize
    batch_size: Literal["full"] | int  # train.batch_size
    groups: str | None  # inference.groups

    @classmethod
    def of(cls, config: Config) -> "DataSpec":
        return cls(
            data=config.data,
            family=config.family,
            family_assumed="family" not in config.model.model_fields_set,
            use_bias=config.model.use_bias,
            hidden=tuple(config.model.hidden),
            seed=config.seed,
            dtype=config.train.dtype,
            standardize=config.train.standardize,
            batch_size=config.train.batch_size,
            groups=config.inference.groups,
        )
