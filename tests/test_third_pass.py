"""The third adversarial pass: a received run folder is untrusted (its config reads data only from
inside the folder, no file of it is read through a link out of it: config.received, safe.inside),
runs in parallel threads are independent, a DataFrame's copy reads back as it was, every command
takes SIGTERM and SIGHUP as Ctrl-C, and a path no file system takes is the user's error."""

import os

import pandas as pd
import pytest
from conftest import cli_error
from test_hardening import bounded_nnglm, hand_run

from nnglm import cli

ENVIRON = "name: t\nmodel: {family: binomial}\ndata: {source: file, path: /proc/self/environ, delimiter: '=', target: y}\n"


def drawable(folder):
    """The files `nnglm report` draws from, for a binomial run of two features."""
    header = "term,network,network_bse,z,p,ci_low,ci_high,glm,glm_bse,diff,reference\n"
    rows = "".join(f"{t},{v},0.1,1,0.3,0,2,{v},0.1,0,\n" for t, v in (("const", 1), ("x1", 2), ("x2", 3)))
    (folder / "coefficients.csv").write_text(header + rows)
    (folder / "history.csv").write_text("step,loss,max_abs_diff_to_glm\n1,0.5,0.1\n")
    (folder / "trajectory.csv").write_text("step,const,x1,x2\n1,1,2,3\n")


@pytest.mark.runs
def test_report_of_a_received_folder_reads_no_file_outside_it(tmp_path):
    data = {"n_rows": 4, "n_features": 2, "feature_names": ["x1", "x2"], "target": "y"}
    folder = hand_run(tmp_path / "log", data=data, sweep_point={"train.epochs": 5})
    drawable(folder)
    (folder / "config.yaml").write_text(ENVIRON)
    env = dict(os.environ, NNGLM_SECRET_TOKEN="s3cr3t-t0ken-value")
    code, out, err = bounded_nnglm("report", folder, seconds=120, env=env)
    assert code == 0, err
    assert "NNGLM_SECRET_TOKEN" not in out + err and "s3cr3t" not in out + err
    assert (folder / "loss.png").exists() and not (folder / "lines.png").exists()  # the data's picture left out


def test_a_config_linked_out_of_its_run_folder_is_refused(tmp_path, capsys):
    folder = hand_run(tmp_path / "log")
    drawable(folder)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("name: t\ndata: {source: synthetic, generator: four_points}\n")
    (folder / "config.yaml").symlink_to(elsewhere)
    message = cli_error(capsys, "report", str(folder))
    assert message == (
        f"{folder / 'config.yaml'}: config.yaml is a link out of its run folder; a run folder's files are read from inside it"
    )
    assert cli_error(capsys, "validate", str(folder / "config.yaml")) == message


def test_a_received_config_reads_its_data_only_from_inside_unless_named_on_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"x": [0.1, 0.5, 0.9, 1.3, 1.7, 2.1], "y": [0, 1, 0, 1, 1, 1]}).to_csv("d.csv", index=False)
    folder = hand_run(tmp_path / "log")
    (folder / "config.yaml").write_text("name: t\nmodel: {family: binomial}\ndata: {source: file, path: d.csv, target: y}\n")
    assert cli_error(capsys, "validate", str(folder / "config.yaml")) == (
        f"{folder}: its config's data.path 'd.csv' lies outside the run folder; a run folder's config reads data "
        "only from inside its folder: name the data on the command line (--set data.path=FILE)"
    )
    assert cli.main(["validate", str(folder / "config.yaml"), "--set", "data.path=d.csv"]) == 0
    (folder / "d.csv").write_bytes((tmp_path / "d.csv").read_bytes())  # the file of that name inside the folder is read
    monkeypatch.chdir(tmp_path / "log")  # from anywhere
    assert cli.main(["validate", str(folder / "config.yaml")]) == 0
    assert "6 rows" in capsys.readouterr().out


