"""The GLM's failures are the GLM's: statsmodels' fallbacks, an exact map back from the whitened design,
separation found before anyone is blamed, and the shipped R configs reaching their figures."""

import numpy as np
import pytest
from support import load

from nnglm.data import table
from nnglm.experiment import runner
from nnglm.model import glm, precondition
from nnglm.model.glm import _transform, design, stack
from nnglm.model.separation import separated


@pytest.mark.parametrize("name", ["auto_spector_logit", "auto_cpunish_poisson", "auto_anes96_mnlogit", "auto_engel_gamma_log"])
def test_a_fallback_on_the_whitened_design_maps_back_to_statsmodels_own_answer(name):
    cfg = load(name, "train.dtype=float64")
    ds = table.load(table.DataSpec.of(cfg))
    kind = glm.chosen(cfg.family, glm.GlmOptions.of(cfg))
    default = kind.solve(kind.model(ds), ds)
    inputs = precondition.Inputs.of(ds.X, "whiten", cfg.model.use_bias)
    Z = stack(inputs.apply(ds.X), cfg.model.use_bias)
    mapped = kind.solve_with(kind.model(ds, Z), ds, "newton", _transform(inputs, cfg.model.use_bias))
    scale = np.maximum(np.abs(default.params), default.bse)
    assert np.max(np.abs(mapped.params - default.params) / scale) < 1e-8
    np.testing.assert_allclose(mapped.bse, default.bse, rtol=1e-6)
    assert mapped.converged


def test_separation_is_found_in_binomial_and_multinomial_data():
    four = table.load(table.DataSpec.of(load("seed000_four_points")))
    assert separated(design(four, True), four.y, 2)
    anes = table.load(table.DataSpec.of(load("auto_anes96_mnlogit")))
    assert not separated(design(anes, True), anes.y, len(anes.classes))
    iris = table.load(table.DataSpec.of(load("r_fgl_multinomial", "data.path=data/r/iris.csv", "data.target=Species")))
    assert separated(design(iris, True), iris.y, 3)  # setosa lies apart from the others
    womenlf = table.load(table.DataSpec.of(load("r_womenlf_multinomial")))
    assert not separated(design(womenlf, True), womenlf.y, 3)


@pytest.mark.runs
def test_a_multinomial_whose_glm_runs_off_to_nan_is_no_finite_mle_not_the_networks_fault(tmp_path):
    result = runner.run(load("r_fgl_multinomial", "train.max_steps=300"), tmp_path, quiet=True).result
    comparison, fit = result["comparison"], result["glm"]
    assert comparison["outcome"] == "no finite MLE"
    assert fit["perfect_separation"] is True
    assert fit["warnings"][0] == "statsmodels' MNLogit's Newton on the design as given gave non-finite coefficients"
    assert any(w.startswith("separation: a direction of the coefficients") for w in fit["warnings"])
    assert "float32 cannot resolve" not in comparison["verdict"] and "set train.dtype" not in comparison["verdict"]
    assert comparison["verdict"].startswith("the classes are separated, so no finite maximum-likelihood estimate exists")


@pytest.mark.runs
def test_a_glm_that_stops_short_is_glm_failed_with_its_words(tmp_path):
    result = runner.run(load("auto_spector_logit", "glm.maxiter=1"), tmp_path, quiet=True).result
    comparison, fit = result["comparison"], result["glm"]
    assert comparison["outcome"] == "GLM failed"
    assert fit["failed"].startswith("statsmodels' IRLS on the design as given gave no convergence within glm.maxiter = 1")
    assert comparison["verdict"].startswith("the GLM failed, not the network: statsmodels gave no usable fit (")
    assert "The network on its own: after " in comparison["verdict"]
    assert comparison["verdict"].endswith("raise glm.maxiter to let the GLM go further")
    assert result["network"]["coefficients"]  # the network's figures are still there


R_CONFIGS = {
    # config: (outcome, a figure R prints: (statistic, value, decimals))
    "r_warpbreaks_parquet": ("equivalent", ("deviance", 210.392, 3)),
    "r_mroz_tsv_gz": ("equivalent", ("deviance", 905.266, 3)),
    "r_ships_formula": ("equivalent", ("deviance", 38.695, 3)),
    "r_ucb_admissions_excel": ("equivalent", ("deviance", 20.204, 3)),
    "r_quine_stata": ("equivalent", None),
    "r_insectsprays_spss": ("equivalent", ("deviance", 98.329, 3)),
    "r_womenlf_multinomial": ("equivalent", None),
}


@pytest.mark.runs
@pytest.mark.parametrize("name", R_CONFIGS)
def test_each_r_config_as_shipped_reaches_its_figure(name, tmp_path):
    outcome, figure = R_CONFIGS[name]
    result = runner.run(load(name), tmp_path, quiet=True).result
    assert result["comparison"]["outcome"] == outcome, result["comparison"]["verdict"]
    if figure:
        statistic, value, decimals = figure
        assert round(result["glm"]["statistics"][statistic], decimals) == value


def test_womenlf_reaches_fox_and_weisbergs_multinom_coefficients():
    cfg = load("r_womenlf_multinomial")
    fit = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    # nnet::multinom(partic ~ hincome + children), not.work the reference (An R Companion to Applied Regression)
    expected = {
        "parttime:(Intercept)": -1.43231,
        "parttime:hincome": 0.006892,
        "parttime:childrenpresent": 0.02149,
        "fulltime:(Intercept)": 1.98282,
        "fulltime:hincome": -0.09723,
        "fulltime:childrenpresent": -2.55860,
    }
    for term, value in expected.items():
        assert fit.coefficients[term] == pytest.approx(value, abs=5e-5), term


def test_a_wide_separated_design_is_found_before_the_fit_and_its_fit_capped(monkeypatch):
    """3000 rows of a 1500-level factor took statsmodels 52 IRLS iterations of 7 s each: a wide binomial
    design is checked for separation first, and a separated one's fit is capped."""
    monkeypatch.setattr(glm, "COSTLY_SOLVE", 0)  # the four points' design counts as wide
    cfg = load("seed000_four_points")
    fit = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    assert fit.perfect_separation
    assert fit.warnings[0].startswith("separation, found before the fit (a linear programme")
    assert fit.iterations <= glm.SEPARATED_MAXITER
