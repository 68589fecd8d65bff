"""Run ids: `nnglm runs` lists each run's id and the keys its sweep point set; `nnglm compare`
takes ids as well as folders."""

import json
from pathlib import Path

import pytest
from support import ROOT

from nnglm import cli, config
from nnglm.log import logbook

RESULT = {
    "schema": 1,
    "status": "completed",
    "config": {"model": {"family": "binomial", "link": "logit"}, "train": {"learning_rate": 0.001}},
    "environment": {"dtype": "float32"},
    "network": {"coefficients": {"x1": 1.0}, "epochs_run": 5},
    "glm": {"coefficients": {"x1": 1.0}},
    "comparison": {"max_abs_diff": 0.0, "equivalent": True},
}


def write_run(root: Path, name: str, run_id: str, **extra) -> Path:
    folder = root / name / run_id
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(RESULT | {"name": name, "run_id": run_id} | extra))
    return folder


@pytest.fixture
def log(tmp_path):
    root = tmp_path / "experiments"
    write_run(root, "a", "20260101-000000-aaaaaa")
    write_run(root, "a", "20260101-000001-bbbbbb", sweep_point={"train.learning_rate": 0.01, "train.epochs": 20})
    write_run(root, "b", "20260102-000000-cccccc")
    return root


@pytest.fixture
def error_of(cli_error):
    """`error_of(*ARGS)`: the one-line message of `nnglm ARGS`, which exits 2."""
    return lambda *args: cli_error(*args, one_line=True)


def test_runs_shows_the_id_and_the_keys_a_sweep_point_set(log, capsys):
    rows = {run.run_id: logbook.row(run) for run in logbook.scan(log)}
    assert logbook.RUNS_COLUMNS[:4] == ["name", "id", "set", "status"]
    assert rows["20260101-000001-bbbbbb"][:4] == ["a", "20260101-000001-bbbbbb", "train.learning_rate=0.01 train.epochs=20", "completed"]
    assert rows["20260101-000000-aaaaaa"][:4] == ["a", "20260101-000000-aaaaaa", "", "completed"]
    assert cli.main(["runs", str(log)]) == 0
    out = capsys.readouterr().out
    assert all(run_id in out for run_id in rows)  # whole, never wrapped
    assert "train.learning_rate=0.01 train.epochs=20" in out


def test_the_set_column_joins_plain_overrides_and_the_sweep_point(tmp_path):
    write_run(tmp_path, "a", "20260101-000000-aaaaaa", overrides={"train.dtype": "float64"}, sweep_point={"train.epochs": 20})
    (run,) = logbook.scan(tmp_path)
    assert logbook.row(run)[2] == "train.dtype=float64 train.epochs=20"


def test_plain_overrides_are_the_set_keys_that_are_not_sweeps():
    given = ["train.epochs=5", "train.learning_rate=sweep:0.1,0.2", "model.hidden=[4, 2]", "train.epochs=7", "name=x=y"]
    assert config.plain_overrides(given) == {"train.epochs": 7, "model.hidden": [4, 2], "name": "x=y"}
    # the last --set of a key wins, as the points run: a later sweep of it takes it out
    given = ["train.epochs=300", "train.epochs=sweep:100,200", "train.dtype=sweep:float32,float64", "train.dtype=float64"]
    assert config.plain_overrides(given) == {"train.dtype": "float64"}
    assert [p for p, _ in config.expand(ROOT / "configs/seed000_four_points.yaml", given)] == [{"train.epochs": 100}, {"train.epochs": 200}]


def test_compare_takes_ids_prefixes_and_folders(log, capsys):
    assert cli.main(["compare", "20260101-000000-aaaaaa", "20260102-000000-cccccc", "--dir", str(log)]) == 0
    out = capsys.readouterr().out
    assert "run 1: a/20260101-000000-aaaaaa" in out and "run 2: b/20260102-000000-cccccc" in out
    assert cli.main(["compare", "20260101-000001", str(log / "b" / "20260102-000000-cccccc"), "--dir", str(log)]) == 0
    assert "run 1: a/20260101-000001-bbbbbb" in capsys.readouterr().out
    assert cli.main(["compare", "aaaaaa", "cccccc", "--dir", str(log)]) == 2  # an id is matched from its start only


def test_a_tolerance_that_is_no_number_is_refused(log, error_of):
    for tol in ("nan", "-1", "inf"):
        message = error_of("compare", "20260101-000000-aaaaaa", "20260102-000000-cccccc", "--dir", log, "--tol", tol)
        assert message == f"--tol: {float(tol)}; give a finite number, 0 or more (the largest allowed difference of network weights)"


def test_compare_looks_ids_up_in_experiments_by_default(log, capsys, monkeypatch):
    monkeypatch.chdir(log.parent)
    assert cli.main(["compare", "20260101-000000-aaaaaa", "20260101-000001-bbbbbb"]) == 0
    assert "run 2: a/20260101-000001-bbbbbb" in capsys.readouterr().out


def test_unknown_or_ambiguous_ids_are_one_message(log, error_of, tmp_path):
    args = ["--dir", log]
    assert error_of("compare", "20260101-000000-aaaaaa", "nosuchid", *args) == (
        f"run id 'nosuchid': no run of that id under {log} (`nnglm runs {log}` lists them)"
    )
    assert error_of("compare", "20260101", "20260102-000000-cccccc", *args) == (
        f"run id '20260101' is ambiguous under {log}: it matches 'a/20260101-000000-aaaaaa', "
        "'a/20260101-000001-bbbbbb'; give more of the id, or the run folder's path"
    )
    write_run(log, "c", "20260102-000000-cccccc")  # the same id under another name (a copied folder)
    assert error_of("compare", "20260101-000000-aaaaaa", "20260102-000000-cccccc", *args) == (
        f"run id '20260102-000000-cccccc' is ambiguous under {log}: it matches 'b/20260102-000000-cccccc', "
        "'c/20260102-000000-cccccc'; give more of the id, or the run folder's path"
    )
    nowhere = tmp_path / "nowhere"
    assert error_of("compare", "20260101-000000-aaaaaa", "x", "--dir", nowhere) == (
        f"run id '20260101-000000-aaaaaa': no run folder of that path, and no run log at {nowhere} to look the id up in (give it with --dir)"
    )
    # a path that does not exist is still a missing folder, not an id
    assert error_of("compare", log / "a" / "nosuchid", "x", *args) == f"{log / 'a' / 'nosuchid'}: no such run folder"