def test_a_link_inside_the_folder_that_leads_out_is_not_its_data(tmp_path, capsys):
    folder = hand_run(tmp_path / "log")
    (tmp_path / "secret.csv").write_text("TOKEN,y\n1,0\n")
    (folder / "d.csv").symlink_to(tmp_path / "secret.csv")
    (folder / "config.yaml").write_text(f"name: t\ndata: {{source: file, path: {folder / 'd.csv'}, target: y}}\n")
    message = cli_error(capsys, "validate", str(folder / "config.yaml"))
    assert "lies outside the run folder" in message and "TOKEN" not in message


@pytest.mark.runs
def test_runs_in_parallel_threads_are_each_the_run_made_alone(tmp_path):
    """Two threads running the same config on the same DataFrame: each trains its own network (the
    process cache lends an entry to one run at a time), so each equals a run made alone, bit for bit."""
    import threading

    import numpy as np

    import nnglm

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    frame["y"] = rng.poisson(np.exp(0.3 + 0.5 * frame["x"]))
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 300, "dtype": "float32"}}
    alone = nnglm.run(config, data=frame, out=tmp_path / "alone", quiet=True)
    results, errors = [], []

    def one(i):
        try:
            results.append(nnglm.run(config, data=frame, out=tmp_path / f"t{i}", quiet=True))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert len(results) == 3
    for run in results:
        assert run.result.network.epochs_run == alone.result.network.epochs_run
        assert run.result.network.coefficients == alone.result.network.coefficients
        assert run.result.comparison.outcome == alone.result.comparison.outcome


@pytest.mark.runs
def test_a_frame_of_text_and_integer_categories_reruns_from_its_folder_anywhere(tmp_path, monkeypatch):
    """Its Parquet copy comes back as the frame it was: object text stays object, a categorical's
    integer categories and their order stay; the rerun reads it from any working directory."""
    import numpy as np

    import nnglm

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "dose": pd.Categorical(rng.choice([3, 1, 2], size=90), categories=[3, 1, 2]),
            "site": pd.Series(rng.choice(["north", "south"], size=90), dtype=object),
            "x": rng.normal(size=90),
        }
    )
    frame["y"] = rng.poisson(2.0, size=90)
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 50, "dtype": "float64"}}
    run = nnglm.run(config, data=frame, out=tmp_path / "runs", quiet=True)
    assert run.result.data.dataframe.kept == "data.parquet"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = nnglm.run(run.folder / "config.yaml", out=tmp_path / "again", quiet=True)
    assert again.result.data.dataframe.sha256 == run.result.data.dataframe.sha256
    assert again.result.glm.coefficients == run.result.glm.coefficients


