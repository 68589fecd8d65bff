"""The files R users keep, read by the library made for each and fitted: R's .rds and .RData, SAS,
JSON, OpenDocument, a partitioned Parquet folder, SQLite files and SQLAlchemy URLs (data/r/, written
once by data/r/write_files.R and write_files.py); and each one's refusals (no training: the GLM is
statsmodels' own fit on the design nnglm reads, its deviance held to R's)."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from support import ROOT

from nnglm import config
from nnglm.data import table
from nnglm.data.files import databases
from nnglm.foundation.errors import UserError
from nnglm.vocabulary import urls

R = ROOT / "data" / "r"
DATABASE = R / "R_datasets.sqlite"


def r_names(names):
    """Term names as R prints them (woolB); the older patsy names (wool[T.B]) read as R's while both are written."""
    return [re.sub(r"\[T\.(.*)\]", r"\1", n) for n in names]


def cfg(target, **keys):
    return {"name": "t", "data": {"source": "file", "target": target, **keys}, "model": {"family": "poisson"}}


def load(target, **keys):
    return table.load(table.DataSpec.of(config.validate(cfg(target, **keys), "c.yaml")))


def error(target, **keys):
    with pytest.raises(UserError) as e:
        load(target, **keys)
    return str(e.value)


def deviance(ds):
    """statsmodels' Poisson fit on the design nnglm read: (deviance, residual df)."""
    fit = sm.GLM(ds.y, sm.add_constant(ds.X, has_constant="add"), family=sm.families.Poisson()).fit()
    return fit.deviance, int(fit.df_resid)


# R 4: glm(breaks ~ wool + tension, poisson, warpbreaks) 210.39189 on 50 df; glm(count ~ spray, poisson,
# InsectSprays) 98.32866 on 66; glm(ncases ~ agegp + alcgp + tobgp, poisson, esoph) 78.39508 on 76
WARPBREAKS, SPRAYS, ESOPH = ("breaks", 210.39189, 50), ("count", 98.32866, 66), ("ncases", 78.39508, 76)
FEATURES = {"ncases": ["agegp", "alcgp", "tobgp"]}  # esoph's ncontrols is no feature of R's model


@pytest.mark.parametrize(
    "keys, model, read_as",
    [
        ({"path": "warpbreaks.rds"}, WARPBREAKS, "an R .rds file"),
        ({"path": "esoph.rda"}, ESOPH, "an R .RData file"),
        ({"path": "InsectSprays_esoph.RData", "object": "InsectSprays"}, SPRAYS, "an R .RData file"),
        ({"path": "InsectSprays_esoph.RData", "object": "esoph"}, ESOPH, "an R .RData file"),
        ({"path": "InsectSprays.xpt"}, SPRAYS, "a SAS transport (.xpt) file"),
        ({"path": "esoph.sas7bdat"}, ESOPH, "a SAS .sas7bdat file"),
        ({"path": "warpbreaks.jsonl"}, WARPBREAKS, "JSON Lines"),
        ({"path": "InsectSprays.json"}, SPRAYS, "JSON records"),
        ({"path": "esoph.ods"}, ESOPH, "an OpenDocument spreadsheet"),
        ({"path": "warpbreaks_by_tension"}, WARPBREAKS, "a partitioned Parquet folder (3 files; partitions: tension)"),
        ({"path": "R_datasets.sqlite", "table": "warpbreaks"}, WARPBREAKS, "an SQLite database, table 'warpbreaks'"),
        ({"path": "R_datasets.sqlite", "query": "SELECT count, spray FROM InsectSprays"}, SPRAYS, "an SQLite database, one SELECT"),
        ({"url": f"sqlite:///{DATABASE}", "table": "esoph"}, ESOPH, "a database, table 'esoph'"),
    ],
)
def test_each_format_reads_and_fits_as_r_does(keys, model, read_as):
    target, r_deviance, r_df = model
    if "path" in keys:
        keys = {**keys, "path": str(R / keys["path"])}
    ds = load(target, **keys, **({"features": FEATURES[target]} if target in FEATURES else {}))
    assert ds.read_as == read_as
    fitted, df = deviance(ds)
    assert df == r_df
    assert fitted == pytest.approx(r_deviance, abs=1e-5)


