"""The network with hidden layers started at the GLM (model.hidden_start: glm, the Combined Actuarial
Neural Network): step 0 is the GLM, a fixed skip connection stays at the GLM, early stopping keeps the
best weights; and the config's checks of the two keys."""

import json
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from support import ROOT, engine_of

from nnglm import config
from nnglm.data.table import Dataset
from nnglm.foundation.errors import UserError
from nnglm.model.precondition import Inputs
from nnglm.train import hidden
from nnglm.train.network import NetworkSpec

# step 0's means against statsmodels' fitted means (relative), in each dtype
STEP_ZERO = {"float32": 1e-6, "float64": 1e-12}


def cfg_of(family: str, dtype: str, *overrides: str, use_bias: bool = True):
    raw = {
        "name": "cann",
        "seed": 5,
        "data": {
            "source": "synthetic",
            "generator": "glm",
            "n_rows": 300,
            "n_features": 3,
            "coefficients": [0.1, 0.1, 0.1],
            "validation_fraction": 0.2,
        },
        "model": {"family": family, "use_bias": use_bias, "hidden": [8], "hidden_start": "glm"},
        "train": {"dtype": dtype, "epochs": 60, "log_every": 10, "learning_rate": 0.01},
    }
    return config.validate(config.apply_overrides(raw, list(overrides)), "test config")


