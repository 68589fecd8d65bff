"""The binary formats of data and statistics programs: Parquet (a file, or a Hive-partitioned folder)
and Feather through pyarrow, Stata through pandas, SPSS and SAS through pyreadstat, R's .rds and .RData
through pyreadr. A labelled or factor column becomes a categorical whose levels keep their codes' order,
as R and Stata give them, so that the reference level is R's."""

import os
import warnings
from pathlib import Path

import pandas as pd

from nnglm.data.files.base import Table
from nnglm.foundation.errors import UserError, short

MAX_PARTS = 100_000  # files of a partitioned folder listed before reading it


def read(path: str, fmt: str, object_name: str | None) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "feather":
        return pd.read_feather(path)
    if fmt == "stata":
        return pd.read_stata(path)  # value labels become categories, in their codes' order
    if fmt == "spss":
        return spss(path)
    if fmt == "xpt":
        import pyreadstat

        return pyreadstat.read_xport(path)[0]
    if fmt == "sas7bdat":
        import pyreadstat

        return pyreadstat.read_sas7bdat(path)[0]
    if fmt in ("rds", "rdata"):
        bound_r(path)
    if fmt == "rds":
        import pyreadr

        return r_numbers(pyreadr.read_r(path)[None])
    if fmt == "rdata":
        return r_numbers(rdata(path, object_name))
    raise AssertionError(fmt)


def r_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """R's integer columns with NA come from pyreadr as Python objects (ints and NaN); read as the numbers
    they are, as R holds them (as text they would be factors of as many levels as values)."""
    for column, dtype in frame.dtypes.items():
        if pd.api.types.is_object_dtype(dtype):
            present = frame[column].dropna()
            if len(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
                frame[column] = pd.to_numeric(frame[column])
    return frame


def spss(path: str) -> pd.DataFrame:
    """An SPSS file, its value labels as levels in their codes' order (pandas' read_spss sorts them by label)."""
    import pyreadstat

    frame, meta = pyreadstat.read_sav(path, apply_value_formats=False, user_missing=False)
    for column, labels in meta.variable_value_labels.items():
        if column in frame.columns and labels:
            frame[column] = labelled(frame[column], labels)
    return frame


def labelled(values: pd.Series, labels: dict) -> pd.Series:
    """Codes with value labels as a categorical: one level a code in the codes' order, a code no label names
    its own level (as haven::as_factor does); missing stays missing."""
    present = values.dropna().unique().tolist()
    codes = sorted(set(labels) | set(present), key=lambda c: (isinstance(c, str), c))
    names = {c: str(labels[c]) if c in labels else _code_text(c) for c in codes}
    levels = list(dict.fromkeys(names.values()))  # two codes under one label are one level, as in R's factor()
    return pd.Series(pd.Categorical(values.map(names, na_action="ignore"), categories=levels), index=values.index)


def _code_text(code: object) -> str:
    return str(int(code)) if isinstance(code, float) and code.is_integer() else str(code)


def bound_r(path: str) -> None:
    """Refuses an R file that decompresses past half this machine's memory, before pyreadr holds it all:
    saveRDS compresses, and a few megabytes of gzip can hold gigabytes of zeros."""
    import bz2
    import gzip
    import lzma

    limit = max_r_bytes()
    with open(path, "rb") as f:
        start = f.read(6)
    opener = (
        gzip.open
        if start.startswith(b"\x1f\x8b")
        else bz2.open
        if start.startswith(b"BZh")
        else lzma.open
        if start.startswith(b"\xfd7zXZ")
        else None
    )
    if opener is None:
        return  # uncompressed: its size on disk is what it holds
    seen = 0
    with opener(path, "rb") as f:
        while chunk := f.read(1 << 22):
            seen += len(chunk)
            if seen > limit:
                raise UserError(
                    f"data.path: {path} expands to more than {limit / 2**30:.3g} GiB once decompressed, more than half this "
                    "machine's memory; save fewer rows or columns"
                )


def max_r_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def rdata(path: str, object_name: str | None) -> pd.DataFrame:
    """One object of an .RData file: data.object, or the only one it holds (the file parsed once when it is there)."""
    import pyreadr

    with warnings.catch_warnings():  # pyreadr warns where the object is missing; the message below says it
        warnings.simplefilter("ignore", UserWarning)
        objects = pyreadr.read_r(path) if object_name is None else pyreadr.read_r(path, use_objects=[object_name])
    if object_name is None and len(objects) == 1:
        return next(iter(objects.values()))
    if object_name is not None and object_name in objects:
        return objects[object_name]
    names = list(objects) if object_name is None else [str(o["object_name"]) for o in pyreadr.list_objects(path)]
    listing = ", ".join(short(n) for n in names[:50]) + (f" and {len(names) - 50} more" if len(names) > 50 else "")
    if not names:
        raise UserError(f"data.path: {path} holds no data frame pyreadr can read")
    if object_name is None:
        raise UserError(f"data.object: {path} holds {len(names)} objects; name the one to read: {listing}")
    raise UserError(f"data.object: {path} has no object {short(object_name)}; its objects: {listing}")


def parquet_folder(path: str) -> Table:
    """A partitioned Parquet folder through pyarrow's datasets: each key=value folder level becomes a
    column, as a factor (its levels sorted); only .parquet files are read, hidden and _-prefixed ones not."""
    import pyarrow.dataset as ds

    parts = []
    for i, part in enumerate(Path(path).rglob("*")):
        if i >= MAX_PARTS:
            raise UserError(f"data.path: {path} holds more than {MAX_PARTS:,} files; nnglm reads a partitioned Parquet folder of fewer")
        hidden = any(p.startswith((".", "_")) for p in part.relative_to(path).parts)
        if part.suffix.lower() in (".parquet", ".pq") and part.is_file() and not hidden:
            parts.append(str(part))
    if not parts:
        raise UserError(f"data.path: {path} is a folder; give a data file")
    dataset = ds.dataset(sorted(parts), format="parquet", partitioning="hive", partition_base_dir=path)
    partitions = [n for n in dataset.partitioning.schema.names] if dataset.partitioning else []
    frame = dataset.to_table().to_pandas()
    for name in partitions:
        frame[name] = frame[name].astype("category")
    by = f"; partitions: {', '.join(partitions)}" if partitions else ""
    return Table(frame, f"a partitioned Parquet folder ({len(parts)} files{by})")
