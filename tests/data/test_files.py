"""Data files as users hold them: every format, compression, delimiter sniffing, content against name,
row labels, text targets and factors in R's order (no training: the data's own rules)."""

import gzip
import os
import re
import threading

import numpy as np
import pandas as pd
import pytest
from support import ROOT

from nnglm import config
from nnglm.data import table
from nnglm.data.files import FORMATS as ALL_FORMATS
from nnglm.foundation.errors import UserError

FRAME = pd.DataFrame(
    {
        "y": [0, 1, 1, 0, 1, 0, 1, 1, 0, 1],
        "x": [0.5, 1.5, 2.0, 0.1, 3.0, 0.7, 2.2, 1.9, 0.3, 2.8],
        "g": ["b", "a", "c", "a", "b", "c", "a", "b", "c", "a"],
    }
)


FORMATS = ", ".join(ALL_FORMATS)


def r_names(names):
    """Term names as R prints them (gb, woolB, (Intercept)); the older patsy names (g[T.b], const) read as R's
    while both are written."""
    return [re.sub(r"\[T\.(.*)\]", r"\1", n).replace("const", "(Intercept)") for n in names]


def cfg(path, *sets, **keys):
    raw = {"name": "t", "data": {"source": "file", "path": str(path), "target": "y", **keys}}
    return config.apply_overrides(raw, list(sets))


def load(path, **keys):
    return table.load(table.DataSpec.of(config.validate(cfg(path, **keys), "c.yaml")))


def error(path, **keys):
    with pytest.raises(UserError) as e:
        load(path, **keys)
    return str(e.value)


def written(tmp_path, name, frame=FRAME):
    path = tmp_path / name
    fmt = name.split(".")[1]
    if fmt in ("csv", "txt"):
        frame.to_csv(path, index=False, compression="infer")
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False, compression="infer")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "feather":
        frame.to_feather(path)
    elif fmt == "xlsx":
        with pd.ExcelWriter(path) as xw:
            frame.to_excel(xw, sheet_name="first", index=False)
            frame.assign(y=1 - frame.y).to_excel(xw, sheet_name="second", index=False)
    elif fmt == "dta":
        frame.to_stata(path, write_index=False)
    elif fmt == "sav":
        import pyreadstat

        pyreadstat.write_sav(frame, str(path))
    elif fmt in ("jsonl", "json"):
        frame.to_json(path, orient="records", lines=fmt == "jsonl")
    elif fmt == "ods":
        frame.to_excel(path, engine="odf", index=False)
    elif fmt in ("rds", "RData"):
        import pyreadr

        (pyreadr.write_rds if fmt == "rds" else pyreadr.write_rdata)(path, frame)
    elif fmt in ("xpt", "sas7bdat"):
        import pyreadstat

        (pyreadstat.write_xport if fmt == "xpt" else pyreadstat.write_sas7bdat)(frame, str(path))
    elif fmt == "sqlite":
        import sqlite3

        with sqlite3.connect(path) as con:
            frame.to_sql("d", con, index=False)
        con.close()
    return path


@pytest.mark.parametrize(
    "name",
    [
        "d.csv",
        "d.tsv",
        "d.csv.gz",
        "d.tsv.bz2",
        "d.csv.xz",
        "d.csv.zip",
        "d.parquet",
        "d.feather",
        "d.xlsx",
        "d.dta",
        "d.sav",
        "d.jsonl",
        "d.json",
        "d.ods",
        "d.rds",
        "d.RData",
        "d.xpt",
        "d.sas7bdat",
        "d.sqlite",
    ],
)
def test_every_format_reads_the_same_design(tmp_path, name):
    ds = load(written(tmp_path, name), **({"table": "d"} if name.endswith(".sqlite") else {}))
    assert r_names(ds.feature_names) == ["x", "gb", "gc"]
    np.testing.assert_array_equal(ds.y, FRAME.y.to_numpy(float))
    np.testing.assert_allclose(ds.X[:, 0], FRAME.x)
    np.testing.assert_array_equal(ds.X[:, 1], (FRAME.g == "b").to_numpy(float))


