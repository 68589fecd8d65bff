"""epochs: auto on real data, nothing tuned, and verdicts that tell the truth."""

import re
from pathlib import Path

import numpy as np
import pytest
from support import ROOT, load

from nnglm.experiment import runner
from nnglm.log import result as run_result

AUTO = sorted((ROOT / "configs").glob("auto_*.yaml"))


def relative(result) -> float:
    """max |w - b| / |b| over the coefficients: plain relative, not against the standard error."""
    net, glm = run_result.flat(result["network"]["coefficients"]), run_result.flat(result["glm"]["coefficients"])
    return max(abs(net[t] - glm[t]) / abs(glm[t]) for t in glm)


@pytest.mark.runs
@pytest.mark.parametrize("path", AUTO, ids=lambda p: p.stem)
def test_real_data_nothing_tuned_matches_in_float64(path, tmp_path):
    result = runner.run(load(path), tmp_path, quiet=True).result
    assert result["comparison"]["outcome"] == "equivalent", result["comparison"]["verdict"]
    assert result["comparison"]["max_rel_diff"] <= 1e-6
    assert relative(result) <= 1e-6
    assert result["network"]["stopped"] == "converged" and result["network"]["converged"]
    assert result["config"]["train"]["epochs"] == "auto"


@pytest.mark.runs
@pytest.mark.slow
@pytest.mark.parametrize("path", AUTO, ids=lambda p: p.stem)
def test_real_data_nothing_tuned_matches_in_float32(path, tmp_path):
    result = runner.run(load(path, "train.dtype=float32"), tmp_path, quiet=True).result
    assert result["comparison"]["outcome"] == "equivalent", result["comparison"]["verdict"]
    assert result["comparison"]["max_rel_diff"] <= 1e-4


def test_the_shipped_set_covers_what_it_must():
    runs = [load(p) for p in AUTO]
    assert len(runs) >= 10
    assert {(c.model.family, c.model.link) for c in runs} >= {
        ("gaussian", "identity"),
        ("binomial", "logit"),
        ("binomial", "probit"),
        ("binomial", "cloglog"),
        ("poisson", "log"),
        ("gamma", "inverse_power"),
        ("gamma", "log"),
        ("multinomial", "softmax"),
    }


@pytest.mark.runs
def test_too_few_steps_is_not_converged_with_advice_and_a_caution_beside_the_p_values(tmp_path):
    outcome = runner.run(load("auto_longley", "train.epochs=50"), tmp_path, quiet=True)
    result = outcome.result
    assert result["comparison"]["outcome"] == "not converged" and not result["network"]["converged"]
    # the network's own estimate of its distance is the true one here (a quadratic loss)
    assert result["network"]["distance"] == pytest.approx(result["comparison"]["max_rel_diff"], rel=1e-3)
    verdict = result["comparison"]["verdict"]
    assert "set train.epochs: auto (it trains until converged) or more than 50 steps" in verdict
    assert "set train.precondition: whiten (the design's condition number is 4.9e+09)" in verdict
    report = (outcome.run_dir / "report.md").read_text()
    assert "CAUTION: the network has not converged" in report


@pytest.mark.runs
def test_float32_that_cannot_resolve_says_so_and_what_to_set(tmp_path):
    result = runner.run(load("auto_longley", "train.dtype=float32", "compare.rtol=1e-8"), tmp_path, quiet=True).result
    assert result["network"]["stopped"] == "floor" and result["network"]["note"].startswith("stopped after ")
    assert result["comparison"]["outcome"] == "not converged"
    assert "float32 cannot resolve this design" in result["comparison"]["verdict"]
    assert result["comparison"]["verdict"].endswith("set train.dtype: float64")


@pytest.mark.runs
def test_exploding_loss_is_diverged(tmp_path):
    result = runner.run(load("seed002_logistic_no_bias", "train.learning_rate=1e6", "train.epochs=50"), tmp_path, quiet=True).result
    assert result["network"]["diverged"] and result["comparison"]["outcome"] == "diverged"
    assert result["network"]["note"].startswith("diverged: the loss rose from 0.693147 at the start to ")


