"""Malformed configs, generated: each ends in a clean UserError (or a valid config), nothing else."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnglm import config
from nnglm.foundation.errors import UserError

KEYS = [
    "name",
    "description",
    "seed",
    "data",
    "model",
    "train",
    "glm",
    "compare",
    "source",
    "generator",
    "path",
    "dataset",
    "target",
    "features",
    "categorical",
    "n_rows",
    "n_features",
    "feature_mean",
    "feature_sd",
    "p",
    "coefficients",
    "intercept",
    "scale",
    "n_classes",
    "coef_sd",
    "family",
    "link",
    "use_bias",
    "kernel_initializer",
    "activation",
    "learning_rate",
    "beta_1",
    "beta_2",
    "epsilon",
    "epochs",
    "batch_size",
    "dtype",
    "log_every",
    "device",
    "backend",
    "standardize",
    "grad_tol",
    "maxiter",
    "tol",
    "max_abs",
    "reference",
]
WORDS = [
    "synthetic",
    "csv",
    "statsmodels",
    "glm",
    "softmax",
    "balloons",
    "four_points",
    "gaussian_bernoulli",
    "binomial",
    "gaussian",
    "poisson",
    "gamma",
    "multinomial",
    "logit",
    "probit",
    "log",
    "inverse_power",
    "full",
    "float32",
    "float64",
    "count",
    "colour",
    "y",
    "zeros",
    "sigmoid",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(alphabet=string.ascii_letters + "_.", min_size=1, max_size=10))
values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=20
)


def sections():
    data = st.fixed_dictionaries(
        {"source": st.sampled_from(["synthetic", "csv", "statsmodels"])},
        optional={
            k: values
            for k in [
                "generator",
                "target",
                "n_rows",
                "n_features",
                "coefficients",
                "path",
                "dataset",
                "features",
                "categorical",
                "n_classes",
                "p",
            ]
        },
    )
    return st.fixed_dictionaries(
        {"name": st.one_of(st.just("t"), scalars)},
        optional={
            "data": st.one_of(data, values),
            "model": st.one_of(st.dictionaries(st.sampled_from(KEYS[25:30]), values, max_size=4), values),
            "train": st.one_of(st.dictionaries(st.sampled_from(KEYS[30:44]), values, max_size=5), values),
            "glm": values,
            "compare": values,
            "seed": values,
            "extra": values,
        },
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=sections())
def test_any_mapping_validates_or_fails_cleanly(raw):
    try:
        config.validate(raw, "fuzz.yaml")
    except UserError as e:
        message = str(e)
        assert message and all(line.startswith("fuzz.yaml: ") for line in message.splitlines())


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=string.printable + "äé:-[]{}", max_size=200))
def test_any_text_loads_or_fails_cleanly(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_text(text)
    try:
        config.load(path)
    except UserError as e:
        assert str(e).startswith(str(path))


@settings(max_examples=200, deadline=None)
@given(items=st.lists(st.text(alphabet=string.ascii_letters + "._=-0123456789 ", max_size=20), max_size=4))
def test_any_override_applies_or_fails_cleanly(items, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_text("name: t\ndata: {source: synthetic, generator: four_points}\n")
    try:
        cfg = config.load(path, items)
    except UserError as e:
        # named by the override, or by the config file it was set over
        assert str(e).startswith(("--set ", str(path))), str(e)
    else:
        assert isinstance(cfg, config.Config) and cfg.data.source == "synthetic"
