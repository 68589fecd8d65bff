"""nnglm's readers against the library alone: a table of a million rows written once in each format that
R users keep, then read by nnglm (files.read: the content check, the bounds, the column rule) and by the
library's own call, each the best of a few reads. The goal: nnglm within 2x of the library.

    python -m benchmarks.bench --readers [--rows 1000000]
"""

import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

GOAL = 2.0  # nnglm's read over the library's
ODS_ROWS = 20_000  # odfpy reads about 10 000 cells a second: a million-row sheet would take the bench's hour alone
REPEATS = 3


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "y": rng.poisson(3, rows).astype(float),
            "x1": rng.normal(size=rows),
            "x2": rng.normal(size=rows),
            "g": pd.Categorical(rng.choice(["low", "mid", "high"], rows), categories=["low", "mid", "high"]),
        }
    )


def write(folder: Path, data: pd.DataFrame) -> dict[str, tuple[Path, dict, Callable[[], pd.DataFrame]]]:
    """Each format's file, the keys nnglm reads it with, and the library's own read of it."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyreadr
    import pyreadstat

    text = data.astype({"g": str})
    paths = {name: folder / name for name in ("d.rds", "d.RData", "d.xpt", "d.sas7bdat", "d.jsonl", "d.json", "d.ods", "d.sqlite", "parts")}
    pyreadr.write_rds(paths["d.rds"], data, compress="gzip")
    pyreadr.write_rdata(paths["d.RData"], data, df_name="d", compress="gzip")
    pyreadstat.write_xport(text, str(paths["d.xpt"]))
    pyreadstat.write_sas7bdat(text, str(paths["d.sas7bdat"]))
    text.to_json(paths["d.jsonl"], orient="records", lines=True)
    text.to_json(paths["d.json"], orient="records")
    text[:ODS_ROWS].to_excel(paths["d.ods"], engine="odf", index=False)
    with sqlite3.connect(paths["d.sqlite"]) as con:
        text.to_sql("d", con, index=False)
    con.close()
    pq.write_to_dataset(pa.Table.from_pandas(text, preserve_index=False), paths["parts"], partition_cols=["g"])

    def sql() -> pd.DataFrame:
        with sqlite3.connect(paths["d.sqlite"]) as con:
            return pd.read_sql("SELECT * FROM d", con)

    return {
        "rds": (paths["d.rds"], {}, lambda: pyreadr.read_r(paths["d.rds"])[None]),
        "RData": (paths["d.RData"], {}, lambda: pyreadr.read_r(paths["d.RData"])["d"]),
        "xpt": (paths["d.xpt"], {}, lambda: pyreadstat.read_xport(str(paths["d.xpt"]))[0]),
        "sas7bdat": (paths["d.sas7bdat"], {}, lambda: pyreadstat.read_sas7bdat(str(paths["d.sas7bdat"]))[0]),
        "jsonl": (paths["d.jsonl"], {}, lambda: pd.read_json(paths["d.jsonl"], lines=True)),
        "json": (paths["d.json"], {}, lambda: pd.read_json(paths["d.json"], orient="records")),
        f"ods ({ODS_ROWS:,} rows)": (paths["d.ods"], {}, lambda: pd.read_excel(paths["d.ods"], engine="odf")),
        "sqlite table": (paths["d.sqlite"], {"table": "d"}, sql),
        "partitioned Parquet": (paths["parts"], {}, lambda: pd.read_parquet(paths["parts"])),
    }


def best(read: Callable[[], pd.DataFrame]) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        rows = len(read())
        times.append(time.perf_counter() - started)
    return min(times), rows


def reader_cost(rows: int = 1_000_000) -> dict:
    from nnglm.data import files

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (path, keys, library) in write(Path(folder), frame(rows)).items():

            def read(p: Path = path, k: dict = keys) -> pd.DataFrame:
                return files.read(str(p), **k).frame

            nnglm_seconds, nnglm_rows = best(read)
            library_seconds, library_rows = best(library)
            assert nnglm_rows == library_rows, (name, nnglm_rows, library_rows)
            results[name] = {"rows": nnglm_rows, "nnglm": nnglm_seconds, "library": library_seconds}
    return results


def readers_line(cost: dict) -> str:
    parts = [f"{name} {c['nnglm']:.2f} s / {c['library']:.2f} s ({c['nnglm'] / c['library']:.2f}x)" for name, c in cost.items()]
    worst = max(c["nnglm"] / c["library"] for c in cost.values())
    verdict = "met" if worst <= GOAL else "MISSED"
    rows = max(c["rows"] for c in cost.values())
    return f"readers, {rows:,} rows, nnglm / the library alone: " + "; ".join(parts) + f" (goal: within {GOAL:g}x: {verdict})"
