"""Spreadsheets: Excel workbooks (pandas through openpyxl) and OpenDocument spreadsheets (pandas through
odfpy). A workbook is a zip of XML that can expand far beyond its size: a few kilobytes can hold one
cell at XFD1048576, which pandas pads into a grid of 17 billion cells, or millions of shared strings.
So what the chosen sheet would expand to is bounded before pandas sees it: the zip's declared sizes
(zipfile stops at them), the shared-strings count, and the used range of the cells the sheet holds."""

import re
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath

import pandas as pd

from nnglm.data.files.text import check_columns
from nnglm.foundation.errors import UserError, short

MAX_CELLS = 20_000_000  # rows x columns of a sheet's used range; pandas holds each as a Python object
MAX_SHARED_STRINGS = 5_000_000
MAX_XML_BYTES = 1 << 30  # one part of the workbook, uncompressed
CHUNK = 1 << 20
OVERLAP = 512  # longer than any tag the patterns below match up to its reference
# a cell's or a row's reference, wherever it stands in its tag: <c r="XFD1048576" ...>, <row r="7" ...>
REFERENCE = re.compile(rb'<(?:\w+:)?(c|row)\b[^>]{0,400}?\sr="([A-Z]{0,3})([0-9]{1,9})"')
SHARED_STRING = re.compile(rb"<(?:\w+:)?si[\s>/]")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
RELATION = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def read(path: str, fmt: str, sheet: str | int | None) -> pd.DataFrame:
    engine = "odf" if fmt == "ods" else None
    if fmt == "excel" and zipfile.is_zipfile(path):
        bound_workbook(path, sheet)
    elif fmt == "ods":
        bound_ods(path, sheet)
    book = pd.ExcelFile(path, engine=engine)
    sheets = [str(s) for s in book.sheet_names]
    chosen = 0 if sheet is None else sheet
    if isinstance(chosen, str) and chosen not in sheets:
        raise UserError(f"data.sheet: {path} has no sheet {short(chosen)}; its sheets: {', '.join(map(repr, sheets))}")
    if isinstance(chosen, int) and not 0 <= chosen < len(sheets):
        raise UserError(f"data.sheet: {path} has {len(sheets)} sheets, numbered from 0; {chosen} is none of them")
    # pandas renames a repeated header (GPA, GPA.1); read the header row as it is and refuse it as a CSV's is
    header = book.parse(chosen, header=None, nrows=1)
    check_columns([_header_text(v) for v in header.iloc[0]] if len(header) else [], path)
    return book.parse(chosen)


