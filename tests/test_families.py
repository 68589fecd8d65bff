"""Every row of the family table: the Keras activation is the statsmodels link's inverse."""

import numpy as np
import pytest

from nnglm import families, network


@pytest.mark.parametrize("row", families.FAMILIES, ids=lambda r: f"{r.family}-{r.link}")
def test_activation_is_the_inverse_link(row):
    keras, _ = network.import_backend("tensorflow")
    eta = np.linspace(-6, 6, 101)
    activation = keras.activations.get(row.activation)
    got = np.asarray(activation(keras.ops.convert_to_tensor(eta, dtype="float64")))
    expected = row.sm_family().link.inverse(eta)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("row", families.FAMILIES, ids=lambda r: f"{r.family}-{r.link}")
def test_sampled_targets_obey_the_target_rule(row):
    rng = np.random.default_rng(0)
    mu = row.sm_family().link.inverse(rng.normal(size=200))
    assert row.target_ok(row.sample(rng, mu, 1.0)).all()


def test_lookup_defaults_to_the_canonical_link():
    assert families.lookup("binomial").link == "logit"
    assert families.lookup("gaussian").link == "identity"
