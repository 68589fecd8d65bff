"""R's files read as R 4 writes them, and a damaged one named as the R file it should be (data.files)."""

import pytest

from nnglm import cli


def test_r_files_as_r_4_writes_them(tmp_path, capsys, monkeypatch):
    """airquality's integer columns with NA are numbers, as in R (pyreadr gave Python objects, fitted as a
    factor of 96 levels); gl()'s compact factors, which pyreadr cannot read, get the way out."""
    from support import ROOT

    from nnglm.data import files

    frame = files.read(str(ROOT / "data/r/airquality.RData")).frame
    assert frame["Ozone"].dtype == "float64" and frame["Ozone"].isna().sum() == 37 and frame["Solar.R"].isna().sum() == 7
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aq.yaml").write_text(
        f"name: aq\ndata: {{source: file, path: {ROOT / 'data/r/airquality.RData'}, missing: drop, "
        'formula: "Ozone ~ Temp + Solar.R"}\nmodel: {family: gaussian}\n'
    )
    assert cli.main(["validate", "aq.yaml"]) == 0
    assert "111 rows, 2 features" in capsys.readouterr().out
    with pytest.raises(Exception) as caught:
        files.read(str(ROOT / "data/r/dobson_v3.rds"))
    assert str(caught.value).endswith(
        "R writes some factors (gl()'s, factor(x, levels = 1:3)) in a form pyreadr cannot read: save the data "
        "with saveRDS(x, file, version = 2) or save(x, file = ..., version = 2), or as CSV"
    )


def test_a_damaged_compressed_r_file_is_named_as_the_r_file_it_should_be(tmp_path):
    from support import ROOT

    from nnglm.data import files

    damaged = bytearray((ROOT / "data/r/warpbreaks.rds").read_bytes())
    for i in range(12, len(damaged), 7):
        damaged[i] ^= 0x5A
    (tmp_path / "bad.rds").write_bytes(bytes(damaged))
    with pytest.raises(Exception) as caught:
        files.read(str(tmp_path / "bad.rds"))
    assert str(caught.value).startswith(f"data.path: cannot read {tmp_path / 'bad.rds'} as an R .rds file: ")
