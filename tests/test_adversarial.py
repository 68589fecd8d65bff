"""Nothing breaks, nothing is lost: bad inputs and faults as an adversarial user makes them.

Each test is one kind from the table "Bad input, and what it gets" (docs/bad-input.md): the
exact message and exit code, and what is (and is not) left on disk.
"""

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, cli_error, load, run_cli

from nnglm import config
from nnglm.data import checks, table
from nnglm.foundation.errors import MAX_MESSAGE, UserError
from nnglm.log import logbook, runlog
from nnglm.model import glm
from nnglm.train import network

pytestmark = pytest.mark.runs  # trains networks or starts processes: not in make test-fast

FOUR = "name: t\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 5}\n"


nnglm = run_cli
error_of = cli_error


def nnglm_process(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "nnglm", *map(str, args)], cwd=ROOT, text=True, **kwargs)


def wait_for(predicate, seconds=120):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def csv_config(write_config, text, extra=""):
    path = write_config(text, "d.csv")
    return write_config(f"name: t\ndata: {{source: csv, path: {path}, target: y{extra}}}\ntrain: {{epochs: 5}}\n"), path


# --- the config file ---


@pytest.mark.logic
def test_config_that_is_not_utf8_or_is_utf16(write_config, tmp_path, capsys):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: t\ndescription: caf\xe9\n")
    assert error_of(capsys, "validate", latin) == f"{latin}: not UTF-8 text: byte 0xe9 at line 2; save the file as UTF-8"
    utf16 = tmp_path / "u16.yaml"
    utf16.write_bytes(FOUR.encode("utf-16"))
    assert error_of(capsys, "validate", utf16) == f"{utf16}: is UTF-16 text; save it as UTF-8"
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + FOUR.encode())  # as some editors save UTF-8: accepted
    assert nnglm(capsys, "validate", bom)[0] == 0


@pytest.mark.logic
def test_config_size_nesting_and_alias_bombs_are_bounded(write_config, capsys):
    lines = ["name: t", "data: {source: synthetic, generator: four_points}", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]  # 9^10 values when expanded
    bomb = write_config("\n".join(lines) + "\n", "bomb.yaml")
    expected = (
        f"{bomb}: more than 100,000 values once its YAML aliases are expanded "
        "(aliases nested in aliases, or a node that contains itself); a config has a few dozen"
    )
    assert error_of(capsys, "validate", bomb) == expected
    cycle = write_config("name: t\nx: &x [*x]\n", "cycle.yaml")
    assert error_of(capsys, "validate", cycle).startswith(f"{cycle}: more than 100,000 values")
    deep = write_config("name: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")
    assert error_of(capsys, "validate", deep) == f"{deep}: YAML nested too deeply; a config is a few levels deep"
    big = write_config("name: t\n" + "#" * 2_000_000 + "\n", "big.yaml")
    assert error_of(capsys, "validate", big) == f"{big}: more than 1,000,000 bytes; a config is a few kilobytes of YAML"
    folder = bomb.parent
    assert error_of(capsys, "validate", folder) == f"{folder}: is a folder; give a YAML config file"


@pytest.mark.logic
def test_a_key_given_twice_is_an_error_not_the_last_one(write_config, capsys):
    path = write_config(FOUR + "train: {epochs: 50}\n")
    assert error_of(capsys, "validate", path) == (
        f"{path}: malformed YAML at line 4, column 1: key 'train' given twice in one mapping (first at line 3)"
    )


@pytest.mark.logic
def test_values_out_of_range_for_the_run_are_config_errors(write_config, capsys):
    path = write_config(FOUR)
    assert error_of(capsys, "validate", path, "--set", "seed=4294967296") == (
        f"{path} (with --set seed=4294967296): seed: Input should be less than or equal to 4294967295 (got 4294967296)"
    )
    assert error_of(capsys, "validate", path, "--set", f"name={'n' * 300}").endswith(
        "name: String should have at most 100 characters (got '" + "n" * 78 + "…)"
    )
    for item, shown in (("compare.max_abs=.inf", "inf"), ("train.learning_rate=.nan", "nan"), ("glm.tol=-.inf", "-inf")):
        assert error_of(capsys, "validate", path, "--set", item) == (
            f"{path} (with --set {item}): {item.partition('=')[0]}: Input should be a finite number (got {shown})"
        )


