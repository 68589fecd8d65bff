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


def nll_hessian(dataset: Dataset, config: Config, coefficients: np.ndarray) -> np.ndarray:
    """The Hessian of the summed negative log-likelihood (unit dispersion) in the coefficients,
    through the network's own activation and loss, in float64."""
    from nnglm import backends, network

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