@pytest.mark.runs
def test_activation_pinned_at_its_domain_guard_is_diverged(tmp_path):
    result = runner.run(load("glm_gamma_inverse_power", "train.learning_rate=1.0", "train.epochs=200"), tmp_path, quiet=True).result
    assert result["comparison"]["outcome"] == "diverged"
    assert "the activation is pinned at its domain guard (η ≤ 0) on" in result["network"]["note"]


@pytest.mark.runs
def test_a_glm_stopped_short_is_fitted_again_by_a_fallback(tmp_path):
    result = runner.run(load("auto_spector_logit", "glm.maxiter=2"), tmp_path, quiet=True).result
    assert result["glm"]["warnings"][0] == "statsmodels' IRLS on the design as given gave no convergence within glm.maxiter = 2"
    assert result["glm"]["method"] == "lbfgs on the whitened design"
    assert result["comparison"]["outcome"] == "equivalent"


def test_tolerance_is_relative_to_size_or_standard_error():
    tol = run_result.Tolerance.of(1e-4, None)
    b, bse = np.array([1e-6, 0.5]), np.array([1e-7, 0.6])
    # a coefficient of 1e-6 is not "equal" to 0 however small the absolute gap
    assert tol.gaps(np.array([0.0, 0.5]), b, bse)[0] > 1
    # 1e-5 on a coefficient whose standard error is 0.6 is within 1e-4
    assert tol.gaps(np.array([1e-6, 0.5 + 1e-5]), b, bse)[1] <= 1
    assert run_result.Tolerance.of(1e-4, 1e-3).gaps(np.array([0.0, 0.5]), b, bse)[0] <= 1  # the absolute judge


@pytest.mark.runs
def test_readme_csv_example_runs_as_written_and_matches(tmp_path):
    import re
    import subprocess
    import sys

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"A CSV config looks like:\n\n```yaml\n(.*?)```", readme, re.S).group(1)
    config = tmp_path / "my_csv.yaml"
    config.write_text(block)
    done = subprocess.run(
        [sys.executable, "-m", "nnglm", "run", str(config), "--out", str(tmp_path), "--quiet", "--strict"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert Path(next(tmp_path.glob("*/*/result.json"))).exists()


@pytest.mark.runs
def test_progress_under_auto_shows_no_step_total_and_names_each_phase(tmp_path, monkeypatch):
    import io

    from rich.console import Console

    from nnglm.show import progress

    buffers = []

    def console():
        buffers.append(io.StringIO())
        return Console(file=buffers[-1], force_terminal=True, color_system=None, width=160)

    monkeypatch.setattr(progress, "_console", console)
    config = load("auto_spector_logit", "train.dtype=float64")
    runner.run(config, tmp_path, quiet=False)
    text = "".join(b.getvalue() for b in buffers)
    assert re.search(r"\d+ steps", text) and "distance " in text and f"(stops at {config.stop_rtol:g})" in text
    assert str(config.train.max_steps) not in text and not re.search(r"\d+/\d+", text)  # no total to count towards
    for phase in ("data", "GLM (statsmodels)", "training", "standard errors", "NumPy reference", "plots and report"):
        assert re.search(rf"{re.escape(phase)}: \d+(\.\d+)? m?s", text), phase  # milliseconds below 0.1 s
    buffers.clear()
    runner.run(config, tmp_path, quiet=True)
    assert "".join(b.getvalue() for b in buffers) == ""


@pytest.mark.runs
def test_float32_stops_at_the_floor_its_gradient_resolves_and_float64_does_not_reach_it(tmp_path):
    from nnglm.train import network

    r32 = runner.run(load("auto_randhie_poisson", "train.dtype=float32"), tmp_path, quiet=True).result
    n32 = r32["network"]
    assert n32["stopped"] == "floor" and r32["comparison"]["outcome"] == "equivalent"
    # float32's round-off, carried through the Newton step: far above float64's, far below the verdict's 1e-4
    assert 1e-8 < n32["floor"] < 1e-4 and n32["distance"] <= network.FLOOR * n32["floor"]
    assert f"within {network.FLOOR:g} times the {n32['floor']:.2g} that the network's own float32 arithmetic resolves" in n32["note"]
    r64 = runner.run(load("auto_randhie_poisson"), tmp_path, quiet=True).result
    assert r64["network"]["stopped"] == "converged" and r64["network"]["floor"] < 1e-12
    assert n32["epochs_run"] <= 1.2 * r64["network"]["epochs_run"]
