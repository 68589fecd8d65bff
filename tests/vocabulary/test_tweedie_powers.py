"""Tweedie at every power statsmodels fits: p = 0 and p >= 1; at 0, 1, 2 and 3 the normal, Poisson, gamma
and inverse Gaussian fits."""

import numpy as np
import pytest
from support import load

from nnglm import config
from nnglm.data import table
from nnglm.experiment import runner
from nnglm.foundation.errors import UserError
from nnglm.model import glm
from nnglm.vocabulary import families

SCOTLAND = {"source": "statsmodels", "dataset": "scotland", "target": "YES"}
CPUNISH = {"source": "statsmodels", "dataset": "cpunish", "target": "EXECUTIONS"}


def config_of(source: dict, family: str, link: str, **more) -> config.Config:
    inference = more.pop("inference", {})
    return config.validate({"name": "t", "data": source, "model": {"family": family, "link": link} | more, "inference": inference}, "t")


def glm_of(cfg: config.Config) -> tuple[np.ndarray, np.ndarray]:
    fitted = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    assert fitted.failed is None and fitted.converged
    return np.array(list(fitted.coefficients.values())), np.array(list(fitted.bse.values()))


@pytest.mark.parametrize("power", [0, 1, 1.5, 2, 2.5, 3, 4])
@pytest.mark.runs
def test_the_loss_has_statsmodels_estimating_equations(power):
    """d loss / d mu = (mu - y) / mu^p at every power: the equations statsmodels' IRLS solves."""
    from keras import ops

    loss = families.lookup("tweedie", "log", var_power=power).distribution.nll
    assert callable(loss)
    y, mu, h = np.array([0.5, 2.0, 3.0]), np.array([1.2, 1.7, 4.0]), 1e-6
    params = {"var_power": float(power)}
    slope = (np.asarray(loss(ops, y, mu + h, params)) - np.asarray(loss(ops, y, mu - h, params))) / (2 * h)
    np.testing.assert_allclose(slope, (mu - y) / mu**power, rtol=1e-7)


@pytest.mark.parametrize(
    "source, power, family, link, inference",
    [
        (SCOTLAND, 0, "gaussian", "identity", {}),
        (CPUNISH, 1, "poisson", "log", {"scale": 1.0}),  # Tweedie's scale is free: fixed at Poisson's 1
        (SCOTLAND, 2, "gamma", "log", {}),
        (SCOTLAND, 3, "inverse_gaussian", "log", {}),
    ],
)
def test_glm_at_powers_0_1_2_3_is_the_named_family(source, power, family, link, inference):
    tweedie = glm_of(config_of(source, "tweedie", link, var_power=power, inference=inference))
    named = glm_of(config_of(source, family, link))
    np.testing.assert_allclose(tweedie[0], named[0], rtol=1e-10)
    np.testing.assert_allclose(tweedie[1], named[1], rtol=1e-8)


@pytest.mark.runs
@pytest.mark.parametrize("power, family", [(2, "gamma"), (3, "inverse_gaussian")])
def test_the_network_at_p_2_and_3_is_statsmodels_and_the_named_family(tmp_path, power, family):
    result = runner.run(load("tweedie_scotland_p3", f"model.var_power={power}"), tmp_path, quiet=True).result
    assert result["comparison"]["outcome"] == "equivalent"
    assert result["comparison"]["max_rel_diff"] <= 1e-6
    named, named_bse = glm_of(config_of(SCOTLAND, family, "log"))
    network = np.array(list(result["network"]["coefficients"].values()))
    assert np.max(np.abs(network - named) / np.maximum(np.abs(named), named_bse)) <= 1e-6
    if power == 3:  # statsmodels has no Tweedie likelihood outside 1 <= p <= 2: no llf, and the GLM still counts
        assert result["glm"]["llf"] is None and result["glm"].get("failed") is None


def test_a_power_between_0_and_1_or_undrawable_is_named():
    with pytest.raises(UserError, match="model.var_power: 0.5 is not 0 \\(normal\\) or 1 or more"):
        config_of(SCOTLAND, "tweedie", "log", var_power=0.5)
    synthetic = {"source": "synthetic", "generator": "glm", "coefficients": [0.1, 0.2, 0.3]}
    with pytest.raises(
        UserError, match="model.var_power: generator glm draws Tweedie samples at p = 0, 1, 2, 3 or strictly between 1 and 2, not 2.5"
    ):
        config_of(synthetic, "tweedie", "log", var_power=2.5)
    assert config_of(synthetic, "tweedie", "log", var_power=3).family.param("var_power") == 3.0


def test_the_target_rule_follows_the_power(write_config):
    path = write_config("x,y\n1,0.0\n2,1.5\n3,2.5\n4,3.0\n5,2.0\n", "d.csv")
    source = {"source": "csv", "path": str(path), "target": "y"}
    with pytest.raises(UserError, match="data.target: column 'y' must be greater than 0 for family tweedie"):
        table.load(table.DataSpec.of(config_of(source, "tweedie", "log", var_power=2.5)))
    assert table.load(table.DataSpec.of(config_of(source, "tweedie", "log", var_power=1.5))).n_rows == 5
    negative = write_config("x,y\n1,-1.0\n2,1.5\n3,-2.5\n4,3.0\n", "n.csv")
    fam = config_of({"source": "csv", "path": str(negative), "target": "y"}, "tweedie", "identity", var_power=0).family
    assert fam.eta_range == (-np.inf, np.inf) and fam.target_ok(np.array([-1.0, 2.0])).all()  # p = 0: a normal mean