def rows(family: str, offset: bool, n: int = 300, seed: int = 0) -> Dataset:
    """A few hundred rows from a GLM of the family, with an offset where asked."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 3.0, 0.5] + [0.0, 5.0, -1.0]  # columns of their own scales and means
    o = rng.uniform(-0.5, 0.5, n) if offset else None
    eta = 0.3 + X @ [0.5, -0.2, 0.4] + (0 if o is None else o)
    y = rng.binomial(1, 1 / (1 + np.exp(-eta))) if family == "binomial" else rng.poisson(np.exp(eta - 0.5))
    return Dataset(X=X, y=y.astype(float), feature_names=["a", "b", "c"], target="y", offset=o)


def glm_fit(family: str, ds: Dataset, use_bias: bool = True):
    sm_family = sm.families.Binomial() if family == "binomial" else sm.families.Poisson()
    design = np.column_stack([np.ones(ds.n_rows), ds.X]) if use_bias else ds.X
    return sm.GLM(ds.y, design, family=sm_family, offset=ds.offset).fit()


def step_zero(cfg, ds: Dataset, start: hidden.GlmStart) -> np.ndarray:
    spec = NetworkSpec.of(cfg)
    engine = engine_of(cfg)
    inputs = Inputs.of(ds.X, "standardize", spec.use_bias)
    model = hidden.build_at_glm(engine, spec, ds, inputs, start)
    return hidden.HiddenFit(model=model, inputs=inputs, dtype=spec.train.dtype).predict(ds.X, ds.offset)


@pytest.mark.runs
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "family, offset, use_bias", [("binomial", False, True), ("binomial", True, True), ("poisson", True, True), ("poisson", True, False)]
)
def test_step_zero_predicts_the_glm_means(family, offset, use_bias, dtype):
    ds = rows(family, offset)
    fitted = glm_fit(family, ds, use_bias)
    mu = step_zero(cfg_of(family, dtype, use_bias=use_bias), ds, hidden.GlmStart(np.asarray(fitted.params), fixed=False))
    assert np.max(np.abs(mu / fitted.fittedvalues - 1)) <= STEP_ZERO[dtype]


@pytest.mark.runs
def test_step_zero_multinomial():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2)) * [2.0, 0.5] + [1.0, -3.0]
    y = rng.integers(0, 3, 300).astype(float)
    ds = Dataset(X=X, y=y, feature_names=["a", "b"], target="y", classes=["p", "q", "r"])
    fitted = sm.MNLogit(ds.y, np.column_stack([np.ones(300), X])).fit(disp=0)
    coefficients = np.ravel(fitted.params, order="F")  # class by class, as Dataset.terms orders them
    cfg = cfg_of("multinomial", "float64", "data={source: synthetic, generator: softmax, n_classes: 3, validation_fraction: 0.2}")
    mu = step_zero(cfg, ds, hidden.GlmStart(coefficients, fixed=False))
    assert np.max(np.abs(mu / fitted.predict() - 1)) <= STEP_ZERO["float64"]


@pytest.mark.runs
def test_a_fixed_skip_connection_stays_at_the_glm():
    ds = rows("poisson", True)
    fitted = glm_fit("poisson", ds)
    cfg = cfg_of("poisson", "float32", "model.hidden_skip=fixed")
    spec = NetworkSpec.of(cfg)
    start = hidden.GlmStart(np.asarray(fitted.params), fixed=True)
    fit = hidden.train(engine_of(cfg), ds, spec, "cpu", glm_start=start)
    skip = fit.model.get_layer("skip")
    kernel, bias = fit.inputs.from_original(start.coefficients, True, 1)
    assert np.array_equal(np.asarray(skip.kernel), kernel.astype("float32"))
    assert np.array_equal(np.asarray(skip.bias), bias.astype("float32"))
    assert (fit.start, fit.skip, fit.epochs_run) == ("glm", "fixed", 60)
    assert np.max(np.abs(fit.predict(ds.X, ds.offset) / fitted.fittedvalues - 1)) > 1e-3  # the hidden part moved


@pytest.mark.runs
def test_early_stopping_keeps_the_best_weights(monkeypatch):
    monkeypatch.setattr(hidden, "PATIENCE", 3)
    ds = rows("binomial", False)
    # early rows that disagree with the training rows (every label flipped): the more training fits
    # its own rows, the worse the early loss, so the best is near the start and training stops early
    early = rows("binomial", False, n=200, seed=1)
    early = Dataset(X=early.X, y=1 - early.y, feature_names=early.feature_names, target="y")
    fitted = glm_fit("binomial", ds)
    cfg = cfg_of("binomial", "float64", "train.epochs=2000", "train.learning_rate=0.05")
    spec = NetworkSpec.of(cfg)
    engine = engine_of(cfg)
    fit = hidden.train(engine, ds, spec, "cpu", glm_start=hidden.GlmStart(np.asarray(fitted.params), fixed=False), early=early)
    steps, losses = zip(*fit.early_losses)
    best = int(np.argmin(losses))
    assert fit.best_step == steps[best]
    assert fit.epochs_run == fit.best_step + hidden.PATIENCE * cfg.train.log_every < 2000  # stopped early
    again = hidden.early_loss(engine, fit.model, spec, fit.inputs, early)()
    assert again == pytest.approx(min(losses), rel=1e-12)


@pytest.mark.runs
def test_a_failed_glm_falls_back_to_scratch():
    ds = rows("binomial", False)
    cfg = cfg_of("binomial", "float32", "train.epochs=20")
    fit = hidden.train(engine_of(cfg), ds, NetworkSpec.of(cfg), "cpu", glm_start=hidden.GlmStart(np.full(4, np.nan), fixed=False))
    assert (fit.start, fit.skip) == ("scratch", None)
    assert fit.note == "the GLM failed (no finite coefficients): the network started from scratch, not at the GLM"
    assert not fit.diverged


def test_the_start_at_the_glm_needs_hidden_layers(write_config):
    path = write_config("name: h\ndata: {source: synthetic, generator: four_points}\nmodel: {hidden_start: glm}\n")
    with pytest.raises(UserError) as e:
        config.load(path)
    assert str(e.value) == f"{path}: model.hidden_start: glm starts the network with hidden layers at the GLM; set model.hidden (e.g. [16])"


def test_a_fixed_skip_needs_the_start_at_the_glm(write_config):
    path = write_config(
        "name: h\ndata: {source: synthetic, generator: four_points, validation_fraction: 0.25}\nmodel: {hidden: [4], hidden_skip: fixed}\n"
    )
    with pytest.raises(UserError) as e:
        config.load(path)
    assert str(e.value) == (
        f"{path}: model.hidden_skip: fixed holds the skip connection of the network started at the GLM; set model.hidden_start: glm "
        "(or data.folds, which trains it beside the network from scratch)"
    )
    # with folds, the network started at the GLM is trained in every fold, whatever hidden_start says
    folded = write_config(
        "name: h\ndata: {source: synthetic, generator: four_points, folds: 2}\nmodel: {hidden: [4], hidden_skip: fixed}\n", "f.yaml"
    )
    assert config.load(folded).model.hidden_skip == "fixed"


def test_the_defaults_leave_the_config_as_it_was():
    cfg = cfg_of("poisson", "float32", "model.hidden_start=scratch")
    assert "hidden_start" not in cfg.to_dict()["model"] and "hidden_skip" not in cfg.to_dict()["model"]
    assert cfg_of("poisson", "float32", "model.hidden_skip=fixed").to_dict()["model"]["hidden_skip"] == "fixed"


@pytest.mark.runs
def test_a_run_through_the_command_line_starts_at_the_glm(run_cli, tmp_path):
    code, out, err = run_cli(
        "run",
        ROOT / "configs" / "seed003_balloons_colour_vs_hidden.yaml",
        "--set",
        "model.hidden_start=glm",
        "--set",
        "train.epochs=500",
        "--out",
        tmp_path,
        "--quiet",
    )
    assert code == 0, err
    result = json.loads((Path(out.strip().splitlines()[-1]) / "result.json").read_text())
    assert result["status"] == "completed"
    assert (result["hidden"]["start"], result["hidden"]["skip"], result["hidden"]["epochs_run"]) == ("glm", "trained", 500)
    assert "best_step" not in result["hidden"]  # no early stopping in a single run
    assert result["config"]["model"]["hidden_start"] == "glm"
    # trained from the GLM, the network is never worse than it on its own rows
    assert result["validation"]["hidden"]["train_loss"] < result["validation"]["glm"]["train_loss"]


@pytest.mark.parametrize(
    "method, use_bias, n_outputs", [("standardize", True, 1), ("whiten", True, 1), ("standardize", False, 1), ("whiten", True, 3)]
)
def test_from_original_is_the_inverse_of_to_original(method, use_bias, n_outputs):
    """The skip connection's weights on the network's inputs map back to the GLM's coefficients exactly."""
    from nnglm.model.precondition import Inputs

    rng = np.random.default_rng(0)
    X = rng.normal(2.0, 3.0, (50, 3))
    inputs = Inputs.of(X, method, use_bias)
    coefficients = rng.normal(size=(3 + use_bias) * max(n_outputs - 1, 1))
    kernel, bias = inputs.from_original(coefficients, use_bias, n_outputs)
    back = inputs.to_original(kernel, bias if use_bias else None, n_outputs > 1)
    np.testing.assert_allclose(back, coefficients, rtol=1e-12, atol=1e-12)
