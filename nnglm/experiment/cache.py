"""What the runs of one process share: a sweep's points, or a notebook's runs of the same data and
model, take the data, the GLM fit and the compiled network from the first of them instead of making
them again. One entry per identity (the config without what only steers training, and the data
file's size and time), the oldest dropped past `keep`.

Runs in parallel threads (nnglm.run from a thread pool) never share an entry at the same time: a
compiled network trained by two threads at once takes interleaved steps. A run borrows its entry;
while another run holds it, the run takes a fresh entry of its own that is not kept."""

import copy
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """What the runs of one identity share: their data, their GLM fit and their compiled network."""

    data: tuple[Dataset, Dataset | None] | None = None  # the training rows and the held-out rows
    glm: GlmFit | None = None
    trainer: Trainer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def rows(self, make: Callable[[], tuple[Dataset, Dataset | None]]) -> tuple[Dataset, Dataset | None]:
        """The data of this identity, made once."""
        if self.data is None:
            self.data = make()
        return self.data

    def glm_fit(self, make: Callable[[], GlmFit]) -> GlmFit:
        """The GLM fit of these data and model, made once (a copy each time: a run's result may be edited)."""
        if self.glm is None:
            self.glm = make()
        return copy.deepcopy(self.glm)


@dataclass
class RunCache:
    keep: int = 4
    entries: dict[str, Entry] = field(default_factory=dict)

    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def borrow(self, config: Config) -> Iterator[Entry]:
        """The entry of the config's identity, for this run alone while it lasts (the newest kept last);
        a fresh entry, not kept, while another thread's run holds it."""
        key = identity(config)
        with self.lock:
            entry = self.entries.pop(key, None) or Entry()
            self.entries[key] = entry
            while len(self.entries) > self.keep:
                self.entries.pop(next(iter(self.entries)))
        if not entry.lock.acquire(blocking=False):
            yield Entry()
            return
        try:
            yield entry
        finally:
            entry.lock.release()