def test_r_factors_keep_their_levels_in_order():
    warpbreaks = load("breaks", path=str(R / "warpbreaks.rds"))
    assert r_names(warpbreaks.feature_names) == ["woolB", "tensionM", "tensionH"]  # L the reference, as in R
    esoph = load("ncases", path=str(R / "esoph.rda"), features=FEATURES["ncases"])
    alcohol = [n for n in r_names(esoph.feature_names) if n.startswith("alcgp")]
    assert alcohol == ["alcgp40-79", "alcgp80-119", "alcgp120+"]  # R's order, not the text's (120+ sorts first)


def test_an_rdata_of_several_objects_needs_data_object():
    path = R / "InsectSprays_esoph.RData"
    assert error("count", path=str(path)) == f"data.object: {path} holds 2 objects; name the one to read: 'InsectSprays', 'esoph'"
    assert (
        error("count", path=str(path), object="insects")
        == f"data.object: {path} has no object 'insects'; its objects: 'InsectSprays', 'esoph'"
    )
    with pytest.raises(UserError) as e:
        config.validate(cfg("breaks", path=str(R / "warpbreaks.rds"), object="warpbreaks"), "c.yaml")
    assert str(e.value) == f"c.yaml: data.object: for R's .RData files only; {R / 'warpbreaks.rds'} is read as rds"


def test_partition_columns_become_factors_and_stray_files_are_skipped(tmp_path):
    folder = tmp_path / "by_year"
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "x": [0.1, 0.5, 0.2, 0.9, 0.4, 0.3]})
    for year, part in ((2021, frame[:3]), (2020, frame[3:])):
        (folder / f"year={year}").mkdir(parents=True)
        part.to_parquet(folder / f"year={year}" / "part-0.parquet", index=False)
    (folder / "_SUCCESS").write_text("")
    (folder / "README.txt").write_text("written by a job")
    ds = load("y", path=str(folder))
    assert r_names(ds.feature_names) == ["x", "year2021"]  # a factor, levels sorted: 2020 the reference
    assert ds.n_rows == 6
    empty = tmp_path / "empty"
    empty.mkdir()
    assert error("y", path=str(empty)) == f"data.path: {empty} is a folder; give a data file"


# --- databases ---


def fingerprint(path: Path) -> tuple:
    """A database file's bytes and times, and what lies beside it (a journal, a WAL file)."""
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns, sorted(os.listdir(path.parent))


def test_a_database_names_its_tables_and_refuses_a_missing_or_empty_one():
    where = str(DATABASE)
    tables = "'InsectSprays', 'empty', 'esoph', 'warpbreaks'"
    assert error("y", path=where) == (
        f"data.table: {where} is a database; name its table (data.table) or give one SELECT (data.query); its tables: {tables}"
    )
    assert error("y", path=where, table="warpbreak") == f"data.table: {where} has no table 'warpbreak'; its tables: {tables}"
    assert error("y", path=where, table="empty") == f"data.table: table 'empty' of {where} has no rows; there is nothing to fit"
    assert error("breaks", path=where, query="SELECT * FROM warpbreaks WHERE wool = 'C'") == (
        f"data.query: the query returned no rows from {where}; there is nothing to fit"
    )
    assert error("breaks", path=where, query="SELECT * FROM warpbreaks WHERE no_such_column = 1") == (
        f"data.query: cannot read {where} (an SQLite database): no such column: no_such_column"
    )


@pytest.mark.parametrize(
    "query, message",
    [
        (
            "DELETE FROM warpbreaks",
            "data.query: DELETE is not a SELECT; nnglm reads with one SELECT (or WITH ... SELECT) and writes nothing",
        ),
        ("SELECT * FROM warpbreaks; DROP TABLE warpbreaks", "data.query: holds 2 statements; give one SELECT"),
        (
            "WITH gone AS (DELETE FROM warpbreaks RETURNING *) SELECT * FROM gone",
            'data.query: holds DELETE, which writes; nnglm reads with one SELECT and writes nothing (a column or table of that name: write it in double quotes, "DELETE")',
        ),
        (
            "SELECT * INTO copy FROM warpbreaks",
            'data.query: holds INTO, which writes; nnglm reads with one SELECT and writes nothing (a column or table of that name: write it in double quotes, "INTO")',
        ),
        (
            "ATTACH DATABASE 'other.db' AS other",
            "data.query: ATTACH is not a SELECT; nnglm reads with one SELECT (or WITH ... SELECT) and writes nothing",
        ),
        (
            "PRAGMA writable_schema = 1",
            "data.query: PRAGMA is not a SELECT; nnglm reads with one SELECT (or WITH ... SELECT) and writes nothing",
        ),
    ],
)
def test_a_query_that_is_not_one_select_is_refused_before_the_database(query, message):
    before = fingerprint(DATABASE)
    with pytest.raises(UserError) as e:
        config.validate(cfg("breaks", path=str(DATABASE), query=query), "c.yaml")
    assert str(e.value) == f"c.yaml: {message}"
    with pytest.raises(UserError) as e:  # the reader checks again, whoever calls it
        databases.read_sqlite(str(DATABASE), None, query)
    assert str(e.value) == message
    assert fingerprint(DATABASE) == before


