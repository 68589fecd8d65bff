"""The power link as an object with its exponent: statsmodels' Power(q), R's link.power = q."""

import numpy as np
import pytest
import statsmodels.api as sm

from nnglm import config
from nnglm.data import table
from nnglm.experiment import runner
from nnglm.foundation.errors import UserError
from nnglm.model import glm
from nnglm.vocabulary import families

SCOTLAND = {"source": "statsmodels", "dataset": "scotland", "target": "YES"}


def config_of(model: dict, **train) -> config.Config:
    return config.validate({"name": "t", "data": SCOTLAND, "model": model, "train": train}, "t")


def scotland() -> tuple[np.ndarray, np.ndarray]:
    d = sm.datasets.scotland.load_pandas().data
    return d["YES"].to_numpy(), sm.add_constant(d.drop(columns="YES")).to_numpy()


def test_the_exponent_reaches_statsmodels_and_the_mean():
    row = families.lookup("tweedie", "power", link_power=0.5, var_power=1.5)
    link = row.sm_family().link
    assert isinstance(link, sm.families.links.Power) and link.power == 0.5
    eta = np.array([0.5, 2.0, 9.0])
    np.testing.assert_allclose(row.mean(np, eta), link.inverse(eta), rtol=1e-15)
    assert row.key == "tweedie/power(0.5)" and row.eta_range == (0.0, np.inf)
    # R's statmod::tweedie default: link.power = 1 - var.power
    assert families.lookup("tweedie", "power", var_power=1.5).inverse_link.power == -0.5


def test_the_glm_is_statsmodels_own_power_fit():
    y, X = scotland()
    expected = sm.GLM(y, X, family=sm.families.Tweedie(var_power=1.5, link=sm.families.links.Power(0.5))).fit()
    cfg = config_of({"family": "tweedie", "var_power": 1.5, "link": "power", "link_power": 0.5})
    fitted = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    np.testing.assert_allclose(list(fitted.coefficients.values()), expected.params, rtol=1e-8)


def test_a_power_statsmodels_does_not_list_for_the_family_is_fitted_with_the_warning():
    """Gamma's listed links are log, identity and inverse; Power(-1) is the inverse link by another name."""
    cfg = config_of({"family": "gamma", "link": "power", "link_power": -1})
    fitted = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    inverse = config_of({"family": "gamma", "link": "inverse_power"})
    np.testing.assert_allclose(
        list(fitted.coefficients.values()),
        list(glm.fit(table.load(table.DataSpec.of(inverse)), inverse.family, glm.GlmOptions.of(inverse)).coefficients.values()),
        rtol=1e-8,
    )
    assert fitted.warnings[0].startswith("link: statsmodels' Gamma family does not list the Power link")


@pytest.mark.runs
def test_the_network_reaches_the_power_link_glm(tmp_path):
    cfg = config_of({"family": "tweedie", "var_power": 1.5, "link": "power", "link_power": 0.5}, dtype="float64")
    result = runner.run(cfg, tmp_path, quiet=True).record
    assert result.comparison is not None and result.comparison.equivalent
    assert result.comparison.max_rel_diff <= 1e-6


@pytest.mark.parametrize(
    "model, message",
    [
        ({"family": "gamma", "link": "log", "link_power": 0.5}, "model.link_power: only with model.link: power (η = μ^link_power)"),
        (
            {"family": "tweedie", "link": "power", "link_power": 0},
            "model.link_power: 0: the exponent of η = μ^p is a finite number other than 0 (0 is model.link: log)",
        ),
        ({"family": "gamma", "link": "power"}, "model.link_power: required with model.link: power (η = μ^link_power), e.g. 0.5"),
        (
            {"family": "tweedie", "link": "power", "var_power": 1},
            "model.link_power: required here: its default, 1 - var_power, is 0 (that is model.link: log)",
        ),
    ],
)
def test_a_wrong_exponent_gets_one_message(model, message):
    with pytest.raises(UserError) as e:
        config_of(model)
    assert str(e.value) == f"t: {message}"
