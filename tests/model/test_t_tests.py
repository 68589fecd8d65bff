"""t tests where the dispersion is estimated, as R's summary.glm: which test a run uses (inference.use_t), and
each fit's p-values and intervals from its own errors, checked against statsmodels' use_t and R's printed figures."""

import numpy as np
import pytest
from support import engine_of, load

from nnglm import config
from nnglm.data import table
from nnglm.foundation.errors import UserError
from nnglm.log.result import InferenceSection
from nnglm.model import glm
from nnglm.train import inference

COPPER = {"name": "t", "data": {"source": "statsmodels", "dataset": "copper", "target": "WORLDCONSUMPTION"}}
R_TIME_P = 0.002810952561  # R: summary(glm(WORLDCONSUMPTION ~ ., data = copper)), TIME's Pr(>|t|)


def use_t(model: dict, **options) -> bool:
    return config.validate(COPPER | {"model": model, "inference": options}, "t").use_t


@pytest.mark.parametrize(
    "model, options, expected",
    [
        ({"family": "gaussian"}, {}, True),
        ({"family": "gamma", "link": "log"}, {}, True),
        ({"family": "inverse_gaussian"}, {}, True),
        ({"family": "tweedie"}, {}, True),
        ({"family": "quasipoisson"}, {}, True),
        ({"family": 'quasi(link = "log", variance = "mu^2")'}, {}, True),
        ({"family": "poisson"}, {}, False),
        ({"family": "negative_binomial"}, {}, False),
        ({"family": "poisson"}, {"scale": "X2"}, True),  # R's quasipoisson
        ({"family": "gaussian"}, {"scale": 2.5}, False),  # a dispersion given is not estimated
        ({"family": "gaussian"}, {"cov_type": "HC0"}, False),  # a sandwich: lmtest's coeftest tests a glm's with z
        ({"family": "gaussian"}, {"use_t": False}, False),
        ({"family": "poisson"}, {"use_t": True}, True),
    ],
)
def test_t_where_the_dispersion_is_estimated_as_r(model, options, expected):
    assert use_t(model | ({"link": "log"} if model["family"] == "tweedie" else {}), **options) is expected


def test_use_t_takes_auto_true_or_false():
    with pytest.raises(UserError) as caught:
        config.validate(COPPER | {"model": {"family": "gaussian"}, "inference": {"use_t": "maybe"}}, "t")
    assert str(caught.value) == (
        "t: inference.use_t: 'maybe' is not auto (t where the dispersion is estimated, as R's summary.glm), "
        "true (t tests on the residual df) or false (z tests)"
    )


def statsmodels_copper(use_t: bool):
    import statsmodels.api as sm

    cfg = load("r_copper_gaussian")
    ds = table.load(table.DataSpec.of(cfg))
    return cfg, ds, sm.GLM(ds.y, glm.design(ds, True), family=sm.families.Gaussian()).fit(use_t=use_t)


@pytest.mark.runs
@pytest.mark.parametrize("test", ["t", "z"])
def test_network_p_values_and_intervals_are_statsmodels_use_t(test):
    cfg, ds, expected = statsmodels_copper(use_t=test == "t")
    curvature = inference.Curvature(engine_of(cfg), cfg.family, ds, True)
    got = curvature.inference(np.asarray(expected.params), use_t=test == "t")
    np.testing.assert_allclose(got.p_values, expected.pvalues, rtol=1e-8)
    np.testing.assert_allclose(np.column_stack([got.ci_low, got.ci_high]), expected.conf_int(), rtol=1e-9)
    chosen = inference.chosen(engine_of(cfg), curvature, np.asarray(expected.params), cfg.inference, ds, use_t=test == "t")
    np.testing.assert_allclose(chosen.p_values, expected.pvalues, rtol=1e-8)
    time = ds.feature_names.index("TIME") + 1
    if test == "t":
        assert got.df == 19 and got.p_values[time] == pytest.approx(R_TIME_P, rel=1e-8)
    else:
        assert got.df is None and got.p_values[time] < 0.001  # what nnglm printed before, z's


@pytest.mark.runs
def test_a_gaussian_run_tests_with_t_in_both_fits_and_says_so(tmp_path):
    import csv

    from nnglm.experiment import runner
    from nnglm.show import summary

    cfg, _, expected = statsmodels_copper(use_t=True)
    outcome = runner.run(cfg.model_copy(update={"train": cfg.train.model_copy(update={"dtype": "float64"})}), tmp_path, quiet=True)
    result = outcome.result
    assert result["inference"]["use_t"] is True and result["inference"]["df_resid"] == 19
    rows = list(csv.DictReader((outcome.run_dir / "coefficients.csv").open()))
    np.testing.assert_allclose([float(r["p"]) for r in rows], expected.pvalues, rtol=1e-6)  # the network's
    section = InferenceSection.model_validate(result["inference"])
    glm_z = np.array(list(result["glm"]["coefficients"].values())) / np.array(list(result["glm"]["bse"].values()))
    np.testing.assert_allclose(section.p_values(glm_z), expected.pvalues, rtol=1e-8)  # the GLM's, by the same test
    assert section.critical() == pytest.approx(2.093024054408263)  # qt(0.975, 19)
    time = next(r for r in rows if r["term"] == "TIME")
    assert float(time["p"]) == pytest.approx(R_TIME_P, rel=1e-6)
    block = summary.blocks(outcome.record, [{k: v for k, v in r.items()} for r in runner_rows(rows)])[1]
    assert block.headers[3:5] == ["t value", "P>|t|"]
    assert "t tests on 19 residual df" in block.title
    assert summary.dispersion_note(outcome.record) == [
        "(Dispersion parameter for gaussian family taken to be 76536.82 by the network, 76536.82 by the GLM)"
    ]


def runner_rows(rows: list[dict]) -> list[dict]:
    """coefficients.csv's rows as the summary reads them (numbers, not text)."""
    return [{k: v if k == "term" else (float(v) if v not in ("", None) else None) for k, v in r.items()} for r in rows]


def test_older_runs_without_use_t_read_as_z():
    assert InferenceSection().p_values(np.array([1.959963984540054]))[0] == pytest.approx(0.05)