def test_a_query_too_large_to_check_is_refused_not_let_through():
    for query, bound in [
        ("SELECT " + "a, " * 30000 + "a FROM t", "Maximum number of tokens exceeded (10000)"),
        ("SELECT " + "(" * 3000 + "1" + ")" * 3000, "Maximum grouping depth exceeded (100)"),
    ]:
        with pytest.raises(UserError) as e:
            config.validate(cfg("y", path=str(DATABASE), query=query), "c.yaml")
        assert str(e.value) == (
            f"c.yaml: data.query: too long or too deeply nested to be checked ({bound}); "
            "write a shorter SELECT, or make it a view in the database and name it in data.table"
        )


def test_a_column_named_as_a_writing_word_is_read_once_quoted(tmp_path):
    path = tmp_path / "d.sqlite"
    with sqlite3.connect(path) as con:
        con.execute('CREATE TABLE t (y REAL, "truncate" REAL)')
        con.executemany("INSERT INTO t VALUES (?, ?)", [(1, 2), (0, 3), (2, 4)])
    con.close()
    assert error("y", path=str(path), query="SELECT y, truncate FROM t").endswith('write it in double quotes, "truncate")')
    assert load("y", path=str(path), query='SELECT y, "truncate" FROM t').n_rows == 3


def test_sqlite_itself_lets_the_connection_only_read(tmp_path):
    """Past the parser: the file is opened read-only and the authorizer denies every writing action."""
    copy = tmp_path / "d.sqlite"
    copy.write_bytes(DATABASE.read_bytes())
    before = fingerprint(copy)
    connection = databases._sqlite_read_only(str(copy))
    assert connection.execute("SELECT count(*) FROM warpbreaks").fetchone() == (54,)
    for statement in ("DELETE FROM warpbreaks", "CREATE TABLE t (x)", "ATTACH DATABASE 'x.db' AS x", "PRAGMA user_version = 3"):
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            connection.execute(statement)
    connection.close()
    assert fingerprint(copy) == before  # no journal beside it, not a byte changed


def test_a_database_file_is_read_without_a_byte_written(tmp_path):
    copy = tmp_path / "d.db"
    copy.write_bytes(DATABASE.read_bytes())
    before = fingerprint(copy)
    assert load("breaks", path=str(copy), table="warpbreaks").n_rows == 54
    assert load("breaks", url=f"sqlite:///{copy}", query="SELECT * FROM warpbreaks WHERE wool = 'A'").n_rows == 27
    assert fingerprint(copy) == before


def test_a_database_in_wal_mode_is_read_without_a_file_made_beside_it(tmp_path):
    path = tmp_path / "wal.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE t (y REAL, x REAL)")
        con.executemany("INSERT INTO t VALUES (?, ?)", [(1, 2), (0, 3), (2, 4)])
    con.close()
    before = fingerprint(path)
    assert load("y", path=str(path), table="t").n_rows == 3
    assert fingerprint(path) == before  # mode=ro alone left wal.sqlite-wal and wal.sqlite-shm behind
    writer = sqlite3.connect(path)  # a writer holds it open: the row it added lies in its WAL file, and is read
    writer.execute("INSERT INTO t VALUES (3, 5)")
    writer.commit()
    assert load("y", path=str(path), table="t").n_rows == 4
    writer.close()


