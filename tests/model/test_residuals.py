"""Residuals of both fits (R's residuals.glm, statsmodels' resid_*): residuals.csv in every run folder,
Run.residuals(kind), on statsmodels' datasets: cpunish (Poisson with an exposure and a factor) and
spector (binary logit)."""

import shutil

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.genmod.generalized_linear_model import GLMResults

import nnglm
from nnglm.show import diagnostics

KINDS = ("deviance", "pearson", "response", "working")
CPUNISH = {
    "name": "cpunish_residuals",
    "data": {
        "source": "statsmodels",
        "dataset": "cpunish",
        "target": "EXECUTIONS",
        "features": ["INCOME", "PERPOVERTY", "SOUTH"],
        "categorical": ["SOUTH"],
        "exposure": "VC100k96",
    },
    "model": {"family": "poisson"},
    "train": {"dtype": "float64", "standardize": True},
}
SPECTOR = {
    "name": "spector_residuals",
    "data": {"source": "statsmodels", "dataset": "spector", "target": "GRADE"},
    "model": {"family": "binomial"},
    "train": {"dtype": "float64", "standardize": True},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, nnglm.Run]:
    out = tmp_path_factory.mktemp("residuals")
    made = {"cpunish": nnglm.run(CPUNISH, out=out), "spector": nnglm.run(SPECTOR, out=out)}
    assert all(run.outcome == "equivalent" for run in made.values())
    return made


def statsmodels_fit(name: str, run: nnglm.Run):
    glm = run.config().glm
    if name == "cpunish":
        d = sm.datasets.cpunish.load_pandas().data
        X = sm.add_constant(d[["INCOME", "PERPOVERTY", "SOUTH"]])
        model = sm.GLM(d["EXECUTIONS"], X, family=sm.families.Poisson(), exposure=d["VC100k96"])
    else:
        d = sm.datasets.spector.load_pandas().data
        model = sm.GLM(d["GRADE"], sm.add_constant(d[["GPA", "TUCE", "PSI"]]), family=sm.families.Binomial())
    return model.fit(tol=glm.tol, maxiter=glm.maxiter, tol_criterion="params")


@pytest.mark.runs
@pytest.mark.parametrize("name", ["cpunish", "spector"])
def test_each_kind_equals_statsmodels_on_the_glm_side_and_at_the_networks_weights(runs, name):
    run = runs[name]
    res = statsmodels_fit(name, run)
    at_network = GLMResults(res.model, run.params["network"].to_numpy(), None, 1.0)
    for kind in KINDS:
        table = run.residuals(kind)
        assert list(table.columns) == ["network", "glm"] and table.index.name == "row" and len(table) == res.nobs
        np.testing.assert_allclose(table["glm"], getattr(res, f"resid_{kind}"), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(table["network"], getattr(at_network, f"resid_{kind}"), rtol=1e-10, atol=1e-10)
        # two fits equal within the verdict's tolerance on their coefficients: their residuals, to about that much
        assert 0 < np.max(np.abs(table["network"] - table["glm"])) < 1e-6 * np.max(np.abs(table["glm"]))
        assert table.attrs == {"kind": kind, "max_abs_diff": pytest.approx(np.max(np.abs(table["network"] - table["glm"])))}


@pytest.mark.runs
def test_residuals_csv_holds_both_fits_every_kind_and_the_fitted_means(runs):
    run = runs["cpunish"]
    kept = pd.read_csv(run.folder / "residuals.csv", index_col="row")
    assert list(kept.columns) == [f"{fit}_{what}" for what in ("fitted", *KINDS, "hat") for fit in ("network", "glm")]
    res = statsmodels_fit("cpunish", run)
    np.testing.assert_allclose(kept["glm_fitted"], res.fittedvalues, rtol=1e-10)
    # the deviance residuals' squares sum to the deviance, each fit's to its own
    assert (kept["glm_deviance"] ** 2).sum() == pytest.approx(run.result.glm.statistics.deviance, rel=1e-10)
    assert (kept["network_deviance"] ** 2).sum() == pytest.approx(run.result.network.statistics.deviance, rel=1e-10)


@pytest.mark.runs
def test_a_folder_without_residuals_csv_computes_them_from_its_data(runs, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(runs["spector"].folder, old)
    (old / "residuals.csv").unlink()
    again = nnglm.load(old).residuals("pearson")
    pd.testing.assert_frame_equal(again, runs["spector"].residuals("pearson"), check_exact=False, rtol=1e-14)


@pytest.mark.runs
def test_a_kind_that_is_none_gets_one_message(runs):
    with pytest.raises(nnglm.ConfigError, match=r"^kind: 'studentized'; give one of deviance, pearson, response, working"):
        runs["spector"].residuals("studentized")


# R 4.2.2: fit <- glm(EXECUTIONS ~ INCOME + PERPOVERTY + factor(SOUTH) + offset(log(VC100k96)), family = poisson,
# data = cpunish); hatvalues(fit), cooks.distance(fit), rstandard(fit), the first four rows (R's printed figures)
R_HAT = [0.2687022808677, 0.5296303908029, 0.0827083266873, 0.2036247128834]
R_COOK = [7.0399183600294, 0.0312394488781, 1.0580275111635, 0.0079226833292]
R_RSTANDARD = [6.941574522890, 0.328877124753, 4.147289007639, 0.342730789593]


@pytest.mark.runs
def test_leverage_cooks_distance_and_standardized_residuals_are_rs(runs):
    run = runs["cpunish"]
    kept = pd.read_csv(run.folder / "residuals.csv", index_col="row")
    for fit in ("glm", "network"):
        np.testing.assert_allclose(kept[f"{fit}_hat"][:4], R_HAT, rtol=1e-7)
        np.testing.assert_allclose(diagnostics.cooks_distance(kept, fit, 1.0, 4)[:4], R_COOK, rtol=1e-7)
        np.testing.assert_allclose(diagnostics.standardized(kept, fit, "deviance", 1.0)[:4], R_RSTANDARD, rtol=1e-7)
    influence = statsmodels_fit("cpunish", run).get_influence(observed=False)
    np.testing.assert_allclose(diagnostics.cooks_distance(kept, "glm", 1.0, 4), influence.cooks_distance[0], rtol=1e-9)


@pytest.mark.runs
def test_the_diagnostics_picture_is_in_the_folder_the_report_and_plot(runs):
    run = runs["cpunish"]
    assert (run.folder / "diagnostics.png").read_bytes().startswith(b"\x89PNG")
    assert "diagnostics.png" in (run.folder / "report.md").read_text()
    figures = run.plot()
    assert [axis.get_title() for axis in figures[-1].axes] == [
        "Residuals vs Fitted",
        "Normal Q-Q",
        "Scale-Location",
        "Residuals vs Leverage (Cook's distance dashed)",
    ]
    # each panel: the GLM's points, and the network's drawn over them
    assert all(len(axis.collections) >= 2 for axis in figures[-1].axes)
