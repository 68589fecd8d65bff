"""Nothing breaks, nothing leaks: the second adversarial pass, one test per kind.

Files from elsewhere (links out of a run folder, FIFOs, devices, terminal escape
sequences and rich markup in names and values), hangs (each run in a child
process with a time limit, so that a hang fails the test instead of hanging it),
tracebacks, values that pass validation and crashed the run, and small lies.
The table "Faults found by trying to break it" in docs/bad-input.md lists each case.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from conftest import ROOT, cli_error, run_cli

from nnglm import cli, config
from nnglm.experiment import cluster
from nnglm.foundation import safe
from nnglm.foundation.errors import UserError
from nnglm.log import export, logbook, runlog

ESC = "\x1b"
CLEAR = "\x1b[2J"  # clears the screen
TITLE = "\x1b]0;pwned\x07"  # sets the terminal window's title
FOUR = "name: t\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 5}\n"


nnglm = run_cli
error_of = cli_error


def bounded_nnglm(*args, seconds=60, env=None, cwd=ROOT):
    """nnglm in a child process that must end within `seconds` (subprocess.TimeoutExpired fails the test)."""
    done = subprocess.run([sys.executable, "-m", "nnglm", *map(str, args)], cwd=cwd, capture_output=True, timeout=seconds, env=env)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def hand_run(root: Path, name="hand", run_id="20260101-000000-abcdef", **fields) -> Path:
    """A completed run folder written by hand: result.json only, two coefficients."""
    folder = root / name / run_id
    folder.mkdir(parents=True)
    result = {
        "schema": 1,
        "run_id": run_id,
        "name": name,
        "status": "completed",
        "config": {"name": name, "model": {"family": "poisson", "link": "log"}},
        "environment": {"backend": "tensorflow", "device": "CPU:0", "dtype": "float64"},
        "network": {"coefficients": {"const": 1.0, "x1": 2.0}, "epochs_run": 7},
        "glm": {"coefficients": {"const": 1.0, "x1": 2.0}, "bse": {"const": 0.1, "x1": 0.1}},
        "comparison": {"max_abs_diff": 0.0, "equivalent": True},
    } | fields
    (folder / "result.json").write_text(json.dumps(result))
    return folder


# --- files from elsewhere: links, FIFOs, devices ---


def test_export_copies_no_link_into_the_store(tmp_path, capsys):
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for the tracking store\n")
    folder = hand_run(tmp_path / "log")
    (folder / "notes.txt").symlink_to(secret)  # a received folder, a real link out of it
    (folder / "history.csv").symlink_to(secret)
    (folder / "report.md").write_text("# hand\n")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    code, out, err = nnglm(capsys, "export", folder, "--mlflow", uri)
    assert code == 0, err
    assert out.rstrip().endswith("(left out: history.csv (a link), notes.txt (a link))")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("nnglm").experiment_id])
    assert {f.path for f in client.list_artifacts(run.info.run_id)} == {"report.md", "result.json"}
    assert not any(key in run.data.metrics for key in ("loss", "max_abs_diff_to_glm"))  # the linked history was not read


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


@pytest.mark.runs
def test_a_config_that_is_a_fifo_or_a_device(tmp_path):
    fifo = tmp_path / "c.yaml"
    os.mkfifo(fifo)
    assert bounded_nnglm("validate", fifo, seconds=30)[2] == f"error: {fifo}: a FIFO, not a plain file; give a YAML config file\n"
    assert bounded_nnglm("run", "/dev/zero", seconds=30)[2] == "error: /dev/zero: a device, not a plain file; give a YAML config file\n"


def test_safe_read_is_bounded(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * 5000)
    assert len(safe.read_bytes(big, 100)) == 101  # one more than the bound: too large, and read no further
    with pytest.raises(safe.Refused, match="is a device"):
        safe.read_bytes(Path("/dev/zero"), 100)


# --- terminal escapes and markup ---


def test_names_and_values_reach_the_terminal_escaped(tmp_path, capsys):
    log = tmp_path / "log"
    hand_run(log, name="t", run_id=f"20260101-000000-{CLEAR}x", environment={"device": f"{TITLE}[/x] [bold]", "dtype": "float64"})
    hand_run(log, name="t", run_id="20260101-000000-\u202eevil")  # a right-to-left override reverses what follows
    code, out, _ = nnglm(capsys, "runs", log)
    assert code == 0 and ESC not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "\\x1b]0;pwned\\x07[/x] [bold]" in out and "\\u202eevil" in out
    message = error_of(capsys, "report", log / "t" / f"nothing{CLEAR}")
    assert message == f"{log}/t/nothing\\x1b[2J: no such run folder"


def test_validate_lists_a_header_escaped(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text(f"a{CLEAR},b\u202e,y\n1,2,0\n2,1,1\n3,3,0\n4,1,1\n5,2,1\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: t\ndata: {{source: csv, path: {data}, target: y}}\ntrain: {{epochs: 5}}\n")
    code, out, err = nnglm(capsys, "validate", cfg)
    assert code == 0, err
    assert ESC not in out and "\u202e" not in out and "a\\x1b[2J" in out and "b\\u202e" in out


def test_escaping_keeps_text_and_newlines_where_asked():
    assert safe.terminal(f"a{CLEAR}b\tc\nd\x9be\ud800") == "a\\x1b[2Jb\\tc\\nd\\x9be\\ud800"
    assert safe.terminal("line 1\nline\t2", lines=True) == "line 1\nline\t2"
    assert safe.terminal("café ∑ 😀") == "café ∑ 😀"


@pytest.mark.runs
def test_a_header_with_escapes_and_markup_leaves_the_home_untouched(tmp_path):
    """One real run in a child process with an empty home: the summary shows the header escaped and its
    markup as written (it crashed with exit 3), and nothing is written into the home (keras.json, font cache)."""
    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "d.csv"
    data.write_text(f'a{CLEAR}{TITLE},[/x] [bold]b,"new\nline",y\n1,2,1,0\n2,1,3,1\n3,3,2,0\n4,1,1,1\n5,2,2,1\n1,3,3,0\n')
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: t\ndata: {{source: csv, path: {data}, target: y}}\ntrain: {{epochs: 5}}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "MPLCONFIGDIR")} | {"HOME": str(home)}
    code, out, err = bounded_nnglm("run", cfg, "--out", tmp_path / "runs", seconds=300, env=env)
    assert code == 0, err
    assert ESC not in out + err and "\x07" not in out + err
    assert "a\\x1b[2J" in out and "[/x] [bold]b" in out and "new\\nline" in out
    assert list(home.iterdir()) == []


# --- hangs on the network ---


def listener(answer: bytes | None = None):
    """A TCP listener on a free port that accepts and then says `answer` (None: never a word)."""
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if answer:
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return server, f"tcp://127.0.0.1:{server.getsockname()[1]}"


def test_cluster_connect_is_bounded(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1.0)
    silent, address = listener()
    start = time.monotonic()
    with pytest.raises(UserError) as e:
        cluster.connect(address)
    assert time.monotonic() - start < 5
    assert str(e.value) == (
        f"--cluster: no Dask scheduler answered at {address} within 1 s (the connection opened, but nothing was said on it); "
        "start one with `dask scheduler`, or check the address"
    )
    silent.close()
    for banner in (b"HTTP/1.1 400 Bad Request\r\n\r\n", b"SSH-2.0-OpenSSH_9.6\r\n"):
        server, address = listener(banner)
        with pytest.raises(UserError, match=f"answered, but not as a Dask scheduler \\(it began with {banner[:8]!r}"):
            cluster.connect(address)
        server.close()


def test_cluster_addresses_it_cannot_use(capsys):
    message = error_of(capsys, "run", ROOT / "configs" / "seed000_four_points.yaml", "--cluster", "tls://10.0.0.5:8786")
    assert message == (
        "--cluster: 'tls://10.0.0.5:8786': nnglm speaks to a scheduler over tcp:// only (tls:// needs certificates or transports "
        "it does not set up); give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    )
    message = error_of(capsys, "run", ROOT / "configs" / "seed000_four_points.yaml", "--cluster", "tcp://10.0.0.5:99999")
    assert message == "--cluster: 'tcp://10.0.0.5:99999': port 99999 is not a TCP port (1 to 65535); Dask's default is 8786"


def test_mlflow_calls_are_bounded(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_TIMEOUT", raising=False)
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    export.load_mlflow()
    assert (os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"], os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]) == ("10", "0")
    folder = hand_run(tmp_path / "log")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")  # the same bound, shorter, for the test
    silent, address = listener()
    start = time.monotonic()
    message = error_of(capsys, "export", folder, "--mlflow", address.replace("tcp://", "http://"))
    assert time.monotonic() - start < 8 and "Read timed out" in message
    silent.close()
    start = time.monotonic()
    assert error_of(capsys, "export", folder, "--mlflow", f"sqlite:///{tmp_path}") == (
        f"--mlflow sqlite:///{tmp_path}: {tmp_path} is a folder; give a database file, e.g. sqlite:///mlflow.db"
    )
    os.mkfifo(tmp_path / "fifo.db")
    assert error_of(capsys, "export", folder, "--mlflow", f"sqlite:///{tmp_path}/fifo.db").endswith(
        "is not a plain file; give a database file"
    )
    not_a_database = tmp_path / "text.db"
    not_a_database.write_text("hello\n" * 100)
    assert "the tracking store cannot be used" in error_of(capsys, "export", folder, "--mlflow", f"sqlite:///{not_a_database}")
    assert time.monotonic() - start < 10  # MLflow used to retry a database it cannot open for 100 s


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


# --- tracebacks on bad input ---


def test_integers_past_the_digit_limit(write_config, capsys, tmp_path):
    decimal = write_config(FOUR + "seed: " + "1" * 5000 + "\n", "decimal.yaml")
    assert (
        error_of(capsys, "validate", decimal)
        == f"{decimal}: malformed YAML at line 4, column 7: 'seed': a number of more than 4300 digits, past what Python reads; no key takes one"
    )
    hexadecimal = write_config(FOUR + "seed: 0x" + "f" * 5000 + "\n", "hex.yaml")  # read without the limit, shown with it
    assert (
        error_of(capsys, "validate", hexadecimal)
        == f"{hexadecimal}: seed: an integer of about 6,021 digits; no key takes an integer past 2**63"
    )
    plain = write_config(FOUR)
    message = error_of(capsys, "validate", plain, "--set", "seed=" + "9" * 5000)
    assert message.endswith(": a number of more than 4300 digits, past what Python reads; no key takes one")
    message = error_of(capsys, "validate", plain, "--set", "seed=sweep:1,0x" + "f" * 4000)
    assert message.endswith(
        "sweep point seed=an integer of about 4,817 digits: seed: an integer of about 4,817 digits; no key takes an integer past 2**63"
    )
    folder = hand_run(tmp_path / "log")
    text = (folder / "result.json").read_text().replace('"epochs_run": 7', '"epochs_run": ' + "7" * 5000)
    (folder / "result.json").write_text(text)
    assert logbook.read(folder).problem == "unreadable result.json (a number of more than 4300 digits)"
    assert error_of(capsys, "export", folder, "--mlflow", f"sqlite:///{tmp_path}/m.db") == (
        f"{folder}: cannot export it: unreadable result.json (a number of more than 4300 digits)"
    )


def test_keys_that_are_not_text(write_config, capsys):
    sweep = write_config(FOUR + "sweep: {1: [2, 3]}\n")
    assert error_of(capsys, "validate", sweep) == (
        f"{sweep}: sweep: must map dotted keys to non-empty lists of values, e.g. train.learning_rate: [0.001, 0.01] (got the key 1, not text)"
    )
    top = write_config(FOUR + "yes: 1\n", "top.yaml")
    assert (
        error_of(capsys, "validate", top)
        == f"{top}: the top level: the key True is not a name; keys are text, such as train.epochs (quote it)"
    )


def test_nul_bytes_and_lone_surrogates(write_config, capsys, tmp_path):
    nul = write_config('name: t\ndata: {source: csv, path: "d\\0.csv", target: y}\n')
    assert error_of(capsys, "validate", nul) == f"{nul}: data.path: holds a NUL byte (\\x00) at character 1; no text in a config may"
    assert cli.main(["validate", "c\x00.yaml"]) == 2  # through the Python API: a shell cannot pass a NUL
    assert capsys.readouterr().err == "error: an argument holds a NUL byte, which no path or value can\n"
    surrogate = write_config(FOUR + 'description: "caf\\ud800"\n', "s.yaml")
    assert error_of(capsys, "validate", surrogate) == (
        f"{surrogate}: description: holds '\\ud800', half of a UTF-16 surrogate pair, which UTF-8 cannot write; write the character itself"
    )
    folder = hand_run(tmp_path / "log", error="caf\\ud800")
    (folder / "result.json").write_text((folder / "result.json").read_text().replace("caf\\\\ud800", "caf\\ud800"))
    assert logbook.read(folder).problem == "result.json holds a lone surrogate (\\ud800 to \\udfff), which is no character"


def test_generator_means_outside_the_family(write_config, capsys):
    def message(family, link, coefficient, intercept=0.5):
        path = write_config(
            f"name: t\ndata: {{source: synthetic, generator: glm, n_features: 1, coefficients: [{coefficient}], intercept: {intercept}}}\n"
            f"model: {{family: {family}, link: {link}}}\ntrain: {{epochs: 5}}\n"
        )
        return error_of(capsys, "validate", path).removeprefix(f"{path}: ")

    hint = "use smaller data.coefficients, data.intercept or data.feature_sd"
    assert message("binomial", "log", 5) == (
        f"data: generator 'glm' gives the mean 3.091 at row 0 under binomial/log, whose mean must be a probability, 0 to 1; {hint}"
    )
    assert message("poisson", "log", 1000) == (
        f"data: generator 'glm' gives the mean inf at row 6 under poisson/log, whose mean must be greater than 0; {hint}"
    )
    assert message("gamma", "identity", -3) == (
        f"data: generator 'glm' gives the mean -1.421 at row 2 under gamma/identity, whose mean must be greater than 0; {hint}"
    )
    assert message("poisson", "log", 0.1, intercept=45) == (
        f"data: generator 'glm' cannot draw family poisson at its means (lam value too large); {hint}"
    )


# --- values that passed validation and crashed the run ---


def test_counts_past_int32(write_config, capsys):
    path = write_config(FOUR)
    for key in ("train.log_every", "train.max_steps", "glm.maxiter", "model.hidden"):
        value = "[3000000000]" if key == "model.hidden" else "3000000000"
        message = error_of(capsys, "validate", path, "--set", f"{key}={value}")
        assert message.endswith(f"{key}: Input should be less than or equal to 2147483647 (got 3000000000)")
    message = error_of(capsys, "validate", path, "--set", "train.epochs=3000000000")
    assert message.endswith("train.epochs: 'auto' (train until converged) or a whole number of steps, 1 to 2,147,483,647 (got 3000000000)")


def test_checks_that_need_the_data(write_config, capsys, tmp_path, monkeypatch):
    def message(csv_text, data_keys, model="{family: poisson}", train="{epochs: 5}"):
        data = tmp_path / "d.csv"
        data.write_text(csv_text)
        path = write_config(f"name: t\ndata: {{source: csv, path: {data}, {data_keys}}}\nmodel: {model}\ntrain: {train}\n")
        return error_of(capsys, "validate", path).removeprefix(f"{path}: ")

    rows = "x,y,o,e,w\n1,0,-1e5,1e-300,.25\n2,1,0,1,.25\n3,0,0,1,.25\n4,1,0,1,.25\n5,1,0,1e-320,0\n"
    assert message(rows, 'formula: "y ~ 0"', "{use_bias: false}") == (
        "data.formula: 'y ~ 0' leaves no terms, and the model has no intercept: there is nothing to fit"
    )
    assert message("x,y\n1,0\n2,1e308\n3,0\n4,1\n5,1\n", "target: y", "{family: gaussian}", "{epochs: 5, dtype: float64}") == (
        "data.target: column 'y' holds 1e+308 in magnitude; beyond 6e+153 the loss, which sums its square over 5 rows, "
        "is infinite in float64 (largest number 1.8e+308); rescale the column"
    )
    assert message(rows, "target: y, features: [x], offset: o") == (
        "data.offset: column 'o': the offset at row 0 (-1e+05) is beyond ±88.72, where the log link's mean exp(offset) is 0 "
        "in float32; rescale the column, or set train.dtype: float64"
    )
    assert message(rows, "target: y, features: [x], exposure: e") == (
        "data.exposure: column 'e' holds 1e-320 at row 4, whose log (-736.8) is beyond ±88.72, where the log link's mean "
        "exp(offset) is 0 in float32; rescale the column, or set train.dtype: float64"
    )
    assert message(rows.replace("1e-320", "1"), "target: y, features: [x], exposure: e") == (
        "data.exposure: column 'e' holds 1e-300 at row 0, whose log (-690.8) is beyond ±88.72, where the log link's mean "
        "exp(offset) is 0 in float32; rescale the column, or set train.dtype: float64"
    )
    assert message(rows.replace("1e-300", "1"), "target: y, features: [x], exposure: e", train="{epochs: 5, dtype: float64}") == (
        "data.exposure: column 'e' holds 1e-320 at row 4, whose log (-736.8) is beyond ±709.8, where the log link's mean "
        "exp(offset) is 0 in float64; rescale the column"
    )
    assert message(rows, "target: y, features: [x], weights: w, weights_kind: freq", "{family: binomial}") == (
        "data.weights: frequency weights (column 'w') sum to 1 observations, no more than the 2 coefficients to estimate: no "
        "degrees of freedom are left for the standard errors; for weights that are not counts, set data.weights_kind: var"
    )
    huge = "x,y\n1e200,0\n-1e200,1\n3,0\n4,1\n5,1\n"  # its square overflows the information matrix (a LinAlgError, exit 3)
    assert message(huge, "target: y", "{family: binomial}", "{epochs: 5, dtype: float64}") == (
        "data: column 'x' holds 1e+200 in magnitude; beyond 6e+153 the GLM's information matrix, which sums its squares over "
        "5 rows, is infinite in float64; rescale the column"
    )
    monkeypatch.setattr("nnglm.data.checks.available_memory", lambda: 2**30)
    assert message(rows, "target: y, validation_fraction: 0.4", "{family: binomial, hidden: [2000000000]}") == (
        "model.hidden: widths [2000000000] on 5 rows need about 581.1 GiB (12,000,000,001 weights); this machine has 1.0 GiB available"
    )


# --- small lies ---


def test_utf32_and_long_paths(tmp_path, capsys):
    utf32 = tmp_path / "u32.yaml"
    utf32.write_bytes(FOUR.encode("utf-32"))
    assert error_of(capsys, "validate", utf32) == f"{utf32}: is UTF-32 text; save it as UTF-8"
    long = tmp_path / ("d" * 250) / ("e" * 250) / "c.yaml"
    long.parent.mkdir(parents=True)
    long.write_text(FOUR + "seed: -1\n")
    message = error_of(capsys, "validate", long)
    assert len(message) < 300 and message.endswith("…: seed: Input should be greater than or equal to 0 (got -1)")


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


def test_warnings_are_one_line():
    message = warnings.WarningMessage(RuntimeWarning(f"overflow in exp {CLEAR}"), RuntimeWarning, "/x/y/families.py", 12)
    line = safe.one_line_warning(message.message, message.category, message.filename, message.lineno, "    return np.exp(eta)")
    assert line == "warning: RuntimeWarning: overflow in exp \\x1b[2J (families.py:12)\n"


def test_a_bugs_traceback_is_escaped(capsys):
    try:
        raise ValueError(f"column {CLEAR}")  # str(), not repr(): the escape as it is
    except ValueError as e:
        cli.escaped_traceback(type(e), e, e.__traceback__)
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n") and ESC not in err
    assert err.endswith("ValueError: column \\x1b[2J\n")


def test_jobs_past_what_the_machine_holds(capsys):
    most = cli.MAX_JOBS_PER_CPU * (os.cpu_count() or 1)
    message = error_of(capsys, "run", ROOT / "configs" / "seed000_four_points.yaml", "--jobs", most + 1)
    assert message.startswith(f"--jobs: {most + 1} processes on a machine of {os.cpu_count()} CPUs; at most {most} ")


def test_config_unfit_values_are_found_anywhere():
    assert config.unfit_value({"a": [{"b": "x\x00"}]}) == "a.b: holds a NUL byte (\\x00) at character 1; no text in a config may"
    assert config.unfit_value({"a": {"b": 2**70}}) == "a.b: an integer of about 22 digits; no key takes an integer past 2**63"
    assert config.unfit_value({"a": [1, "ok", {"c": 2**62}]}) is None
