"""The Python API: nnglm.run, load, runs, compare, Run and ConfigError, on real runs; a DataFrame as the
data, its record and Parquet copy; the example notebook executed in a real Jupyter kernel."""

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from support import ROOT

import nnglm
from nnglm import cli
from nnglm.data import frames
from nnglm.foundation.errors import UserError
from nnglm.show import plots
from nnglm.vocabulary.names import r_name

SEED002 = str(ROOT / "configs/seed002_logistic_no_bias.yaml")
SHORT = {"train.epochs": 200}  # seed 002, cut short: the tests check plumbing, not convergence
COLUMNS = ["network", "glm", "difference", "relative", "network_se", "glm_se"]
# each fit's Wald statistic (z for a binomial), p-value and 95% interval
COLUMNS += ["network_z", "glm_z", "network_p", "glm_p", "network_lower", "network_upper", "glm_lower", "glm_upper"]


def nnglm_command(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "nnglm", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """A run log holding one seed 002 run made by the command line (and, once api_run is used, the same through the API)."""
    root = tmp_path_factory.mktemp("log")
    done = nnglm_command("run", SEED002, "--set", "train.epochs=200", "--quiet", "--out", str(root))
    assert done.returncode == 0, done.stderr
    (root / "cli_folder").write_text(done.stdout.strip())  # --quiet prints the run folder
    return root


def cli_folder(root: Path) -> Path:
    return Path((root / "cli_folder").read_text())


@pytest.fixture(scope="module")
def api_run(log) -> "nnglm.Run":
    run = nnglm.run(SEED002, overrides=SHORT, out=log)
    assert isinstance(run, nnglm.Run)
    return run


def frame_with_factors(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),  # text
            "size": pd.Categorical(rng.choice(["s", "m", "l"], size=n), categories=["s", "m", "l"]),  # categorical, its own order
        }
    )
    eta = -0.3 + 0.8 * frame["x"] + np.where(frame["colour"] == "red", 0.7, 0.0) - np.where(frame["size"] == "l", 0.5, 0.0)
    frame["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return frame


FACTORS = {"name": "factors", "data": {"target": "y", "categorical": ["colour", "size"]}, "train": {"dtype": "float64"}}


# --- import ---


@pytest.mark.runs
def test_import_nnglm_is_light_and_runs_needs_no_tensorflow(log):
    code = (
        "import sys, nnglm\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'jax', 'statsmodels', 'pandas') if m in sys.modules]\n"
        f"table = nnglm.runs({str(log)!r})\n"
        "print(json.dumps([heavy, [m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules], len(table)]))"
    )
    done = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    at_import, after_runs, rows = json.loads(done.stdout)
    assert at_import == [] and after_runs == [] and rows >= 1


def test_the_public_names_say_what_they_return():
    for name in nnglm.__all__:
        assert getattr(nnglm, name).__doc__, name
    assert issubclass(nnglm.ConfigError, UserError)  # the command line answers it with exit code 2


# --- the command line and the API: the same runs ---


@pytest.mark.runs
def test_the_api_and_nnglm_run_give_bit_identical_coefficients(log, api_run):
    folder = cli_folder(log)
    assert (folder / "coefficients.csv").read_bytes() == (api_run.folder / "coefficients.csv").read_bytes()
    cli_result = json.loads((folder / "result.json").read_text())
    assert api_run.result.network.coefficients == cli_result["network"]["coefficients"]
    assert api_run.result.overrides == cli_result["overrides"] == {"train.epochs": 200}


@pytest.mark.runs  # its fixture trains a run in a child process
def test_load_reads_a_run_the_command_line_made(log):
    folder = cli_folder(log)
    result = json.loads((folder / "result.json").read_text())
    for key in (folder.name, folder.name[:17], str(folder)):
        run = nnglm.load(key, dir=log)
        assert run.folder == folder and run.id == folder.name
    assert (run.status, run.outcome, run.equivalent, run.verdict) == (
        "completed",
        result["comparison"]["outcome"],
        result["comparison"]["equivalent"],
        result["comparison"]["verdict"],
    )
    assert run.result.run_id == result["run_id"]
    pd.testing.assert_frame_equal(run.history, pd.read_csv(folder / "history.csv"))
    assert list(run.history.columns) == ["step", "loss", "max_abs_diff_to_glm"] and run.history["step"].iloc[-1] == 200

    table = run.coefficients
    assert list(table.columns) == COLUMNS and table.index.name == "term" and list(table.index) == [f"x{j}" for j in range(1, 11)]
    assert table["network"].to_dict() == result["network"]["coefficients"]
    assert table["glm"].to_dict() == result["glm"]["coefficients"]
    assert table["network_se"].to_dict() == result["network"]["bse"] and table["glm_se"].to_dict() == result["glm"]["bse"]
    assert np.array_equal(table["difference"], table["network"] - table["glm"])
    scale = np.maximum(table["glm"].abs(), table["glm_se"])
    np.testing.assert_allclose(table["relative"], table["difference"].abs() / scale, rtol=1e-15)
    assert table["relative"].max() == pytest.approx(result["comparison"]["max_rel_diff"], rel=1e-12)


@pytest.mark.runs
def test_runs_lists_every_run_as_a_table(log, api_run):
    table = nnglm.runs(log)
    assert list(table.columns) == [
        "id",
        "name",
        "status",
        "outcome",
        "family",
        "link",
        "dtype",
        "backend",
        "device",
        "set_keys",
        "max_rel_diff",
        "seconds",
        "folder",
    ]
    row = table.set_index("id").loc[api_run.id]
    assert (row["name"], row["status"], row["family"], row["link"], row["dtype"], row["backend"]) == (
        "seed002_logistic_no_bias",
        "completed",
        "binomial",
        "logit",
        "float32",
        "tensorflow",
    )
    assert row["set_keys"] == "train.epochs=200" and row["outcome"] == api_run.outcome
    assert row["max_rel_diff"] == api_run.result.comparison.max_rel_diff and row["seconds"] == api_run.result.network.train_seconds
    assert Path(row["folder"]) == api_run.folder
    assert cli_folder(log).name in set(table["id"])


@pytest.mark.runs
def test_compare_a_command_line_run_with_an_api_run(log, api_run):
    folder = cli_folder(log)
    table = nnglm.compare(folder.name, api_run, dir=log)
    assert list(table.columns) == [folder.name, api_run.id] and table.index.names == ["section", "key"]
    assert table.loc[("network", "x1")].tolist() == [api_run.result.network.coefficients["x1"]] * 2
    assert table.loc[("glm", "x10")].tolist() == [api_run.result.glm.coefficients["x10"]] * 2
    assert table.loc[("difference", "max |w - w(run 1)|")].tolist() == ["0", "0"]
    assert "config" not in table.index.get_level_values("section")  # the same config: no key differs
    assert table.attrs["same"] is True
    printed = nnglm_command("compare", str(folder), str(api_run.folder))
    assert printed.returncode == 0, printed.stderr
    assert table.attrs["verdict"] in " ".join(printed.stdout.split())


# --- ConfigError: the command line's messages ---


@pytest.mark.runs
def test_config_errors_carry_the_command_line_message(write_config, tmp_path):
    cases = [
        (write_config("name: t\ndata: {source: synthetic, generator: four_points}\ntrain: {learning_rate: -1}\n"), {}),
        (write_config("name: t\ndata: {source: synthetic, generator: four_points}\n", "d.yaml"), {"train.epochs": 0}),
        (write_config("name: t\ndata: {source: synthetic, generator: four_points}\n", "e.yaml"), {"train.batch_size": 8}),
    ]
    out = tmp_path / "runs"
    for path, overrides in cases:
        sets = [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]
        done = nnglm_command("run", str(path), *sets, "--out", str(out))
        assert done.returncode == 2 and done.stderr.startswith("error: ")
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.run(path, overrides=overrides, out=out)
        assert str(caught.value) == done.stderr.removeprefix("error: ").rstrip("\n")
    assert not out.exists()  # bad input leaves no run folder


def test_a_dict_config_is_named_config_in_messages(tmp_path):
    with pytest.raises(nnglm.ConfigError) as caught:
        nnglm.run({"name": "t", "data": {"source": "sql"}}, out=tmp_path)
    assert str(caught.value) == "config: data.source: Input should be 'synthetic', 'file', 'csv', 'statsmodels' or 'dataframe' (got 'sql')"
    with pytest.raises(nnglm.ConfigError, match=r"^config: a path to a YAML file, or a dict of its keys \(got int\)$"):
        nnglm.run(3, out=tmp_path)
    with pytest.raises(nnglm.ConfigError, match=r"^compare: give two or more runs \(run folders or run ids\)$"):
        nnglm.compare("x", dir=tmp_path)
    with pytest.raises(nnglm.ConfigError, match="^run id 'nosuch': no run of that id under "):
        nnglm.load("nosuch", dir=tmp_path)


def test_dataframe_mistakes_get_one_message_each(tmp_path):
    frame = frame_with_factors(50)
    missing = frame.copy()
    missing.loc[3, "x"] = np.nan
    expected = {
        "data: a DataFrame was given (data=), but data.source is csv; leave data.source out or set it to dataframe": (
            {"name": "t", "data": {"source": "csv", "path": "d.csv", "target": "y"}},
            frame,
        ),
        "data: a pandas DataFrame, or None to read the data the config names (got ndarray)": (FACTORS, frame.to_numpy()),
        "data: the DataFrame has columns of the same name: 'x'; rename them": (FACTORS, pd.concat([frame, frame[["x"]]], axis=1)),
        "data.target: column 'z' not in the DataFrame; columns are: 'x', 'colour', 'size', 'y'": (
            {"name": "t", "data": {"target": "z"}},
            frame,
        ),
        "data: column 'x' of the DataFrame must hold finite numbers; first offending rows (0-based): 3 (nan); "
        "set data.missing: drop to leave rows with missing values out": ({"name": "t", "data": {"target": "y"}}, missing),
        "config: data.dataset: not used when data.source is dataframe": (
            {"name": "t", "data": {"target": "y", "dataset": "spector"}},
            frame,
        ),
        "data.source: dataframe reads the DataFrame given to nnglm.run(config, data=df), and none was given; from the command "
        "line, give data.path (a Parquet copy of it, as a run folder keeps in data.parquet)": (
            {"name": "t", "data": {"source": "dataframe", "target": "y"}},
            None,
        ),
    }
    for message, (config, data) in expected.items():
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.run(config, data=data, out=tmp_path / "runs")
        assert str(caught.value) == message
    assert not (tmp_path / "runs").exists()
    kept = weakref.ref(frame)
    del frame, missing, expected, config, data
    gc.collect()
    assert kept() is None  # nothing kept once a run is over


# --- a DataFrame as the data ---


@pytest.fixture(scope="module")
def factors_run(tmp_path_factory):
    frame = frame_with_factors()
    before = frame.copy()
    run = nnglm.run(FACTORS, data=frame, out=tmp_path_factory.mktemp("frames"))
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is left as it was
    return frame, run


@pytest.mark.runs
def test_a_dataframe_with_text_factors_and_categorical_columns(factors_run):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    frame, run = factors_run
    table = run.coefficients
    # treatment contrasts as R codes them: text levels sorted, a categorical's levels in its own order
    assert list(table.index) == ["(Intercept)", "x", "colourgreen", "colourred", "sizem", "sizel"]
    assert run.status == "completed" and run.outcome == "equivalent" and table["relative"].max() < 1e-6
    reference = smf.glm("y ~ x + C(colour) + C(size)", frame, family=sm.families.Binomial()).fit(tol=1e-12)
    names = {n: r_name(n) for n in reference.params.index}
    params, bse = reference.params.rename(names)[table.index], reference.bse.rename(names)[table.index]
    np.testing.assert_allclose(table["glm"].to_numpy(), params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(table["glm_se"].to_numpy(), bse.to_numpy(), rtol=1e-6)
    # a text or categorical column among the features is coded so without being listed, as from a file
    unlisted = nnglm.run(
        {"name": "unlisted", "data": {"target": "y"}, "train": {"dtype": "float64"}}, data=frame, out=run.folder.parent.parent
    )
    assert unlisted.result.glm.coefficients == run.result.glm.coefficients


@pytest.mark.runs
def test_a_real_dataset_as_a_dataframe_with_a_formula_and_a_text_factor(tmp_path):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    grades = sm.datasets.spector.load_pandas().data
    grades["PSI"] = grades["PSI"].map({0: "lecture", 1: "psi"})
    config = {
        "name": "spector",
        "data": {"formula": "GRADE ~ GPA + TUCE + PSI"},
        "model": {"family": "binomial"},
        "train": {"dtype": "float64"},
    }
    run = nnglm.run(config, data=grades, out=tmp_path)
    assert run.name == "spector" and run.outcome == "equivalent"
    table = run.coefficients
    assert list(table.index) == ["(Intercept)", "GPA", "TUCE", "PSIpsi"]
    # Spector and Mazzeo's logit, as statsmodels fits it from the same formula (PSI's published coefficient 2.378688)
    reference = smf.logit("GRADE ~ GPA + TUCE + PSI", grades).fit(disp=0, tol=1e-12)
    reference.params = reference.params.rename(r_name)
    np.testing.assert_allclose(table["glm"], reference.params[table.index], rtol=1e-7)
    np.testing.assert_allclose(table["network"], reference.params[table.index], rtol=1e-6)
    assert table.loc["PSIpsi", "glm"] == pytest.approx(2.378688, abs=1e-6)


@pytest.mark.runs
def test_the_folder_records_the_frame_and_keeps_a_parquet_copy(factors_run):
    frame, run = factors_run
    record = run.result.data.dataframe
    assert (record.n_rows, record.n_columns, record.columns) == (300, 4, ["x", "colour", "size", "y"])
    assert record.dtypes == {"x": "float64", "colour": str(frame["colour"].dtype), "size": "category", "y": "int64"}
    assert record.sha256 == frames.content_hash(frame) and len(record.sha256) == 64
    assert record.kept == "data.parquet" and record.note is None and record.memory_bytes > 0
    pd.testing.assert_frame_equal(pd.read_parquet(run.folder / "data.parquet"), frame)
    saved = yaml.safe_load((run.folder / "config.yaml").read_text())["data"]
    assert saved["source"] == "dataframe" and saved["sha256"] == record.sha256
    assert Path(saved["path"]) == run.folder / "data.parquet"
    assert json.loads((run.folder / "result.json").read_text())["data"]["dataframe"]["sha256"] == record.sha256


@pytest.mark.runs
def test_a_rerun_of_the_folder_reads_its_copy(factors_run, tmp_path, capsys):
    _, run = factors_run
    again = nnglm.run(run.folder / "config.yaml", out=tmp_path)
    assert isinstance(again, nnglm.Run)
    assert again.result.network.coefficients == run.result.network.coefficients  # the same data, bit for bit
    assert again.result.data.dataframe.sha256 == run.result.data.dataframe.sha256
    assert cli.main(["validate", str(run.folder / "config.yaml")]) == 0
    assert "valid (binomial/logit, auto steps, float64; 300 rows, 5 features)" in capsys.readouterr().out


@pytest.mark.runs
def test_a_copy_that_is_not_the_recorded_frame_is_refused(factors_run, tmp_path):
    _, run = factors_run
    changed = pd.read_parquet(run.folder / "data.parquet")
    changed.loc[0, "x"] += 1.0
    changed.to_parquet(tmp_path / "changed.parquet", index=False)
    config = yaml.safe_load((run.folder / "config.yaml").read_text())
    config["data"]["path"] = str(tmp_path / "changed.parquet")
    with pytest.raises(nnglm.ConfigError, match=r"^data.path: .*changed.parquet is not the DataFrame this config was run with"):
        nnglm.run(config, out=tmp_path / "runs")
    (tmp_path / "text.parquet").write_text("x,y\n1,0\n")
    for path, message in {
        tmp_path
        / "d.csv": f"data.path: {tmp_path / 'd.csv'}: a dataframe source reads a Parquet copy (data.parquet, as a run folder keeps it)",
        tmp_path
        / "text.parquet": f"data.path: {tmp_path / 'text.parquet'} should be a Parquet file by its name (text.parquet), but its content is plain text; ",
    }.items():
        config["data"]["path"] = str(path)
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.run(config, out=tmp_path / "runs")
        assert str(caught.value).startswith(message)
    assert not (tmp_path / "runs").exists()


@pytest.mark.runs
def test_a_frame_whose_copy_would_not_read_back_is_not_kept(monkeypatch, tmp_path):
    """A Parquet copy that reads back as another frame is neither written nor named as kept."""
    monkeypatch.setattr(frames, "restored", lambda frame, dtypes: frame.iloc[1:])
    frame = frame_with_factors(100)
    run = nnglm.run(FACTORS | {"train": {"dtype": "float64", "epochs": 50}}, data=frame, out=tmp_path)
    record = run.result.data.dataframe
    assert record.kept is None and record.note.startswith("not kept: its Parquet copy would not read back as the same frame")
    assert not (run.folder / "data.parquet").exists()
    assert "path" not in yaml.safe_load((run.folder / "config.yaml").read_text())["data"]


@pytest.mark.runs
def test_a_frame_above_the_limit_is_recorded_but_not_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(frames, "MAX_KEPT_BYTES", 1000)
    frame = frame_with_factors(100)
    run = nnglm.run(FACTORS | {"train": {"dtype": "float64", "epochs": 50}}, data=frame, out=tmp_path)
    record = run.result.data.dataframe
    size = frame.memory_usage(deep=True, index=True).sum()
    assert record.kept is None and record.note == f"not kept: {size / 2**20:.0f} MB in memory, above the 0 MB kept in a run folder"
    assert not (run.folder / "data.parquet").exists()
    assert "path" not in yaml.safe_load((run.folder / "config.yaml").read_text())["data"]
    with pytest.raises(nnglm.ConfigError, match="^data.source: dataframe reads the DataFrame given to nnglm.run"):
        nnglm.run(run.folder / "config.yaml", out=tmp_path)


@pytest.mark.runs
def test_a_sweep_through_overrides_returns_one_run_a_point(tmp_path):
    runs = nnglm.run(SEED002, overrides={"train.dtype": "sweep:float32,float64", "train.epochs": 100}, out=tmp_path)
    assert isinstance(runs, list) and [r.result.sweep_point for r in runs] == [{"train.dtype": "float32"}, {"train.dtype": "float64"}]
    assert [r.result.environment.dtype for r in runs] == ["float32", "float64"]
    assert all(r.status == "completed" and r.result.overrides == {"train.epochs": 100} for r in runs)
    table = nnglm.runs(tmp_path)
    assert sorted(table["set_keys"]) == ["train.epochs=100 train.dtype=float32", "train.epochs=100 train.dtype=float64"]
    compared = nnglm.compare(*runs)
    assert compared.loc[("config", "train.dtype")].tolist() == ["float32", "float64"]


@pytest.mark.runs
def test_a_dataframe_sweep_point_is_drawn_by_nnglm_report_from_its_folder(tmp_path, capsys):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    frame["y"] = (frame["a"] + frame["b"] + rng.normal(size=80) > 0).astype(int)
    config = {"name": "two", "data": {"target": "y"}, "train": {"epochs": 50, "dtype": "float64"}}
    runs = nnglm.run(config, data=frame, overrides={"train.learning_rate": "sweep:0.01,0.02"}, out=tmp_path)
    assert isinstance(runs, list) and all((r.folder / "data.parquet").is_file() for r in runs)
    assert cli.main(["report", str(runs[0].folder)]) == 0
    assert "drew loss.png, distance.png, lines.png, diagnostics.png" in capsys.readouterr().out
    figures = runs[1].plot()  # drawn from the folder: its data from the Parquet copy, for the separating lines
    assert len(figures) == 4 and "Separating lines" in figures[2].axes[0].get_title()


@pytest.mark.runs
def test_plot_draws_the_figures_and_writes_no_file(tmp_path):
    run = nnglm.run(ROOT / "configs/seed000_four_points.yaml", overrides={"train.epochs": 100}, out=tmp_path)
    files = sorted(p.name for p in run.folder.iterdir())
    figures = run.plot()
    pictures = plots.figures(run.folder)  # the pictures the run folder's files are drawn from, as report draws them
    assert len(figures) == len(pictures) == len([f for f in files if f.endswith(".png")]) == 3
    assert [f.axes[0].get_title() for f in figures] == [f.axes[0].get_title() for f in pictures.values()]
    assert sorted(p.name for p in run.folder.iterdir()) == files
    assert all(f.canvas.manager is None for f in figures)  # drawn without pyplot: nothing keeps them once dropped


@pytest.mark.runs
def test_the_notebook_view_shows_the_verdict_first(api_run, tmp_path):
    page = api_run._repr_html_()
    first = page.split("</p>")[0]
    assert api_run.verdict.replace("'", "&#x27;") in first
    for title in ("Network weights beside GLM coefficients", "The network read as a GLM", "Fit statistics"):
        assert title in page
    assert page.count("<tr>") > 30 and "<td>x10</td>" in page
    assert repr(api_run) == f"<nnglm.Run seed002_logistic_no_bias/{api_run.id}: completed, {api_run.outcome}>"


@pytest.mark.runs
def test_multinomial_coefficients_are_indexed_by_class_and_term(tmp_path):
    overrides = {"data.n_rows": 300, "data.n_features": 2, "data.n_classes": 3, "train.epochs": 50, "train.grad_tol": None}
    run = nnglm.run(ROOT / "configs/seed001_softmax.yaml", overrides=overrides, out=tmp_path)
    table = run.coefficients
    assert table.index.names == ["class", "term"]
    assert list(table.index) == [(c, t) for c in ("1", "2") for t in ("(Intercept)", "x1", "x2")]
    assert table.loc[("2", "x1"), "network"] == run.result.network.coefficients["2"]["x1"]


# --- the example notebook ---


def test_the_example_notebook_is_stored_without_outputs():
    notebook = json.loads((ROOT / "examples/quickstart.ipynb").read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


@pytest.mark.runs
def test_the_example_notebook_runs_in_a_jupyter_kernel(tmp_path):
    import nbclient
    import nbformat

    notebook = nbformat.read(ROOT / "examples/quickstart.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = {i: c.outputs for i, c in enumerate(notebook.cells) if c.cell_type == "code"}
    assert not [o for cell in outputs.values() for o in cell if o.output_type == "error"]
    text = json.dumps([o for cell in outputs.values() for o in cell])
    assert "completed, equivalent" in text and "image/png" in text and "the same" in text
    assert len(list(tmp_path.glob("experiments/*/*/result.json"))) == 5  # seed 002, spector, spector without PSI, the sweep's two points
