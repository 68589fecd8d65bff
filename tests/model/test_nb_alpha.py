"""model.alpha: estimate: the network learns log(alpha) beside its Dense layer and matches statsmodels'
NB2 count model (NegativeBinomial, loglike_method="nb2", maximum likelihood), alpha and its error included."""

import numpy as np
import pytest
from support import ROOT

from nnglm import config
from nnglm.experiment import runner
from nnglm.foundation.errors import UserError
from nnglm.train import inference

# the Medicare lengths of stay statsmodels' Stata comparison uses (data/medpar.csv), 3676 rows
MEDPAR = {"source": "csv", "path": str(ROOT / "data" / "medpar.csv"), "formula": "los ~ C(admitype) + codes"}


def medpar(**model) -> config.Config:
    raw = {
        "name": "nb_alpha",
        "data": MEDPAR,
        "model": {"family": "negative_binomial", "alpha": "estimate"} | model,
        "train": {"dtype": "float64"},
    }
    return config.validate(raw, "test")


def statsmodels_nb2():
    import pandas as pd
    import patsy
    from statsmodels.discrete.discrete_model import NegativeBinomial

    frame = pd.read_csv(MEDPAR["path"])
    y, X = patsy.dmatrices(MEDPAR["formula"], frame, return_type="dataframe")
    sm_model = NegativeBinomial(y, X, loglike_method="nb2")
    # statsmodels' default (BFGS on log alpha from a Poisson start), then Newton's steps to full precision:
    # Newton's method from the Poisson start runs alpha negative on these data
    first = sm_model.fit(maxiter=200, disp=0)
    fit = sm_model.fit(start_params=first.params, method="newton", maxiter=100, tol=1e-12, disp=0)
    return fit.params.to_numpy(), fit.bse.to_numpy(), float(fit.llf)


@pytest.mark.runs
def test_the_loss_is_statsmodels_nb2_log_likelihood():
    """The network's loss with alpha learned is minus statsmodels' NB2 log-likelihood, every term in alpha included."""
    from keras import ops
    from statsmodels.discrete.discrete_model import NegativeBinomial

    rng = np.random.default_rng(0)
    y, x = rng.poisson(3.0, 50).astype(float), rng.normal(size=(50, 1))
    params = np.array([0.3, 0.7])
    for alpha in (0.05, 0.8, 4.0):
        sm_model = NegativeBinomial(y, x, loglike_method="nb2")
        sm_model._transparams = False  # its loglike at alpha itself
        mu = np.exp(x[:, 0] * params[0])
        ours = np.asarray(inference.negative_binomial_full_nll(ops, y, mu, np.log(alpha))).sum()
        np.testing.assert_allclose(ours, -sm_model.loglike(np.append(params[:1], alpha)), rtol=1e-12)


@pytest.mark.runs
def test_network_matches_statsmodels_nb2_with_alpha_and_its_error(tmp_path):
    """Every coefficient, alpha and their standard errors within 1e-6 relative (plain |a - b| / |b|) of
    statsmodels' own fit, made here independently of nnglm; alpha's error is the network's own (its
    Hessian over the weights and log alpha, by the delta method)."""
    params, bse, llf = statsmodels_nb2()
    result = runner.run(medpar(), tmp_path, quiet=True).result
    network, glm = result["network"], result["glm"]
    assert list(network["coefficients"]) == ["(Intercept)", "admitypetype3", "codes", "alpha"]
    np.testing.assert_allclose(list(network["coefficients"].values()), params, rtol=1e-6)
    np.testing.assert_allclose(list(network["bse"].values()), bse, rtol=1e-6)
    np.testing.assert_allclose(list(glm["coefficients"].values()), params, rtol=1e-9)
    np.testing.assert_allclose(list(glm["bse"].values()), bse, rtol=1e-7)
    assert result["comparison"]["outcome"] == "equivalent" and result["comparison"]["max_rel_diff"] <= 1e-6
    np.testing.assert_allclose(network["statistics"]["llf"], llf, rtol=1e-10)
    assert glm["statistics"]["aic"] == pytest.approx(-2 * llf + 2 * 4, rel=1e-10)  # alpha counts as a parameter
    assert (tmp_path / "nb_alpha").is_dir()
    rows = next((tmp_path / "nb_alpha").iterdir()).joinpath("coefficients.csv").read_text().splitlines()
    assert rows[-1].startswith("alpha,")


@pytest.mark.parametrize(
    "model, message",
    [
        ({"family": "poisson"}, "model.alpha: only for model.family negative_binomial, not poisson"),
        ({"link": "sqrt"}, "model.alpha: estimate is fitted by statsmodels' NegativeBinomial count model (NB2), whose link is log only"),
        ({"penalty": {"alpha": 0.1}}, "nnglm compares no penalized fit of it"),
    ],
)
def test_bad_combinations_are_refused(model, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        medpar(**model)


def test_weights_are_refused_with_one_message_and_exit_2(tmp_path, write_config, cli_error):
    (tmp_path / "d.csv").write_text("y,x,w\n1,0.5,1\n3,1.5,2\n0,0.1,1\n")
    path = write_config(
        f"name: t\ndata: {{source: csv, path: {tmp_path / 'd.csv'}, target: y, features: [x], weights: w, weights_kind: freq}}\n"
        "model: {family: negative_binomial, alpha: estimate}\n"
    )
    message = cli_error("validate", path)
    assert "which takes no weights; leave data.weights out or fix model.alpha" in message


def test_alpha_must_be_a_positive_number_or_estimate():
    with pytest.raises(UserError, match="model.alpha"):
        medpar(alpha="learn")


def test_a_feature_named_alpha_is_refused_by_validate_and_run_alike(tmp_path, monkeypatch, cli_error):
    """What run refuses as bad data, validate refuses too, and no run folder is left."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.3f},{y}" for a, y in zip(rng.normal(size=40), rng.poisson(3.0, size=40)))
    (tmp_path / "d.csv").write_text("alpha,y\n" + rows + "\n")
    (tmp_path / "c.yaml").write_text(
        "name: t\ndata: {source: file, path: d.csv, target: y}\nmodel: {family: negative_binomial, alpha: estimate}\n"
    )
    message = "c.yaml: data: a feature is named 'alpha', the term model.alpha: estimate adds after the coefficients; rename it"
    assert cli_error("validate", "c.yaml") == message
    assert cli_error("run", "c.yaml", "--out", "runs") == message.removeprefix("c.yaml: ")
    assert not (tmp_path / "runs").exists()
