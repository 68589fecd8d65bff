"""Runs you can compare: the run list, runs side by side, sweeps, repeatability."""

import json
import subprocess
import sys

import numpy as np
import pytest
from support import ROOT, load

from nnglm import cli, config
from nnglm.experiment import runner, sweep
from nnglm.log import logbook


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    small = ("data.n_rows=200", "train.epochs=300")
    runs = {
        "a": runner.run(load("seed002_logistic_no_bias", *small), out, quiet=True),
        "b": runner.run(load("seed002_logistic_no_bias", *small), out, quiet=True),
        "c": runner.run(load("seed002_logistic_no_bias", *small, "train.dtype=float64"), out, quiet=True),
    }
    return out, runs


@pytest.mark.runs
def test_same_config_twice_gives_bitwise_identical_weights(log):
    _, runs = log
    assert runs["a"].result["network"]["coefficients"] == runs["b"].result["network"]["coefficients"]
    assert runs["a"].result["environment"]["determinism"]["op_determinism"] is True
    assert runs["a"].result["environment"]["determinism"]["tensor_float_32"] is False


@pytest.mark.runs
def test_compare_shows_only_what_differs(log):
    _, runs = log
    c = logbook.compare_runs([runs["a"].run_dir, runs["c"].run_dir])
    assert c.config_diff == {"train.dtype": ["float32", "float64"]}
    assert c.environment_diff == {"dtype": ["float32", "float64"]}
    w_a = np.array(list(runs["a"].result["network"]["coefficients"].values()))
    w_c = np.array(list(runs["c"].result["network"]["coefficients"].values()))
    assert c.max_weight_diff == pytest.approx(np.max(np.abs(w_a - w_c)))
    # float32 beside float64: judged as the verdict judges, relative to max(|GLM coefficient|, std err), at the coarser run's rtol
    b = np.array(list(runs["a"].result["glm"]["coefficients"].values()))
    bse = np.array(list(runs["a"].result["glm"]["bse"].values()))
    assert c.relative and c.tolerance == runs["a"].result["comparison"]["tolerance"]["rtol"] == 1e-4
    assert c.max_rel_weight_diff == pytest.approx(np.max(np.abs(w_a - w_c) / np.maximum(np.abs(b), bse)))
    assert c.same == (c.max_rel_weight_diff <= 1e-4)
    forced = logbook.compare_runs([runs["a"].run_dir, runs["c"].run_dir], tolerance=1e-6)  # --tol: absolute, as given
    assert not forced.relative and forced.tolerance == 1e-6 and forced.same == (forced.max_weight_diff <= 1e-6)


@pytest.mark.runs
def test_compare_command_prints_the_difference(log, capsys):
    _, runs = log
    assert cli.main(["compare", str(runs["a"].run_dir), str(runs["b"].run_dir)]) == 0
    out = capsys.readouterr().out
    assert "Config keys that differ: the same in every run" in out
    assert (
        "largest difference between the runs' network weights: relative 0 (to max(|GLM coefficient|, std err)), "
        "absolute 0 (judged absolute, tolerance 1e-06): the same"
    ) in out


