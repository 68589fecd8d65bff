"""Numerical trouble is recorded, not hidden: aliased columns found with one QR as R finds them, a GLM that does
not converge, a network that diverges, quasi-separation (model.glm, result.json)."""

import numpy as np
import pytest
from support import load

from nnglm.experiment import runner
from nnglm.model import glm


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


@pytest.mark.runs
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


@pytest.mark.runs
def test_constant_column_is_aliased_with_the_intercept(write_config, tmp_path):
    csv_path = write_config("a,k,y\n1,5,0\n2,5,1\n3,5,0\n4,5,1\n5,5,1\n", "d.csv")
    cfg = load(write_config(f"name: k\ndata: {{source: csv, path: {csv_path}, target: y}}\ntrain: {{epochs: 20}}\n"))
    assert runner.run(cfg, tmp_path, quiet=True).result["glm"]["aliased"] == ["k"]


@pytest.mark.runs
def test_glm_not_converging_is_recorded(tmp_path):
    result = runner.run(load("seed003_balloons_logistic", "glm.maxiter=1", "train.epochs=20"), tmp_path, quiet=True).result
    assert result["status"] == "completed"
    assert result["glm"]["converged"] is False and result["glm"]["iterations"] == 1
    assert "not converged within glm.maxiter = 1 iterations (tol 1e-10)" in result["glm"]["warnings"]


@pytest.mark.runs
def test_divergence_is_recorded_with_its_step(tmp_path):
    cfg = load("seed003_balloons_linear", "train.learning_rate=1e30", "train.epochs=500", "train.log_every=5")
    result = runner.run(cfg, tmp_path, quiet=True).result
    assert result["status"] == "completed" and result["network"]["diverged"] is True
    steps = result["network"]["epochs_run"]
    assert result["network"]["note"] == f"diverged: the loss or a weight stopped being finite by step {steps}"
    assert result["comparison"]["equivalent"] is False and result["comparison"]["verdict"].startswith("the network diverged")


@pytest.mark.runs
def test_quasi_separation_is_no_finite_mle(write_config, tmp_path):
    # x = 0 always gives 0 and x = 2 always 1; only x = 1 mixes: the MLE runs off to infinity
    csv_path = write_config("x,y\n0,0\n0,0\n0,0\n1,0\n1,1\n1,0\n1,1\n2,1\n2,1\n2,1\n", "d.csv")
    cfg = load(write_config(f"name: q\ndata: {{source: csv, path: {csv_path}, target: y}}\ntrain: {{epochs: 50}}\n"))
    result = runner.run(cfg, tmp_path, quiet=True).result
    assert result["status"] == "completed"
    assert any(w.startswith("separation: a direction of the coefficients raises") for w in result["glm"]["warnings"])
    assert result["comparison"]["outcome"] == "no finite MLE"
