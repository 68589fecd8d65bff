"""What the runs of one process share: a sweep's points, or a notebook's runs of the same data and
model, take the data, the GLM fit and the compiled network from the first of them instead of making
them again. One entry per identity (the config without what only steers training, and the data
file's size and time), the oldest dropped past `keep`."""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nnglm.config import Config
from nnglm.data.table import Dataset
from nnglm.model.glm import GlmFit
from nnglm.train.network import STEERING, Trainer

# sections that name, describe or judge a run, and change none of its fits
UNUSED = ("name", "description", "sweep", "compare")


def identity(config: Config) -> str:
    """What determines a run's data, GLM fit and compiled network: its config without the sections that
    change none of them and without the keys that only steer training (STEERING), with the settings
    derived from it, and the data file's size and modification time (an edited file is new data)."""
    d = config.to_dict()
    for section in UNUSED:
        d.pop(section, None)
    d["train"] = {k: v for k, v in d["train"].items() if k not in STEERING}
    d["derived"] = {"auto": config.train.auto, "precondition": config.precondition}
    path = d.get("data", {}).get("path")
    if path and Path(path).is_file():
        stat = Path(path).stat()
        d["file"] = [stat.st_size, stat.st_mtime_ns]
    return json.dumps(d, sort_keys=True, default=str)


@dataclass
class Entry:
    data: tuple[Dataset, Dataset | None]  # the training rows and the held-out rows
    glm: GlmFit | None = None
    trainer: Trainer | None = None


@dataclass
class RunCache:
    keep: int = 4
    entries: dict[str, Entry] = field(default_factory=dict)

    def data(self, config: Config, make: Callable[[], tuple[Dataset, Dataset | None]]) -> tuple[Dataset, Dataset | None]:
        key = identity(config)
        if key not in self.entries:
            self.entries[key] = Entry(make())
            while len(self.entries) > self.keep:
                self.entries.pop(next(iter(self.entries)))
        self.entries[key] = self.entries.pop(key)  # the newest last
        return self.entries[key].data

    def glm(self, config: Config, make: Callable[[], GlmFit]) -> GlmFit:
        """The GLM fit of these data and model, made once (a copy each time: a run's result may be edited)."""
        entry = self._entry(config)
        if entry.glm is None:
            entry.glm = make()
        return copy.deepcopy(entry.glm)

    def trainer(self, config: Config) -> Trainer | None:
        return self._entry(config).trainer

    def keep_trainer(self, config: Config, trainer: Trainer) -> None:
        self._entry(config).trainer = trainer

    def _entry(self, config: Config) -> Entry:
        entry = self.entries.get(identity(config))
        if entry is None:
            raise KeyError("the run's data were not taken from this cache")
        return entry
