"""What every reader returns (Table), and the memory a reader may fill (available_memory)."""

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    read_as: str  # how it was read, for messages: "tab-delimited text (sniffed)"


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable), or all of it where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
