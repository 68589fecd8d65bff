"""What the network's own loss says about its weights: standard errors, and how far they are
from the loss's optimum.

Both come from the gradient and Hessian of the summed negative log-likelihood
(unit dispersion) in the network's own weights: the Dense kernel and bias on
its preconditioned inputs, in float64. A one-output layer's loss is a sum over
rows of a function of the row's linear predictor eta, so the network's backend
differentiates only that function, row by row (first and second derivative in
eta, by automatic differentiation), and NumPy assembles gradient Z1'd1 and
Hessian Z1' diag(d2) Z1 in blocks of rows: no rows x weights array, and no
second copy of the design in the backend. A softmax layer's are in closed form
(softmax_derivatives: autodiff's took gigabytes at 200 classes). The weights map to the coefficients
linearly (precondition.Inputs), so with T that map:

- covariance of the coefficients = T H^+ T' times the dispersion where the
  family has one (Gaussian, Gamma, inverse Gaussian, Tweedie: Pearson chi^2 /
  (n - p), as statsmodels).
  This is the observed information; statsmodels' IRLS reports the expected
  information, which is the same for canonical links and differs slightly for
  the others (probit, cloglog, gamma/log). H^+ is a pseudo-inverse: a softmax
  layer's weights are identified only up to one vector added to every class,
  and the contrasts it reports are the functions of them that are identified.
- the Newton step H^+ g, mapped through T, estimates each coefficient's
  distance to the optimum of the loss, without any GLM: training with
  `epochs: auto` stops on it, and the verdict reads it.

Both are taken on whitened inputs whatever the network trained on (the Newton
step and the covariance of the coefficients do not depend on the coordinates
they are computed in), which keeps them accurate on collinear designs: whitened
inputs have a Hessian near a multiple of the identity, where X'WX may have a
condition number of 1e19.
"""

from dataclasses import dataclass

import numpy as np

from nnglm.log.result import critical, p_values
from nnglm.model import penalty
from nnglm.model.penalty import Penalty
from nnglm.model.precondition import Inputs
from nnglm.vocabulary.families import Family, softmax


@dataclass
class Inference:
    bse: np.ndarray
    z: np.ndarray
    p_values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    dispersion: float
    cov: np.ndarray | None = None  # the coefficients' covariance (Dataset.terms' order), NaN where it has no finite estimate
    df: float | None = None  # the t tests' residual degrees of freedom (z holds t values); None: z tests, normal


@dataclass
class Distance:
    """The network's own estimate of how far its coefficients are from the loss's optimum."""

    step: np.ndarray  # the Newton step on the coefficients (Dataset.terms' order)
    relative: float  # max |step| / max(|coefficient at the estimated optimum|, standard error)
    weights: float  # max |Newton step| on the network's own weights
    # how close to the optimum the network's arithmetic can see, measured as `relative` is: the
    # larger of the Newton step of the difference between its own gradient (in its dtype) and the
    # float64 one at the same weights, and of the coefficients' change when each weight moves by
    # one unit in its last place; 0 when the network's gradient was not given
    floor: float = 0.0


