"""A pandas DataFrame as a run's data: `data.source: dataframe`, the Python API's `data=`.

The frame is no key of the config: the config holds its content hash (`data.sha256`), and nnglm.run
hands the frame down with each config it runs (`hand`), where the reader finds it. Each run folder records the frame's shape,
columns, dtypes and hash in result.json (`data.dataframe`) and keeps a Parquet copy of it,
`data.parquet`, when the frame takes at most MAX_KEPT_BYTES in memory; its config.yaml then names
the copy as `data.path`, so that a rerun of that config, `nnglm report` and `nnglm validate` need
nothing but the folder.
"""

import hashlib
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nnglm.config import Config, DataFrameData
from nnglm.foundation.errors import UserError, clip, short
from nnglm.log.result import FrameSection, RunResult

MAX_KEPT_BYTES = 100 * 2**20  # a larger frame is recorded (shape, columns, dtypes, hash) but not copied


def content_hash(frame: pd.DataFrame) -> str:
    """sha256 of the column names, their dtypes and every value (the row index left out): the same for
    the same table, whichever process or Parquet round trip it came through."""
    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def check(frame: object) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise UserError(f"data: a pandas DataFrame, or None to read the data the config names (got {clip(type(frame).__name__)})")
    if not frame.columns.is_unique:
        twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise UserError(f"data: the DataFrame has columns of the same name: {', '.join(map(short, twice))}; rename them")
    return frame


def hash_of_given(frame: pd.DataFrame) -> str:
    """content_hash of a frame from the user; a column of values no hash takes (lists, dicts) named."""
    try:
        return content_hash(frame)
    except TypeError:  # the column is looked for only now, so that a good frame is hashed once
        for column in [c for c, dtype in frame.dtypes.items() if pd.api.types.is_object_dtype(dtype)]:
            try:
                pd.util.hash_pandas_object(frame[column], index=False)
            except TypeError:
                cell = next((v for v in frame[column] if not isinstance(v, (str, bytes, int, float, bool, type(None)))), None)
                raise UserError(
                    f"data: column {short(str(column))} holds {clip(type(cell).__name__)} values; a column holds numbers, "
                    "text or categories: drop it (data=df.drop(columns=...)) or make it text"
                ) from None
        raise


@dataclass(frozen=True, eq=False)
class Given:
    """The frame given to nnglm.run, as a config holds it (DataFrameData._given): compared by identity,
    as a config compares its private attributes, never by value."""

    frame: pd.DataFrame


def hand(points: list[tuple[dict, Config]], frame: pd.DataFrame) -> None:
    """The frame handed down with each point's config, which names it by its content hash (api.with_frame)."""
    given = Given(frame)
    for _, config in points:
        if isinstance(config.data, DataFrameData):
            config.data._given = given


def read(data: DataFrameData) -> pd.DataFrame:
    """The frame of a `dataframe` source: the one given to nnglm.run, or the Parquet copy at data.path."""
    if isinstance(data._given, Given):
        return data._given.frame.copy(deep=False)  # the reader renames columns; the caller's frame stays as it is
    if data.path is None:
        raise UserError(
            "data.source: dataframe reads the DataFrame given to nnglm.run(config, data=df), and none was given; "
            "from the command line, give data.path (a Parquet copy of it, as a run folder keeps in data.parquet)"
        )
    frame = read_parquet(data.path)
    if data.sha256 is not None and content_hash(frame) != data.sha256:
        raise UserError(
            f"data.path: {clip(data.path, 200)} is not the DataFrame this config was run with "
            f"(its content hash is {content_hash(frame)[:12]}…, data.sha256 {data.sha256[:12]}…)"
        )
    return frame


