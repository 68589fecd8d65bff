"""A data file read as its format says: delimited text (csv, tsv; compressed or not), Parquet,
Feather, Excel, Stata, SPSS. The format comes from the name (data.format overrides it), and
the file's first bytes must agree with it: a file whose content does not match its name is
one message naming both, before any reader sees it.
"""

import bz2
import csv
import gzip
import io
import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from nnglm import safe
from nnglm.errors import UserError, short

FORMATS = ("csv", "tsv", "parquet", "feather", "excel", "stata", "spss")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".dta": "stata",
    ".sav": "spss",
    ".zsav": "spss",
}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
DELIMITED = ("csv", "tsv")
DELIMITERS = ",\t;|"  # what sniffing chooses among
SNIFF_BYTES = 65_536
# what each kind of file starts with
MAGIC = {
    "gzip": (b"\x1f\x8b",),
    "bz2": (b"BZh",),
    "xz": (b"\xfd7zXZ\x00",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "parquet": (b"PAR1",),
    "feather": (b"ARROW1", b"FEA1"),
    "excel": (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"),  # xlsx is a zip archive; xls an OLE2 file
    "stata": (b"<stata_dta>",),
    "spss": (b"$FL2", b"$FL3"),
}
NAMES = {
    "gzip": "gzip-compressed",
    "bz2": "bzip2-compressed",
    "xz": "xz-compressed",
    "zip": "a zip archive",
    "parquet": "a Parquet file",
    "feather": "a Feather (Arrow) file",
    "excel": "an Excel workbook",
    "stata": "a Stata .dta file",
    "spss": "an SPSS .sav file",
    "text": "plain text",
    "binary": "binary data of no format nnglm reads",
}


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    read_as: str  # how it was read, for messages: "tab-delimited text (sniffed)"


def format_of(path: str, given: str | None) -> tuple[str, str | None]:
    """(format, compression) of a file: data.format, else the extension; .gz and its kin compress text."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    if given:
        return given, compression
    fmt = EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        fmt = "csv"  # no extension nnglm knows: text, its delimiter sniffed
    if compression and fmt not in DELIMITED:
        raise UserError(f"data.path: {path}: a {fmt} file is not read compressed ({suffixes[-1]}{Path(path).suffix}); decompress it first")
    return fmt, compression


def read(path: str, given: str | None = None, delimiter: str | None = None, sheet: str | int | None = None) -> Table:
    fmt, compression = format_of(path, given)
    head = _head(path)
    expected = compression or fmt
    found = kind(head)
    if not _matches(expected, found, head):
        how = f"data.format: {given}" if given and not compression else f"its name ({Path(path).name})"
        raise UserError(
            f"data.path: {path} should be {NAMES[expected if expected in NAMES else 'text']} by {how}, "
            f"but its content is {NAMES[found]}; rename the file or set data.format ({', '.join(FORMATS)})"
        )
    if fmt in DELIMITED:
        return _delimited(path, fmt, compression, delimiter)
    try:
        return Table(_binary(path, fmt, sheet), NAMES[fmt])
    except UserError:
        raise
    except ImportError as e:
        raise UserError(f"data.path: reading {fmt} files needs {e.name}, which is not installed; run make install") from None
    except Exception as e:  # the readers' own errors on a damaged file
        raise UserError(
            f"data.path: cannot read {path} as {NAMES[fmt]}: {short(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__, 300)[1:-1]}"
        ) from None


def _head(path: str) -> bytes:
    """The file's first bytes; a folder, a device or a FIFO is refused without waiting on it (safe.open_file)."""
    try:
        with safe.open_file(Path(path)) as f:
            return f.read(16)
    except safe.Refused as e:
        if e.what == "a folder":
            raise UserError(f"data.path: {path} is a folder; give a data file") from None
        what = "a FIFO (named pipe)" if e.what == "a FIFO" else e.what
        raise UserError(f"data.path: {path} is {what}, not a regular file; nnglm reads data files only") from None
    except FileNotFoundError:
        raise UserError(f"data.path: file not found: {path}") from None
    except OSError as e:
        raise UserError(f"data.path: cannot read {path}: {e.strerror}") from None


def kind(head: bytes) -> str:
    """What the first bytes say the file is."""
    for name, starts in MAGIC.items():
        if name != "excel" and head.startswith(starts):
            return name
    if head.startswith(MAGIC["excel"][1]):
        return "excel"
    if len(head) >= 2 and 104 <= head[0] <= 119 and head[1] in (1, 2):  # Stata's formats 104-119, before <stata_dta>
        return "stata"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError as e:
        # the 16 bytes may end inside a character, or the text may be Latin-1: let the reader say so
        return "text" if e.start >= len(head) - 3 or b"\x00" not in head else "binary"


def _matches(expected: str, found: str, head: bytes) -> bool:
    if expected in DELIMITED:
        return found in ("text", "binary") and b"\x00" not in head
    if expected == "excel":
        return found in ("zip", "excel")
    return found == expected


# --- delimited text ---


def _open_text(path: str, compression: str | None):
    opener: dict[str, Any] = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
    if compression is not None and compression in opener:
        return io.TextIOWrapper(opener[compression](path, "rb"), encoding="utf-8-sig", newline="")
    if compression == "zip":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise UserError(f"data.path: {path} holds {len(members)} files; a zipped data file holds exactly one")
        return io.TextIOWrapper(archive.open(members[0]), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _delimited(path: str, fmt: str, compression: str | None, delimiter: str | None) -> Table:
    try:
        with _open_text(path, compression) as f:
            sample = f.read(SNIFF_BYTES)
        sep, how = (delimiter, "given") if delimiter else sniff(sample, fmt)
        with _open_text(path, compression) as f:
            header = next(csv.reader(f, delimiter=sep), [])  # whole, however long
        _check_header(header, path)
        frame = _read_csv(path, sep, compression, ".")
        if sep == ";" and _decimal_commas(frame):  # R's write.csv2 and European spreadsheets: 4,2 is 4.2
            frame, how = _read_csv(path, sep, compression, ","), how + ", decimal commas"
    except UnicodeDecodeError as e:
        raise UserError(
            f"data.path: {path} is not UTF-8 text (byte 0x{e.object[e.start]:02x} in its first lines); save it as UTF-8"
        ) from None
    except (gzip.BadGzipFile, OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as e:
        raise UserError(f"data.path: cannot read {path} ({compression or 'plain text'}): {short(str(e), 200)[1:-1]}") from None
    except csv.Error as e:
        raise UserError(f"data.path: cannot read the header of {path}: {e}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise UserError(f"data.path: cannot read {path} as {fmt.upper()}: {short(str(e).strip(), 300)[1:-1]}") from None
    name = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(sep, repr(sep))
    return Table(frame, f"{name}-delimited text ({how})" + (f", {compression}-compressed" if compression else ""))


# R's NA and its common spellings; unlike pandas' defaults, a level named None (or n/a) stays a level
NA_VALUES = ["", "NA", "NaN", "nan", "N/A", "#N/A", "NULL", "null"]
DECIMAL_COMMA = re.compile(r"^[-+]?\d*,\d+([eE][-+]?\d+)?$")


def _read_csv(path: str, sep: str, compression: str | None, decimal: str) -> pd.DataFrame:
    return pd.read_csv(
        path,
        sep=sep,
        compression=compression,
        encoding="utf-8-sig",
        engine="c",
        keep_default_na=False,
        na_values=NA_VALUES,
        decimal=decimal,
    )


def _decimal_commas(frame: pd.DataFrame) -> bool:
    """A text column whose every value is a number written with a decimal comma."""
    for name in frame.columns:
        values = frame[name].dropna()
        if values.empty or pd.api.types.is_numeric_dtype(values.dtype):
            continue
        text = values.astype(str)
        if text.str.match(DECIMAL_COMMA).any() and (text.str.match(DECIMAL_COMMA) | text.str.fullmatch(r"[-+]?\d+")).all():
            return True
    return False


def sniff(sample: str, fmt: str) -> tuple[str, str]:
    """The delimiter of a sample of delimited text: (delimiter, 'sniffed' or the default it fell back to)."""
    default = "\t" if fmt == "tsv" else ","
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if len(lines) > 1 and sample.count("\n") > len(lines):  # a partial last line would skew the counts
        lines = lines[:-1]
    best, best_count = default, 0
    for sep in DELIMITERS:
        counts = {len(next(csv.reader([line], delimiter=sep))) for line in lines}
        if len(counts) == 1 and (n := counts.pop()) > 1 and n > best_count:
            best, best_count = sep, n
    return best, "sniffed" if best_count else f"the {fmt} default"


def _check_header(header: list[str], path: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen and name:
            raise UserError(
                f"data.path: column {short(name)} appears twice in the header of {path} (columns {seen[name] + 1} and {i + 1}); rename one"
            )
        seen[name] = i


# --- binary formats ---


def _binary(path: str, fmt: str, sheet: str | int | None) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "feather":
        return pd.read_feather(path)
    if fmt == "stata":
        return pd.read_stata(path)  # value labels become categories, in their codes' order
    if fmt == "spss":
        return pd.read_spss(path)
    return _excel(path, sheet)


def _excel(path: str, sheet: str | int | None) -> pd.DataFrame:
    book = pd.ExcelFile(path)
    sheets = [str(s) for s in book.sheet_names]
    chosen = 0 if sheet is None else sheet
    if isinstance(chosen, str) and chosen not in sheets:
        raise UserError(f"data.sheet: {path} has no sheet {short(chosen)}; its sheets: {', '.join(map(repr, sheets))}")
    if isinstance(chosen, int) and not 0 <= chosen < len(sheets):
        raise UserError(f"data.sheet: {path} has {len(sheets)} sheets, numbered from 0; {chosen} is none of them")
    return book.parse(chosen)
