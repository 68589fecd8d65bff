"""A data file read as its format says: delimited text (csv, tsv; compressed or not), JSON, Parquet
(a file, or a Hive-partitioned folder), Feather, Excel, OpenDocument, Stata, SPSS, SAS, R's .rds and
.RData, an SQLite database, or a database at an SQLAlchemy URL. The format comes from the name
(data.format overrides it), and the file's first bytes must agree with it: a file whose content does
not match its name is one message naming both, before any reader sees it. Each format is read by the
library made for it (text.py, stats.py, spreadsheets.py, databases.py); this module picks which.
"""

import bz2
import gzip
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nnglm.data.files.base import Table as Table  # every reader returns one
from nnglm.foundation import safe
from nnglm.foundation.errors import UserError, reason
from nnglm.vocabulary.formats import DELIMITED, FORMATS, format_of

HEAD_BYTES = 128  # enough for the longest signature below (an OpenDocument file's mimetype)
# what each kind of file starts with
MAGIC = {
    "gzip": (b"\x1f\x8b",),
    "bz2": (b"BZh",),
    "xz": (b"\xfd7zXZ\x00",),
    "parquet": (b"PAR1",),
    "feather": (b"ARROW1", b"FEA1"),
    "stata": (b"<stata_dta>",),
    "spss": (b"$FL2", b"$FL3"),
    "sqlite": (b"SQLite format 3\x00",),
    "xpt": (b"HEADER RECORD*******LIB",),  # versions 5 (LIBRARY) and 8 (LIBV8)
    "sas7bdat": (b"\x00" * 12 + b"\xc2\xea\x81\x60\xb3\x14\x11\xcf\xbd\x92\x08\x00\x09\xc7\x31\x8c\x18\x1f\x10\x11",),
    "rdata": (b"RDX2\n", b"RDX3\n", b"RDA2\n", b"RDA3\n", b"RDB2\n", b"RDB3\n"),
    "utf16": (b"\xff\xfe", b"\xfe\xff"),
}
ZIP = (b"PK\x03\x04", b"PK\x05\x06")
OLE2 = b"\xd0\xcf\x11\xe0"  # an .xls workbook
ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
RDS = (b"X\n", b"A\n", b"B\n")  # saveRDS's serialization (XDR, ASCII, native), once decompressed
NAMES = {
    "gzip": "gzip-compressed data",
    "bz2": "bzip2-compressed data",
    "xz": "xz-compressed data",
    "zip": "a zip archive",
    "csv": "plain text",
    "tsv": "plain text",
    "text": "plain text",
    "json": "JSON text",
    "jsonl": "JSON text",
    "parquet": "a Parquet file",
    "feather": "a Feather (Arrow) file",
    "excel": "an Excel workbook",
    "ods": "an OpenDocument spreadsheet",
    "stata": "a Stata .dta file",
    "spss": "an SPSS .sav file",
    "xpt": "a SAS transport (.xpt) file",
    "sas7bdat": "a SAS .sas7bdat file",
    "rds": "an R .rds file",
    "rdata": "an R .RData file",
    "sqlite": "an SQLite database",
    "utf16": "UTF-16 text (nnglm reads UTF-8)",
    "binary": "binary data of no format nnglm reads",
}


@dataclass(frozen=True)
class Request:
    """What to read and how: the data section's file keys."""

    path: str | None = None
    format: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    object: str | None = None  # rdata: which object
    table: str | None = None  # a database: which table ...
    query: str | None = None  # ... or which SELECT
    url: str | None = None  # a database at an SQLAlchemy URL instead of a file


# R 3.5 and later write some vectors compactly (a factor made by gl() or factor(x, levels = 1:3)), which
# pyreadr's librdata cannot read; R's older serialization writes them in full
R_VERSION_HINT = (
    "; R writes some factors (gl()'s, factor(x, levels = 1:3)) in a form pyreadr cannot read: save the data "
    "with saveRDS(x, file, version = 2) or save(x, file = ..., version = 2), or as CSV"
)


def read(
    path: str | None, given: str | None = None, delimiter: str | None = None, sheet: str | int | None = None, **keys: str | None
) -> Table:
    """The table the data section names: read(path, format, delimiter, sheet, object=, table=, query=, url=)."""
    request = Request(path, given, delimiter, sheet, **keys)
    if request.url is not None:
        from nnglm.data.files import databases

        return databases.read_url(request.url, request.table, request.query)
    assert request.path is not None  # the schema requires one of path and url
    path = request.path
    if Path(path).is_dir():
        return _folder(path, given)
    fmt, compression = format_of(path, given)
    head = _head(path)
    check_content(path, fmt, compression, given, head)
    try:
        table = _read(request, fmt, compression)
    except UserError:
        raise
    except MemoryError:
        raise
    except ImportError as e:
        raise UserError(f"data.path: reading {fmt} files needs {e.name}, which is not installed (pip install {e.name})") from None
    except Exception as e:  # the readers' own errors on a damaged file
        hint = R_VERSION_HINT if fmt in ("rds", "rdata") and "unsupported features" in str(e) else ""
        raise UserError(f"data.path: cannot read {path} as {NAMES[fmt]}: {reason(e)}{hint}") from None
    from nnglm.data.files.text import check_columns

    check_columns(list(table.frame.columns), path)  # one rule for every format: a name appears once
    return table


