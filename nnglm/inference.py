"""Standard errors for the network's weights, as a GLM user reads them.

The covariance is the inverse Hessian of the summed negative log-likelihood at
the network's own weights (on the original scale of the features), computed by
automatic differentiation in the network's backend, times the dispersion where
the family has one (Gaussian, Gamma: Pearson chi^2 / (n - p), as statsmodels).
That is the observed information; statsmodels' IRLS reports the expected
information, which is the same for canonical links and differs slightly for
the others (probit, cloglog, gamma/log).
"""

from dataclasses import dataclass

import numpy as np

from nnglm.config import Config
from nnglm.data import Dataset
from nnglm.glm import design

Z_95 = 1.959963984540054


@dataclass
class Inference:
    bse: np.ndarray
    z: np.ndarray
    p_values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    dispersion: float


def standard_errors(dataset: Dataset, config: Config, coefficients: np.ndarray, mu: np.ndarray) -> Inference:
    from scipy import stats

    family = config.family
    hessian = nll_hessian(dataset, config, coefficients)
    dispersion = 1.0
    if family.family in ("gaussian", "gamma"):
        sm_family = family.sm_family()
        dispersion = float(np.sum((dataset.y - mu) ** 2 / sm_family.variance(mu)) / (dataset.n_rows - len(coefficients)))
    try:
        cov = np.linalg.inv(hessian) * dispersion
        bse = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    except np.linalg.LinAlgError:
        bse = np.full(len(coefficients), np.nan)  # singular: no finite estimate (separation, aliasing)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coefficients / bse
    return Inference(
        bse=bse,
        z=z,
        p_values=2 * stats.norm.sf(np.abs(z)),
        ci_low=coefficients - Z_95 * bse,
        ci_high=coefficients + Z_95 * bse,
        dispersion=dispersion,
    )


# automatic differentiation holds about (parameters x rows x outputs) float64 numbers at once,
# some times over: 200 classes, 3 features and 1000 rows took 2.9 GB that way
AUTODIFF_BYTES = 128 * 2**20
CHUNK_BYTES = 32 * 2**20  # rows of the closed-form Hessian are summed in chunks of this size


def nll_hessian(dataset: Dataset, config: Config, coefficients: np.ndarray) -> np.ndarray:
    """The Hessian of the summed negative log-likelihood (unit dispersion) in the coefficients,
    through the network's own activation and loss, in float64; for a multinomial model too
    large for that, the same Hessian in closed form (softmax_hessian)."""
    from nnglm import backends, network

    p, n = len(coefficients), dataset.n_rows
    if config.family.multiclass and 8 * p * n * dataset.n_outputs > AUTODIFF_BYTES:
        return softmax_hessian(design(dataset, config.model.use_bias), coefficients)

    engine = backends.load(config.train.backend, config.train.dtype)
    engine.enable_float64()  # the Hessian is taken in float64 whatever the training dtype
    ops = engine.keras.ops
    family = config.family
    activation, loss = network.activation_function(family), network.loss_function(family)
    X = ops.convert_to_tensor(design(dataset, config.model.use_bias), dtype="float64")
    y = ops.convert_to_tensor(dataset.y[:, None], dtype="float64")
    n, p = X.shape

    def nll(beta):
        B = ops.transpose(ops.reshape(beta, (-1, p)))  # (terms, outputs), Dataset.terms' order
        eta = ops.matmul(X, B)
        if family.multiclass:
            eta = ops.concatenate([ops.zeros((n, 1), dtype="float64"), eta], axis=1)  # the reference class
        return n * ops.mean(loss(y, activation(eta))) / family.nll_factor

    return engine.hessian(nll, np.asarray(coefficients, dtype=float))


def softmax_hessian(X: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """The Hessian of the summed multinomial negative log-likelihood in the contrasts with class 0,
    class-major as Dataset.terms orders them: block (a, b) = X' diag(p_a (δ_ab - p_b)) X.
    Exact (softmax is the canonical link: observed and expected information agree); memory
    is the Hessian itself plus one chunk of rows."""
    n, t = X.shape
    B = np.asarray(coefficients, dtype=float).reshape(-1, t).T  # (terms, classes - 1)
    k = B.shape[1] * t
    H = np.zeros((k, k))
    rows = max(1, CHUNK_BYTES // (8 * k))
    for start in range(0, n, rows):
        Xc = X[start : start + rows]
        eta = np.column_stack([np.zeros(len(Xc)), Xc @ B])
        q = np.exp(eta - eta.max(axis=1, keepdims=True))
        q = (q / q.sum(axis=1, keepdims=True))[:, 1:]
        Z = q[:, :, None] * Xc[:, None, :]  # (rows, classes - 1, terms)
        H -= Z.reshape(len(Xc), k).T @ Z.reshape(len(Xc), k)
        diagonal = np.tensordot(Z, Xc, axes=([0], [0]))  # (classes - 1, terms, terms): X' diag(p_a) X
        for a in range(B.shape[1]):
            H[a * t : (a + 1) * t, a * t : (a + 1) * t] += diagonal[a]
    return H
