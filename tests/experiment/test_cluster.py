"""A sweep on a Dask cluster: a scheduler and one worker process on loopback; the run folders come
back to the launching side and are written there, complete, as a local run writes them."""

import json
import socket
import sys
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

from nnglm import cli, config  # noqa: E402
from nnglm.experiment import cluster, sweep  # noqa: E402
from nnglm.log import logbook, runlog  # noqa: E402

SWEEP = (
    "name: s\nseed: 3\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 30}\nsweep:\n  train.learning_rate: [0.01, 0.1]\n"
)


@pytest.fixture(scope="module")
def address():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as local:
        yield local.scheduler_address


@pytest.fixture
def error_of(cli_error):
    """`error_of(*ARGS)`: the one-line message of `nnglm ARGS`, which exits 2."""
    return lambda *args: cli_error(*args, one_line=True)


@pytest.mark.runs
def test_a_sweep_on_the_cluster_writes_every_run_folder_here(address, write_config, tmp_path, capsys):
    path = write_config(SWEEP)
    started = time.monotonic()
    assert cli.main(["run", str(path), "--out", str(tmp_path / "remote"), "--cluster", address]) == 0
    seconds = time.monotonic() - started
    out = capsys.readouterr().out
    assert f"sweep of 2 points on the Dask cluster at {address} (1 workers)" in out
    remote = sorted(p for p in (tmp_path / "remote" / "s").iterdir() if not p.name.startswith("sweep-"))
    assert len(remote) == 2 and (tmp_path / "remote" / "s" / f"sweep-{remote[0].name}" / runlog.SWEEP_PICTURE).is_file()
    # the same point run here, in this process: the same files, the same weights
    local = sweep.run(config.expand(path)[:1], tmp_path / "local")[0]
    local_files = sorted(p.name for p in (tmp_path / "local" / "s").glob("*/*"))
    for folder in remote:
        result = json.loads((folder / "result.json").read_text())
        assert result["status"] == "completed" and result["run_id"] == folder.name and result["name"] == "s"
        # no heartbeat, no temporary file (the sweep's picture is in the sweep's own folder)
        assert sorted(p.name for p in folder.iterdir()) == local_files
        assert (folder / "history.csv").read_text().startswith("step,loss,max_abs_diff_to_glm\n")
    first = next(f for f in remote if json.loads((f / "result.json").read_text())["sweep_point"] == {"train.learning_rate": 0.01})
    local_result = json.loads((next((tmp_path / "local" / "s").iterdir()) / "result.json").read_text())
    assert json.loads((first / "result.json").read_text())["network"]["coefficients"] == local_result["network"]["coefficients"]
    assert local.status == "completed"
    assert {r.run_id for r in logbook.scan(tmp_path / "remote")} == {f.name for f in remote}
    print(f"2-point sweep on the loopback cluster: {seconds:.1f} s")


@pytest.mark.runs
def test_a_sweep_over_backends_runs_a_point_keras_cannot_take_in_a_fresh_process(address, write_config, tmp_path):
    # the worker's own process has Keras on TensorFlow from the test above, or gets it from the first point
    path = write_config(SWEEP.replace("train.learning_rate: [0.01, 0.1]", "train.backend: [tensorflow, jax]"))
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--cluster", address]) == 0
    results = [json.loads(p.read_text()) for p in (tmp_path / "s").glob("*/result.json")]
    assert sorted(r["environment"]["backend"] for r in results) == ["jax", "tensorflow"]
    assert len({r["process"]["pid"] for r in results}) == 2


def crash_in_report():
    from nnglm.experiment import runner

    def report(*args, **kwargs):
        raise RuntimeError("the report crashed")

    runner._report, runner.saved_report = report, runner._report  # report.md (and a single run's plots)


def restore_report():
    from nnglm.experiment import runner

    runner._report = runner.saved_report


