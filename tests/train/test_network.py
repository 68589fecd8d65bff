"""The network: the fast training path is Keras' own fit, only without its per-epoch overhead."""

import numpy as np
import pytest
from support import engine_of, load

from nnglm.data import table
from nnglm.model.precondition import Inputs
from nnglm.train import network

# observed bitwise equal on CPU; the tolerance allows for a different summation order elsewhere
FAST_EQUALS_FIT = 1e-7


def plain_model(cfg, ds):
    spec = network.NetworkSpec.of(cfg)
    return network.build(engine_of(cfg), spec, ds.n_features, ds.n_outputs, network.start_bias(spec, ds))


def coefficients_of(model, cfg, ds):
    weights = [np.asarray(w, dtype=float) for w in model.get_weights()]
    inputs = Inputs.of(ds.X, cfg.train.inputs, cfg.model.use_bias)
    return inputs.to_original(weights[0], weights[1] if cfg.model.use_bias else None, cfg.family.multiclass)


@pytest.mark.runs
@pytest.mark.parametrize(
    "name, overrides",
    [
        ("seed002_logistic_no_bias", ["data.n_rows=64", "data.n_features=3"]),
        ("seed003_balloons_linear", ["data.n_rows=64", "train.learning_rate=0.01"]),
        ("seed003_balloons_logistic", ["data.n_rows=64", "train.dtype=float64"]),
    ],
)
def test_fast_path_gives_the_weights_of_plain_fit(name, overrides):
    epochs = 30
    cfg = load(name, *overrides, f"train.epochs={epochs}", "train.log_every=7")
    ds = table.load(table.DataSpec.of(cfg))

    fast = network.train(
        engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", target=np.zeros(len(ds.feature_names) + cfg.model.use_bias)
    )

    model = plain_model(cfg, ds)
    model.fit(ds.X.astype(cfg.train.dtype), ds.y.astype(cfg.train.dtype), epochs=epochs, batch_size=ds.n_rows, shuffle=False, verbose=0)
    plain = coefficients_of(model, cfg, ds)

    assert fast.epochs_run == epochs
    np.testing.assert_allclose(list(fast.coefficients.values()), plain, rtol=0, atol=FAST_EQUALS_FIT)
    assert np.abs(plain).max() > 0.01  # the weights did move


@pytest.mark.runs
def test_history_logs_every_log_every_steps_and_the_last():
    cfg = load("seed002_logistic_no_bias", "data.n_rows=50", "train.epochs=25", "train.log_every=10")
    ds = table.load(table.DataSpec.of(cfg))
    fit = network.train(engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", target=np.zeros(ds.n_features))
    steps = [row[0] for row in fit.history]
    assert steps == [0, 10, 20, 25]
    losses = [row[1] for row in fit.history]
    assert losses[0] == pytest.approx(np.log(2))  # zero weights: p = 0.5 everywhere
    assert losses[-1] < losses[0]
    assert fit.final_loss == losses[-1]


@pytest.mark.runs
def test_mini_batches_use_keras_fit_and_count_passes():
    cfg = load("seed000_four_points", "train.batch_size=2", "train.epochs=3", "train.log_every=1")
    ds = table.load(table.DataSpec.of(cfg))
    fit = network.train(engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", target=np.zeros(3))
    model = plain_model(cfg, ds)
    model.fit(ds.X.astype("float32"), ds.y.astype("float32"), epochs=3, batch_size=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(list(fit.coefficients.values()), coefficients_of(model, cfg, ds), atol=FAST_EQUALS_FIT)


@pytest.mark.runs
def test_divergence_is_detected_not_raised():
    # a learning rate this large on unscaled Gaussian regression sends the loss to infinity
    cfg = load("seed003_balloons_linear", "train.learning_rate=1e30", "train.epochs=200", "train.log_every=5")
    ds = table.load(table.DataSpec.of(cfg))
    fit = network.train(engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", target=np.zeros(4))
    assert fit.diverged
    assert fit.epochs_run < 200


@pytest.mark.runs
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("precondition", ["standardize", "whiten"])
def test_preconditioned_weights_map_back_exactly(use_bias, precondition):
    # the mapped-back weights, applied to the original features, give the network's own output
    cfg = load(
        "real_randhie_poisson",
        f"model.use_bias={str(use_bias).lower()}",
        "train.epochs=50",
        "train.grad_tol=null",
        f"train.precondition={precondition}",
        "train.standardize=false",
    )
    ds = table.load(table.DataSpec.of(cfg))
    fit = network.train(engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", target=np.zeros(len(ds.terms(use_bias))))
    assert fit.precondition == precondition
    w = np.array(list(fit.coefficients.values()))
    X = np.column_stack([np.ones(ds.n_rows), ds.X]) if use_bias else ds.X
    np.testing.assert_allclose(np.exp(X @ w), fit.mu, rtol=1e-12)


def test_inputs_shift_only_with_a_bias_and_whiten_to_identity():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])
    with_bias = Inputs.of(X, "standardize", use_bias=True)
    assert with_bias.shift.tolist() == [3.0, 10.0] and with_bias.matrix[1, 1] == 1.0  # a constant column is left unscaled
    without = Inputs.of(X, "standardize", use_bias=False)
    assert without.shift.tolist() == [0.0, 0.0]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) @ np.array([[1.0, 0.99, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 1e4]]) + 5.0
    Z = Inputs.of(X, "whiten", use_bias=True).apply(X)
    np.testing.assert_allclose(Z.T @ Z / len(Z), np.eye(3), atol=1e-10)
    # aliased columns have no whitening: standardized instead
    assert Inputs.of(np.column_stack([X, X[:, 0] * 2]), "whiten", use_bias=True).method == "standardize"


@pytest.mark.runs
def test_grad_tol_stops_early_and_records_it():
    cfg = load("glm_poisson_log", "train.grad_tol=1e-6")
    ds = table.load(table.DataSpec.of(cfg))
    fit = network.train(engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", target=np.zeros(4))
    assert fit.stopped == "grad_tol" and fit.max_abs_grad < 1e-6
    assert fit.epochs_run < cfg.train.epochs and fit.epochs_run % cfg.train.log_every == 0
    assert fit.note is None


@pytest.mark.runs
def test_step_cap_before_grad_tol_says_not_converged():
    cfg = load("glm_poisson_log", "train.epochs=30")
    ds = table.load(table.DataSpec.of(cfg))
    fit = network.train(engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", target=np.zeros(4))
    assert fit.converged is False and fit.stopped == "epochs" and fit.epochs_run == 30
    assert fit.note == f"not converged after 30 steps; max |grad| = {fit.max_abs_grad:.3g} (train.grad_tol 1e-10)"
