"""Signals and killed processes: Ctrl-C, SIGTERM and SIGHUP interrupt a run, a sweep or an export (exit 130),
SIGKILL leaves the history and a run listed dead, a closed stdout ends quietly (cli, experiment)."""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from support import ROOT, hand_run, load, nnglm_process, wait_for

from nnglm.experiment import runner
from nnglm.log import logbook


def fingerprint(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.runs
def test_killed_run_is_marked_interrupted_and_earlier_runs_are_untouched(tmp_path):
    earlier = runner.run(load("seed000_four_points", "train.epochs=100"), tmp_path, quiet=True).run_dir
    before = fingerprint(tmp_path)

    long_run = nnglm_process(
        "run",
        "configs/seed002_logistic_no_bias.yaml",
        "--out",
        str(tmp_path),
        "--quiet",
        "--set",
        "train.epochs=5000000",
        "--set",
        "train.log_every=500",
    )

    def steps_logged():  # history.csv grows as training goes: wait until it has
        files = list(tmp_path.glob("seed002_logistic_no_bias/*/history.csv"))
        return len(files[0].read_text().splitlines()) - 1 if files else 0

    deadline = time.monotonic() + 120
    while steps_logged() < 3:
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.1)
    long_run.send_signal(signal.SIGTERM)
    _, stderr = long_run.communicate(timeout=60)
    assert long_run.returncode == 130, stderr
    assert "Traceback" not in stderr

    (killed,) = tmp_path.glob("seed002_logistic_no_bias/*")
    result = json.loads((killed / "result.json").read_text())
    assert result["status"] == "interrupted"
    assert 0 < result["network"]["epochs_run"] < 5_000_000  # what it had learned is kept
    assert result["network"]["note"].startswith(f"interrupted after {result['network']['epochs_run']} steps")
    assert (killed / "history.csv").exists()
    assert not list(tmp_path.rglob(".*.tmp"))
    after = fingerprint(tmp_path)
    assert {k: v for k, v in after.items() if k.parts[1] == earlier.name} == before  # byte for byte