def _read(request: Request, fmt: str, compression: str | None) -> Table:
    from nnglm.data.files import databases, spreadsheets, stats, text

    path = str(request.path)
    if fmt in DELIMITED:
        return text.delimited(path, fmt, compression, request.delimiter)
    if fmt in ("json", "jsonl"):
        return text.json(path, fmt, compression)
    if fmt in ("excel", "ods"):
        return Table(spreadsheets.read(path, fmt, request.sheet), NAMES[fmt])
    if fmt == "sqlite":
        return databases.read_sqlite(path, request.table, request.query)
    return Table(stats.read(path, fmt, request.object), NAMES[fmt])


def _folder(path: str, given: str | None) -> Table:
    """A folder: a partitioned Parquet dataset (Hive style, year=2020/part-0.parquet), or refused."""
    from nnglm.data.files import stats

    if given not in (None, "parquet"):
        raise UserError(f"data.path: {path} is a folder; data.format {given} reads a file (a folder is read as partitioned Parquet)")
    try:
        return stats.parquet_folder(path)
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"data.path: cannot read {path} as a partitioned Parquet folder: {reason(e)}") from None


def _head(path: str) -> bytes:
    """The file's first bytes; a device or a FIFO is refused without waiting on it (safe.open_file)."""
    try:
        with safe.open_file(Path(path)) as f:
            return f.read(HEAD_BYTES)
    except safe.Refused as e:
        what = "a FIFO (named pipe)" if e.what == "a FIFO" else e.what
        raise UserError(f"data.path: {path} is {what}, not a regular file; nnglm reads data files only") from None
    except FileNotFoundError:
        raise UserError(f"data.path: file not found: {path}") from None
    except OSError as e:
        raise UserError(f"data.path: cannot read {path}: {e.strerror}") from None


def kind(head: bytes) -> str:
    """What the first bytes say the file is (a key of NAMES)."""
    for name, starts in MAGIC.items():
        if head.startswith(starts):
            return name
    if head.startswith(ZIP):
        return "ods" if ODS_MIMETYPE in head else "zip"
    if head.startswith(OLE2):
        return "excel"
    if len(head) >= 2 and 104 <= head[0] <= 119 and head[1] in (1, 2):  # Stata's formats 104-119, before <stata_dta>
        return "stata"
    if b"\x00" in head:
        return "binary"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        # the bytes may end inside a character, or the text may be Latin-1: let the reader say so
        text = head[: e.start].decode("utf-8")
    return "json" if text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{") else "text"


def check_content(path: str, fmt: str, compression: str | None, given: str | None, head: bytes) -> None:
    """The first bytes agree with the format the name (or data.format) promised; else one message naming both."""
    expected = compression or fmt
    found = kind(head)
    if compression is None and fmt in ("rds", "rdata") and found in ("gzip", "bz2", "xz"):
        found = _inside_r(path, found) or fmt  # saveRDS and save compress by default; a damaged stream is the reader's to name
    if _matches(expected, found, head):
        return
    how = f"data.format: {given}" if given and not compression else f"its name ({Path(path).name})"
    raise UserError(
        f"data.path: {path} should be {NAMES[expected]} by {how}, but its content is {NAMES[found]}; "
        f"rename the file or set data.format ({', '.join(FORMATS)})"
    )


def _inside_r(path: str, compression: str) -> str | None:
    """What a compressed file holds, if it is R's: rds or rdata; else the compression's own name; None
    where the stream cannot be read (a damaged file, which the R reader then names as such)."""
    openers: dict[str, Callable[..., Any]] = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
    opener = openers[compression]
    try:
        with opener(path, "rb") as f:
            start = f.read(5)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return None
    if start.startswith(MAGIC["rdata"]):
        return "rdata"
    return "rds" if start.startswith(RDS) else compression


def _matches(expected: str, found: str, head: bytes) -> bool:
    if expected in DELIMITED:
        return found in ("text", "json")
    if expected in ("json", "jsonl"):
        return found == "json"
    if expected == "excel":
        return found in ("zip", "excel")
    if expected == "rds":
        return found == "rds" or head.startswith(RDS)
    return found == expected
