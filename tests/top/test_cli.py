"""The command line: exit codes, one-line errors without tracebacks, nothing left marked completed."""

import json
import subprocess
import sys

import pytest
from support import ROOT, load

from nnglm import cli
from nnglm.experiment import runner
from nnglm.model import glm


def nnglm(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "nnglm", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.runs
def test_validate_a_good_config():
    done = nnglm("validate", "configs/seed002_logistic_no_bias.yaml")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "configs/seed002_logistic_no_bias.yaml: valid (binomial/logit, 1000 steps, float32; 1000 rows, 10 features)",
        "  features: 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9', 'x10'",
    ]


@pytest.mark.runs
def test_bad_config_exits_2_with_one_line(write_config):
    path = write_config("name: t\ndata: {source: synthetic, generator: four_points}\ntrain: {learning_rate: -1}\n")
    done = nnglm("validate", str(path))
    assert done.returncode == 2
    assert done.stderr == f"error: {path}: train.learning_rate: Input should be greater than 0 (got -1)\n"
    assert "Traceback" not in done.stderr


def test_bad_data_exits_2_and_leaves_no_run_folder(write_config, tmp_path):
    csv_path = write_config("a,y\n1,0\n2,5\n3,1\n", "d.csv")
    path = write_config(f"name: t\ndata: {{source: csv, path: {csv_path}, target: y}}\n")
    out = tmp_path / "runs"
    done = nnglm("run", str(path), "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.startswith("error: data.target: column 'y' must be 0 or 1 for family binomial")
    assert "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.runs
def test_bad_arguments_exit_2_and_say_what_is_wrong():
    missing, unknown = nnglm("run"), nnglm("frobnicate")
    assert missing.returncode == 2 and missing.stderr.strip().endswith("nnglm run: error: the following arguments are required: config")
    assert unknown.returncode == 2 and "invalid choice: 'frobnicate'" in unknown.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr


@pytest.mark.runs
def test_run_prints_summary_and_logs(tmp_path):
    out = tmp_path / "runs"
    done = nnglm("run", "configs/seed000_four_points.yaml", "--set", "train.epochs=20", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "no finite maximum-likelihood estimate exists" in " ".join(done.stdout.split())
    (result_file,) = out.glob("seed000_four_points/*/result.json")
    assert json.loads(result_file.read_text())["status"] == "completed"


@pytest.mark.runs
def test_strict_exits_1_when_not_equivalent(tmp_path, capsys):
    args = ["run", "configs/seed002_logistic_no_bias.yaml", "--set", "train.epochs=5", "--out", str(tmp_path), "--quiet"]
    assert cli.main(args) == 0
    (folder,) = tmp_path.glob("seed002_logistic_no_bias/*")
    assert capsys.readouterr().out == f"{folder}\n"  # --quiet: only where the run landed
    assert cli.main(args + ["--strict"]) == 1


@pytest.mark.runs
def test_quiet_reaches_a_sweep_its_folders_only(tmp_path, capsys):
    args = ["run", "configs/seed002_logistic_no_bias.yaml", "--set", "train.epochs=5", "--set", "train.learning_rate=sweep:0.01,0.1"]
    assert cli.main(args + ["--out", str(tmp_path), "--quiet"]) == 0
    captured = capsys.readouterr()
    folders = sorted(str(f) for f in tmp_path.glob("seed002_logistic_no_bias/2*") if f.is_dir())  # the points'
    assert len(folders) == 2 and sorted(captured.out.splitlines()) == folders
    assert list(tmp_path.glob("seed002_logistic_no_bias/sweep-*/sweep.png"))  # --quiet prints less, writes the same
    assert captured.err == ""


@pytest.mark.runs
def test_a_crash_marks_the_run_failed(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(glm, "fit", broken)
    with pytest.raises(RuntimeError):
        runner.run(load("seed000_four_points"), tmp_path, quiet=True)
    (result_file,) = tmp_path.glob("seed000_four_points/*/result.json")
    result = json.loads(result_file.read_text())
    assert result["status"] == "failed" and result["error"] == "RuntimeError: disk on fire"


@pytest.mark.runs
def test_ctrl_c_marks_the_run_interrupted(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(glm, "fit", interrupted)
    assert cli.main(["run", str(ROOT / "configs/seed000_four_points.yaml"), "--out", str(tmp_path), "--quiet"]) == 130
    (result_file,) = tmp_path.glob("seed000_four_points/*/result.json")
    assert json.loads(result_file.read_text())["status"] == "interrupted"
    assert not list(tmp_path.rglob(".*.tmp"))  # no half-written file left behind
