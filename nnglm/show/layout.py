"""Tables laid out in the console's width without cutting a name or a number.

rich shrinks a table that is wider than the console by cutting cells short with an ellipsis, which
turns `C(outcome)[T.2]` and `-0.4542539857` into `C(outc…` and `-0.454…`. Here each column is given
a width that holds its widest number whole; columns that do not fit beside the first one go into a
further table under it (the first column repeated, so each row can still be read across), text
wraps at its spaces, and a name longer than the whole width is folded onto further lines, never cut.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from nnglm.foundation.safe import cell

BORDER = 3  # each column's share of a box: one space of padding each side and a rule


@dataclass
class Column:
    header: str
    cells: list[str]
    right: bool

    @property
    def breakable(self) -> bool:
        """Text with spaces may wrap there; a number or a name is one word and is kept whole."""
        return any(" " in c.strip() for c in self.cells)

    @property
    def full(self) -> int:
        """The width that shows every cell (and the header) on one line."""
        return max([_len(self.header)] + [_len(c) for c in self.cells])

    @property
    def least(self) -> int:
        """The narrowest width that cuts no word: the header and text may wrap at their spaces."""
        words = _words(self.header) + [w for c in self.cells for w in (_words(c) if self.breakable else [c])]
        return max([1] + [_len(w) for w in words])


def _len(text: str) -> int:
    return Text(text).cell_len


def _words(text: str) -> list[str]:
    return text.split() or [""]


def cost(widths: Sequence[int]) -> int:
    """A table's width on the console, borders included, for these column widths."""
    return sum(w + BORDER for w in widths) + 1


def key_widths(columns: list[Column], keys: int, width: int) -> list[int]:
    """The key columns' widths before the room left is shared: kept whole, unless together they would
    take more than half the width; the first (a name) is then folded, so that numbers still fit beside
    it. The others (a run's id, copied from here) are never folded."""
    out = [c.full for c in columns[:keys]]
    first = columns[0]
    floor = first.least if first.breakable else 8
    out[0] = min(out[0], max(width // 2 - sum(out[1:]), floor))
    return out


def groups(columns: list[Column], width: int, keys: int = 1) -> list[list[int]]:
    """The columns of each table, each list starting with the key columns: as many columns as fit
    beside the keys, at least one."""
    key_width = key_widths(columns, keys, width)
    out: list[list[int]] = []
    current: list[int] = []
    for j in range(keys, len(columns)):
        if current and cost(key_width + [columns[i].least for i in current + [j]]) > width:
            out.append(current)
            current = []
        current.append(j)
    if current or not out:
        out.append(current)
    return [list(range(keys)) + g for g in out]


def widths(columns: list[Column], chosen: list[int], width: int, keys: int, grow_keys: bool = True) -> list[int]:
    """Each chosen column's width: at least its `least` (whole numbers, whole words), the room that
    is left shared among the columns in proportion to what they lack to show on one line, and a key
    column narrowed (folded) only when even one other column does not fit beside it."""
    out = key_widths(columns, keys, width) + [columns[j].least for j in chosen[keys:]]
    over = cost(out) - width
    if over > 0:  # the last resort: fold the name rather than cut any number
        out[0] = max(out[0] - over, 1)
    room = width - cost(out)
    # a key folded to fit beside numbers keeps one width in every part of a stacked table
    lacking = [0 if i < keys and not grow_keys else max(columns[j].full - out[i], 0) for i, j in enumerate(chosen)]
    total = sum(lacking)
    if room > 0 and total:
        share = [min(lack, room * lack // total) for lack in lacking]
        for i, lack in enumerate(lacking):  # what the rounding left, to the first that still lack it
            extra = min(lack - share[i], room - sum(share))
            share[i] += max(extra, 0)
        out = [w + g for w, g in zip(out, share)]
    return out


def tables(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    width: int,
    right: Sequence[bool] | None = None,
    styles: Sequence[str | None] | None = None,
    keys: int = 1,
    show_header: bool = True,
) -> list[Table]:
    """The rich tables that show `rows` within `width` columns: one where they fit, else one per group
    of columns, each titled with which columns of how many it holds."""
    right = right if right is not None else [i >= keys for i in range(len(headers))]
    columns = [Column(h, [str(r[j]) for r in rows], right[j]) for j, h in enumerate(headers)]
    parts = groups(columns, width, keys)
    out = []
    for n, chosen in enumerate(parts):
        label = title
        if len(parts) > 1:  # the columns did not fit side by side: said, so that no one looks for the rest
            label = f"{title} (part {n + 1} of {len(parts)}: {part_names(columns, chosen, keys)})"
        table = Table(title=cell(label), title_justify="left", show_header=show_header)
        for j, w in zip(chosen, widths(columns, chosen, width, keys, grow_keys=len(parts) == 1)):
            c = columns[j]
            table.add_column(as_text(c.header), justify="right" if c.right else "left", width=w, overflow="fold")
        for i, r in enumerate(rows):
            table.add_row(*[as_text(r[j]) for j in chosen], style=styles[i] if styles else None)
        out.append(table)
    return out


def part_names(columns: list[Column], chosen: list[int], keys: int) -> str:
    names = [columns[j].header or f"column {j + 1}" for j in chosen[keys:]]
    return ", ".join(names)


def print_table(console: Console, title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], **options) -> None:
    for table in tables(title, headers, rows, console.width, **options):
        console.print(table)


def as_text(value: object) -> Text:
    """A cell as rich shows it: a Text already escaped (safe.cell) as it is, anything else escaped here."""
    return value if isinstance(value, Text) else cell(value)
