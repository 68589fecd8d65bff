"""The data file formats nnglm reads, named as data.format names them, and the file name endings that
imply each: what a config is checked against before any file is opened (the readers: data/files/)."""

from pathlib import Path

from nnglm.foundation.errors import UserError

FORMATS = (
    "csv",
    "tsv",
    "jsonl",
    "json",
    "parquet",
    "feather",
    "excel",
    "ods",
    "stata",
    "spss",
    "xpt",
    "sas7bdat",
    "rds",
    "rdata",
    "sqlite",
)
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".ods": "ods",
    ".dta": "stata",
    ".sav": "spss",
    ".zsav": "spss",
    ".xpt": "xpt",
    ".sas7bdat": "sas7bdat",
    ".rds": "rds",
    ".rdata": "rdata",
    ".rda": "rdata",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
DELIMITED = ("csv", "tsv")
TEXT = DELIMITED + ("jsonl", "json")  # the formats read compressed too


def format_of(path: str, given: str | None) -> tuple[str, str | None]:
    """(format, compression) of a file: data.format, else the extension; .gz and its kin compress text."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    if given:
        fmt = given
    else:
        fmt = EXTENSIONS.get(suffixes[-1], "csv") if suffixes else "csv"  # no extension nnglm knows: text, its delimiter sniffed
    if compression and fmt not in TEXT:
        shown = f"{suffixes[-1]}{Path(path).suffix}" if suffixes else Path(path).suffix
        raise UserError(f"data.path: {path}: a {fmt} file is not read compressed ({shown}); decompress it first")
    return fmt, compression