def test_a_password_in_a_url_never_reaches_a_message_or_the_written_config():
    url = "postgresql://analyst:s3cret-pw@127.0.0.1:1/survey"
    validated = config.validate(cfg("y", url=url, table="t"), "c.yaml")
    assert validated.data.url == url  # used for the connection ...
    assert validated.to_dict()["data"]["url"] == "postgresql://analyst@127.0.0.1:1/survey"  # ... never written
    assert validated.data.describe() == "postgresql://analyst:***@127.0.0.1:1/survey"
    started = time.monotonic()
    message = error("y", url=url, table="t")
    assert time.monotonic() - started < databases.CONNECT_SECONDS + 6
    assert "s3cret" not in message and message.startswith("data.url: ")
    assert "postgresql://analyst:***@127.0.0.1:1/survey" in message  # no driver, or no server on port 1: either way, one message


def test_a_url_that_names_no_database_or_cannot_be_read(tmp_path):
    missing = tmp_path / "none.sqlite"
    assert error("y", url=f"sqlite:///{missing}", table="t") == f"data.url: sqlite:///{missing}: no database file '{missing}'"
    with pytest.raises(UserError) as e:
        config.validate(cfg("y", url="not a url", table="t"), "c.yaml")
    assert str(e.value).startswith("c.yaml: data.url: not an SQLAlchemy URL; write dialect+driver://user@host:port/database")
    with pytest.raises(UserError) as e:
        config.validate(cfg("y", url=f"sqlite:///{DATABASE}", path="d.csv", table="t"), "c.yaml")
    assert str(e.value) == "c.yaml: data.url: not with data.path; give one, a file's path or a database's URL"
    with pytest.raises(UserError) as e:
        config.validate(cfg("y", path="d.csv", table="t"), "c.yaml")
    assert str(e.value) == "c.yaml: data.table: for databases only (an SQLite file, or data.url); d.csv is read as csv"


# --- what the bytes are, against what the name promised ---


@pytest.mark.parametrize(
    "name, given, content, promised, found",
    [
        ("d.sqlite", "csv", DATABASE, "plain text by data.format: csv", "an SQLite database"),
        ("d.csv", None, DATABASE, "plain text by its name (d.csv)", "an SQLite database"),
        ("d.rds", None, R / "InsectSprays.json", "an R .rds file by its name (d.rds)", "JSON text"),
        ("d.RData", None, R / "warpbreaks.rds", "an R .RData file by its name (d.RData)", "an R .rds file"),
        ("d.xlsx", None, R / "esoph.ods", "an Excel workbook by its name (d.xlsx)", "an OpenDocument spreadsheet"),
        ("d.json", None, R / "warpbreaks.rds", "JSON text by its name (d.json)", "gzip-compressed data"),
        ("d.sas7bdat", None, R / "InsectSprays.xpt", "a SAS .sas7bdat file by its name (d.sas7bdat)", "a SAS transport (.xpt) file"),
        ("d.ods", None, R / "esoph.sas7bdat", "an OpenDocument spreadsheet by its name (d.ods)", "a SAS .sas7bdat file"),
        ("d.csv", None, "utf16", "plain text by its name (d.csv)", "UTF-16 text (nnglm reads UTF-8)"),
    ],
)
def test_the_content_check_names_the_promise_and_the_bytes(tmp_path, name, given, content, promised, found):
    path = tmp_path / name
    path.write_bytes("y,x\n1,2\n".encode("utf-16") if content == "utf16" else Path(content).read_bytes())
    keys = {"format": given} if given else {}
    assert error("y", path=str(path), **keys).startswith(f"data.path: {path} should be {promised}, but its content is {found}; ")


# --- damaged files: one message naming the file, exit 2, no run folder ---