@pytest.mark.runs
def test_sigkill_keeps_the_history_and_the_run_is_listed_dead(tmp_path):
    run = nnglm_process(
        "run",
        "configs/seed002_logistic_no_bias.yaml",
        "--out",
        tmp_path,
        "--quiet",
        "--set",
        "train.epochs=5000000",
        "--set",
        "train.log_every=200",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def history_lines():
        files = list(tmp_path.glob("*/*/history.csv"))
        return len(files[0].read_text().splitlines()) if files else 0

    try:
        wait_for(lambda: history_lines() >= 4)
        (listed,) = logbook.scan(tmp_path)
        assert listed.status == "running" and listed.result.process.pid == run.pid
    finally:
        run.kill()
        run.wait()
    (listed,) = logbook.scan(tmp_path)
    assert listed.status == "dead" and listed.problem == f"its process (pid {run.pid} on {socket.gethostname()}) is gone"
    lines = (listed.folder / "history.csv").read_text().splitlines()
    # steps 0, 200 and 400 were on disk before the kill (history_lines() >= 4)
    assert lines[0] == "step,loss,max_abs_diff_to_glm" and int(lines[-1].split(",")[0]) >= 400
    assert logbook.row(listed)[logbook.RUNS_COLUMNS.index("steps")] == lines[-1].split(",")[0]  # steps reached, from the history


@pytest.mark.runs
def test_sighup_is_an_interruption(tmp_path):
    run = nnglm_process(
        "run",
        "configs/seed002_logistic_no_bias.yaml",
        "--out",
        tmp_path,
        "--quiet",
        "--set",
        "train.epochs=5000000",
        "--set",
        "train.log_every=200",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for(lambda: any(len(p.read_text().splitlines()) >= 3 for p in tmp_path.glob("*/*/history.csv")))
    run.send_signal(signal.SIGHUP)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130 and stderr.endswith("interrupted\n")
    (result,) = tmp_path.glob("*/*/result.json")
    assert json.loads(result.read_text())["status"] == "interrupted"


@pytest.mark.runs
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_sweep_cancels_the_points_not_started(tmp_path, how):
    """Ctrl-C at the terminal reaches the whole process group; a SIGTERM (kill PID) the sweep's own process
    only, which then interrupts its workers."""
    out = tmp_path / "runs"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: s\ndata: {source: synthetic, generator: gaussian_bernoulli, n_rows: 200}\n"
        "train: {epochs: 2000000, log_every: 1000, max_seconds: 600}\nsweep: {seed: [1, 2, 3, 4, 5, 6]}\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "nnglm", "run", cfg, "--jobs", "2", "--out", out], cwd=ROOT, start_new_session=True, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    while len(list(out.glob("s/*/history.csv"))) < 2:
        assert time.monotonic() < deadline and child.poll() is None, "the two first points did not start"
        time.sleep(0.2)
    time.sleep(2)
    if how == "ctrl-c":
        os.killpg(child.pid, signal.SIGINT)
    else:
        child.send_signal(signal.SIGTERM)
    code, err = child.wait(timeout=120), child.stderr.read().decode()
    assert (code, err) == (130, "interrupted\n")  # and no worker's traceback
    folders = list(out.glob("s/*"))
    assert len(folders) == 2  # the four points not started were not run
    assert {json.loads((f / "result.json").read_text())["status"] for f in folders} == {"interrupted"}


@pytest.mark.runs
def test_sigterm_to_a_sweep_of_short_points_starts_no_further_point(tmp_path):
    """kill PID reaches the sweep's own process alone; its workers are told at once, so the points
    queued for them end unstarted (they used to run about three more points first)."""
    import json
    import signal
    import subprocess
    import sys
    import time

    from support import ROOT

    out = tmp_path / "runs"
    (tmp_path / "c.yaml").write_text(
        "name: s\ndata: {source: synthetic, generator: gaussian_bernoulli, n_rows: 200}\n"
        "train: {epochs: 3000, log_every: 100}\nsweep: {seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "nnglm", "run", str(tmp_path / "c.yaml"), "--jobs", "2", "--out", str(out)],
        cwd=ROOT,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    while len(list(out.glob("s/*/history.csv"))) < 2:
        assert time.monotonic() < deadline and child.poll() is None, "the two first points did not start"
        time.sleep(0.05)
    started = len(list(out.glob("s/2*")))
    child.send_signal(signal.SIGTERM)
    code = child.wait(timeout=120)
    assert code == 130, child.stderr.read().decode()
    folders = list(out.glob("s/2*"))
    assert len(folders) == started, [json.loads((f / "result.json").read_text())["status"] for f in folders]


@pytest.mark.runs
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_an_export_as_ctrl_c_does(tmp_path, signal_name):
    """An export to a tracking server that never answers, stopped by a signal: exit 130, 'interrupted'."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    from support import ROOT

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)  # connections wait in the backlog: nothing ever answers
    folder = hand_run(tmp_path / "log")
    command = [sys.executable, "-m", "nnglm", "export", str(folder), "--mlflow", f"http://127.0.0.1:{server.getsockname()[1]}"]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(6)
    child.send_signal(getattr(signal, signal_name))
    _, err = child.communicate(timeout=60)
    server.close()
    assert child.returncode == 130, err.decode()
    assert err.decode().strip().endswith("interrupted")


def test_a_closed_stdout_ends_quietly(tmp_path):
    for i in range(300):
        (tmp_path / "t" / f"20260101-000000-{i:06x}").mkdir(parents=True)
    reader = nnglm_process("runs", tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # as `nnglm runs | head -1` once head has its line
    stderr = reader.stderr.read()
    assert reader.wait(timeout=60) == 141 and stderr == ""