@pytest.mark.runs
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_an_export_as_ctrl_c_does(tmp_path, signal_name):
    """An export to a tracking server that never answers, stopped by a signal: exit 130, 'interrupted'."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    from conftest import ROOT

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


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "{long}"],
        ["compare", "{long}", "{long}"],
        ["report", "{long}"],
        ["export", "{long}", "--mlflow", "sqlite:///m.db"],
        ["run", "c.yaml", "--out", "{long}"],
    ],
)
def test_a_path_part_over_255_bytes_is_one_message(tmp_path, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text("name: t\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 5}\n")
    long = "a" * 300
    message = cli_error(capsys, *[a.format(long=long) for a in args])
    assert message == f"{long[:119]}…: a name in this path is too long for the file system (at most 255 bytes a name)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.runs
def test_api_input_errors_are_config_errors_with_the_cli_message(tmp_path):
    import numpy as np

    import nnglm

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=40)})
    frame["y"] = rng.poisson(1.0, size=40)
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 5}}
    cases = {
        "data: column 'notes' holds list values; a column holds numbers, text or categories: drop it "
        "(data=df.drop(columns=...)) or make it text": dict(data=frame.assign(notes=[[1, 2]] * 40)),
        "--out: holds a NUL byte, which no folder name can": dict(data=frame, out="a\0b"),
        "overrides: train.epochs: a value of type object; give a number, text, a boolean, None or a list of them": dict(
            data=frame, overrides={"train.epochs": object()}
        ),
    }
    for message, arguments in cases.items():
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.run(config, **({"out": tmp_path / "runs"} | arguments), quiet=True)
        assert str(caught.value) == message
    assert not (tmp_path / "runs").exists()
    run = nnglm.run(config, data=frame, overrides={"train.epochs": np.int64(7)}, out=tmp_path / "runs", quiet=True)
    assert run.result.config["train"]["epochs"] == 7


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
def test_a_result_json_whose_config_is_malformed_is_one_message_in_every_reader(tmp_path, capsys, model, why):
    import json

    import nnglm

    folder = hand_run(tmp_path / "log")
    result = json.loads((folder / "result.json").read_text())
    result["config"]["model"] = json.loads(model)
    (folder / "result.json").write_text(json.dumps(result))
    with pytest.raises(nnglm.ConfigError) as caught:
        nnglm.load(folder)._repr_html_()
    assert f"a broken run (result.json: config: {why} (got " in str(caught.value)
    assert f"cannot compare a broken run (result.json: config: {why}" in cli_error(capsys, "compare", str(folder), str(folder))


def test_a_file_of_more_columns_than_a_glm_can_hold_is_refused_at_its_header(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    columns = ["y"] + [f"x{i}" for i in range(10_000)]
    (tmp_path / "wide.csv").write_text(",".join(columns) + "\n" + ",".join(["1"] * len(columns)) + "\n")
    (tmp_path / "w.yaml").write_text("name: w\ndata: {source: file, path: wide.csv, target: y}\n")
    assert cli_error(capsys, "validate", "w.yaml") == (
        "w.yaml: data.path: wide.csv has 10,001 columns; nnglm reads at most 10,000 "
        "(a GLM of that many coefficients is past what its fit can hold): keep the columns you fit"
    )


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


def test_names_that_collide_once_text_or_as_terms_are_one_message(tmp_path):
    import numpy as np

    import nnglm

    rng = np.random.default_rng(1)
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 5}}
    y = rng.poisson(1.0, size=30)
    cases = {
        "data: columns named '1' more than once in the DataFrame (compared as text); rename them": pd.DataFrame(
            {1: rng.normal(size=30), "1": rng.normal(size=30), "y": y}
        ),
        "data: two terms of the design are named '(Intercept)' (a column named as the intercept, or as a factor's "
        "level is named); rename the column": pd.DataFrame({"(Intercept)": rng.normal(size=30), "y": y}),
        "data: two terms of the design are named 'ac' (a column named as the intercept, or as a factor's "
        "level is named); rename the column": pd.DataFrame({"a": ["b", "c"] * 15, "ac": rng.normal(size=30), "y": y}),
    }
    for message, frame in cases.items():
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.run(config, data=frame, out=tmp_path, quiet=True)
        assert str(caught.value) == message
    assert not any(tmp_path.iterdir())


@pytest.mark.runs
def test_validate_refuses_what_run_refuses_about_the_machine(tmp_path, monkeypatch, capsys):
    import importlib.util

    monkeypatch.chdir(tmp_path)
    four = "name: t\ndata: {source: synthetic, generator: four_points}\n"
    if importlib.util.find_spec("torch") is None:
        (tmp_path / "torch.yaml").write_text(four + "train: {backend: torch}\n")
        assert cli_error(capsys, "validate", "torch.yaml") == (
            "torch.yaml: train.backend: torch, but PyTorch is not installed here; install it with make install EXTRAS=test,dev,torch"
        )
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        (tmp_path / "gpu.yaml").write_text(four + "train: {device: gpu}\n")
        assert cli_error(capsys, "validate", "gpu.yaml") == (
            "gpu.yaml: train.device: gpu was asked for, but tensorflow sees no GPU here; allowed: auto, cpu"
        )


def test_an_integer_past_a_float_in_result_json_is_left_out_of_an_export():
    from nnglm.log import export

    big = 10**400
    assert export.numbers({"epochs_run": big, "final_loss": 0.5, "n": 3}, "network.") == {"network.final_loss": 0.5, "network.n": 3.0}


def test_a_yaml_integer_past_what_python_reads_names_its_key(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.yaml").write_text("name: t\ndata: {source: synthetic, generator: four_points}\ntrain:\n  epochs: " + "9" * 5000 + "\n")
    assert cli_error(capsys, "validate", "big.yaml") == (
        "big.yaml: malformed YAML at line 4, column 11: 'epochs': a number of more than 4300 digits, past what Python reads; no key takes one"
    )


@pytest.mark.runs
def test_sigterm_to_a_sweep_of_short_points_starts_no_further_point(tmp_path):
    """kill PID reaches the sweep's own process alone; its workers are told at once, so the points
    queued for them end unstarted (they used to run about three more points first)."""
    import json
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

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


def test_a_network_without_a_start_in_its_domain_is_refused_by_validate_and_run_before_any_folder(tmp_path, capsys, monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(2)
    pd.DataFrame({"x": rng.normal(size=60), "y": rng.gamma(2.0, 1.0, size=60)}).to_csv("g.csv", index=False)
    (tmp_path / "g.yaml").write_text(
        "name: g\nmodel: {family: gamma, link: inverse_power, use_bias: false}\ndata: {source: file, path: g.csv, target: y}\n"
    )
    message = cli_error(capsys, "validate", "g.yaml")
    assert message.startswith("g.yaml: model.use_bias: false with gamma/inverse_power: the activation is undefined at η = 0")
    assert cli_error(capsys, "run", "g.yaml", "--out", "runs") == message.removeprefix("g.yaml: ")
    assert not (tmp_path / "runs").exists()


def test_r_files_as_r_4_writes_them(tmp_path, capsys, monkeypatch):
    """airquality's integer columns with NA are numbers, as in R (pyreadr gave Python objects, fitted as a
    factor of 96 levels); gl()'s compact factors, which pyreadr cannot read, get the way out."""
    from conftest import ROOT

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


