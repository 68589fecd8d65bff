"""The export to MLflow: no link copied into the store, calls to a tracking server bounded in time, a long history
read thinned, numbers past a float left out (log.export)."""

import os
import time

import pandas as pd
from support import hand_run, listener

from nnglm.log import export


def test_export_copies_no_link_into_the_store(tmp_path, run_cli):
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for the tracking store\n")
    folder = hand_run(tmp_path / "log")
    (folder / "notes.txt").symlink_to(secret)  # a received folder, a real link out of it
    (folder / "history.csv").symlink_to(secret)
    (folder / "report.md").write_text("# hand\n")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    code, out, err = run_cli("export", folder, "--mlflow", uri)
    assert code == 0, err
    assert out.rstrip().endswith("(left out: history.csv (a link), notes.txt (a link))")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("nnglm").experiment_id])
    assert {f.path for f in client.list_artifacts(run.info.run_id)} == {"report.md", "result.json"}
    assert not any(key in run.data.metrics for key in ("loss", "max_abs_diff_to_glm"))  # the linked history was not read


def test_mlflow_calls_are_bounded(tmp_path, cli_error, monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_TIMEOUT", raising=False)
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    export.load_mlflow()
    assert (os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"], os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]) == ("10", "0")
    folder = hand_run(tmp_path / "log")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")  # the same bound, shorter, for the test
    silent, address = listener()
    start = time.monotonic()
    message = cli_error("export", folder, "--mlflow", address.replace("tcp://", "http://"))
    assert time.monotonic() - start < 8 and "Read timed out" in message
    silent.close()
    start = time.monotonic()
    assert cli_error("export", folder, "--mlflow", f"sqlite:///{tmp_path}") == (
        f"--mlflow sqlite:///{tmp_path}: {tmp_path} is a folder; give a database file, e.g. sqlite:///mlflow.db"
    )
    os.mkfifo(tmp_path / "fifo.db")
    assert cli_error("export", folder, "--mlflow", f"sqlite:///{tmp_path}/fifo.db").endswith("is not a plain file; give a database file")
    not_a_database = tmp_path / "text.db"
    not_a_database.write_text("hello\n" * 100)
    assert "the tracking store cannot be used" in cli_error("export", folder, "--mlflow", f"sqlite:///{not_a_database}")
    assert time.monotonic() - start < 10  # MLflow used to retry a database it cannot open for 100 s


def test_a_long_history_is_read_thinned_and_in_memory_near_its_size(tmp_path):
    """history.csv of 50 000 logged steps: the export reads at most runlog.MAX_READ_STEPS of them,
    evenly spread with the first and the last, parsed by pandas (not Python lists of its cells)."""
    import numpy as np

    from nnglm.log import export, runlog

    folder = hand_run(tmp_path / "log")
    steps = np.arange(1, 50_001)
    table = pd.DataFrame({"step": steps, "loss": 0.5 + 1 / steps, "max_abs_diff_to_glm": 1 / steps})
    table.to_csv(folder / "history.csv", index=False)
    columns = export.history(folder)
    assert sorted(columns) == ["loss", "max_abs_diff_to_glm"]
    loss = columns["loss"]
    assert len(loss) == runlog.MAX_READ_STEPS and loss[0] == (1, 1.5) and loss[-1][0] == 50_000
    assert all(a[0] < b[0] for a, b in zip(loss, loss[1:]))


def test_an_integer_past_a_float_in_result_json_is_left_out_of_an_export():
    from nnglm.log import export

    big = 10**400
    assert export.numbers({"epochs_run": big, "final_loss": 0.5, "n": 3}, "network.") == {"network.final_loss": 0.5, "network.n": 3.0}
