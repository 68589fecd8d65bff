"""Writes the other formats' files in data/r/ from the R files that write_files.R writes (run once, from the
project root: .venv/bin/python data/r/write_files.py); each through the library made for its format."""

import shutil
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyreadr
import pyreadstat

HERE = Path(__file__).resolve().parent

warpbreaks = pyreadr.read_r(HERE / "warpbreaks.rds")[None]
objects = pyreadr.read_r(HERE / "InsectSprays_esoph.RData")
sprays, esoph = objects["InsectSprays"], objects["esoph"]


def text(frame):
    """The frame with its factors as their labels: formats without factors hold text."""
    return frame.astype({c: str for c in frame.select_dtypes("category").columns})


pyreadstat.write_xport(text(sprays), str(HERE / "InsectSprays.xpt"), table_name="SPRAYS", file_format_version=5)
pyreadstat.write_sas7bdat(text(esoph), str(HERE / "esoph.sas7bdat"))
text(warpbreaks).to_json(HERE / "warpbreaks.jsonl", orient="records", lines=True)
text(sprays).to_json(HERE / "InsectSprays.json", orient="records", indent=1)
text(esoph).to_excel(HERE / "esoph.ods", engine="odf", index=False, sheet_name="esoph")

folder = HERE / "warpbreaks_by_tension"
shutil.rmtree(folder, ignore_errors=True)
pq.write_to_dataset(
    pa.Table.from_pandas(text(warpbreaks), preserve_index=False),
    folder,
    partition_cols=["tension"],
    basename_template="part-{i}.parquet",
)

database = HERE / "R_datasets.sqlite"
database.unlink(missing_ok=True)
with sqlite3.connect(database) as con:
    for name, frame in [("warpbreaks", warpbreaks), ("InsectSprays", sprays), ("esoph", esoph)]:
        text(frame).to_sql(name, con, index=False)
    con.execute("CREATE TABLE empty (y REAL, x REAL)")
con.close()
