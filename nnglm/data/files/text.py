"""Text formats: delimited text (pandas' read_csv, the delimiter sniffed) and JSON (pandas' read_json:
JSON Lines, one record a line, or one array of records, as R's jsonlite::write_json writes a data frame)."""

import bz2
import csv
import gzip
import io
import json as jsonlib
import lzma
import re
import zipfile
import zlib
from typing import Any

import pandas as pd

from nnglm.data.files.base import Table
from nnglm.foundation.errors import UserError, reason, short

DELIMITERS = ",\t;|"  # what sniffing chooses among
SNIFF_BYTES = 65_536


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


def delimited(path: str, fmt: str, compression: str | None, delimiter: str | None) -> Table:
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


# a design of more columns than this is past what the GLM's fit can hold (its covariance alone is
# 10 000 x 10 000 numbers, 800 MB); the bound is checked on the header, before the rows are read
MAX_COLUMNS = 10_000


def _check_header(header: list[str], path: str) -> None:
    if len(header) > MAX_COLUMNS:
        raise UserError(
            f"data.path: {path} has {len(header):,} columns; nnglm reads at most {MAX_COLUMNS:,} "
            "(a GLM of that many coefficients is past what its fit can hold): keep the columns you fit"
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen and name:
            raise UserError(
                f"data.path: column {short(name)} appears twice in the header of {path} (columns {seen[name] + 1} and {i + 1}); rename one"
            )
        seen[name] = i


def check_columns(columns: list[str], path: str) -> None:
    """One rule for every format: a column name appears once (compared as text: 1 and "1" are one name)."""
    _check_header([str(c) for c in columns], path)


# --- JSON ---


def json(path: str, fmt: str, compression: str | None) -> Table:
    try:
        frame = pd.read_json(path, orient="records", lines=fmt == "jsonl", compression=compression, convert_dates=False, dtype=True)
    except UnicodeDecodeError as e:
        raise UserError(f"data.path: {path} is not UTF-8 text (byte 0x{e.object[e.start]:02x}); save it as UTF-8") from None
    except (ValueError, TypeError, AttributeError) as e:  # pandas' words for malformed JSON, or JSON that is not records
        shape = "one JSON object a line" if fmt == "jsonl" else "an array of records, [{...}, {...}]"
        raise UserError(f"data.path: cannot read {path} as JSON ({shape}): {reason(e)}") from None
    except (gzip.BadGzipFile, OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as e:
        raise UserError(f"data.path: cannot read {path} ({compression}): {short(str(e), 200)[1:-1]}") from None
    for name in frame.columns:  # a field that holds a list or an object is kept as its JSON text, a label like any other
        column = frame[name]
        if column.dtype == object and column.map(lambda v: isinstance(v, (list, dict))).any():
            frame[name] = column.map(lambda v: jsonlib.dumps(v) if isinstance(v, (list, dict)) else v)
    what = "JSON Lines" if fmt == "jsonl" else "JSON records"
    return Table(frame, what + (f", {compression}-compressed" if compression else ""))
