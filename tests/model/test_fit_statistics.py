"""The fit statistics R's and statsmodels' summaries show beside the deviance: the null deviance's
degrees of freedom, Pearson's chi-square, the deviance residuals' quantiles and the pseudo R²s
(McFadden, Cox-Snell), for both fits, against R's figures and statsmodels' own results."""

import json

import numpy as np
import pytest
from support import ROOT, load

import nnglm
from nnglm.data import table
from nnglm.log.result import Statistics
from nnglm.model import glm
from nnglm.show import summary

SHIPS = "incidents ~ type + factor(year) + factor(period) + offset(log(service))"
# R 4.2.2, measured: m1 <- glm(incidents ~ type + factor(year) + factor(period) + offset(log(service)),
#   family = poisson, data = ships); quantile(residuals(m1, type = "deviance")); m1$df.null;
#   sum(residuals(m1, type = "pearson")^2)
R_SHIPS_QUANTILES = [-1.6768181958, -0.8292955713, -0.4370105945, 0.5058210411, 2.7912103846]
R_SHIPS_DF_NULL, R_SHIPS_PEARSON = 33, 42.27525311
# R 4.2.2, measured, the same on glm(YES ~ ., family = Gamma, data = scotland)
R_SCOTLAND_QUANTILES = [-0.149532908443, -0.028272333277, 0.002735735644, 0.037625071038, 0.094741415665]
R_SCOTLAND_DF_NULL, R_SCOTLAND_PEARSON = 31, 0.08602279616


def quantiles(stats: Statistics) -> list[float]:
    q = stats.deviance_residuals
    return [q.min, q.q1, q.median, q.q3, q.max]


def glm_statistics(cfg):
    dataset, _ = table.split(table.load(table.DataSpec.of(cfg)), table.DataSpec.of(cfg))
    fitted = glm.fit(dataset, cfg.family, glm.GlmOptions.of(cfg))
    return fitted.statistics, glm.model(dataset, cfg.family, glm.GlmOptions.of(cfg))


def assert_as_statsmodels(stats: Statistics, sm_model):
    """statsmodels' own fitted results give the same figures."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm_model.fit()
    assert stats.pearson_chi2 == pytest.approx(res.pearson_chi2, rel=1e-9)
    assert stats.pseudo_r2_mcfadden == pytest.approx(res.pseudo_rsquared("mcf"), rel=1e-9)
    assert stats.pseudo_r2_cox_snell == pytest.approx(res.pseudo_rsquared("cs"), rel=1e-9)
    np.testing.assert_allclose(quantiles(stats), np.quantile(res.resid_deviance, [0, 0.25, 0.5, 0.75, 1]), rtol=1e-8, atol=1e-12)
    assert stats.df_null == res.df_resid + res.df_model


def test_ships_poisson_as_r_and_statsmodels():
    cfg = load("r_ships_formula", f"data.path={ROOT / 'data/r/ships.csv'}", "train.dtype=float64")
    stats, sm_model = glm_statistics(cfg)
    assert stats.df_null == R_SHIPS_DF_NULL
    assert stats.pearson_chi2 == pytest.approx(R_SHIPS_PEARSON, rel=1e-9)
    np.testing.assert_allclose(quantiles(stats), R_SHIPS_QUANTILES, rtol=1e-9)
    assert_as_statsmodels(stats, sm_model)


def test_scotland_gamma_as_r_and_statsmodels():
    stats, sm_model = glm_statistics(load("auto_scotland_gamma"))
    assert stats.df_null == R_SCOTLAND_DF_NULL
    assert stats.pearson_chi2 == pytest.approx(R_SCOTLAND_PEARSON, rel=1e-9)
    np.testing.assert_allclose(quantiles(stats), R_SCOTLAND_QUANTILES, rtol=1e-9)
    assert_as_statsmodels(stats, sm_model)


def test_multinomial_pseudo_r2_is_mnlogits():
    import statsmodels.api as sm

    data = sm.datasets.anes96.load_pandas().data
    X = sm.add_constant(data[["logpopul", "age", "educ"]].to_numpy(dtype=float))
    model = sm.MNLogit(data["PID"].to_numpy(dtype=float), X)
    res = model.fit(disp=False)
    stats = glm.statistics(model, res.params.T.ravel())
    # MNLogit fits its null model by Newton steps, nnglm takes the class shares' closed form: 2e-8 apart (measured)
    assert stats.pseudo_r2_mcfadden == pytest.approx(res.prsquared, rel=1e-7)
    assert stats.pseudo_r2_cox_snell == pytest.approx(1 - np.exp(2 * (res.llnull - res.llf) / res.nobs), rel=1e-7)


@pytest.mark.runs
def test_a_run_records_and_shows_them_for_both_fits(tmp_path):
    run = nnglm.run(
        str(ROOT / "configs/r_ships_formula.yaml"),
        overrides={"data.path": str(ROOT / "data/r/ships.csv"), "data.formula": SHIPS, "train.dtype": "float64"},
        out=tmp_path,
    )
    recorded = json.loads((run.folder / "result.json").read_text())
    for fit in ("network", "glm"):
        stats = recorded[fit]["statistics"]
        assert stats["df_null"] == R_SHIPS_DF_NULL
        assert stats["pearson_chi2"] == pytest.approx(R_SHIPS_PEARSON, rel=1e-8)
        q = stats["deviance_residuals"]
        np.testing.assert_allclose([q["min"], q["q1"], q["median"], q["q3"], q["max"]], R_SHIPS_QUANTILES, rtol=1e-8)
    block = summary.statistics_block(run.result.network.statistics, run.result.glm.statistics)
    labels = [row[0] for row in block.rows]
    assert labels[labels.index("null deviance") + 1] == "null deviance's degrees of freedom"
    for label in ("Pearson chi²", "pseudo R² (McFadden)", "pseudo R² (Cox-Snell)", "deviance residuals: Min", "deviance residuals: Median"):
        assert label in labels
    row = block.rows[labels.index("deviance residuals: Max")]
    assert row[1:] == ["2.79121", "2.79121"]  # R: 2.7912103846
    assert block.rows[labels.index("pseudo R² (McFadden)")][1:] == ["0.4407680783", "0.4407680783"]