@pytest.mark.parametrize(
    "name, keys",
    [
        ("warpbreaks.rds", {}),
        ("esoph.rda", {}),
        ("InsectSprays.xpt", {}),
        ("esoph.sas7bdat", {}),
        ("warpbreaks.jsonl", {}),
        ("InsectSprays.json", {}),
        ("esoph.ods", {}),
        ("R_datasets.sqlite", {"table": "warpbreaks"}),
    ],
)
def test_a_truncated_file_is_one_message_naming_it(tmp_path, name, keys):
    path = tmp_path / name
    data = (R / name).read_bytes()
    path.write_bytes(data[: len(data) // 3])
    message = error("y", path=str(path), **keys)
    assert "\n" not in message and str(path) in message and message.startswith("data.")


def test_a_damaged_part_of_a_parquet_folder_is_one_message(tmp_path):
    folder = tmp_path / "parts"
    (folder / "g=a").mkdir(parents=True)
    (folder / "g=a" / "part-0.parquet").write_bytes(b"PAR1 not really")
    assert error("y", path=str(folder)).startswith(f"data.path: cannot read {folder} as a partitioned Parquet folder: ")


def test_bad_input_exits_2_and_leaves_no_run_folder(cli_error, write_config, tmp_path):
    out = tmp_path / "runs"
    truncated = tmp_path / "cut.rds"
    truncated.write_bytes((R / "warpbreaks.rds").read_bytes()[:100])
    for keys, message in [
        (f"path: {truncated}", f"data.path: cannot read {truncated} as an R .rds file: "),
        (f"path: {R / 'InsectSprays_esoph.RData'}, object: insects", "data.object: "),
        (f"path: {DATABASE}, table: nope", f"data.table: {DATABASE} has no table 'nope'"),
        (f"path: {DATABASE}, query: 'DELETE FROM warpbreaks'", "data.query: DELETE is not a SELECT"),
    ]:
        path = write_config(f"name: db\ndata: {{source: file, {keys}, target: breaks}}\nmodel: {{family: poisson}}\n")
        assert message in cli_error("run", path, "--out", out, one_line=True)
    assert not out.exists() or not any(out.rglob("result.json"))


# --- issue 33: SPSS value labels in code order (5), Excel bounds (13), repeated headers (17) ---


def test_spss_value_labels_keep_their_codes_order_as_stata_and_r(tmp_path):
    import pyreadstat

    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 2.0, 5.0], "g": [0, 1, 0, 1, 1, 0]})
    labels = {0: "zebra", 1: "apple"}
    sav, dta = tmp_path / "d.sav", tmp_path / "d.dta"
    pyreadstat.write_sav(frame, str(sav), variable_value_labels={"g": labels})
    frame.to_stata(dta, write_index=False, value_labels={"g": labels})
    assert r_names(load("y", path=str(sav)).feature_names) == ["gapple"]  # zebra (code 0) the reference, as in R
    assert r_names(load("y", path=str(dta)).feature_names) == ["gapple"]


def test_an_spss_code_without_a_label_is_its_own_level(tmp_path):
    import pyreadstat

    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 2.0, 5.0], "g": [2, 1, 2, 1, 3, 3]})
    path = tmp_path / "d.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"g": {1: "low", 2: "high"}})
    assert r_names(load("y", path=str(path)).feature_names) == ["ghigh", "g3"]