def _header_text(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _bound_parts(path: str) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(path)
    for info in archive.infolist():
        if info.file_size > MAX_XML_BYTES:
            raise UserError(
                f"data.path: {path}: its part {short(info.filename)} expands to {info.file_size:,} bytes, more than the "
                f"{MAX_XML_BYTES:,} nnglm reads of a workbook; save the data as CSV or Parquet"
            )
    return archive


def bound_workbook(path: str, sheet: str | int | None) -> None:
    """Refuses an .xlsx whose shared strings or chosen sheet would expand past the bounds above."""
    archive = _bound_parts(path)
    names = set(archive.namelist())
    if "xl/sharedStrings.xml" in names:
        if _count(archive, "xl/sharedStrings.xml", SHARED_STRING, MAX_SHARED_STRINGS) > MAX_SHARED_STRINGS:
            raise UserError(
                f"data.path: {path} holds more than {MAX_SHARED_STRINGS:,} shared strings, the most nnglm reads "
                "of a workbook; save the data as CSV or Parquet"
            )
    located = _sheet_part(archive, sheet)
    if located is None or located[1] not in names:
        return  # pandas names a missing sheet
    name, part = located
    rows, columns = _used_range(archive, part)
    if rows * columns > MAX_CELLS:
        raise UserError(
            f"data.path: sheet {short(name)} of {path} spans {rows:,} rows by {columns:,} columns (to its last cell, "
            f"{_column_name(columns)}{rows}): {rows * columns:,} cells, more than the {MAX_CELLS:,} nnglm reads; "
            "delete the stray cells beyond the data, or save the data as CSV or Parquet"
        )


def bound_ods(path: str, sheet: str | int | None) -> None:
    """Refuses an .ods whose chosen sheet pandas would expand past MAX_CELLS: a row or a cell may say it
    repeats a million times (number-rows-repeated, number-columns-repeated), and pandas writes out every
    repeat up to the last value, then pads each row to the longest."""
    archive = _bound_parts(path)
    if "content.xml" not in archive.namelist():
        return  # pandas says what is wrong
    chosen = 0 if sheet is None else sheet
    index, rows, width, pending, row_width, row_repeat, in_sheet = -1, 0, 0, 0, 0, 1, False
    with archive.open("content.xml") as f:
        for event, element in ElementTree.iterparse(f, events=("start", "end")):
            tag = element.tag
            if tag == f"{ODS_TABLE}table":
                if event == "start":
                    index += 1
                    in_sheet = chosen == index if isinstance(chosen, int) else chosen == element.get(f"{ODS_TABLE}name")
                    name = element.get(f"{ODS_TABLE}name", str(index))
                elif in_sheet:
                    break
            elif not in_sheet:
                pass
            elif tag == f"{ODS_TABLE}table-row" and event == "start":
                row_width, filled, row_repeat = 0, 0, int(element.get(f"{ODS_TABLE}number-rows-repeated", "1"))
            elif tag in (f"{ODS_TABLE}table-cell", f"{ODS_TABLE}covered-table-cell") and event == "end":
                row_width += int(element.get(f"{ODS_TABLE}number-columns-repeated", "1"))
                if element.get(f"{ODS_OFFICE}value-type") is not None or len(element):
                    filled = row_width
            elif tag == f"{ODS_TABLE}table-row" and event == "end":
                pending += row_repeat  # an empty row counts once a row with values follows it
                if filled:
                    rows, pending, width = rows + pending, 0, max(width, filled)
                    if rows * width > MAX_CELLS:
                        raise UserError(
                            f"data.path: sheet {short(name)} of {path} repeats its cells to at least {rows:,} rows by {width:,} "
                            f"columns: {rows * width:,} cells, more than the {MAX_CELLS:,} nnglm reads; "
                            "save the data as CSV or Parquet"
                        )
            if event == "end" and tag != f"{ODS_TABLE}table":
                element.clear()


def _sheet_part(archive: zipfile.ZipFile, sheet: str | int | None) -> tuple[str, str] | None:
    """(name, part) of the sheet data.sheet picks, from xl/workbook.xml and its relationships."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    sheets = [(s.get("name", ""), s.get(RELATION, "")) for s in book.iter(f"{MAIN}sheet")]
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    chosen = 0 if sheet is None else sheet
    picked = [s for s in sheets if s[0] == chosen] if isinstance(chosen, str) else sheets[chosen : chosen + 1]
    if not picked:
        return None
    name, rid = picked[0]
    target = targets.get(rid, "")
    part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    return name, part


def _chunks(archive: zipfile.ZipFile, part: str) -> Iterator[tuple[bytes, int]]:
    """The part's bytes in blocks that overlap the block before by a tag's length, so that no match is cut
    in two; each with the length of its overlap."""
    tail = b""
    with archive.open(part) as f:
        while chunk := f.read(CHUNK):
            yield tail + chunk, len(tail)
            tail = chunk[-OVERLAP:]


def _count(archive: zipfile.ZipFile, part: str, pattern: re.Pattern, limit: int) -> int:
    """Matches of the pattern in the part, counted up to just past the limit."""
    count = 0
    for block, overlap in _chunks(archive, part):
        count += sum(1 for m in pattern.finditer(block) if m.end() > overlap)  # one that ends in the overlap was counted before
        if count > limit:
            break
    return count


def _used_range(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """The sheet's last row and last column that hold a cell (or a row element), 1-based."""
    rows = columns = 0
    for block, _ in _chunks(archive, part):
        for tag, column, row in REFERENCE.findall(block):
            rows = max(rows, int(row))
            if tag == b"c" and column:
                columns = max(columns, _column_number(column.decode()))
    return rows, max(columns, 1)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _column_name(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