def test_an_excel_sheet_by_name_or_number(tmp_path):
    path = written(tmp_path, "d.xlsx")
    np.testing.assert_array_equal(load(path, sheet="second").y, 1 - FRAME.y.to_numpy(float))
    np.testing.assert_array_equal(load(path, sheet=1).y, 1 - FRAME.y.to_numpy(float))
    assert error(path, sheet="third") == f"data.sheet: {path} has no sheet 'third'; its sheets: 'first', 'second'"
    assert error(path, sheet=5) == f"data.sheet: {path} has 2 sheets, numbered from 0; 5 is none of them"


def test_sheet_and_delimiter_belong_to_their_formats(tmp_path):
    with pytest.raises(UserError) as e:
        config.validate(cfg(tmp_path / "d.csv", sheet="a"), "c.yaml")
    assert str(e.value) == f"c.yaml: data.sheet: for spreadsheets (excel, ods) only; {tmp_path / 'd.csv'} is read as csv"
    with pytest.raises(UserError) as e:
        config.validate(cfg(tmp_path / "d.parquet", delimiter=";"), "c.yaml")
    assert str(e.value) == f"c.yaml: data.delimiter: for delimited text (csv, tsv) only; {tmp_path / 'd.parquet'} is read as parquet"


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path, sep):
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, sep=sep, index=False)
    ds = load(path)
    assert r_names(ds.feature_names) == ["x", "gb", "gc"]
    assert ds.read_as == {";": "semicolon", "\t": "tab", "|": "pipe"}[sep] + "-delimited text (sniffed)"


def test_a_wrong_delimiter_is_named_in_the_missing_column_message(tmp_path):
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, sep=";", index=False)
    assert error(path, delimiter=",") == (
        f"data.target: column 'y' not in {path} (read as comma-delimited text (given); set data.delimiter if that is wrong); "
        "columns are: 'y;x;g'"
    )


def test_a_name_that_lies_about_the_content_is_one_message(tmp_path):
    plain = tmp_path / "d.csv.gz"
    FRAME.to_csv(plain, index=False, compression=None)
    assert error(plain) == (
        f"data.path: {plain} should be gzip-compressed data by its name (d.csv.gz), but its content is plain text; "
        f"rename the file or set data.format ({FORMATS})"
    )
    parquet_as_csv = tmp_path / "p.csv"
    FRAME.to_parquet(parquet_as_csv)
    assert error(parquet_as_csv) == (
        f"data.path: {parquet_as_csv} should be plain text by its name (p.csv), but its content is a Parquet file; "
        f"rename the file or set data.format ({FORMATS})"
    )
    assert load(parquet_as_csv, format="parquet").n_rows == 10
    csv_as_stata = tmp_path / "s.dta"
    FRAME.to_csv(csv_as_stata, index=False)
    assert error(csv_as_stata) == (
        f"data.path: {csv_as_stata} should be a Stata .dta file by its name (s.dta), but its content is plain text; "
        f"rename the file or set data.format ({FORMATS})"
    )


def test_a_damaged_compressed_file_is_one_message(tmp_path):
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(FRAME.to_csv(index=False).encode())[:40])
    assert error(path).startswith(f"data.path: cannot read {path} (gzip): ")


