"""What every reader returns (Table) and how a library's error is said (reason)."""

from dataclasses import dataclass

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
