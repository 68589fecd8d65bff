"""The two shipped cross-validation configs say what their data hold, run as shipped: a hidden layer
helps on mcycle's curve (real data, nothing tuned), and nothing helps on counts drawn from a GLM."""

import json

import numpy as np
import pytest
from support import ROOT, load

from nnglm.experiment import runner


def cross_validation(name: str, out) -> dict:
    outcome = runner.run(load(name), out, quiet=True)
    result = json.loads((outcome.run_dir / "result.json").read_text())
    assert result["comparison"]["equivalent"] is True  # the degenerate network is still the GLM
    return result["cross_validation"]


@pytest.mark.runs
def test_a_hidden_layer_helps_on_mcycle(tmp_path):
    cv = cross_validation("cv_mcycle_hidden", tmp_path)
    networks = {n["model"]: n for n in cv["networks"]}
    assert cv["folds"] == 5 and len(cv["per_fold"]) == 5 and cv["fallback"] is None
    # both networks lower the held-out deviance, and the paired tests say so; from scratch, in every fold
    for name in ("scratch", "at_glm"):
        assert networks[name]["improves"] is True and networks[name]["p_value_folds"] < 0.05
    assert all(f["deviance"]["scratch"] < f["deviance"]["glm"] for f in cv["per_fold"])
    assert cv["verdict"].startswith("the network from scratch improves the held-out deviance by")
    assert (ROOT / "data" / "r" / "mcycle.csv").is_file()


@pytest.mark.runs
def test_nothing_helps_on_counts_drawn_from_a_glm(tmp_path):
    cv = cross_validation("cv_glm_drawn", tmp_path)
    assert not any(n["improves"] for n in cv["networks"])
    assert cv["verdict"].startswith("no evidence that a hidden layer helps here")
    # started at the GLM, the network cannot end worse than the GLM by more than round-off where
    # early stopping keeps step 0: its held-out deviance is the GLM's
    glm = np.array([f["deviance"]["glm"] for f in cv["per_fold"]])
    at_glm = np.array([f["deviance"]["at_glm"] for f in cv["per_fold"]])
    np.testing.assert_allclose(at_glm, glm, rtol=1e-5)


@pytest.mark.runs
def test_a_separated_fold_glm_is_no_start_and_the_fallback_is_named(write_config, tmp_path):
    """Perfect separation: the GLM has no finite maximum in any fold, so the network 'started at the GLM'
    is the network from scratch there, and the section says so."""
    x = np.linspace(-2, 2, 60)
    (tmp_path / "sep.csv").write_text("x,y\n" + "\n".join(f"{v:.4f},{int(v > 0)}" for v in x) + "\n")
    path = write_config(
        f"name: sep\ndata: {{source: file, path: {tmp_path / 'sep.csv'}, target: y, folds: 3}}\n"
        "model: {family: binomial, hidden: [4], hidden_start: glm}\ntrain: {epochs: 200}\n"
    )
    outcome = runner.run(load(path), tmp_path / "out", quiet=True)
    cv = json.loads((outcome.run_dir / "result.json").read_text())["cross_validation"]
    assert cv["fallback"].startswith("the GLM failed in fold 1 (perfect separation: the likelihood has no finite maximum)")
    for f in cv["per_fold"]:
        assert f["deviance"]["at_glm"] == f["deviance"]["scratch"]
