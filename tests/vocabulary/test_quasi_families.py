"""R's family names: quasipoisson, quasibinomial, quasi(link, variance), and model.family as R writes it,
read by a closed rule; each quasi fit checked against statsmodels (scale="X2") and R's printed figures."""

import numpy as np
import pytest
from support import load

from nnglm import config
from nnglm.data import table
from nnglm.foundation.errors import UserError
from nnglm.model import glm
from nnglm.vocabulary import families

MINIMAL = {"name": "t", "data": {"source": "statsmodels", "dataset": "cpunish", "target": "EXECUTIONS"}}


def family_of(**model) -> families.Family:
    return config.validate(MINIMAL | {"model": model}, "t").family


@pytest.mark.parametrize(
    "text, key",
    [
        ("gaussian", "gaussian/identity"),
        ('binomial(link = "probit")', "binomial/probit"),
        ("binomial(probit)", "binomial/probit"),
        ('poisson(link = "log")', "poisson/log"),
        ("quasipoisson", "quasipoisson/log"),
        ("quasibinomial(link = 'cloglog')", "quasibinomial/cloglog"),
        ('Gamma(link = "inverse")', "gamma/inverse_power"),
        ("inverse.gaussian", "inverse_gaussian/inverse_squared"),
        ('quasi(link = "log", variance = "mu^2")', "quasi(mu^2)/log"),
        ('stats::quasi("identity", "mu")', "quasi(mu)/identity"),
        ("quasi", "quasi(constant)/identity"),
        ("MASS::negative.binomial(theta = 2)", "negative_binomial/log"),
        ("tweedie(var.power = 1.5, link.power = 0)", "tweedie/log"),
    ],
)
def test_model_family_as_r_writes_it(text, key):
    assert family_of(family=text).key == key


def test_r_s_theta_is_statsmodels_alpha_and_tweedie_s_link_power_its_power_link():
    assert family_of(family="negative.binomial(theta = 4)").param("alpha") == 0.25
    row = family_of(family="tweedie(var.power = 1.5)")  # statmod's default link.power: 1 - var.power
    assert (row.link, row.inverse_link.power, row.param("var_power")) == ("power", -0.5, 1.5)


@pytest.mark.parametrize(
    "row", [r for r in families.FAMILIES if not r.multiclass and r.link not in ("loglog", "logc")], ids=lambda r: r.key
)
def test_r_spelling_of_every_row_reads_back_as_the_row(row):
    keys = families.from_r(row.r_call) or {"family": row.r_call}
    assert family_of(**keys).key == row.key


@pytest.mark.parametrize(
    "model, message",
    [
        (
            {"family": 'binomial(link = "foo")'},
            "model.family: 'binomial(link = \"foo\")': link 'foo' is not one of R's links "
            "(logit, probit, cauchit, cloglog, identity, log, sqrt, 1/mu^2, inverse)",
        ),
        (
            {"family": 'binomial(link = system("ls"))'},
            "model.family: 'binomial(link = system(\"ls\"))': 'link = system(\"ls\")' is not an argument nnglm reads "
            '(a quoted string, a name or a number, as in binomial(link = "probit"))',
        ),
        (
            {"family": 'quasi(variance = "mu^4")'},
            "model.family: 'quasi(variance = \"mu^4\")': variance 'mu^4' is not one statsmodels has a family for "
            "(constant, mu(1-mu), mu, mu^2, mu^3)",
        ),
        (
            {"family": "binomial(weights = 2)"},
            "model.family: 'binomial(weights = 2)': binomial() takes link, each once",
        ),
        (
            {"family": "negative.binomial()"},
            "model.family: 'negative.binomial()': theta is required (a number)",
        ),
        (
            {"family": 'binomial(link = "probit")', "link": "logit"},
            "model.link: 'logit' contradicts model.family: binomial(link = \"probit\") (link 'probit'); give one of them",
        ),
        ({"family": "poisson", "variance": "mu"}, "model.variance: only for model.family quasi (R's quasi(link, variance)), not poisson"),
    ],
)
def test_r_spelling_refused_with_one_message(model, message):
    with pytest.raises(UserError) as caught:
        config.validate(MINIMAL | {"model": model}, "t")
    assert str(caught.value) == f"t: {message}"


# (config, R's dispersion, R's standard errors) as R's summary.glm prints them (see each config's opening comment)
R_FIGURES = {
    "r_insectsprays_quasipoisson": (1.507713, [0.09309, 0.12984, 0.26263, 0.18499, 0.21110, 0.12729]),
    "r_menarche_quasibinomial": (0.9508657, [0.75151, 0.05749]),
    "r_cars_quasi": (5.44877, [3.5600, 0.2873]),
}


@pytest.mark.parametrize("name", list(R_FIGURES))
def test_quasi_glm_is_statsmodels_with_pearson_scale_and_r_s_figures(name):
    import statsmodels.api as sm

    cfg = load(name)
    ds = table.load(table.DataSpec.of(cfg))
    fitted = glm.fit(ds, cfg.family, glm.GlmOptions.of(cfg))
    model = sm.GLM(ds.y, glm.design(ds, True), family=cfg.family.sm_family(), var_weights=ds.var_weights, freq_weights=ds.freq_weights)
    expected = model.fit(scale="X2")
    np.testing.assert_allclose(list(fitted.bse.values()), expected.bse, rtol=1e-6)
    np.testing.assert_allclose(fitted.scale, expected.scale, rtol=1e-8)
    dispersion, bse = R_FIGURES[name]
    # R's dispersion comes from the working weights of its last IRLS iteration, not quite at the optimum (cars:
    # 12 iterations of a non-canonical link, 1.5e-5 apart)
    assert fitted.scale == pytest.approx(dispersion, rel=3e-5)
    np.testing.assert_allclose(list(fitted.bse.values()), bse, rtol=5e-4)  # R prints 4 to 5 digits
    assert fitted.scale != pytest.approx(1.0, abs=0.04)  # not the base family's fixed dispersion


@pytest.mark.runs
def test_a_quasipoisson_run_estimates_the_dispersion_in_both_fits(tmp_path):
    from nnglm.experiment import runner

    result = runner.run(load("r_insectsprays_quasipoisson", "train.dtype=float64"), tmp_path, quiet=True).result
    assert result["comparison"]["outcome"] == "equivalent"
    assert result["inference"]["network_dispersion"] == pytest.approx(1.507713, rel=1e-5)
    assert result["inference"]["glm_scale"] == pytest.approx(1.507713, rel=1e-5)