@pytest.mark.parametrize(
    "formula, message",
    [
        (
            "dist ~ I(speed + 10**10**10)",
            "the exponent of 10 ** 10 ** 10 must be a number of at most 1000 in size (x^2, x^0.5, x^(1/2)) or hold a column; "
            "a power of powers of numbers is evaluated exactly, without end",
        ),
        ("dist ~ C(speed, levels=[1]*10**9)", "c(...) is a list of values for an argument (levels = c(...)), not a number ([1] * 10 ** 9)"),
    ],
)
def test_formula_arithmetic_that_would_never_end_is_refused_before_it_runs(formula, message):
    from nnglm.vocabulary.formula import FormulaError, parse_formula

    with pytest.raises(FormulaError) as caught:
        parse_formula(formula)
    assert str(caught.value) == f"data.formula: {formula!r}: {message}"
    assert "x ** (1 / 2)" in parse_formula("y ~ I(x^(1/2)) + I(2^x) + I(x^-1)").rhs  # R's habits pass


def test_a_formula_term_that_is_not_finite_is_one_message(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"speed": [4, 4, 7, 8], "dist": [2, 10, 4, 16]}).to_csv("cars.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        'name: c\ndata: {source: file, path: cars.csv, formula: "dist ~ log(speed - 4)"}\nmodel: {family: gaussian}\n'
    )
    assert cli_error(capsys, "validate", "c.yaml") == (
        "c.yaml: data.formula: term 'log(speed - 4)' must give finite numbers; first offending rows (0-based): 0 (-inf), 1 (-inf)"
    )


