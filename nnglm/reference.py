"""Adam from scratch in NumPy (seed 002's closing argument): a third fit, beside the network and the GLM.

It is Keras' update exactly, not the paper's: the bias corrections are folded
into the step size and epsilon is added to sqrt(v) uncorrected,

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m += (g - m) (1 - beta_1);   v += (g^2 - v) (1 - beta_2)
    w -= alpha * m / (sqrt(v) + epsilon)

The gradient of the mean loss comes from statsmodels' link and variance, not
from Keras: d loss / d eta = nll_factor / n * (mu - y) / V(mu) * dmu/deta
(for softmax, (P - onehot) / n). It runs in float64 on the same (standardized,
where the network's is) features, from the same start, for the same steps.
"""

import time
from dataclasses import dataclass

import numpy as np

from nnglm.config import Config
from nnglm.data import Dataset
from nnglm.network import Scaling, original_scale, start_bias


@dataclass
class ReferenceFit:
    coefficients: np.ndarray  # Dataset.terms' order, original scale
    steps: int
    seconds: float


def adam(dataset: Dataset, config: Config, steps: int) -> ReferenceFit:
    family, train, use_bias = config.family, config.train, config.model.use_bias
    scaling = Scaling.of(dataset.X, train.standardize, use_bias)
    Z = scaling.apply(dataset.X)
    n, k = Z.shape
    outputs = dataset.n_outputs
    W = np.zeros((k, outputs))  # the reference runs only where the network starts from zeros
    b = np.full(outputs, start_bias(config, dataset.y)) if use_bias else np.zeros(outputs)
    y = dataset.y
    onehot = np.eye(outputs)[y.astype(int)] if family.multiclass else None
    sm_family = None if family.multiclass else family.sm_family()

    params = [W, b] if use_bias else [W]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    start = time.perf_counter()
    for t in range(1, steps + 1):
        eta = Z @ W + b
        if family.multiclass:
            e = np.exp(eta - eta.max(axis=1, keepdims=True))
            d_eta = (e / e.sum(axis=1, keepdims=True) - onehot) / n
        else:
            eta = eta[:, 0]
            mu = sm_family.link.inverse(eta)
            d_eta = (family.nll_factor / n * (mu - y) / sm_family.variance(mu) * sm_family.link.inverse_deriv(eta))[:, None]
        grads = [Z.T @ d_eta, d_eta.sum(axis=0)] if use_bias else [Z.T @ d_eta]
        alpha = train.learning_rate * np.sqrt(1 - train.beta_2**t) / (1 - train.beta_1**t)
        for p, g, m_i, v_i in zip(params, grads, m, v):
            m_i += (g - m_i) * (1 - train.beta_1)
            v_i += (g * g - v_i) * (1 - train.beta_2)
            p -= alpha * m_i / (np.sqrt(v_i) + train.epsilon)
    seconds = time.perf_counter() - start
    return ReferenceFit(original_scale(W, b if use_bias else None, scaling, family.multiclass), steps, seconds)