def test_a_workbook_is_bounded_before_it_is_expanded(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "data"
    sheet.append(["y", "x"])
    sheet.append([1, 2])
    sheet["XFD1048576"] = 1  # one stray cell: pandas would pad 1 048 576 x 16 384 cells
    path = tmp_path / "far.xlsx"
    book.save(path)
    assert path.stat().st_size < 10_000
    started = time.monotonic()
    assert error("y", path=str(path)) == (
        f"data.path: sheet 'data' of {path} spans 1,048,576 rows by 16,384 columns (to its last cell, XFD1048576): "
        "17,179,869,184 cells, more than the 20,000,000 nnglm reads; delete the stray cells beyond the data, or save the data as CSV or Parquet"
    )
    assert time.monotonic() - started < 5


def test_a_workbook_of_too_many_shared_strings_is_refused(tmp_path, monkeypatch):
    import zipfile

    from nnglm.data.files import spreadsheets

    written = tmp_path / "written.xlsx"
    pd.DataFrame({"y": [0, 1, 1], "x": [0.5, 1.5, 2.5]}).to_excel(written, index=False)
    path = tmp_path / "strings.xlsx"
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        strings = "".join(f"<si><t>s{i}</t></si>" for i in range(25))
        target.writestr("xl/sharedStrings.xml", f'<sst xmlns="{spreadsheets.MAIN[1:-1]}" uniqueCount="2">{strings}</sst>')
    monkeypatch.setattr(spreadsheets, "MAX_SHARED_STRINGS", 10)  # the strings are counted, not the declared uniqueCount
    assert error("y", path=str(path)) == (
        f"data.path: {path} holds more than 10 shared strings, the most nnglm reads of a workbook; save the data as CSV or Parquet"
    )


@pytest.mark.parametrize("suffix, engine", [(".xlsx", "openpyxl"), (".ods", "odf")])
def test_a_repeated_spreadsheet_header_is_refused_as_a_csv_header_is(tmp_path, suffix, engine):
    path = tmp_path / f"d{suffix}"
    pd.DataFrame([[1, 2.0, 3.0], [0, 1.5, 2.5]], columns=["y", "GPA", "GPA"]).to_excel(path, index=False, engine=engine)
    assert error("y", path=str(path)) == f"data.path: column 'GPA' appears twice in the header of {path} (columns 2 and 3); rename one"
    csv = tmp_path / "d.csv"
    csv.write_text("y,GPA,GPA\n1,2,3\n0,1.5,2.5\n")
    assert error("y", path=str(csv)) == f"data.path: column 'GPA' appears twice in the header of {csv} (columns 2 and 3); rename one"


def test_a_number_and_its_text_are_one_header_name(tmp_path):
    path = tmp_path / "d.xlsx"
    pd.DataFrame([[1, 2.0, 3.0], [0, 1.5, 2.5]], columns=["y", 1, "1"]).to_excel(path, index=False)
    assert error("y", path=str(path)) == f"data.path: column '1' appears twice in the header of {path} (columns 2 and 3); rename one"


@pytest.mark.runs
def test_a_run_from_a_url_with_a_password_writes_and_prints_no_password(run_cli, write_config, tmp_path):

    url = f"sqlite://analyst:s3cret-pw@/{DATABASE}"
    path = write_config(f"name: db\ndata: {{source: file, url: '{url}', table: warpbreaks, target: breaks}}\nmodel: {{family: poisson}}\n")
    code, out, err = run_cli("run", path, "--out", tmp_path / "runs", "--set", "train.epochs=50")
    assert code == 0, err
    [folder] = (tmp_path / "runs" / "db").iterdir()
    assert run_cli("report", folder)[0] == 0
    written = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert {"result.json", "config.yaml", "report.md"} <= set(written)
    assert not [name for name, data in written.items() if b"s3cret" in data]
    assert "s3cret" not in out + err
    assert f"sqlite://analyst@/{DATABASE}".encode() in written["config.yaml"]


def test_an_ods_whose_cells_repeat_past_the_bound_is_refused_before_pandas_expands_it(tmp_path):
    import zipfile

    path = tmp_path / "repeats.ods"
    with zipfile.ZipFile(R / "esoph.ods") as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "content.xml":  # one more row: a value repeated 100 000 times, the row 100 000 times
                cell = '<table:table-cell table:number-columns-repeated="100000" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
                row = f'<table:table-row table:number-rows-repeated="100000">{cell}</table:table-row>'
                data = data.replace(b"</table:table>", row.encode() + b"</table:table>", 1)
            target.writestr(item, data)
    assert path.stat().st_size < 10_000
    started = time.monotonic()
    assert error("ncases", path=str(path)) == (
        f"data.path: sheet 'esoph' of {path} repeats its cells to at least 100,089 rows by 100,000 columns: 10,008,900,000 cells, "
        "more than the 20,000,000 nnglm reads; save the data as CSV or Parquet"
    )
    assert time.monotonic() - started < 5
    assert load("ncases", path=str(R / "esoph.ods"), features=FEATURES["ncases"]).n_rows == 88  # R's file itself passes


def test_a_json_field_of_lists_is_kept_as_its_json_text(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"y": 1, "tags": [1, 2], "x": 0.5}\n{"y": 0, "tags": [3], "x": 1.5}\n{"y": 4, "tags": [3], "x": 2.5}\n')
    assert load("y", path=str(path), features=["x"]).n_rows == 3  # a column of lists beside the features does not stop the run
    assert r_names(load("y", path=str(path)).feature_names) == ["tags[3]", "x"]  # as a feature: a factor of its JSON texts


def test_a_repeated_column_name_in_a_feather_file_is_refused_as_a_csv_header_is(tmp_path):
    import pyarrow as pa
    import pyarrow.feather as feather

    path = tmp_path / "d.feather"
    columns = [pa.array([1, 0, 1]), pa.array([1.0, 2.0, 3.0]), pa.array([2.0, 3.0, 4.0])]
    feather.write_feather(pa.table(columns, names=["y", "GPA", "GPA"]), path)
    assert error("y", path=str(path)) == f"data.path: column 'GPA' appears twice in the header of {path} (columns 2 and 3); rename one"


def test_an_r_file_that_decompresses_past_the_bound_is_refused_before_pyreadr_holds_it(tmp_path, monkeypatch):
    import gzip

    from nnglm.data.files import stats

    path = tmp_path / "zeros.rds"
    path.write_bytes(gzip.compress(b"X\n" + bytes(5 * 2**20)))  # 5 MiB of zeros in 5 KB
    monkeypatch.setattr(stats, "max_r_bytes", lambda: 2**20)
    assert error("y", path=str(path)) == (
        f"data.path: {path} expands to more than 0.000977 GiB once decompressed, more than half this machine's memory; "
        "save fewer rows or columns"
    )


# --- a password in data.url in each of its forms (the user information's, a query string's, an unencoded '@',
# a URL SQLAlchemy cannot read); a query's rows bounded, and a Ctrl-C that stops a query SQLite is running ---

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x % 5 AS count, 'A' AS spray FROM c"


# --- the password, in each form ---

FORMS = [
    # (the URL, shown in messages, kept in the written config, its secrets)
    (
        "postgresql://analyst@127.0.0.1:1/survey?password=S3cretPW",
        "postgresql://analyst@127.0.0.1:1/survey?password=***",
        "postgresql://analyst@127.0.0.1:1/survey",
        ["S3cretPW"],
    ),
    (
        "postgresql+psycopg://127.0.0.1:1/db?user=a&password=x7Secret",
        "postgresql+psycopg://127.0.0.1:1/db?password=***&user=a",
        "postgresql+psycopg://127.0.0.1:1/db?user=a",
        ["x7Secret"],
    ),
    (
        "postgresql://a:S3cretPW@127.0.0.1:1/db?PWD=Other9&Passwd=Third8&sslpassword=Fourth7&sslmode=disable",
        "postgresql://a:***@127.0.0.1:1/db?PWD=***&Passwd=***&sslmode=disable&sslpassword=***",
        "postgresql://a@127.0.0.1:1/db?sslmode=disable",
        ["S3cretPW", "Other9", "Third8", "Fourth7"],
    ),
    (
        "postgresql://analyst:S3cretPW@127.0.0.1:1/survey",
        "postgresql://analyst:***@127.0.0.1:1/survey",
        "postgresql://analyst@127.0.0.1:1/survey",
        ["S3cretPW"],
    ),
]


@pytest.mark.parametrize("url, shown, kept, secrets", FORMS)
def test_each_form_of_a_password_is_hidden_in_messages_and_dropped_from_the_config(url, shown, kept, secrets):
    assert urls.shown(url) == shown
    assert urls.without_password(url) == kept
    validated = config.validate(cfg("y", url=url, table="t"), "c.yaml")
    assert validated.data.url == url  # used for the connection ...
    assert validated.to_dict()["data"]["url"] == kept  # ... never written
    assert validated.data.describe() == shown
    message = error("y", url=url, table="t")  # no server on port 1 (or no driver): one message either way
    assert message.startswith("data.url: ") and shown in message
    assert not [s for s in secrets if s in message]


def test_a_password_with_an_unencoded_at_sign_is_refused_showing_none_of_it():
    url = "postgresql://analyst:S3cret@PW@127.0.0.1:1/survey"
    with pytest.raises(UserError) as e:
        config.validate(cfg("y", url=url, table="t"), "c.yaml")
    message = str(e.value)
    assert message.startswith("c.yaml: data.url: its password (or user name) holds an '@' that is not written %40")
    assert "S3cret" not in message and "PW" not in message.replace("postgresql://analyst:p%40ss@db/survey", "")
    assert urls.shown(url) == "postgresql://***"
    assert urls.without_password(url) == "postgresql://***"
    # written encoded, it is read as the password it is
    encoded = "postgresql://analyst:S3cret%40PW@127.0.0.1:1/survey"
    assert urls.parse_url(encoded).password == "S3cret@PW"
    assert urls.shown(encoded) == "postgresql://analyst:***@127.0.0.1:1/survey"
    assert urls.without_password(encoded) == "postgresql://analyst@127.0.0.1:1/survey"


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://a:S3cretPW@h:5432@host/db", "postgresql://***"),
        ("mysql://a:S3cretPW@h:port/db", "mysql://***"),
        ("a:S3cretPW@h", "***"),
    ],
)
def test_a_url_sqlalchemy_cannot_read_shows_its_scheme_alone(url, shown):
    assert urls.shown(url) == shown
    assert urls.without_password(url) == shown
    with pytest.raises(UserError) as e:
        config.validate(cfg("y", url=url, table="t"), "c.yaml")
    assert "S3cretPW" not in str(e.value) and "data.url: not an SQLAlchemy URL" in str(e.value)