@pytest.mark.runs
def test_a_failed_point_comes_back_failed_and_exits_3(address, write_config, tmp_path, capsys):
    path = write_config(SWEEP)
    with distributed.Client(address) as client:
        client.run(crash_in_report)
        try:
            code = cli.main(["run", str(path), "--out", str(tmp_path), "--cluster", address])
        finally:
            client.run(restore_report)
    assert code == 3
    folders = [f for f in (tmp_path / "s").iterdir() if not f.name.startswith("sweep-")]  # the sweep's own folder apart
    assert len(folders) == 2
    for folder in folders:
        result = json.loads((folder / "result.json").read_text())
        assert result["status"] == "failed" and result["error"] == "RuntimeError: the report crashed"
        assert not (folder / "heartbeat").exists()
    out = capsys.readouterr().out
    assert "failed" in out and "on worker tcp://127.0.0.1:" in out and "RuntimeError: the report crashed" in out


@pytest.mark.runs
def test_a_point_rejected_on_the_worker_names_the_worker(address, write_config, tmp_path, capsys):
    path = write_config("name: s\ndata: {source: csv, path: nowhere.csv, target: y}\ntrain: {epochs: 5}\n")
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--cluster", address]) == 2
    assert "rejected" in capsys.readouterr().out
    assert not (tmp_path / "s").exists()
    ((point, cfg),) = config.expand(path)
    outcome, files = cluster.run_remote(point, cfg)  # as a worker runs it, outside a worker
    assert outcome.error == f"on {socket.gethostname()}: data.path: file not found: nowhere.csv" and files == {}


@pytest.mark.runs
def test_a_cluster_left_without_workers_fails_the_waiting_points_instead_of_hanging(write_config, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "WORKERLESS_SECONDS", 1.0)
    monkeypatch.setattr(cluster, "POLL_SECONDS", 0.2)
    points = config.expand(write_config(SWEEP))
    with (
        distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as empty,
        distributed.Client(empty, set_as_default=False) as client,
    ):
        done: list = []
        waiting = threading.Thread(target=lambda: done.append(sweep.run(points, tmp_path / "runs", client=client)), daemon=True)
        waiting.start()
        waiting.join(timeout=60)  # a regression fails here instead of hanging the suite
        assert done, "the sweep still waits on a cluster without workers"
        outcomes = done[0]
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert outcomes[0].error == "the cluster has had no workers for 1 s (they died or were stopped)"
    assert sweep.exit_code(outcomes, strict=False) == 3 and not (tmp_path / "runs").exists()


@pytest.mark.runs
def test_cluster_and_jobs_together_is_a_usage_error(write_config, error_of):
    path = write_config(SWEEP)
    assert error_of("run", path, "--cluster", "tcp://127.0.0.1:8786", "--jobs", "2") == (
        "--cluster and --jobs: give one; --jobs N runs a sweep's points in N processes on this machine, "
        "--cluster ADDRESS on a Dask cluster's workers"
    )


@pytest.mark.runs
def test_a_cluster_that_cannot_be_reached_is_one_message(write_config, tmp_path, error_of, monkeypatch):
    path = write_config(SWEEP)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1.0)
    assert error_of("run", path, "--out", tmp_path, "--cluster", f"tcp://127.0.0.1:{port}") == (
        f"--cluster: no Dask scheduler at tcp://127.0.0.1:{port} (Connection refused); start one with `dask scheduler`, or check the address"
    )
    assert error_of("run", path, "--out", tmp_path, "--cluster", "localhost") == (
        "--cluster: 'localhost' is not a Dask scheduler address (missing port number in address 'localhost'); "
        "give one as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    )
    assert error_of("run", path, "--out", tmp_path, "--cluster", "http://localhost:8786") == (
        "--cluster: 'http://localhost:8786' is not a Dask scheduler address (unknown address scheme 'http' "
        "(known schemes: ['inproc', 'tcp', 'tls', 'ucx', 'ws', 'wss'])); give one as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    )
    assert not (tmp_path / "s").exists()


@pytest.mark.runs
def test_without_dask_installed_cluster_is_one_message(write_config, tmp_path, error_of, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    assert error_of("run", write_config(SWEEP), "--out", tmp_path, "--cluster", "tcp://127.0.0.1:8786") == (
        "--cluster: Dask distributed is not installed here; install it with pip install 'dask[distributed]'"
    )