def test_messages_are_bounded_in_size(write_config, capsys):
    path = write_config(FOUR)
    message = error_of(capsys, "validate", path, "--set", f"train.epochs={'9' * 100_000}x")
    assert len(message) < MAX_MESSAGE + 100
    header = ",".join(f"c{i}" for i in range(9_000))  # under the 10 000 columns a file may have
    csv_path = write_config(header + "\n" + ",".join("1" * 9_000) + "\n", "wide.csv")
    cfg = write_config(f"name: t\ndata: {{source: csv, path: {csv_path}, target: y}}\n", "wide.yaml")
    message = error_of(capsys, "validate", cfg)
    assert message.startswith(f"{cfg}: data.target: column 'y' not in {csv_path}; columns are: 'c0', 'c1',")
    assert message.endswith(", … (8980 more)")


# --- --set and sweeps ---


@pytest.mark.logic
def test_a_comma_in_set_is_literal_and_a_sweep_says_so(write_config, capsys, tmp_path):
    csv_path = tmp_path / "a,b.csv"
    csv_path.write_text("x,y\n1,0\n2,1\n3,0\n4,1\n")
    path = write_config("name: t\ndata: {source: csv, path: nowhere.csv, target: y}\n")
    assert nnglm(capsys, "validate", path, "--set", f"data.path={csv_path}")[0] == 0
    (point, cfg), *rest = config.expand(path, [f"data.path={csv_path}", "train.learning_rate=sweep:0.1,0.2", r"description=sweep:a\,b,c"])
    assert len(rest) == 3 and point == {"train.learning_rate": 0.1, "description": "a,b"}
    assert cfg.data.path == str(csv_path)
    message = error_of(capsys, "validate", path, "--set", "train.learning_rate=0.1,0.2")
    assert message.splitlines()[-1] == (
        f"{path} (with --set train.learning_rate=0.1,0.2): note: a --set value is never split at commas; a sweep is written KEY=sweep:V1,V2"
    )
    assert error_of(capsys, "validate", path, "--set", "train.epochs=sweep:") == (
        "--set 'train.epochs=sweep:': a sweep lists values after 'sweep:' separated by commas, e.g. train.epochs=sweep:1000,5000"
    )


@pytest.mark.logic
def test_the_command_line_wins_over_the_files_sweep_and_sweeps_are_bounded(write_config):
    path = write_config(FOUR + "sweep: {train.learning_rate: [0.1, 0.2]}\n")
    ((point, cfg),) = config.expand(path, ["train.learning_rate=0.5"])
    assert point == {} and cfg.train.learning_rate == 0.5
    big = write_config(FOUR + "sweep: {" + ", ".join(f"data.p{i}: [1, 2, 3, 4]" for i in range(6)) + "}\n", "big.yaml")
    with pytest.raises(UserError) as e:
        config.expand(big)
    assert str(e.value) == f"{big}: sweep: 4 x 4 x 4 x 4 x 4 x 4 = 4096 points; at most 1000 in one sweep (split it)"
    with pytest.raises(UserError) as e:
        config.expand(path, ["train..epochs=5"])
    assert str(e.value) == "--set 'train..epochs=5': 'train..epochs' is not a dotted key such as train.epochs"


def test_a_sweep_with_a_failed_point_exits_3(write_config, tmp_path, monkeypatch, capsys):
    real_train = network.train  # not glm.fit: a sweep's points fit their shared GLM once

    def train(engine, dataset, cfg, *args, **kwargs):
        if cfg.train.learning_rate == 0.2:
            raise RuntimeError("a fault in this point")
        return real_train(engine, dataset, cfg, *args, **kwargs)

    monkeypatch.setattr(network, "train", train)
    path = write_config(FOUR)
    code, out, _ = nnglm(capsys, "run", path, "--out", tmp_path, "--set", "train.learning_rate=sweep:0.1,0.2")
    assert code == 3
    assert "train.learning_rate=0.2: failed, RuntimeError: a fault in this point" in out
    statuses = sorted(json.loads(p.read_text())["status"] for p in tmp_path.glob("t/*/result.json"))
    assert statuses == ["completed", "failed"]