def test_a_driver_message_that_repeats_the_password_shows_stars():
    assert databases._hidden("auth failed for S3cret@PW (S3cret%40PW)", ["S3cret@PW"]) == "auth failed for *** (***)"


@pytest.mark.runs
def test_a_run_writes_the_password_of_a_query_string_nowhere(tmp_path, run_cli):
    url = f"sqlite:///{DATABASE}?password=S3cretPW&PWD=Other9"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg("count", url=url, table="InsectSprays") | {"train": {"epochs": 50}}))
    code, out, err = run_cli("run", path, "--out", tmp_path / "runs")
    assert code == 0, err
    assert "S3cretPW" not in out + err and "Other9" not in out + err
    written = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    assert [p for p in written if p.name == "config.yaml"] and [p for p in written if p.name == "result.json"]
    for p in written:
        data = p.read_bytes()
        assert b"S3cretPW" not in data and b"Other9" not in data, p
    (kept,) = [p for p in written if p.name == "config.yaml"]
    assert yaml.safe_load(kept.read_text())["data"]["url"] == f"sqlite:///{DATABASE}"
    (result,) = [p for p in written if p.name == "result.json"]
    assert f"sqlite:///{DATABASE}" in json.dumps(json.loads(result.read_text()))


# --- a query's rows, and its time ---


