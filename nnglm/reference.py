"""Adam from scratch in NumPy (seed 002's closing argument): a third fit, beside the network and the GLM.

It is Keras' update exactly, not the paper's: the bias corrections are folded
into the step size and epsilon is added to sqrt(v) uncorrected,

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m += (g - m) (1 - beta_1);   v += (g^2 - v) (1 - beta_2)
    w -= alpha * m / (sqrt(v) + epsilon)

The gradient of the mean loss comes from statsmodels' link and variance, not
from Keras: d loss / d eta = nll_factor / n * w * (mu - y) / V(mu) * dmu/deta
with w the row's weight and eta including the offset (for softmax,
(P - onehot) / n); a penalty adds its own gradient on the slopes. It runs in float64 on the same (preconditioned,
where the network's are) inputs, from the same start, with the same learning
rate at every step, for the same steps, and maps its weights back to the
original features by its own hand.
"""

import time
from dataclasses import dataclass

import numpy as np

from nnglm import penalty
from nnglm.config import Config
from nnglm.data import Dataset
from nnglm.families import softmax
from nnglm.network import NetworkFit
from nnglm.precondition import Inputs


@dataclass
class ReferenceFit:
    coefficients: np.ndarray  # Dataset.terms' order, original scale
    steps: int
    seconds: float


def adam(dataset: Dataset, config: Config, fit: NetworkFit) -> ReferenceFit:
    family, train, use_bias = config.family, config.train, config.model.use_bias
    inputs = Inputs.of(dataset.X, fit.precondition, use_bias)
    Z = inputs.apply(dataset.X)
    n, k = Z.shape
    outputs = dataset.n_outputs
    W = np.zeros((k, outputs))  # the reference runs only where the network starts from zeros
    b = np.array(fit.start_bias, dtype=float) if use_bias else np.zeros(outputs)
    y = dataset.y
    w = np.ones(n) if dataset.weights is None else dataset.weights
    offset = np.zeros((n, 1)) if dataset.offset is None else dataset.offset[:, None]
    pen = penalty.of_run(config, dataset)
    onehot = np.eye(outputs)[y.astype(int)] if family.multiclass else None
    sm_family = None if family.multiclass else family.sm_family()
    rates = learning_rate_by_step(fit.learning_rates, fit.epochs_run)

    params = [W, b] if use_bias else [W]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    start = time.perf_counter()
    for t in range(1, fit.epochs_run + 1):
        eta = Z @ W + b + offset
        if family.multiclass:
            d_eta = (softmax(eta) - onehot) / n
        else:
            assert sm_family is not None  # a single-output family
            eta = eta[:, 0]
            mu = sm_family.link.inverse(eta)
            d_eta = (family.nll_factor / n * w * (mu - y) / sm_family.variance(mu) * sm_family.link.inverse_deriv(eta))[:, None]
        grads = [Z.T @ d_eta, d_eta.sum(axis=0)] if use_bias else [Z.T @ d_eta]
        if pen is not None:
            grads[0] = grads[0] + penalty_gradient(W, inputs.matrix, pen, use_bias, family.nll_factor)
        alpha = rates[t - 1] * np.sqrt(1 - train.beta_2**t) / (1 - train.beta_1**t)
        for p, g, m_i, v_i in zip(params, grads, m, v):
            m_i += (g - m_i) * (1 - train.beta_1)
            v_i += (g * g - v_i) * (1 - train.beta_2)
            p -= alpha * m_i / (np.sqrt(v_i) + train.epsilon)
    seconds = time.perf_counter() - start
    return ReferenceFit(to_original(W, b if use_bias else None, inputs, family.multiclass), fit.epochs_run, seconds)


def penalty_gradient(W: np.ndarray, M: np.ndarray, pen: penalty.Penalty, use_bias: bool, factor: float) -> np.ndarray:
    """The gradient in W of factor * sum(ridge / 2 * (M W)^2 + lasso * |M W|), the penalty on the slopes."""
    slopes = M @ W
    ridge, lasso = pen.ridge[int(use_bias) :, None], pen.lasso[int(use_bias) :, None]
    return factor * M.T @ (ridge * slopes + lasso * np.sign(slopes))


def learning_rate_by_step(changes: list[tuple[int, float]], steps: int) -> np.ndarray:
    """Adam's learning rate at each step, from the (from step, rate) changes the network recorded."""
    rates = np.empty(steps)
    for i, (step, lr) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else steps
        rates[step:until] = lr
    return rates


def to_original(W: np.ndarray, b: np.ndarray | None, inputs: Inputs, multiclass: bool) -> np.ndarray:
    # eta = (X - shift) M W + b = X (M W) + (b - shift M W): the coefficients on X, intercept first
    slopes = inputs.matrix @ W
    B = slopes if b is None else np.vstack([b - inputs.shift @ slopes, slopes])
    if multiclass:
        B = B[:, 1:] - B[:, :1]  # contrasts with class 0, as the network's
    return B.T.ravel()