def test_a_sweep_whose_worker_is_killed_exits_3_and_lists_the_run_dead(tmp_path):
    sweep = nnglm_process(
        "run",
        "configs/seed002_logistic_no_bias.yaml",
        "--out",
        tmp_path,
        "--jobs",
        "2",
        "--set",
        "train.epochs=5000000",
        "--set",
        "train.log_every=200",
        "--set",
        "train.learning_rate=sweep:0.001,0.002",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a process group: killed whole below, workers included
    )
    try:
        wait_for(lambda: list(tmp_path.glob("*/*/history.csv")) and [r for r in logbook.scan(tmp_path) if r.result and r.result.process])
        victim = [r for r in logbook.scan(tmp_path) if r.result and r.result.process][0]
        os.kill(victim.result.process.pid, signal.SIGKILL)  # the liveness record names the worker
        stdout, _ = sweep.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)  # its worker processes too, should the sweep hang
        sweep.wait()
    assert sweep.returncode == 3
    assert "failed, its worker process died" in stdout
    assert logbook.read(victim.folder).status == "dead"


# --- the data ---


@pytest.mark.logic
def test_validate_reads_the_data(write_config, capsys):
    path, csv_path = csv_config(write_config, "a,y\n1,0\n2,5\n3,1\n")
    assert error_of(capsys, "validate", path) == (
        f"{path}: data.target: column 'y' must be 0 or 1 for family binomial; first offending rows (0-based): 1 (5); "
        "model.family is not set, so nnglm assumed binomial, its default (R's glm assumes gaussian): set model.family: "
        'poisson (or quasipoisson, negative_binomial) for counts like these, or gaussian (as R writes it too, e.g. poisson(link = "log"))'
    )
    sweep = write_config(
        f"name: t\ndata: {{source: csv, path: {csv_path}, target: y}}\nsweep: {{model.family: [gaussian, binomial]}}\n", "s.yaml"
    )
    assert error_of(capsys, "validate", sweep).startswith(
        f"{sweep}: sweep point model.family=binomial: data.target: column 'y' must be 0 or 1"
    )
    good = write_config(FOUR, "good.yaml")
    assert (
        nnglm(capsys, "validate", good)[1]
        == f"{good}: valid (binomial/logit, 5 steps, float32; 4 rows, 2 features)\n  features: 'x1', 'x2'\n"
    )


@pytest.mark.logic
def test_data_path_that_is_a_folder_a_device_or_not_utf8(write_config, tmp_path, capsys):
    path = write_config(FOUR)
    assert error_of(capsys, "validate", path, "--set", f"data={{source: csv, path: {tmp_path}, target: y}}") == (
        f"{path}: data.path: {tmp_path} is a folder; give a data file"
    )
    assert error_of(capsys, "validate", path, "--set", "data={source: csv, path: /dev/zero, target: y}") == (
        f"{path}: data.path: /dev/zero is a device, not a regular file; nnglm reads data files only"
    )
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"caf\xe9,y\n1,0\n")
    assert error_of(capsys, "validate", path, "--set", f"data={{source: csv, path: {latin}, target: y}}") == (
        f"{path}: data.path: {latin} is not UTF-8 text (byte 0xe9 in its first lines); save it as UTF-8"
    )


@pytest.mark.logic
def test_columns_twice_and_headers_with_spaces(write_config, capsys):
    path, csv_path = csv_config(write_config, "a,b,a,y\n1,2,3,0\n2,3,1,1\n3,1,2,0\n4,4,4,1\n5,1,1,0\n")
    assert error_of(capsys, "validate", path) == (
        f"{path}: data.path: column 'a' appears twice in the header of {csv_path} (columns 1 and 3); rename one"
    )
    path, csv_path = csv_config(write_config, "a, b,y\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n", ", features: [a, b]")
    assert error_of(capsys, "validate", path) == (
        f"{path}: data.features: column 'b' not in {csv_path}; did you mean ' b' (with a space)?; columns are: 'a', ' b', 'y'"
    )
    path = write_config(FOUR)
    assert (
        error_of(capsys, "validate", path, "--set", "data.features=[x1, x1]")
        == f"{path}: data.features: 'x1' listed twice; name each column once"
    )


@pytest.mark.logic
def test_data_that_cannot_fit_in_memory_is_refused_before_it_is_made(write_config, capsys):
    path = write_config(FOUR)
    message = error_of(capsys, "validate", path, "--set", "data={source: synthetic, generator: gaussian_bernoulli, n_rows: 10000000000}")
    assert message.startswith(f"{path}: data.n_rows: 10,000,000,000 rows x 12 columns need about 8,046.6 GiB for one run")
    assert message.endswith(f"this machine has {checks.available_memory() / 2**30:.1f} GiB available")
    # a categorical column with more levels than rows is refused before it is dummy-coded
    path, csv_path = csv_config(write_config, "g,x,y\n" + "".join(f"L{i},{i},{i % 2}\n" for i in range(50)), ", categorical: [g]")
    assert error_of(capsys, "validate", path) == f"{path}: data: 50 rows from {csv_path}, fewer than the 51 coefficients to estimate"


