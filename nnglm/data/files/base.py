"""What every reader returns (Table), how a library's error is said (reason), and the memory a reader
may fill (available_memory)."""

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nnglm.errors import short


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    read_as: str  # how it was read, for messages: "tab-delimited text (sniffed)"


def reason(e: BaseException) -> str:
    """A library's error in one bounded line."""
    text = str(e).strip()
    return short(text.splitlines()[0] if text else type(e).__name__, 300)[1:-1]


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable), or all of it where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
