"""Every row of the family table, checked the same way, so a new row needs no new test:
the activation is the statsmodels link's inverse, and the loss is the family's negative
log-likelihood up to a constant (value and gradient)."""

import numpy as np
import pytest

from nnglm.train import backends, inference
from nnglm.vocabulary import families

SINGLE = [row for row in families.FAMILIES if not row.multiclass]
MULTI = [row for row in families.FAMILIES if row.multiclass]


def ids(row):
    return row.key


def keras_and_tf():
    engine = backends.load("tensorflow")
    return engine.keras, engine.tf


def activation_of(row):
    keras, _ = keras_and_tf()
    return inference.activation_function(row)


def loss_of(row):
    keras, _ = keras_and_tf()
    return inference.loss_function(row)


def eta_grid(row, n=101, low=-6.0, high=6.0, margin=0.05):
    """η inside the family's domain (and μ away from where a link's inverse saturates)."""
    eta_min, eta_max = row.eta_range
    if np.isfinite(eta_min) and row.link in ("inverse_power", "inverse_squared", "identity", "sqrt"):
        low, high = max(low, eta_min) + 0.2, high / 2  # means from about 1/3 to 5
    return np.linspace(max(low, eta_min + margin), min(high, eta_max - margin), n)


@pytest.mark.parametrize("row", SINGLE, ids=ids)
@pytest.mark.runs
def test_activation_is_the_inverse_link(row):
    eta = eta_grid(row)
    _, tf = keras_and_tf()
    got = np.asarray(activation_of(row)(tf.constant(eta, dtype="float64")))
    np.testing.assert_allclose(got, row.sm_family().link.inverse(eta), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("row", SINGLE, ids=ids)
@pytest.mark.runs
def test_loss_is_the_negative_log_likelihood_up_to_a_constant(row):
    _, tf = keras_and_tf()
    rng = np.random.default_rng(1)
    n = 200
    sm_family = row.sm_family()
    grid = eta_grid(row, 1000, -1.5, 1.5, 0.3)
    mu_true = sm_family.link.inverse(rng.choice(grid, n))
    y = row.sample(rng, mu_true, 0.5)
    mus = [sm_family.link.inverse(rng.choice(grid, n)) for _ in range(2)]

    def n_loss(mu):
        return n * float(tf.reduce_mean(loss_of(row)(tf.constant(y[:, None]), tf.constant(mu[:, None]))))

    def nll(mu):
        return -sm_family.loglike(y, mu, scale=1.0)

    # value: differences between two means agree, whatever constant the loss drops
    assert n_loss(mus[0]) - n_loss(mus[1]) == pytest.approx(row.nll_factor * (nll(mus[0]) - nll(mus[1])), rel=1e-9)
    # gradient in mu: d NLL / d mu = -(y - mu) / V(mu) for an exponential family at unit scale
    mu = tf.Variable(mus[0][:, None])
    with tf.GradientTape() as tape:
        value = n * tf.reduce_mean(loss_of(row)(tf.constant(y[:, None]), mu))
    got = tape.gradient(value, mu).numpy().ravel()
    expected = row.nll_factor * -(y - mus[0]) / sm_family.variance(mus[0])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("row", MULTI, ids=ids)
@pytest.mark.runs
def test_softmax_with_a_zero_reference_logit_is_mnlogit(row):
    import statsmodels.api as sm

    _, tf = keras_and_tf()
    rng = np.random.default_rng(2)
    n, k, c = 300, 3, 4
    X = sm.add_constant(rng.normal(size=(n, k)))
    params = rng.normal(size=(k + 1, c - 1))
    y = rng.integers(0, c, n).astype(float)
    model = sm.MNLogit(y, X)
    logits = np.column_stack([np.zeros(n), X @ params])
    probs = np.asarray(activation_of(row)(tf.constant(logits)))
    np.testing.assert_allclose(probs, model.cdf(X @ params), rtol=1e-12)
    n_loss = n * float(tf.reduce_mean(loss_of(row)(tf.constant(y[:, None]), tf.constant(probs))))
    assert n_loss == pytest.approx(-model.loglike(params), rel=1e-9)


@pytest.mark.parametrize("row", SINGLE, ids=ids)
def test_sampled_targets_obey_the_target_rule(row):
    rng = np.random.default_rng(0)
    mu = row.sm_family().link.inverse(eta_grid(row, 200))
    assert row.target_ok(row.sample(rng, mu, 1.0)).all()


def test_lookup_defaults_to_the_canonical_link():
    assert families.lookup("binomial").link == "logit"
    assert families.lookup("gaussian").link == "identity"
    assert families.lookup("poisson").link == "log"
    assert families.lookup("gamma").link == "inverse_power"