@pytest.mark.logic
def test_float32_overflow_is_a_data_error_not_rank_deficiency(write_config, capsys, tmp_path):
    rows = "".join(f"{i}e38,{(i * 7) % 5},{i % 2}\n" for i in range(1, 21))
    path, csv_path = csv_config(write_config, "a,b,y\n" + rows)
    assert error_of(capsys, "validate", path) == (
        f"{path}: data: column 'a' of {csv_path} holds 2e+39 in magnitude, beyond float32's largest number (3.4e+38), "
        "which the network trains in; set train.dtype: float64, train.standardize: true (features only) or rescale the column"
    )
    ds = table.load(load(path, "train.dtype=float64"))
    assert glm.aliased_columns(glm.design(ds, True), ["const", "a", "b"]) == []  # the scale of a column is no aliasing


# --- the aliasing check ---


@pytest.mark.logic
def test_aliasing_check_reports_what_r_reports_with_one_qr():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 50))
    X = np.column_stack([np.ones(50), a, a, b, a - 2 * b, np.zeros(50), b * 1e30, rng.normal(size=50)])
    assert glm.aliased_columns(X, ["const", "a", "a2", "b", "c", "zero", "b_big", "d"]) == ["a2", "c", "zero", "b_big"]
    assert glm.aliased_columns(rng.normal(size=(3, 6)), list("uvwxyz")) == ["x", "y", "z"]  # more columns than rows
    # a categorical column with 400 levels: every level is its own column, the duplicate of three levels is aliased
    levels = rng.integers(0, 400, size=4000)
    dummies = (levels[:, None] == np.arange(1, 400)[None, :]).astype(float)
    X = np.column_stack([np.ones(4000), rng.normal(size=4000), dummies, dummies[:, :3].sum(axis=1)])
    assert glm.aliased_columns(X, [f"c{j}" for j in range(X.shape[1])]) == ["c401"]


# --- the run folder: --out, disks, signals ---


@pytest.mark.logic
def test_out_that_is_a_file_or_cannot_be_written(write_config, tmp_path, capsys):
    path = write_config(FOUR)
    a_file = tmp_path / "afile"
    a_file.write_text("")
    for out in (a_file, a_file / "sub"):
        assert error_of(capsys, "run", path, "--out", out) == f"--out: {a_file} is a file, not a folder"
    assert error_of(capsys, "run", path, "--out", "") == "--out: empty; give a folder, e.g. --out experiments"
    assert a_file.read_text() == ""


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's read-only /sys")
def test_out_on_a_read_only_file_system(write_config, capsys):
    message = error_of(capsys, "run", write_config(FOUR), "--out", "/sys/kernel/nnglm-test")
    assert message in ("--out: no permission to write in /sys/kernel",) or (
        message.startswith("--out: cannot make the run folder /sys/kernel/nnglm-test/t/") and message.endswith(": Operation not permitted")
    )


def full_disk_after(monkeypatch, names):
    """Writes of these run files fail as on a full disk, after part of the data went out."""
    real = runlog._write_file

    def write(path, data):
        if any(path.name.startswith(f".{name}.") for name in names):
            path.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(runlog, "_write_file", write)


def test_a_full_disk_leaves_no_temporary_file_and_says_so(write_config, tmp_path, monkeypatch, capsys):
    path = write_config(FOUR)
    full_disk_after(monkeypatch, ["coefficients.csv"])
    message = error_of(capsys, "run", path, "--out", tmp_path, "--quiet")
    (run_dir,) = tmp_path.glob("t/*")
    assert message == f"cannot write {run_dir / 'coefficients.csv'}: No space left on device"
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "failed" and result["error"] == f"RunFolderError: {message}"
    assert not list(tmp_path.rglob(".*.tmp")) and not (run_dir / "heartbeat").exists()

    # full from the start of the run on: nothing can say "failed"; the folder is not left half-made
    full_disk_after(monkeypatch, ["config.yaml", "result.json", "coefficients.csv", "history.csv"])
    message = error_of(capsys, "run", path, "--out", tmp_path / "full", "--quiet")
    assert message.startswith(f"cannot write {tmp_path / 'full' / 't'}/") and message.endswith("config.yaml: No space left on device")
    assert list((tmp_path / "full" / "t").iterdir()) == []


