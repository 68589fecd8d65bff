"""Reading the run log: a bad result.json is one bad row, a running run's liveness, links, FIFOs and devices in a
run folder never followed nor hung on, wrong paths to runs and compare (log.logbook)."""

import json
import os
import time
from pathlib import Path

import pytest
from support import FOUR, bounded_nnglm, hand_run

from nnglm.log import logbook, runlog


def test_liveness_of_a_running_run(tmp_path):
    folder = tmp_path / "t" / "20260101-000000-000001"
    folder.mkdir(parents=True)
    (folder / "heartbeat").touch()
    me = runlog.process_record()
    cases = {
        "alive": (me, True),
        "pid reused": (me.model_copy(update={"process_start": me.process_start + 1}), False),
        "other host, fresh heartbeat": (me.model_copy(update={"host": "elsewhere"}), True),
    }
    for name, (process, alive) in cases.items():
        assert runlog.liveness(process, folder)[0] is alive, name
    os.utime(folder / "heartbeat", (time.time() - 600, time.time() - 600))
    assert runlog.liveness(me.model_copy(update={"host": "elsewhere"}), folder) == (False, "no heartbeat from elsewhere for 10 min")
    assert runlog.liveness(None, folder) == (None, "written before runs recorded their process")


@pytest.mark.parametrize("period", [float("nan"), 1e300, 0.0, -5.0])
def test_a_heartbeat_period_that_is_no_period(tmp_path, period):
    folder = hand_run(tmp_path, status="running", process={"host": "elsewhere", "pid": 1, "started": "2026-01-01T00:00:00+00:00"})
    result = json.loads((folder / "result.json").read_text())
    result["process"]["heartbeat_seconds"] = period
    (folder / "result.json").write_text(json.dumps(result))  # NaN as JSON's NaN, which Python reads
    (folder / "heartbeat").touch()
    old = time.time() - 11 * 60
    os.utime(folder / "heartbeat", (old, old))
    assert runlog.heartbeat_period(period) == runlog.HEARTBEAT_SECONDS
    assert (logbook.read(folder).status, logbook.read(folder).problem) == ("dead", "no heartbeat from elsewhere for 11 min")


def write_result(folder: Path, content) -> None:
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(content if isinstance(content, str) else json.dumps(content))


def test_one_bad_result_is_one_bad_row(tmp_path, run_cli):
    good = {
        "schema": 1,
        "status": "completed",
        "config": {"model": {"family": "binomial", "link": "logit"}},
        "environment": {"device": "[/x] [bold]"},
        "network": {"coefficients": {"x1": 1.0}, "epochs_run": 5},
        "comparison": {"max_abs_diff": 0.5, "equivalent": False},
    }
    write_result(tmp_path / "t" / "20260101-000000-000001", good)
    write_result(tmp_path / "t" / "20260101-000000-000002", good | {"comparison": {"max_abs_diff": "x"}})
    write_result(tmp_path / "t" / "20260101-000000-000003", "[" * 100_000 + "]" * 100_000)
    write_result(tmp_path / "t" / "20260101-000000-000004", good | {"status": "exploded"})
    write_result(tmp_path / "t" / "20260101-000000-000005", good | {"extra_section": {"new": 1}})  # a newer runner's addition
    huge = tmp_path / "t" / "20260101-000000-000006"
    huge.mkdir()
    with open(huge / "result.json", "wb") as f:
        f.truncate(65 * 2**20)  # sparse: takes no disk
    problems = {r.run_id[-1]: r.problem for r in logbook.scan(tmp_path)}
    assert problems == {
        "1": None,
        "2": "result.json: comparison.max_abs_diff: Input should be a valid number, unable to parse string as a number (got 'x')",
        "3": "unreadable result.json (RecursionError)",
        "4": "result.json: status: Input should be 'running', 'completed', 'failed' or 'interrupted' (got 'exploded')",
        "5": None,
        "6": "result.json is larger than 64 MB",
    }
    code, out, _ = run_cli("runs", tmp_path)
    assert code == 0 and "[/x]" in out and "[bold]" in out and out.count("broken") == 4  # shown as text, not read as markup


@pytest.mark.parametrize(
    "model, why",
    [
        ("null", "config.model: names its family (a run writes it)"),
        ("[1]", "config.model: a mapping of keys, not list"),
        ("3", "config.model: a mapping of keys, not int"),
        ('"text"', "config.model: a mapping of keys, not str"),
        ('{"family": ["poisson"], "link": "log"}', "config.model.family: text, not list"),
    ],
)
def test_a_result_json_whose_config_is_malformed_is_one_message_in_every_reader(tmp_path, cli_error, model, why):
    import json

    import nnglm

    folder = hand_run(tmp_path / "log")
    result = json.loads((folder / "result.json").read_text())
    result["config"]["model"] = json.loads(model)
    (folder / "result.json").write_text(json.dumps(result))
    with pytest.raises(nnglm.ConfigError) as caught:
        nnglm.load(folder)._repr_html_()
    assert f"a broken run (result.json: config: {why} (got " in str(caught.value)
    assert f"cannot compare a broken run (result.json: config: {why}" in cli_error("compare", str(folder), str(folder))