def test_an_endless_query_is_refused_past_the_rows_read(monkeypatch):
    monkeypatch.setattr(databases, "MAX_ROWS", 250_000)
    started = time.monotonic()
    message = error("count", path=str(DATABASE), query=ENDLESS)
    assert time.monotonic() - started < 10
    assert message.startswith("data.query: returned more than 250,000 rows; nnglm reads at most 250,000 rows of a database; select fewer")


def test_a_table_past_the_bound_and_a_read_past_a_third_of_memory_are_refused(monkeypatch):

    monkeypatch.setattr(databases, "MAX_ROWS", 50)
    message = error("count", path=str(DATABASE), table="InsectSprays")
    assert message == (
        f"data.table: table 'InsectSprays' of {DATABASE} holds more than 50 rows; nnglm reads at most 50 rows of a database; "
        f"{databases.FEWER}"
    )
    monkeypatch.setattr(databases, "MAX_ROWS", 50_000_000)
    monkeypatch.setattr(databases, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(databases, "available_memory", lambda: 3 << 20)
    message = error("count", path=str(DATABASE), query=ENDLESS)
    assert message.startswith("data.query: returned ") and "rows before it was stopped" in message
    assert "more than a third of the 0.00293 GiB this machine has available" in message


def test_rows_read_in_chunks_keep_the_types_of_one_read(tmp_path, monkeypatch):
    path = tmp_path / "d.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (y, a, b, c)")
        rows = [(1, 1, 1.5, "x")] * 3 + [(2, None, None, None)] * 3 + [(3, 2, None, "y")]
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    con.close()
    whole = databases.read_sqlite(str(path), "t", None).frame
    monkeypatch.setattr(databases, "CHUNK_ROWS", 3)  # the middle chunk all NULLs: objects, where the whole read has floats
    chunked = databases.read_sqlite(str(path), "t", None).frame
    assert dict(chunked.dtypes) == dict(whole.dtypes) and chunked.equals(whole)


@pytest.mark.runs
def test_ctrl_c_stops_a_query_sqlite_is_running(tmp_path):
    # one aggregate: SQLite computes for minutes before its one row, no Python code between
    query = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000000000) SELECT count(*) % 5 AS count FROM c"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg("count", path=str(DATABASE), query=query)))
    process = subprocess.Popen([sys.executable, "-m", "nnglm", "validate", str(path)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60

        def database_open():
            with_fds = f"/proc/{process.pid}/fd"
            try:
                return any(os.readlink(f"{with_fds}/{fd}") == str(DATABASE.resolve()) for fd in os.listdir(with_fds))
            except OSError:
                return False

        while not database_open() and process.poll() is None:
            assert time.monotonic() < deadline, "the database was not opened within 60 s"
            time.sleep(0.05)
        time.sleep(1)  # well inside the query
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        _, err = process.communicate(timeout=30)
        assert time.monotonic() - interrupted < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130 and err.strip().endswith("interrupted"), err
