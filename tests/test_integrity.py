"""Nothing breaks, nothing is lost: interrupted and concurrent runs, numerical trouble recorded."""

import hashlib
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, load

from nnglm.experiment import runner

pytestmark = pytest.mark.runs  # trains networks or starts processes: not in make test-fast


def nnglm_process(*args):
    return subprocess.Popen([sys.executable, "-m", "nnglm", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fingerprint(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


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


def test_four_runs_at_once_into_one_folder(tmp_path):
    runs = [
        nnglm_process("run", "configs/seed000_four_points.yaml", "--out", str(tmp_path), "--quiet", "--set", "train.epochs=50")
        for _ in range(4)
    ]
    for process in runs:
        process.communicate(timeout=180)
        assert process.returncode == 0
    folders = list(tmp_path.glob("seed000_four_points/*"))
    assert len(folders) == 4 and len({f.name for f in folders}) == 4
    for folder in folders:
        result = json.loads((folder / "result.json").read_text())
        assert result["status"] == "completed" and result["run_id"] == folder.name
        assert (folder / "history.csv").read_text().startswith("step,loss,max_abs_diff_to_glm\n")


def test_rank_deficient_design_names_the_aliased_column(write_config, tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 40))
    rows = "".join(f"{x},{z},{x + 2 * z},{int(x + z > 0)}\n" for x, z in zip(a, b))
    csv_path = write_config("a,b,c,y\n" + rows, "d.csv")
    cfg = load(write_config(f"name: alias\ndata: {{source: csv, path: {csv_path}, target: y}}\ntrain: {{epochs: 50}}\n"))
    result = runner.run(cfg, tmp_path, quiet=True).result
    assert result["status"] == "completed"
    assert result["glm"]["rank_deficient"] is True and result["glm"]["aliased"] == ["c"]
    assert any(w.startswith("design matrix is rank deficient: c is a linear combination") for w in result["glm"]["warnings"])
    assert result["comparison"]["verdict"].startswith("the design is rank deficient (aliased: c)")
    assert result["comparison"]["equivalent"] is False


def test_constant_column_is_aliased_with_the_intercept(write_config, tmp_path):
    csv_path = write_config("a,k,y\n1,5,0\n2,5,1\n3,5,0\n4,5,1\n5,5,1\n", "d.csv")
    cfg = load(write_config(f"name: k\ndata: {{source: csv, path: {csv_path}, target: y}}\ntrain: {{epochs: 20}}\n"))
    assert runner.run(cfg, tmp_path, quiet=True).result["glm"]["aliased"] == ["k"]


def test_glm_not_converging_is_recorded(tmp_path):
    result = runner.run(load("seed003_balloons_logistic", "glm.maxiter=1", "train.epochs=20"), tmp_path, quiet=True).result
    assert result["status"] == "completed"
    assert result["glm"]["converged"] is False and result["glm"]["iterations"] == 1
    assert "not converged within glm.maxiter = 1 iterations (tol 1e-10)" in result["glm"]["warnings"]


def test_divergence_is_recorded_with_its_step(tmp_path):
    cfg = load("seed003_balloons_linear", "train.learning_rate=1e30", "train.epochs=500", "train.log_every=5")
    result = runner.run(cfg, tmp_path, quiet=True).result
    assert result["status"] == "completed" and result["network"]["diverged"] is True
    steps = result["network"]["epochs_run"]
    assert result["network"]["note"] == f"diverged: the loss or a weight stopped being finite by step {steps}"
    assert result["comparison"]["equivalent"] is False and result["comparison"]["verdict"].startswith("the network diverged")


def test_quasi_separation_is_no_finite_mle(write_config, tmp_path):
    # x = 0 always gives 0 and x = 2 always 1; only x = 1 mixes: the MLE runs off to infinity
    csv_path = write_config("x,y\n0,0\n0,0\n0,0\n1,0\n1,1\n1,0\n1,1\n2,1\n2,1\n2,1\n", "d.csv")
    cfg = load(write_config(f"name: q\ndata: {{source: csv, path: {csv_path}, target: y}}\ntrain: {{epochs: 50}}\n"))
    result = runner.run(cfg, tmp_path, quiet=True).result
    assert result["status"] == "completed"
    assert any(w.startswith("separation: a direction of the coefficients raises") for w in result["glm"]["warnings"])
    assert result["comparison"]["outcome"] == "no finite MLE"