def test_an_intercept_only_model_is_refused_before_the_backend_aborts(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "three.csv").write_text("y,x\n1,0.5\n0,1.5\n1,2.5\n")
    (tmp_path / "t.yaml").write_text('name: t\ndata: {source: file, path: three.csv, formula: "y ~ 1"}\n')
    message = (
        "data.formula: 'y ~ 1' leaves the intercept alone: the network would have no weight beside its bias, and Keras cannot "
        "build a layer of no inputs; that model is the null model, whose deviance every run reports (null deviance): add a term"
    )
    assert cli_error(capsys, "validate", "t.yaml") == "t.yaml: " + message
    assert cli_error(capsys, "run", "t.yaml", "--out", "runs") == message
    assert not (tmp_path / "runs").exists()


def test_a_damaged_compressed_r_file_is_named_as_the_r_file_it_should_be(tmp_path):
    from conftest import ROOT

    from nnglm.data import files

    damaged = bytearray((ROOT / "data/r/warpbreaks.rds").read_bytes())
    for i in range(12, len(damaged), 7):
        damaged[i] ^= 0x5A
    (tmp_path / "bad.rds").write_bytes(bytes(damaged))
    with pytest.raises(Exception) as caught:
        files.read(str(tmp_path / "bad.rds"))
    assert str(caught.value).startswith(f"data.path: cannot read {tmp_path / 'bad.rds'} as an R .rds file: ")


def test_a_formula_evaluates_integer_columns_as_r_does_in_doubles(tmp_path, capsys, monkeypatch):
    """speed^500 of an integer column wrapped around silently in 64-bit integers; as doubles (R's numbers) it is inf."""
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"speed": [4, 4, 7, 8], "dist": [2, 10, 4, 16]}).to_csv("cars.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        'name: c\ndata: {source: file, path: cars.csv, formula: "dist ~ I(speed^500)"}\nmodel: {family: gaussian}\n'
    )
    assert (
        cli_error(capsys, "validate", "c.yaml")
        == (
            "c.yaml: data.formula: term 'I(speed^500)' must give finite numbers; first offending rows (0-based): 2 (inf), 3 (inf)"  # 4^500 is 1e301, finite
        )
    )


def test_a_proportion_target_takes_its_weights_as_r_does_without_weights_kind():
    from nnglm import config

    cfg = config.validate(
        {"name": "m", "data": {"source": "file", "path": "m.csv", "formula": "Menarche/Total ~ Age", "weights": "Total"}}, "m.yaml"
    )
    assert cfg.data.weights_kind == "var" and cfg.to_dict()["data"]["weights_kind"] == "var"
    with pytest.raises(Exception, match="data.weights_kind: required with data.weights"):
        config.validate({"name": "m", "data": {"source": "file", "path": "m.csv", "formula": "y ~ Age", "weights": "Total"}}, "m.yaml")


def test_a_spline_degree_past_the_column_says_so_without_a_negative_count(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"speed": [4, 4, 7, 8, 9, 10], "dist": [2, 10, 4, 16, 10, 18]}).to_csv("cars.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        'name: c\ndata: {source: file, path: cars.csv, formula: "dist ~ bs(speed, df = 5, degree = 100000000)"}\nmodel: {family: gaussian}\n'
    )
    assert cli_error(capsys, "validate", "c.yaml") == (
        "c.yaml: data.formula: bs(): degree 100000000 on a column of 5 distinct values; the degree must be less than the number "
        "of distinct values"
    )


def test_a_fifo_named_as_data_inside_a_received_folder_is_called_a_fifo(tmp_path, capsys):
    import os

    folder = hand_run(tmp_path / "log")
    os.mkfifo(folder / "d.csv")
    (folder / "config.yaml").write_text(f"name: t\ndata: {{source: file, path: {folder / 'd.csv'}, target: y}}\n")
    assert cli_error(capsys, "validate", str(folder / "config.yaml")) == (
        f"{folder}: its config's data.path '{folder / 'd.csv'}' is a FIFO in the run folder, not a plain file"
    )