def test_a_full_disk_mid_run_is_listed_dead_not_running(write_config, tmp_path, monkeypatch, capsys):
    path = write_config(FOUR)
    real = runlog._write_file

    def write(p, data):  # the first result.json goes out; nothing after it does
        if p.name.startswith((".coefficients.csv.", ".history.csv.")) or (p.name.startswith(".result.json.") and b'"running"' not in data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(p, data)

    monkeypatch.setattr(runlog, "_write_file", write)
    assert error_of(capsys, "run", path, "--out", tmp_path, "--quiet").endswith("No space left on device")
    (run,) = logbook.scan(tmp_path)
    assert run.result.status == "running" and run.status == "dead"
    assert run.problem == "it ended without recording its status"
    assert not list(tmp_path.rglob(".*.tmp"))


@pytest.mark.logic
def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(path, data):
        path.write_bytes(data[:10])
        raise KeyboardInterrupt  # a second Ctrl-C while the first is being recorded

    monkeypatch.setattr(runlog, "_write_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runlog.write_atomic(tmp_path / "result.json", "{}" * 100)
    assert list(tmp_path.iterdir()) == []


def test_run_folder_removed_while_the_run_goes(write_config, tmp_path, monkeypatch, capsys):
    import shutil

    real_fit = glm.fit

    def fit(dataset, cfg):
        shutil.rmtree(tmp_path / "t")  # someone cleans up the run log mid-run
        return real_fit(dataset, cfg)

    monkeypatch.setattr(glm, "fit", fit)
    message = error_of(capsys, "run", write_config(FOUR), "--out", tmp_path, "--quiet")
    assert message.startswith(f"cannot write {tmp_path / 't'}/") and message.endswith(": No such file or directory")


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


@pytest.mark.logic
def test_a_closed_stdout_ends_quietly(tmp_path):
    for i in range(300):
        (tmp_path / "t" / f"20260101-000000-{i:06x}").mkdir(parents=True)
    reader = nnglm_process("runs", tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # as `nnglm runs | head -1` once head has its line
    stderr = reader.stderr.read()
    assert reader.wait(timeout=60) == 141 and stderr == ""


# --- reading the run log ---


@pytest.mark.logic
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


def write_result(folder: Path, content) -> None:
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(content if isinstance(content, str) else json.dumps(content))


@pytest.mark.logic
def test_one_bad_result_is_one_bad_row(tmp_path, capsys):
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
    code, out, _ = nnglm(capsys, "runs", tmp_path)
    assert code == 0 and "[/x]" in out and "[bold]" in out and out.count("broken") == 4  # shown as text, not read as markup


@pytest.mark.logic
def test_runs_and_compare_on_wrong_paths(tmp_path, capsys):
    a_file = tmp_path / "afile"
    a_file.write_text("")
    assert error_of(capsys, "runs", a_file) == f"{a_file} is a file; give the run log's folder (default: experiments)"
    assert error_of(capsys, "runs", tmp_path / "nowhere") == f"no run log at {tmp_path / 'nowhere'}: the folder does not exist"
    assert error_of(capsys, "compare", tmp_path / "nowhere", a_file) == f"{tmp_path / 'nowhere'}: no such run folder"
    assert error_of(capsys, "compare", tmp_path, a_file) == f"{a_file}: a file, not a run folder (<out>/<name>/<run_id>/)"


@pytest.mark.logic
def test_compare_a_run_without_a_glm_section(tmp_path, capsys):
    complete = {"status": "completed", "network": {"coefficients": {"x1": 1.0}}, "glm": {"coefficients": {"x1": 1.0}}}
    write_result(tmp_path / "t" / "r1", complete)
    write_result(tmp_path / "t" / "r2", {k: v for k, v in complete.items() if k != "glm"})
    assert error_of(capsys, "compare", tmp_path / "t" / "r1", tmp_path / "t" / "r2") == (
        f"{tmp_path / 't' / 'r2'}: result.json has no glm coefficients to compare"
    )
    # a result.json path is taken for its folder; a single run's folder lists that run
    code, out, _ = nnglm(capsys, "compare", tmp_path / "t" / "r1" / "result.json", tmp_path / "t" / "r1")
    assert code == 0 and "the same" in out
    assert [r.run_id for r in logbook.scan(tmp_path / "t" / "r1")] == ["r1"]