class Curvature:
    """Gradient and Hessian of the summed NLL in the network's weights theta = (kernel.ravel(), bias),
    with the rows' weights and offset, plus the smooth (ridge) part of model.penalty; the L1 part
    enters the Newton step (penalty.newton_step)."""

    def __init__(self, engine, family: Family, dataset, use_bias: bool, pen: Penalty | None = None, inputs: Inputs | None = None):
        """`inputs`: whitened inputs of these data already made (the network's, under `auto`), to share."""
        if inputs is None or inputs.method != "whiten":
            inputs = Inputs.of(dataset.X, "whiten", use_bias)  # whatever the network trained on: see the module's notes
        n_outputs = dataset.n_outputs
        self.family, self.inputs, self.use_bias, self.n_outputs, self.penalty = family, inputs, use_bias, n_outputs, pen
        self.y, self.weights, self.offset, self.n_obs = dataset.y, dataset.weights, dataset.offset, dataset.n_obs
        self.Z = inputs.apply(dataset.X)
        n, k = self.Z.shape
        self.k = k
        # parameters learned beside the coefficients (model.alpha: estimate): log(alpha) last in theta,
        # alpha last in the coefficients; the map between the two is the delta method's (see jacobian)
        self.extra = len(family.estimated)
        # the network's loss at any coefficients (loss()), as its training computes it
        self._activation, self._loss, self._ops = activation_function(family), loss_function(family), engine.keras.ops
        engine.enable_float64()  # float64 whatever the training dtype
        self._last: tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None = None
        # theta -> coefficients is linear: its matrix, one unit vector at a time
        size = k * n_outputs + (n_outputs if use_bias else 0) + self.extra
        self.T = np.column_stack([self.coefficients(e) for e in np.eye(size)]) if size else np.zeros((0, 0))
        if self.extra:
            self._at = self._with_alpha(engine, family)
        elif family.multiclass:  # autodiff holds rows x classes x coefficients numbers: 5 GB at 200 classes
            self._at = lambda theta: softmax_derivatives(self.Z, self.y, theta, k, n_outputs, use_bias)
        elif n_outputs == 1:
            self._at = self._by_rows(engine, family)
        else:
            self._at = self._autodiff(engine, family)

    def _by_rows(self, engine, family: Family):
        """theta -> (gradient, Hessian) from the per-row derivatives in eta (see the module's notes)."""
        ops = engine.keras.ops
        activation, loss = activation_function(family), loss_function(family)
        Y = ops.convert_to_tensor(self.y[:, None], dtype="float64")
        w = None if self.weights is None else ops.convert_to_tensor(self.weights, dtype="float64")
        factor = family.nll_factor

        def row_nll(eta):
            value = loss(Y, activation(eta))
            return (value if w is None else value * w) / factor

        per_row = engine.elementwise(row_nll)
        k, pen, n = self.k, self.penalty, len(self.y)
        ridge = pen.ridge[int(self.use_bias) :] if pen is not None else None

        def at(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            d1, d2 = per_row(self.eta(theta)[:, 0])
            g, h = _assemble(self.Z, d1, d2, self.use_bias)
            if ridge is not None and ridge.any():
                M = self.inputs.matrix
                curvature = n * (M.T * ridge) @ M  # n * sum(ridge / 2 * (M kernel)^2), in the kernel
                g[:k] += curvature @ theta[:k]
                h[:k, :k] += curvature
            return g, h

        return at

    def _with_alpha(self, engine, family: Family):
        """theta -> (gradient, Hessian) over (kernel, bias, log alpha) by automatic differentiation of the
        network's own loss (the NB2 negative log-likelihood with its terms in alpha)."""
        ops = engine.keras.ops
        n, k = self.Z.shape
        activation, loss = activation_function(family), loss_function(family)
        Z = ops.convert_to_tensor(self.Z, dtype="float64")
        Y = ops.convert_to_tensor(self.y[:, None], dtype="float64")
        offset = ops.convert_to_tensor(np.zeros((n, 1)) if self.offset is None else self.offset[:, None], dtype="float64")
        use_bias = self.use_bias

        def nll(theta):
            eta = ops.matmul(Z, ops.reshape(theta[:k], (k, 1))) + offset
            if use_bias:
                eta = eta + theta[k]
            mu = activation(eta)
            return ops.sum(loss(Y, ops.concatenate([mu, ops.zeros_like(mu) + theta[-1]], axis=-1)))

        return engine.derivatives(nll)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """d coefficients / d theta at theta: T, with alpha's row times alpha (alpha = exp(theta's last))."""
        if not self.extra:
            return self.T
        J = self.T.copy()
        J[-self.extra :] *= np.exp(theta[-self.extra :])[:, None]
        return J

    def _autodiff(self, engine, family: Family):
        """theta -> (gradient, Hessian) of the whole loss by automatic differentiation (several outputs)."""
        ops = engine.keras.ops
        inputs, use_bias, n_outputs, pen = self.inputs, self.use_bias, self.n_outputs, self.penalty
        n, k = self.Z.shape
        activation, loss = activation_function(family), loss_function(family)
        Z = ops.convert_to_tensor(self.Z, dtype="float64")
        Y = ops.convert_to_tensor(self.y[:, None], dtype="float64")
        w = ops.convert_to_tensor(np.ones(n) if self.weights is None else self.weights, dtype="float64")
        offset = ops.convert_to_tensor(np.zeros((n, 1)) if self.offset is None else self.offset[:, None], dtype="float64")
        M = ops.convert_to_tensor(inputs.matrix, dtype="float64")
        ridge = ops.convert_to_tensor(pen.ridge[int(use_bias) :] if pen else np.zeros(k), dtype="float64")

        def nll(theta):
            kernel = ops.reshape(theta[: k * n_outputs], (k, n_outputs))
            eta = ops.matmul(Z, kernel) + offset
            if use_bias:
                eta = eta + theta[k * n_outputs :]
            value = ops.sum(loss(Y, activation(eta)) * w) / family.nll_factor
            if pen is None:
                return value
            slopes = ops.matmul(M, kernel)  # the coefficients on the original features
            return value + n * ops.sum(ridge[:, None] / 2 * ops.square(slopes))

        return engine.derivatives(nll)

    def theta(self, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        parts = [np.asarray(kernel, dtype=float).ravel()]
        if self.use_bias:
            parts.append(np.asarray(bias, dtype=float).ravel())
        return np.concatenate(parts)

    def theta_at(self, coefficients: np.ndarray) -> np.ndarray:
        """The network weights that give these coefficients (Dataset.terms' order); for softmax,
        with class 0's weights at zero. A learned alpha (last) gives log(alpha)."""
        coefficients = np.asarray(coefficients, dtype=float)
        learned = np.log(coefficients[len(coefficients) - self.extra :])
        coefficients = coefficients[: len(coefficients) - self.extra]
        B = coefficients.reshape(-1, self.k + self.use_bias).T  # (terms, outputs)
        if self.family.multiclass:
            B = np.column_stack([np.zeros(len(B)), B])
        kernel_x = B[1:] if self.use_bias else B
        kernel = np.linalg.solve(self.inputs.matrix, kernel_x) if self.k else kernel_x
        bias = B[0] + self.inputs.shift @ kernel_x if self.use_bias else None
        return np.concatenate([self.theta(kernel, bias), learned])

    def coefficients(self, theta: np.ndarray) -> np.ndarray:
        """The coefficients at theta, linear in it: a learned parameter stays on its log scale here."""
        kc = self.k * self.n_outputs
        kernel = theta[:kc].reshape(self.k, self.n_outputs)
        bias = theta[kc : kc + self.n_outputs] if self.use_bias else None
        return np.concatenate([self.inputs.to_original(kernel, bias, self.family.multiclass), theta[len(theta) - self.extra :]])

    def eta(self, theta: np.ndarray) -> np.ndarray:
        """The linear predictor at theta, (rows, outputs), the offset included."""
        kc = self.k * self.n_outputs
        eta = self.Z @ theta[:kc].reshape(self.k, self.n_outputs)
        if self.offset is not None:
            eta = eta + self.offset[:, None]
        return eta + theta[kc : kc + self.n_outputs] if self.use_bias else eta

    def loss(self, coefficients: np.ndarray) -> float:
        """The network's training loss (history.csv's) at these coefficients, in float64: the rows' weighted
        mean of the family's loss, plus model.penalty as the network adds it (times nll_factor)."""
        ops = self._ops
        theta = self.theta_at(coefficients)
        eta = ops.convert_to_tensor(self.eta(theta), dtype="float64")
        prediction = self._activation(eta)
        if self.extra:  # the network's output: the mean, then log(alpha)
            prediction = ops.concatenate([prediction, ops.zeros_like(prediction) + theta[-1]], axis=-1)
        per_row = np.asarray(self._loss(ops.convert_to_tensor(self.y[:, None], dtype="float64"), prediction))
        value = float(np.mean(per_row * (1.0 if self.weights is None else self.weights)))
        if self.penalty is not None:
            value += self.family.nll_factor * self.penalty.value(np.asarray(coefficients, dtype=float))
        return value

    def mean(self, theta: np.ndarray) -> np.ndarray:
        """The fitted mean at theta (single-output families)."""
        return self.family.sm_family().link.inverse(self.eta(theta)[:, 0])

    def dispersion(self, theta: np.ndarray) -> float:
        if not self.family.free_scale:
            return 1.0
        return self.family.dispersion(self.y, self.mean(theta), self.weights, self.n_obs - self.T.shape[0])

    def covariance(self, hessian: np.ndarray, dispersion: float, theta: np.ndarray | None = None) -> np.ndarray:
        """J H^+ J' times the dispersion, J = jacobian(theta) (T where nothing is learned beside the coefficients)."""
        # the SVD pseudo-inverse: its eigh variant (hermitian=True) missets a softmax layer's
        # null directions, whose eigenvalues round to tiny numbers of either sign (0.5 % off in a test)
        J = self.T if theta is None else self.jacobian(theta)
        return J @ pseudo_inverse(hessian) @ J.T * dispersion

    def derivatives(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian at theta; the last pair is kept, as a run's final weights are asked
        for three times (the last look, the final distance, the standard errors)."""
        if self._last is None or not np.array_equal(self._last[0], theta):
            self._last = (theta.copy(), self._at(theta))
        return self._last[1]

    def distance(self, coefficients: np.ndarray, gradient: np.ndarray | None = None, spacing: np.ndarray | None = None) -> Distance:
        """`gradient`: the network's own gradient at these weights, in its dtype, in theta and in the
        units of the summed NLL (as g here); `spacing`: its weights' units in the last place, in
        theta; with them, Distance.floor is measured too."""
        theta = self.theta_at(coefficients)
        g, h = self.derivatives(theta)
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
            return Distance(np.full(self.T.shape[0], np.nan), float("inf"), float("inf"))
        newton = self._newton(np.asarray(coefficients, dtype=float), g, h)
        J = self.jacobian(theta)
        step = J @ newton
        se = np.sqrt(np.abs(np.diag(self.covariance(h, self.dispersion(theta - newton), theta))))  # at the optimum, too
        scale = np.maximum(np.abs(np.asarray(coefficients) - step), se)  # the size of the optimum it points to
        relative = _largest_ratio(step, scale)
        floor = 0.0
        if gradient is not None and np.all(np.isfinite(gradient)):
            floor = _largest_ratio(J @ np.linalg.lstsq(h, gradient - g, rcond=None)[0], scale)
            if spacing is not None:  # independent roundings of the weights: their spread on each coefficient
                floor = max(floor, _largest_ratio(np.sqrt(np.square(J) @ np.square(spacing)), scale))
        return Distance(step, relative, float(np.max(np.abs(newton), initial=0.0)), floor)

    def _newton(self, coefficients: np.ndarray, g: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The Newton step on theta (theta - step estimates the optimum); with an L1 penalty, the
        active-set step on the coefficients (penalty.newton_step), whose kinks are there."""
        lasso = self.penalty.lasso if self.penalty is not None else None
        if lasso is None or not lasso.any():
            return np.linalg.lstsq(h, g, rcond=None)[0]
        T_inv = np.linalg.inv(self.T)
        d = penalty.newton_step(coefficients, T_inv.T @ g, T_inv.T @ h @ T_inv, len(self.y) * lasso)
        return -T_inv @ d

    @property
    def residual_df(self) -> float:
        """observations - coefficients, as the dispersion's denominator (statsmodels' df_resid for a full-rank design)."""
        return float(self.n_obs - self.T.shape[0])

    def inference(self, coefficients: np.ndarray, use_t: bool = False) -> Inference:
        """The default errors (the observed information); use_t: t tests on the residual df, as R's summary.glm
        where the dispersion is estimated (Config.use_t), else z."""
        theta = self.theta_at(coefficients)
        _, h = self.derivatives(theta)
        dispersion = self.dispersion(theta)
        cov = np.full((len(coefficients), len(coefficients)), np.nan)
        if np.all(np.isfinite(h)):
            cov = self.covariance(h, dispersion, theta)
            variance = np.diag(cov)
            bse = np.sqrt(np.where(variance >= 0, variance, np.nan))
            if np.linalg.matrix_rank(h, hermitian=True) < len(coefficients):
                bse = np.full(len(coefficients), np.nan)  # singular: no finite estimate (separation, aliasing)
                cov = np.full_like(cov, np.nan)
        else:
            bse = np.full(len(coefficients), np.nan)
        return tested(coefficients, bse, dispersion, self.residual_df if use_t else None, cov)


def _largest_ratio(step: np.ndarray, scale: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = float(np.max(np.abs(step) / scale)) if step.size else 0.0
    return relative if np.isfinite(relative) else float("inf")


# rows are taken in blocks of about this many bytes of the design: a block's products stay in
# cache, and the temporaries are a few MB, never the design's size
BLOCK_BYTES = 2**23


def row_blocks(n: int, width: int, block_bytes: int | None = None) -> list[slice]:
    rows = max(256, (block_bytes or BLOCK_BYTES) // (8 * max(width, 1)))
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


def _assemble(Z: np.ndarray, d1: np.ndarray, d2: np.ndarray, use_bias: bool) -> tuple[np.ndarray, np.ndarray]:
    """Gradient Z1'd1 and Hessian Z1' diag(d2) Z1 with Z1 = [Z, 1] (or Z), theta's order (kernel, then bias).
    The kernel block is BLAS's symmetric rank-k update (syrk) of the rows scaled by sqrt(d2), those with
    d2 < 0 (a non-canonical link's observed information) subtracted: a fifth of a general product's time."""
    from scipy.linalg import blas

    k = Z.shape[1]
    size = k + use_bias
    g, h = np.zeros(size), np.zeros((size, size))
    upper = np.zeros((k, k))
    for rows in row_blocks(len(Z), k):
        block, curve = Z[rows], d2[rows]
        g[:k] += block.T @ d1[rows]
        upper += blas.dsyrk(1.0, block * np.sqrt(np.maximum(curve, 0.0))[:, None], trans=1)
        if np.any(curve < 0):
            upper -= blas.dsyrk(1.0, block * np.sqrt(np.maximum(-curve, 0.0))[:, None], trans=1)
        if use_bias:
            h[:k, k] += block.T @ curve
    h[:k, :k] = np.triu(upper) + np.triu(upper, 1).T
    if use_bias:
        g[k] = d1.sum()
        h[k, :k] = h[:k, k]
        h[k, k] = d2.sum()
    return g, h


def pseudo_inverse(h: np.ndarray) -> np.ndarray:
    """np.linalg.pinv's answer (singular values below 1e-15 of the largest dropped), by LAPACK's gesvd,
    whose workspace is a fraction of gesdd's: a 200-class softmax's Hessian is 796 x 796."""
    from scipy import linalg

    u, s, vt = linalg.svd(h, full_matrices=False, lapack_driver="gesvd", check_finite=False)
    kept = s > 1e-15 * s.max(initial=0.0)
    return (vt[kept].T / s[kept]) @ u[:, kept].T


# rows of the closed-form softmax derivatives are summed in chunks of about this many bytes
CHUNK_BYTES = 2 * 2**20


def softmax_derivatives(
    Z: np.ndarray, y: np.ndarray, theta: np.ndarray, k: int, C: int, use_bias: bool, chunk: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of the summed multinomial negative log-likelihood in theta =
    (kernel (k, C) raveled row-major, then the C biases when use_bias), in float64.

    With Z1 = [Z, 1] (or Z), P the class probabilities and Y the one-hot labels: gradient
    Z1' (P - Y), and Hessian block (a, b) = Z1' diag(p_a (δ_ab - p_b)) Z1. Z1's column j and
    class a sit at theta[j * C + a] (the bias is the last column). Memory is twice the Hessian
    plus `chunk` rows x (k + 1) x C numbers, never rows x C x C."""
    n, k1 = len(Z), k + use_bias
    size = k1 * C
    W = np.asarray(theta, dtype=float).reshape(k1, C)  # kernel rows, then the bias row
    labels = np.asarray(y).astype(int)
    g = np.zeros((k1, C))
    H = np.zeros((size, size))
    diagonal = np.zeros((k1, C, k1))  # [j, a, l] = sum of z_j p_a z_l: the δ_ab term
    rows = chunk or max(1, CHUNK_BYTES // (8 * max(size, 1)))
    for start in range(0, n, rows):
        Z1 = np.asarray(Z[start : start + rows], dtype=float)
        if use_bias:
            Z1 = np.column_stack([Z1, np.ones(len(Z1))])
        eta = Z1 @ W
        P = softmax(eta)
        residual = P.copy()
        residual[np.arange(len(Z1)), labels[start : start + rows]] -= 1.0
        g += Z1.T @ residual
        A = (Z1[:, :, None] * P[:, None, :]).reshape(len(Z1), size)  # z_j p_a at column j * C + a
        H -= A.T @ A  # one symmetric product (BLAS syrk)
        diagonal += np.tensordot(A, Z1, axes=([0], [0])).reshape(k1, C, k1)
    diagonal = (diagonal + diagonal.transpose(2, 1, 0)) / 2  # exactly symmetric, as H is
    classes = np.arange(C)
    H.reshape(k1, C, k1, C)[:, classes, :, classes] += diagonal.transpose(1, 0, 2)
    return g.ravel(), H


def lgamma(x):
    """log Gamma(x) in the running Keras backend's own op: Keras 3.15's ops have none."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.lax.lgamma(x)
    if backend == "torch":
        import torch

        return torch.lgamma(x)
    import tensorflow as tf

    return tf.math.lgamma(x)


def negative_binomial_full_nll(ops, y, mu, log_alpha):
    """The NB2 negative log-likelihood with the terms in alpha (MASS::glm.nb's and statsmodels'
    NegativeBinomial(loglike_method="nb2")'s): what the network minimises when it learns log(alpha)."""
    r = ops.exp(-log_alpha)  # 1 / alpha
    return lgamma(r) - lgamma(y + r) + lgamma(y + 1.0) - y * (log_alpha + ops.log(mu)) + (y + r) * ops.log1p(ops.exp(log_alpha) * mu)


def loss_function(family: Family):
    """The family's loss for Keras: its own loss by name, or the family's per-row NLL in keras.ops."""
    import keras

    if family.estimated:  # the output is (mu, log alpha) per row (network.AlphaColumn)

        def with_alpha(y, prediction):
            return keras.ops.mean(negative_binomial_full_nll(keras.ops, y, prediction[:, :1], prediction[:, 1:]), axis=-1)

        with_alpha.__name__ = family.loss_name
        return with_alpha
    if family.keras_loss is not None:
        return keras.losses.get(family.keras_loss)

    def loss(y, mu):
        return family.row_loss(keras.ops, y, mu)

    loss.__name__ = family.loss_name
    return loss


def activation_function(family: Family):
    """The family's inverse link for Keras: Keras' own activation by name, or the guarded mean in keras.ops."""
    import keras

    if family.keras_activation is not None:
        return keras.activations.get(family.keras_activation)

    def activation(eta):
        return family.mean(keras.ops, eta)

    activation.__name__ = family.activation_name
    return activation


def chosen(engine, curvature: Curvature, coefficients: np.ndarray, options, dataset, use_t: bool = False) -> Inference:
    """The standard errors that inference.* names (config.InferenceConfig), from the network's own weights:
    never from the GLM's. With T the map from the weights theta to the coefficients:

    - the information A: the Hessian of the loss (observed), or its family's Fisher information
      Z1' diag(w mu'(eta)^2 / V(mu)) Z1 (expected, as IRLS), mu' by autodiff of the activation and V the
      family's variance function;
    - nonrobust: T A^+ T' times the dispersion (inference.scale: the family's rule, Pearson chi^2 / df,
      deviance / df, or the number given);
    - HC0..HC3 and cluster: the sandwich T A^+ B A^+ T', B summed from the loss's per-row gradients
      (autodiff in the backend): statsmodels' GLM's meanings, which are HC0's sandwich for all four HC
      types (their leverage and degrees-of-freedom corrections are OLS's), and for cluster the group
      sums' with the factor G/(G-1) (n-1)/(n-p). The dispersion cancels in a sandwich."""
    coefficients = np.asarray(coefficients, dtype=float)
    theta = curvature.theta_at(coefficients)
    Z1 = _theta_design(curvature)
    eta = curvature.eta(theta)[:, 0]
    w = np.ones(len(eta)) if curvature.weights is None else curvature.weights
    if options.information == "expected":
        information = expected_information(engine, curvature.family, Z1, eta, w)
    else:
        information = curvature.derivatives(theta)[1]
    dispersion = chosen_dispersion(curvature, theta, options.scale, dataset)
    if not np.all(np.isfinite(information)):
        return tested(coefficients, np.full(len(coefficients), np.nan), dispersion, curvature.residual_df if use_t else None)
    if options.cov_type == "nonrobust":
        cov = curvature.covariance(information, dispersion)
    else:
        scores = row_gradients(engine, curvature.family, curvature.y, Z1, eta, w)
        meat = _meat(scores, options.cov_type, dataset.freq_weights, dataset.groups)
        bread = pseudo_inverse(information)
        cov = curvature.T @ bread @ meat @ bread.T @ curvature.T.T
    variance = np.diag(cov)
    bse = np.sqrt(np.where(variance >= 0, variance, np.nan))
    if np.linalg.matrix_rank(information, hermitian=True) < len(coefficients):
        bse = np.full(len(coefficients), np.nan)  # singular: no finite estimate (separation, aliasing)
        cov = np.full_like(cov, np.nan)
    return tested(coefficients, bse, dispersion, curvature.residual_df if use_t else None, cov)


def tested(coefficients: np.ndarray, bse: np.ndarray, dispersion: float, df: float | None, cov: np.ndarray | None = None) -> Inference:
    """z values (t values on df residual degrees of freedom where df is given), two-sided p-values and 95%
    intervals from these standard errors: result.p_values' and result.critical's, as the GLM's side reads them."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coefficients / bse
    half = critical(0.05, df) * bse
    return Inference(bse, z, p_values(z, df), coefficients - half, coefficients + half, dispersion, cov, df)


def _theta_design(curvature: Curvature) -> np.ndarray:
    """d eta_i / d theta for each row: the whitened inputs, then 1 for the bias (theta's order, one output)."""
    Z = curvature.Z
    return np.column_stack([Z, np.ones(len(Z))]) if curvature.use_bias else Z


def _per_row(engine, f, eta: np.ndarray) -> np.ndarray:
    """d f / d eta_i for every row, by the backend's autodiff of f summed over the rows (each row's term
    depends on its own eta_i only)."""
    ops = engine.keras.ops
    engine.enable_float64()
    return np.asarray(engine.gradient(lambda e: ops.sum(f(ops.reshape(e, (-1, 1)))))(eta), dtype=float).ravel()


def row_gradients(engine, family: Family, y: np.ndarray, Z1: np.ndarray, eta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(rows, weights): each row's gradient of the summed NLL at unit dispersion, as the network's loss
    gives it: its derivative in eta_i (autodiff) times d eta_i / d theta."""
    ops = engine.keras.ops
    activation, loss = activation_function(family), loss_function(family)
    Y = ops.convert_to_tensor(np.asarray(y, dtype=float)[:, None], dtype="float64")
    W = ops.convert_to_tensor(np.asarray(w, dtype=float), dtype="float64")
    d = _per_row(engine, lambda e: loss(Y, activation(e)) * W / family.nll_factor, eta)
    return d[:, None] * Z1


def expected_information(engine, family: Family, Z1: np.ndarray, eta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The Fisher information in theta at unit dispersion: Z1' diag(w mu'^2 / V(mu)) Z1, with mu' the
    activation's derivative (autodiff) and V the family's variance function."""
    activation = activation_function(family)
    slope = _per_row(engine, activation, eta)
    mu = family.sm_family().link.inverse(eta)
    weight = w * slope**2 / family.sm_family().variance(mu)
    return (Z1 * weight[:, None]).T @ Z1


def _meat(scores: np.ndarray, cov_type: str, freq_weights: np.ndarray | None, groups: np.ndarray | None) -> np.ndarray:
    """The sandwich's filling, as statsmodels' sandwich_covariance computes it for a GLM."""
    n, p = scores.shape
    if cov_type == "cluster":
        assert groups is not None  # the config requires inference.groups
        sums = np.zeros((int(groups.max()) + 1, p))
        np.add.at(sums, groups, scores)
        G = len(sums)
        return sums.T @ sums * (G / (G - 1.0) * (n - 1.0) / (n - p))
    if freq_weights is not None:  # a row standing for f rows counts f times, not f^2
        scores = scores / np.sqrt(freq_weights)[:, None]
    return scores.T @ scores


def chosen_dispersion(curvature: Curvature, theta: np.ndarray, scale, dataset) -> float:
    """inference.scale at theta: the family's rule (Curvature.dispersion), Pearson chi^2 / df (X2),
    deviance / df (dev) or the number given; df = observations - coefficients, as statsmodels."""
    if scale == "family":
        return curvature.dispersion(theta)
    if not isinstance(scale, str):
        return float(scale)
    mu = curvature.mean(theta)
    sm_family = curvature.family.sm_family()
    df = max(curvature.n_obs - curvature.T.shape[0], 1)
    ones = np.ones(len(mu))
    var_w = ones if dataset.var_weights is None else dataset.var_weights
    freq_w = ones if dataset.freq_weights is None else dataset.freq_weights
    if scale == "X2":
        return float(np.sum(var_w * freq_w * (curvature.y - mu) ** 2 / sm_family.variance(mu)) / df)
    return float(sm_family.deviance(curvature.y, mu, var_w, freq_w) / df)