def test_latin1_text_says_save_as_utf8(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("y,x,g\n1,2,caf\xe9\n0,1,th\xe9\n".encode("latin-1"))
    assert error(path) == f"data.path: {path} is not UTF-8 text (byte 0xe9 in its first lines); save it as UTF-8"


def test_a_fifo_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "d.csv"
    os.mkfifo(fifo)
    result = {}
    reader = threading.Thread(target=lambda: result.update(message=error(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO hung"
    assert result["message"] == f"data.path: {fifo} is a FIFO (named pipe), not a regular file; nnglm reads data files only"


def test_compressed_binary_formats_are_refused(tmp_path):
    with pytest.raises(UserError) as e:
        config.validate(cfg(tmp_path / "d.parquet.gz"), "c.yaml")
    assert (
        str(e.value)
        == f"c.yaml: data.path: {tmp_path / 'd.parquet.gz'}: a parquet file is not read compressed (.parquet.gz); decompress it first"
    )


def test_source_csv_is_an_alias_of_file(tmp_path):
    path = written(tmp_path, "d.csv")
    raw = cfg(path)
    raw["data"]["source"] = "csv"
    assert r_names(table.load(table.DataSpec.of(config.validate(raw, "c.yaml"))).feature_names) == ["x", "gb", "gc"]


# --- row labels ---


@pytest.mark.parametrize("start", [0, 1])
def test_a_leading_row_label_column_is_left_out(tmp_path, start):
    path = tmp_path / "d.csv"
    FRAME.set_axis(range(start, start + 10)).to_csv(path, index_label="")
    ds = load(path)
    assert r_names(ds.feature_names) == ["x", "gb", "gc"]
    assert ds.notes[0] == f"the first column (no name in the file) numbers the rows ({start}..{start + 9}): row labels, left out"


def test_an_unnamed_first_column_that_is_not_row_numbers_stays(tmp_path):
    path = tmp_path / "d.csv"
    FRAME.set_axis([5, 3, 8, 1, 2, 9, 4, 7, 6, 10]).to_csv(path, index_label="")
    assert load(path).feature_names[0] == "Unnamed: 0"


# --- targets ---


def yes_no(tmp_path, levels=("no", "yes")):
    frame = FRAME.assign(y=np.where(FRAME.y == 1, levels[1], levels[0]))
    return written(tmp_path, "d.csv", frame)


def test_a_yes_no_target_counts_the_second_level_as_success(tmp_path):
    ds = load(yes_no(tmp_path))
    np.testing.assert_array_equal(ds.y, FRAME.y.to_numpy(float))
    assert ds.success == "yes"
    assert "target 'y': 'yes' counts as success (1), 'no' as failure (0)" in ds.notes


def test_data_success_names_the_level(tmp_path):
    ds = load(yes_no(tmp_path), success="no")
    np.testing.assert_array_equal(ds.y, 1 - FRAME.y.to_numpy(float))
    assert error(yes_no(tmp_path), success="maybe") == "data.success: 'maybe' is not a level of column 'y'; its levels: 'no', 'yes'"


def test_an_unquoted_yes_is_caught_with_the_reason(tmp_path):
    with pytest.raises(UserError) as e:
        config.validate(cfg(tmp_path / "d.csv", success=True), "c.yaml")
    assert str(e.value) == (
        'c.yaml: data.success: got true: YAML reads yes/no/on/off/true/false as booleans; quote the level: data.success: "yes"'
    )


def test_a_binomial_target_with_three_levels_lists_them(tmp_path):
    path = written(tmp_path, "d.csv", FRAME.assign(y=FRAME.g))
    assert error(path, features=["x"]) == (
        "data.target: column 'y' holds 3 levels ('a', 'b', 'c'); a binomial target has two "
        "(set data.success to the level that counts as success, or use model.family multinomial)"
    )


def test_a_categorical_target_follows_its_own_level_order(tmp_path):
    frame = FRAME.assign(y=pd.Categorical(np.where(FRAME.y == 1, "absent", "present"), categories=["present", "absent"]))
    ds = load(written(tmp_path, "d.parquet", frame))
    assert ds.success == "absent"  # second in the column's own order, first alphabetically
    np.testing.assert_array_equal(ds.y, FRAME.y.to_numpy(float))


def test_a_multinomial_keeps_its_labels_and_reference_class(tmp_path):
    path = written(tmp_path, "d.csv", FRAME.assign(y=FRAME.g.map({"a": "low", "b": "mid", "c": "high"})))
    raw = cfg(path, "model.family=multinomial", "data.features=[x]")
    ds = table.load(table.DataSpec.of(config.validate(raw, "c.yaml")))
    assert ds.classes == ["high", "low", "mid"]
    assert r_names(ds.terms(True)) == ["low:(Intercept)", "low:x", "mid:(Intercept)", "mid:x"]
    raw["data"]["reference_class"] = "mid"
    ds = table.load(table.DataSpec.of(config.validate(raw, "c.yaml")))
    assert ds.classes == ["mid", "high", "low"]
    np.testing.assert_array_equal(ds.y, FRAME.g.map({"a": 2, "b": 0, "c": 1}).to_numpy(float))
    raw["data"]["reference_class"] = "top"
    with pytest.raises(UserError) as e:
        table.load(table.DataSpec.of(config.validate(raw, "c.yaml")))
    assert str(e.value) == "data.reference_class: 'top' is not a class of column 'y'; its classes: 'high', 'low', 'mid'"


# --- factors ---


def test_a_text_feature_is_coded_as_a_factor_with_a_note(tmp_path):
    ds = load(written(tmp_path, "d.csv"))
    assert "column 'g' holds labels: coded as a factor, reference level 'a' (3 levels)" in ds.notes


def test_a_categorical_feature_keeps_its_level_order_in_columns_and_formulas(tmp_path):
    frame = FRAME.assign(g=pd.Categorical(FRAME.g, categories=["c", "a", "b", "unused"]))
    path = written(tmp_path, "d.parquet", frame)
    assert r_names(load(path).feature_names) == ["x", "ga", "gb"]
    assert r_names(load(path, categorical=["g"]).feature_names) == ["x", "ga", "gb"]
    raw = cfg(path)
    del raw["data"]["target"]
    raw["data"]["formula"] = "y ~ x + g"
    assert [n for n in r_names(table.load(table.DataSpec.of(config.validate(raw, "c.yaml"))).feature_names) if n != "x"] == ["ga", "gb"]
    raw["data"]["formula"] = "y ~ x + factor(g)"
    assert [n[-1] for n in r_names(table.load(table.DataSpec.of(config.validate(raw, "c.yaml"))).feature_names) if n != "x"] == ["a", "b"]


def test_stata_value_labels_and_parquet_factors_give_r_reference_levels():
    warpbreaks = table.load(table.DataSpec.of(config.load(ROOT / "configs" / "r_warpbreaks_parquet.yaml")))
    assert r_names(warpbreaks.feature_names) == ["woolB", "tensionM", "tensionH"]  # L is the reference, as in R
    quine = table.load(table.DataSpec.of(config.load(ROOT / "configs" / "r_quine_stata.yaml")))
    assert r_names(quine.feature_names) == ["EthN", "SexM", "AgeF1", "AgeF2", "AgeF3", "LrnSL"]


def test_an_identifier_text_column_is_refused_by_default(tmp_path):
    frame = pd.DataFrame({"y": np.arange(120) % 2, "x": np.arange(120) / 10, "name": [f"n{i}" for i in range(120)]})
    path = written(tmp_path, "d.csv", frame)
    assert error(path) == (
        "data.features: column 'name' holds text with 120 different values in 120 rows (an identifier?); "
        "as a factor it would add a column for nearly every row; list the features to use in data.features"
    )


def test_a_numeric_column_with_a_stray_entry_still_names_the_row(tmp_path):
    frame = FRAME.assign(x=FRAME.x.astype(str).where(FRAME.index != 3, "oops"))
    path = written(tmp_path, "d.csv", frame)
    assert error(path) == f"data: column 'x' of {path} must hold finite numbers; first offending rows (0-based): 3 ('oops')"


def test_r_row_names_as_write_csv_writes_them_are_left_out(tmp_path):
    path = tmp_path / "d.csv"
    FRAME.set_axis([f"car {i}" for i in range(10)]).to_csv(path, index_label="")
    ds = load(path)
    assert r_names(ds.feature_names) == ["x", "gb", "gc"]
    assert (
        ds.notes[0]
        == "the first column (no name in the file) names every row differently ('car 0', 'car 1', 'car 2', ...): row names, left out"
    )


def test_a_level_named_none_stays_a_level_and_na_is_missing(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y,x,bags\n" + "".join(f"{i % 2},{i},{['None', 'Driver only', 'NA'][i % 3]}\n" for i in range(12)))
    assert error(path) == (  # NA is missing ...
        "data: column 'bags', a factor, has missing values; first offending rows (0-based): 2, 5, 8, 11; "
        "set data.missing: drop to leave rows with missing values out"
    )
    ds = load(path, missing="drop")
    assert ds.rows_dropped == 4 and r_names(ds.feature_names) == ["x", "bagsNone"]  # ... None is a level


def test_decimal_commas_are_read_as_r_write_csv2_writes_them(tmp_path):
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, sep=";", decimal=",", index=False)
    ds = load(path)
    np.testing.assert_allclose(ds.X[:, 0], FRAME.x)
    assert ds.read_as == "semicolon-delimited text (sniffed, decimal commas)"