def read_parquet(path: str) -> pd.DataFrame:
    """The copy, read as a data file of format parquet is (files.py: a folder, a device or other content refused)."""
    from nnglm.data import files

    if not path.endswith(".parquet"):
        raise UserError(f"data.path: {clip(path, 200)}: a dataframe source reads a Parquet copy (data.parquet, as a run folder keeps it)")
    return restored(files.read(path).frame, _recorded_dtypes(path))


# the pandas dtypes Parquet does not bring back (text kept as object, a categorical's categories and
# order), recorded in the copy's own metadata and restored when it is read
DTYPES_KEY = b"nnglm.dtypes"


def dtypes_of(frame: pd.DataFrame) -> dict[str, dict]:
    kept: dict[str, dict] = {}
    for column, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            kept[str(column)] = {"categories": dtype.categories.tolist(), "ordered": bool(dtype.ordered)}
        elif pd.api.types.is_object_dtype(dtype):
            kept[str(column)] = {"object": True}
    return kept


def restored(frame: pd.DataFrame, kept: dict[str, dict]) -> pd.DataFrame:
    """frame with the dtypes its copy recorded (columns it no longer has, or values that do not fit, left as read)."""
    for column, how in kept.items():
        if column not in frame.columns:
            continue
        try:
            if "categories" in how:
                frame[column] = pd.Categorical(frame[column], categories=how["categories"], ordered=how["ordered"])
            elif how.get("object"):
                frame[column] = frame[column].astype(object)
        except (TypeError, ValueError):
            continue
    return frame


def _recorded_dtypes(path: str) -> dict[str, dict]:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        kept = json.loads(metadata.get(DTYPES_KEY, b"{}"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) and all(isinstance(v, dict) for v in kept.values()) else {}


def parquet_copy(frame: pd.DataFrame) -> bytes:
    """The frame as Parquet, with the dtypes Parquet does not bring back recorded in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.rename(columns=str), preserve_index=False)
    metadata = dict(table.schema.metadata or {}) | {DTYPES_KEY: json.dumps(dtypes_of(frame)).encode()}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def record(frame: pd.DataFrame) -> FrameSection:
    return FrameSection(
        n_rows=len(frame),
        n_columns=frame.shape[1],
        columns=[str(c) for c in frame.columns],
        dtypes={str(c): str(t) for c, t in frame.dtypes.items()},
        sha256=content_hash(frame),
        memory_bytes=int(frame.memory_usage(deep=True, index=True).sum()),
    )


def keep(run_dir: Path, data: DataFrameData, result: RunResult) -> None:
    """The frame's record in result.data, and its Parquet copy in the run folder when it is small
    enough, which the folder's config names (data.path, data.sha256) for a rerun."""
    try:
        _keep(run_dir, data, result)
    except BaseException:  # the folder holds nothing else yet: leave none behind
        shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _keep(run_dir: Path, data: DataFrameData, result: RunResult) -> None:
    from nnglm.log import runlog

    frame = read(data)
    section = record(frame)
    size = section.memory_bytes or 0
    if size > MAX_KEPT_BYTES:
        section.note = f"not kept: {size / 2**20:.0f} MB in memory, above the {MAX_KEPT_BYTES // 2**20} MB kept in a run folder"
    else:
        try:
            copy = parquet_copy(frame)
            back = content_hash(restored(pd.read_parquet(io.BytesIO(copy)), dtypes_of(frame)))
        except Exception as e:  # a column Parquet cannot hold (mixed Python objects)
            section.note = f"not kept: Parquet cannot hold it ({clip(f'{type(e).__name__}: {e}', 200)})"
        else:
            if back != section.sha256:
                section.note = "not kept: its Parquet copy would not read back as the same frame (a column type Parquet does not keep)"
            else:
                runlog.write_atomic(run_dir / runlog.DATA_FILE, copy)
                section.kept = runlog.DATA_FILE
                result.config["data"]["path"] = str(run_dir / runlog.DATA_FILE)
    result.config["data"]["sha256"] = section.sha256
    if result.data is not None:
        result.data.dataframe = section
