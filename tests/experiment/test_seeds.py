"""Each seed config, run as shipped (they take about a second each), holds its promise."""

import csv
import json

import pytest
from support import load

from nnglm.experiment import runner

RESULT_KEYS = {"schema", "run_id", "name", "status", "error", "config", "environment", "data", "network", "glm", "comparison"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    cache = {}

    def run(name, *overrides):
        key = (name, overrides)
        if key not in cache:
            cache[key] = runner.run(load(name, *overrides), out, quiet=True)
        return cache[key]

    return run


@pytest.mark.runs
def test_seed002_float32_beats_the_seeds_mape(runs):
    result = runs("seed002_logistic_no_bias").result
    assert result["comparison"]["mape_pct"] <= 0.00024  # the seed reported 0.00024 %; the README, 0.00014 %
    assert result["comparison"]["max_abs_diff"] <= 1e-6  # the README: 3.0e-7
    assert result["comparison"]["equivalent"]
    assert "(Intercept)" not in result["network"]["coefficients"]  # no bias, no intercept
    assert result["environment"]["dtype"] == "float32"


@pytest.mark.runs
def test_seed002_float64_within_2e_8(runs):
    for outcome in (runs("seed002_logistic_no_bias", "train.dtype=float64"), runs("seed002_logistic_no_bias_float64")):
        assert outcome.result["comparison"]["max_abs_diff"] <= 2e-8  # the README: 7.8e-9
        assert outcome.result["environment"]["dtype"] == "float64"


@pytest.mark.runs
def test_balloons_linear_equals_ols_within_1e_5(runs):
    result = runs("seed003_balloons_linear").result
    assert result["comparison"]["max_abs_diff"] <= 1e-5  # the README: 3.1e-6
    assert list(result["glm"]["coefficients"]) == ["(Intercept)", "relationship", "children", "age"]


@pytest.mark.runs
def test_balloons_logistic_reaches_the_glm_within_its_tolerance(runs):
    result = runs("seed003_balloons_logistic").result
    assert result["comparison"]["equivalent"]
    assert result["comparison"]["max_abs_diff"] <= min(1e-4, result["config"]["compare"]["max_abs"])  # the README: 5.4e-5
    assert result["glm"]["coefficients"]["children"] > 10  # large coefficients, as the seed found


@pytest.mark.runs
def test_four_points_no_finite_mle_and_directions_agree(runs):
    result = runs("seed000_four_points").result
    assert result["status"] == "completed"
    assert result["glm"]["perfect_separation"] is True
    assert any("PerfectSeparationWarning" in w for w in result["glm"]["warnings"])
    assert "no finite maximum-likelihood estimate exists" in result["comparison"]["verdict"]
    assert result["comparison"]["direction_cosine"] > 0.9999
    assert result["comparison"]["equivalent"] is False


@pytest.mark.runs
def test_run_folder_holds_the_contract(runs):
    outcome = runs("seed002_logistic_no_bias")
    folder = outcome.run_dir
    assert folder.parent.name == "seed002_logistic_no_bias"
    assert sorted(p.name for p in folder.iterdir()) == [
        "coefficients.csv",
        "config.yaml",
        "covariance.csv",
        "diagnostics.png",
        "distance.png",
        "history.csv",
        "loss.png",
        "report.html",
        "report.md",
        "residuals.csv",
        "result.json",
        "trajectory.csv",
    ]
    result = json.loads((folder / "result.json").read_text())
    assert RESULT_KEYS <= set(result)
    assert result["status"] == "completed" and result["error"] is None and result["schema"] == 2
    assert result["run_id"] == folder.name
    assert set(result["environment"]) >= {"backend", "device", "dtype", "python", "numpy", "keras", "tensorflow", "statsmodels"}
    assert len(result["data"].pop("rows_sha256")) == 64  # the rows' identity, which anova compares
    assert result["data"] == {
        "n_rows": 1000,
        "n_features": 10,
        "feature_names": [f"x{i}" for i in range(1, 11)],
        "target": "y",
        "condition_number": pytest.approx(6.93, abs=0.01),
        "n_observations": 1000.0,
        "rows_dropped": 0,
    }
    assert set(result["network"]) >= {"coefficients", "bse", "final_loss", "epochs_run", "train_seconds", "diverged"}
    assert list(result["network"]["bse"]) == list(result["glm"]["bse"])
    assert set(result["glm"]) >= {"coefficients", "bse", "llf", "converged", "iterations", "fit_seconds", "warnings", "perfect_separation"}
    assert set(result["comparison"]) >= {
        "max_abs_diff",
        "mape_pct",
        "rel_l2",
        "equivalent",
        "tolerance",
        "epochs_to_match",
        "bse_max_rel_diff",
    }
    assert set(result["reference"]) >= {"coefficients", "max_abs_diff_to_network"}
    assert load(folder / "config.yaml").to_dict() == result["config"]  # the resolved config reruns as is

    with open(folder / "history.csv") as f:
        history = list(csv.DictReader(f))
    assert [int(r["step"]) for r in history] == list(range(0, 1001, 10))
    assert float(history[-1]["max_abs_diff_to_glm"]) == pytest.approx(result["comparison"]["max_abs_diff"], rel=1e-6)
    with open(folder / "coefficients.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["term", "network", "network_bse", "z", "p", "ci_low", "ci_high", "glm", "glm_bse", "diff", "reference"]
    assert [r["term"] for r in rows] == result["data"]["feature_names"]
    assert float(rows[0]["network"]) == result["network"]["coefficients"]["x1"]


@pytest.mark.runs
@pytest.mark.gpu
def test_seed002_on_a_gpu_matches_the_glm(runs):
    result = runs("seed002_logistic_no_bias", "train.device=gpu").result
    assert result["environment"]["device"].startswith("GPU")
    assert result["comparison"]["equivalent"] and result["comparison"]["mape_pct"] <= 0.00024
