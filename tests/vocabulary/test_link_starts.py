"""Links without a bias started inside their domain, and links statsmodels fits only with check_link=False."""

import numpy as np
import pytest

from nnglm import config
from nnglm.experiment import runner
from nnglm.foundation.errors import UserError
from nnglm.train import network
from nnglm.vocabulary import families

SCOTLAND = {"source": "statsmodels", "dataset": "scotland", "target": "YES"}
SPECTOR = {"source": "statsmodels", "dataset": "spector", "target": "GRADE", "features": ["GPA", "TUCE", "PSI"]}


def config_of(source: dict, **model) -> config.Config:
    return config.validate({"name": "t", "data": source, "model": model, "train": {"dtype": "float64"}}, "t")


def statsmodels_fit(cfg: config.Config, family, X_bias: bool):
    import statsmodels.api as sm

    from nnglm.data import table

    dataset = table.load(table.DataSpec.of(cfg))
    X = sm.add_constant(dataset.X) if X_bias else dataset.X
    model = sm.GLM(dataset.y, X, family=family)
    irls = model.fit(tol=1e-12, maxiter=200)
    # Newton's steps from there: its errors are the observed information's, as the network's
    return model.fit(method="newton", start_params=irls.params, tol=1e-12, maxiter=100)


@pytest.mark.runs
def test_tweedie_identity_without_a_bias_starts_inside_its_domain_and_is_statsmodels(tmp_path):
    """R fits it from a start inside the domain; the network starts from statsmodels' first IRLS step."""
    import statsmodels.api as sm

    cfg = config_of(SCOTLAND, family="tweedie", link="identity", use_bias=False, var_power=1.5)
    assert network.starts_inside(cfg.family, cfg.model.use_bias)
    result = runner.run(cfg, tmp_path, quiet=True).result
    sm_fit = statsmodels_fit(cfg, sm.families.Tweedie(sm.families.links.Identity(), var_power=1.5), X_bias=False)
    np.testing.assert_allclose(list(result["network"]["coefficients"].values()), sm_fit.params, rtol=1e-6)
    np.testing.assert_allclose(list(result["network"]["bse"].values()), sm_fit.bse, rtol=1e-6)
    assert result["comparison"]["outcome"] == "equivalent"
    assert result["reference"]["skipped"] == "the reference starts from zeros only"


def test_a_start_outside_the_domain_is_one_clear_message():
    from nnglm.data import table

    cfg = config_of(SCOTLAND, family="tweedie", link="identity", use_bias=False)
    dataset = table.load(table.DataSpec.of(cfg))
    # one feature of either sign: a line through the origin cannot be positive on every row
    dataset.X[:, 0] = np.where(np.arange(len(dataset.X)) % 2, 1.0, -1.0)
    dataset.X[:, 1:] = 0.0
    with pytest.raises(UserError, match=r"model.use_bias: false with tweedie/identity: the activation is undefined at η = 0"):
        network.start_kernel(cfg.family, dataset)


@pytest.mark.runs
def test_a_link_statsmodels_fits_with_check_link_false_is_allowed_and_its_warning_recorded(tmp_path):
    import statsmodels.api as sm

    family = families.lookup("poisson", "cloglog")
    assert family.unlisted and family.sm_family().link.__class__.__name__ == "CLogLog"
    cfg = config_of(SPECTOR, family="poisson", link="cloglog")
    result = runner.run(cfg, tmp_path, quiet=True).result
    warnings = result["glm"]["warnings"]
    assert warnings[0] == family.link_warning and "check_link=False" in warnings[0]
    assert "DomainWarning: The CLogLog link function does not respect the domain of the Poisson family." in warnings
    sm_fit = statsmodels_fit(cfg, sm.families.Poisson(sm.families.links.CLogLog(), check_link=False), X_bias=True)
    np.testing.assert_allclose(list(result["network"]["coefficients"].values()), sm_fit.params, rtol=1e-6)
    report = next((tmp_path / "t").iterdir()).joinpath("report.md").read_text()
    assert "check_link=False" in report


def test_a_listed_link_has_no_warning_and_an_unknown_one_is_refused():
    assert families.lookup("poisson", "log").link_warning is None
    with pytest.raises(UserError, match=r"model.link: 'softmax' is not a link of family poisson; allowed: log, identity, sqrt \(and, with"):
        config_of(SPECTOR, family="poisson", link="softmax")
