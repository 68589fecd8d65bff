"""nnglm export: a run folder as an MLflow run in a SQLite tracking store, read back with MLflow's client.

MLflow is an optional extra for users; the test extra installs it, so these tests run wherever the others do.
"""

import csv
import json
import os
import socket
import sys
from pathlib import Path

import pytest

pytest.importorskip("mlflow", reason="the mlflow extra is not installed (pip install -e '.[mlflow]')")

from mlflow.tracking import MlflowClient  # noqa: E402
from support import load  # noqa: E402

from nnglm import cli  # noqa: E402
from nnglm.experiment import runner  # noqa: E402
from nnglm.log import logbook  # noqa: E402


def export(capsys, *args):
    code = cli.main(["export", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def minimal_run(root, run_id="20260101-000000-abcdef", **fields):
    """A run folder written by hand: only the keys given, no history, no plots."""
    folder = root / "hand" / run_id
    folder.mkdir(parents=True)
    result = {"schema": 1, "run_id": run_id, "name": "hand", "config": {"model": {"family": "poisson"}}} | fields
    (folder / "result.json").write_text(json.dumps(result))
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite tracking store for the module (a new one takes MLflow a second or two to set up); each test its experiment."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, store):
    """One short run of seed 002, exported; (its folder, its result.json, the tracking URI, the MLflow run)."""
    root = tmp_path_factory.mktemp("runs")
    folder = runner.run(load("seed002_logistic_no_bias", "data.n_rows=100", "train.epochs=50"), root, quiet=True).run_dir
    uri = store
    assert cli.main(["export", str(folder), "--mlflow", uri]) == 0
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("nnglm")
    (run,) = client.search_runs([experiment.experiment_id])
    return folder, json.loads((folder / "result.json").read_text()), uri, run


@pytest.mark.runs
def test_the_config_is_the_params_and_the_run_is_tagged(exported):
    folder, result, _, run = exported
    assert run.data.params["model.family"] == result["config"]["model"]["family"] == "binomial"
    assert run.data.params["train.learning_rate"] == str(result["config"]["train"]["learning_rate"])
    assert run.data.params["model.use_bias"] == "false"
    tags = run.data.tags
    assert tags["nnglm.run_id"] == folder.name and tags["nnglm.status"] == "completed"
    assert tags["nnglm.family"] == "binomial" and tags["nnglm.backend"] == result["environment"]["backend"]
    assert tags["nnglm.verdict"] == result["comparison"]["verdict"] and tags["nnglm.errors"] == logbook.errors_used(
        logbook.read(folder).result
    )
    assert run.info.run_name == f"seed002_logistic_no_bias/{folder.name}" and run.info.status == "FINISHED"


@pytest.mark.runs
def test_the_final_figures_are_metrics(exported):
    _, result, _, run = exported
    metrics = run.data.metrics
    assert metrics["max_abs_diff"] == result["comparison"]["max_abs_diff"]
    assert metrics["equivalent"] == float(result["comparison"]["equivalent"])
    assert metrics["network.final_loss"] == result["network"]["final_loss"]
    assert metrics["network.epochs_run"] == 50
    assert metrics["glm.llf"] == result["glm"]["llf"]
    assert not any(key.startswith(("network.coefficients", "glm.bse")) for key in metrics)  # those are in coefficients.csv


@pytest.mark.runs
def test_the_loss_by_step_is_the_history(exported):
    folder, _, uri, run = exported
    with open(folder / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    client = MlflowClient(tracking_uri=uri)
    for column in ("loss", "max_abs_diff_to_glm"):
        points = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, column))
        assert points == [(int(row["step"]), float(row[column])) for row in rows]
    assert len(rows) == 6  # steps 0, 10, ..., 50


@pytest.mark.runs
def test_the_folder_is_the_artifacts(exported):
    folder, _, uri, run = exported
    names = {f.path for f in MlflowClient(tracking_uri=uri).list_artifacts(run.info.run_id)}
    assert {"report.md", "result.json", "coefficients.csv", "history.csv", "config.yaml", "loss.png"} <= names
    assert names == {p.name for p in folder.iterdir()}
    beside_the_database = (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").as_uri()
    assert run.info.artifact_uri.startswith(beside_the_database + "/")


@pytest.mark.runs
def test_a_run_is_exported_once(exported, capsys):
    folder, _, uri, run = exported
    code, out, _ = export(capsys, folder, "--mlflow", uri)
    assert code == 0
    assert out == f"{folder}: already in experiment 'nnglm' as MLflow run {run.info.run_id}; not exported again\n"
    client = MlflowClient(tracking_uri=uri)
    assert len(client.search_runs([client.get_experiment_by_name("nnglm").experiment_id])) == 1


@pytest.mark.runs
def test_a_run_id_is_looked_up_in_dir(exported, capsys):
    folder, _, uri, _ = exported
    code, out, err = export(capsys, folder.name[:17], "--mlflow", uri, "--dir", folder.parent.parent, "--experiment", "by id")
    assert (code, err) == (0, "")
    assert out.startswith(f"{folder}: MLflow run ") and out.endswith(" in experiment 'by id'\n")


def test_a_result_without_sections_exports_what_it_has(tmp_path, capsys, store):
    folder = minimal_run(tmp_path, status="failed", error="RuntimeError: disk on fire")
    code, out, err = export(capsys, folder, "--mlflow", store, "--experiment", "by hand")
    assert (code, err) == (0, ""), err
    client = MlflowClient(tracking_uri=store)
    (run,) = client.search_runs([client.get_experiment_by_name("by hand").experiment_id])
    assert out == f"{folder}: MLflow run {run.info.run_id} in experiment 'by hand'\n"
    assert run.info.status == "FAILED" and run.data.params == {"model.family": "poisson"} and run.data.metrics == {}
    assert run.data.tags["nnglm.error"] == "RuntimeError: disk on fire"


def test_an_export_that_fails_halfway_leaves_no_run(tmp_path, capsys, store, monkeypatch):
    def full(self, run_id, local_path, artifact_path=None):
        raise OSError(28, "No space left on device", local_path)

    monkeypatch.setattr(MlflowClient, "log_artifact", full)
    folder = minimal_run(tmp_path, status="completed")
    code, out, err = export(capsys, folder, "--mlflow", store, "--experiment", "full disk")
    assert (code, out, err) == (2, "", f"error: --mlflow {store}: No space left on device: {folder / 'result.json'}\n")
    client = MlflowClient(tracking_uri=store)
    assert client.search_runs([client.get_experiment_by_name("full disk").experiment_id]) == []


def test_a_missing_folder_exits_2_with_one_line(tmp_path, capsys):
    missing = tmp_path / "runs" / "nope"
    assert export(capsys, missing, "--mlflow", f"sqlite:///{tmp_path}/mlflow.db") == (2, "", f"error: {missing}: no such run folder\n")


def test_a_running_or_unreadable_run_is_named_and_nothing_is_exported(tmp_path, capsys):
    db = tmp_path / "mlflow.db"
    good = minimal_run(tmp_path, "20260101-000000-000001", status="completed")
    process = {"host": socket.gethostname(), "pid": os.getpid(), "started": "2026-01-01T00:00:00+00:00"}
    running = minimal_run(tmp_path, "20260101-000000-000002", status="running", process=process)
    (running / "heartbeat").touch()
    dead = minimal_run(tmp_path, "20260101-000000-000003", status="running", process=process)  # no heartbeat: it ended unrecorded
    broken = minimal_run(tmp_path, "20260101-000000-000004")
    (broken / "result.json").write_text('{"status": "comp')
    expected = {
        running: f"error: {running}: still running; export it once it has ended\n",
        dead: f"error: {dead}: recorded as running, but it ended without recording its status; "
        "it has no end to export (`nnglm runs` lists it as dead)\n",
        broken: f"error: {broken}: cannot export it: unreadable result.json (JSONDecodeError)\n",
    }
    for folder, message in expected.items():
        assert export(capsys, good, folder, "--mlflow", f"sqlite:///{db}") == (2, "", message)
    assert not db.exists()  # every folder is read before anything is written


def test_the_plain_file_store_is_refused_in_one_line(tmp_path, capsys):
    folder = minimal_run(tmp_path, status="completed")
    uri = (tmp_path / "mlruns").as_uri()
    code, out, err = export(capsys, folder, "--mlflow", uri)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: --mlflow {uri}: ") and err.count("\n") == 1 and "Traceback" not in err


def test_a_store_that_keeps_nothing_or_is_not_a_database_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may land in the folder the command runs in
    folder = minimal_run(tmp_path, status="completed")
    keeps_nothing = "an SQLite store in memory or without a file keeps nothing; give a file, e.g. sqlite:///mlflow.db"
    for uri in ("sqlite:///:memory:", "sqlite:///"):
        assert export(capsys, folder, "--mlflow", uri) == (2, "", f"error: --mlflow {uri}: {keeps_nothing}\n")
    assert export(capsys, folder, "--mlflow", " ") == (2, "", "error: --mlflow: empty; give a tracking URI, e.g. sqlite:///mlflow.db\n")
    (tmp_path / "junk.db").write_text("not a database")
    code, out, err = export(capsys, folder, "--mlflow", f"sqlite:///{tmp_path}/junk.db")
    assert (code, out) == (2, "") and err.startswith(f"error: --mlflow sqlite:///{tmp_path}/junk.db: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand", "junk.db"]


def test_without_mlflow_it_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed: importing it raises ImportError
    folder = minimal_run(tmp_path, status="completed")
    assert export(capsys, folder, "--mlflow", f"sqlite:///{tmp_path}/mlflow.db") == (
        2,
        "",
        "error: export: MLflow is not installed; it is the optional extra `mlflow`: "
        "make install EXTRAS=test,dev,mlflow, or .venv/bin/pip install -e '.[mlflow]'\n",
    )