def test_run_folder_readers_follow_no_link_out(tmp_path):
    outside = hand_run(tmp_path / "outside")
    log = tmp_path / "log"
    folder = log / "t" / "20260101-000000-aaaaaa"
    folder.mkdir(parents=True)
    (folder / "result.json").symlink_to(outside / "result.json")
    (log / "t" / "20260101-000000-bbbbbb").symlink_to(outside)  # a run folder that is a link elsewhere
    runs = logbook.scan(log)
    assert [(r.run_id, r.status, r.problem) for r in runs] == [
        ("20260101-000000-aaaaaa", "broken", "result.json is a link out of its run folder")
    ]


@pytest.mark.runs
def test_fifos_and_devices_in_a_run_folder_never_hang_a_reader(tmp_path):
    log = tmp_path / "log"
    fifo_result = hand_run(log, run_id="20260101-000000-f1f0f0")
    (fifo_result / "result.json").unlink()
    os.mkfifo(fifo_result / "result.json")
    fifo_history = hand_run(log, run_id="20260101-000000-f2f0f0", status="running", network=None)
    os.mkfifo(fifo_history / "history.csv")
    zero = hand_run(log, run_id="20260101-000000-0e0e0e", network=None)
    (zero / "history.csv").symlink_to("/dev/zero")  # read without bound, it used to fill the memory
    code, out, err = bounded_nnglm("runs", log)
    assert code == 0, err
    assert "result.json is a FIFO, not a plain file" in out
    code, _, err = bounded_nnglm("compare", fifo_result, zero)
    assert (code, err) == (2, f"error: {fifo_result}: cannot compare a broken run (result.json is a FIFO, not a plain file)\n")
    code, _, err = bounded_nnglm("export", fifo_result, "--mlflow", f"sqlite:///{tmp_path}/m.db")
    assert (code, err) == (2, f"error: {fifo_result}: cannot export it: result.json is a FIFO, not a plain file\n")
    code, out, err = bounded_nnglm("export", zero, "--mlflow", f"sqlite:///{tmp_path}/m.db")
    assert code == 0 and out.rstrip().endswith("(left out: history.csv (a link))"), err
    code, _, err = bounded_nnglm("report", zero)
    assert code == 2 and "no config.yaml, coefficients.csv, history.csv, trajectory.csv" in err


@pytest.mark.runs
def test_report_draws_from_no_fifo_and_no_link_out(tmp_path):
    folder = hand_run(tmp_path / "log")
    (folder / "config.yaml").write_text(FOUR)
    (folder / "coefficients.csv").write_text("term,network,glm\nconst,1,1\nx1,2,2\n")
    (folder / "trajectory.csv").write_text("step,const,x1\n1,1,2\n")
    elsewhere = tmp_path / "history.csv"
    elsewhere.write_text("step,loss,max_abs_diff_to_glm\n1,0.5,0.1\n")
    (folder / "history.csv").symlink_to(elsewhere)
    code, _, err = bounded_nnglm("report", folder, seconds=60)
    assert (code, err) == (
        2,
        f"error: {folder}: its files are damaged (ValueError: history.csv is a link out of its run folder); "
        "`nnglm report` cannot draw from them\n",
    )
    (folder / "history.csv").unlink()
    os.mkfifo(folder / "history.csv")
    code, _, err = bounded_nnglm("report", folder, seconds=60)
    assert code == 2 and err.startswith(f"error: {folder}: not a completed sweep point's run folder (no history.csv)")
    assert not (folder / "loss.png").exists()


def test_runs_and_compare_on_wrong_paths(tmp_path, cli_error):
    a_file = tmp_path / "afile"
    a_file.write_text("")
    assert cli_error("runs", a_file) == f"{a_file} is a file; give the run log's folder (default: experiments)"
    assert cli_error("runs", tmp_path / "nowhere") == f"no run log at {tmp_path / 'nowhere'}: the folder does not exist"
    assert cli_error("compare", tmp_path / "nowhere", a_file) == f"{tmp_path / 'nowhere'}: no such run folder"
    assert cli_error("compare", tmp_path, a_file) == f"{a_file}: a file, not a run folder (<out>/<name>/<run_id>/)"


def test_compare_a_run_without_a_glm_section(tmp_path, cli_error, run_cli):
    complete = {"status": "completed", "network": {"coefficients": {"x1": 1.0}}, "glm": {"coefficients": {"x1": 1.0}}}
    write_result(tmp_path / "t" / "r1", complete)
    write_result(tmp_path / "t" / "r2", {k: v for k, v in complete.items() if k != "glm"})
    assert cli_error("compare", tmp_path / "t" / "r1", tmp_path / "t" / "r2") == (
        f"{tmp_path / 't' / 'r2'}: result.json has no glm coefficients to compare"
    )
    # a result.json path is taken for its folder; a single run's folder lists that run
    code, out, _ = run_cli("compare", tmp_path / "t" / "r1" / "result.json", tmp_path / "t" / "r1")
    assert code == 0 and "the same" in out
    assert [r.run_id for r in logbook.scan(tmp_path / "t" / "r1")] == ["r1"]