@pytest.mark.runs
def test_runs_lists_newest_first_and_a_broken_folder_as_broken(log, tmp_path):
    out, runs = log
    broken = out / "seed002_logistic_no_bias" / "29990101-000000-ffffff"
    broken.mkdir()
    text = (runs["a"].run_dir / "result.json").read_text()
    (broken / "result.json").write_text(text[: len(text) // 2])  # truncated
    listed = logbook.scan(out)
    assert listed[0].run_id == broken.name and listed[0].status == "broken"
    assert listed[0].problem == "unreadable result.json (JSONDecodeError)"
    assert [r.run_id for r in listed[1:]] == sorted((r.run_dir.name for r in runs.values()), reverse=True)
    assert [r.run_id for r in logbook.scan(out, status="broken")] == [broken.name]

    # the command: exit 0, the broken run listed, and no TensorFlow imported to do it
    code = (
        "import sys; from nnglm import cli; rc = cli.main(['runs', sys.argv[1]]); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "broken" in done.stdout and "unreadable result.json" in done.stdout
    broken_file = broken / "result.json"
    broken_file.unlink()
    broken.rmdir()


def test_compare_refuses_a_broken_run(tmp_path, capsys):
    (tmp_path / "x" / "r1").mkdir(parents=True)
    (tmp_path / "x" / "r2").mkdir(parents=True)
    assert cli.main(["compare", str(tmp_path / "x" / "r1"), str(tmp_path / "x" / "r2")]) == 2
    assert "cannot compare a broken run (no result.json)" in capsys.readouterr().err


@pytest.mark.runs
def test_sweep_of_3_learning_rates_by_2_epoch_counts(tmp_path, capsys):
    points = config.expand(
        ROOT / "configs/seed002_logistic_no_bias.yaml",
        ["train.learning_rate=sweep:0.001,0.01,0.1", "train.epochs=sweep:20,40", "data.n_rows=100"],
    )
    assert [p for p, _ in points][:2] == [
        {"train.learning_rate": 0.001, "train.epochs": 20},
        {"train.learning_rate": 0.001, "train.epochs": 40},
    ]
    outcomes = sweep.run(points, tmp_path)
    assert len(outcomes) == 6 and all(o.status == "completed" for o in outcomes)
    folders = [f for f in tmp_path.glob("seed002_logistic_no_bias/*") if not f.name.startswith("sweep-")]  # beside the sweep's own folder
    assert len(folders) == 6
    recorded = [json.loads((f / "result.json").read_text())["sweep_point"] for f in folders]
    assert sorted(p["train.learning_rate"] for p in recorded) == [0.001, 0.001, 0.01, 0.01, 0.1, 0.1]
    out = capsys.readouterr().out
    assert out.count("Sweep: 6 points") == 1  # one table at the end


@pytest.mark.runs  # the sweep's points train in worker processes
def test_sweep_block_in_the_file_and_parallel_jobs(write_config, tmp_path, capsys):
    path = write_config(
        "name: s\nseed: 1\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 30}\n"
        "sweep:\n  train.learning_rate: [0.01, 0.1]\n"
    )
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--jobs", "2", "--set", "train.log_every=5"]) == 0
    results = [json.loads(p.read_text()) for p in tmp_path.glob("s/*/result.json")]
    assert len(results) == 2
    # a plain --set is recorded beside the sweep point, and both are the run's `set` in nnglm runs
    assert all(r["overrides"] == {"train.log_every": 5} for r in results)
    assert sorted(r["sweep_point"]["train.learning_rate"] for r in results) == [0.01, 0.1]
    capsys.readouterr()
    assert cli.main(["runs", str(tmp_path)]) == 0
    assert "train.log_every=5 train.learning_rate=0.1" in capsys.readouterr().out


@pytest.mark.runs
def test_a_single_run_records_its_plain_overrides(write_config, tmp_path):
    path = write_config("name: s\nseed: 1\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 30}\n")
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--quiet", "--set", "train.epochs=20", "--set", "train.dtype=float64"]) == 0
    (result,) = [json.loads(p.read_text()) for p in tmp_path.glob("s/*/result.json")]
    assert result["overrides"] == {"train.epochs": 20, "train.dtype": "float64"}
    assert "sweep_point" not in result and result["config"]["train"]["epochs"] == 20
    assert cli.main(["run", str(path), "--out", str(tmp_path / "plain"), "--quiet"]) == 0
    (plain,) = [json.loads(p.read_text()) for p in (tmp_path / "plain").glob("s/*/result.json")]
    assert "overrides" not in plain  # the file as written


def test_bad_sweep_point_names_the_point(write_config):
    path = write_config("name: s\ndata: {source: synthetic, generator: four_points}\nsweep: {train.epochs: [10, 0]}\n")
    with pytest.raises(Exception) as e:
        config.expand(path)
    assert str(e.value) == (
        f"{path}, sweep point train.epochs=0: train.epochs: 'auto' (train until converged) or a whole number of steps, 1 to 2,147,483,647 (got 0)"
    )


@pytest.mark.runs
def test_compare_multinomial_runs_by_class_and_term(tmp_path):
    cfg = load("seed001_softmax", "data.n_rows=300", "data.n_features=2", "data.n_classes=3", "train.epochs=20")
    first = runner.run(cfg, tmp_path, quiet=True).run_dir
    second = runner.run(cfg, tmp_path, quiet=True).run_dir
    c = logbook.compare_runs([first, second])
    assert c.terms == ["1:(Intercept)", "1:x1", "1:x2", "2:(Intercept)", "2:x1", "2:x2"]
    assert c.max_weight_diff == 0.0 and c.same
