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

Each step reads the design once: the rows are taken in blocks small enough to
stay in the processor's cache between the two products that read them (eta =
Z W, then Z' d), and the row-sized work of a step is done into buffers made
once, so that a step costs what its two products cost.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnglm.data.table import Dataset
from nnglm.log.result import ReferenceSection, nest
from nnglm.model import penalty
from nnglm.model.precondition import Inputs
from nnglm.train import network
from nnglm.train.inference import row_blocks
from nnglm.train.network import NetworkFit, NetworkSpec
from nnglm.vocabulary.families import softmax
from nnglm.vocabulary.tolerance import scale


@dataclass
class ReferenceFit:
    coefficients: np.ndarray  # Dataset.terms' order, original scale
    steps: int
    seconds: float


def adam(dataset: Dataset, spec: NetworkSpec, fit: NetworkFit) -> ReferenceFit:
    family, train, use_bias = spec.family, spec.train, spec.use_bias
    assert fit.epochs_run is not None  # network.train sets it
    start = time.perf_counter()
    inputs = fit.inputs
    # the network's float64 whitened inputs where its curvature holds them, else made here
    Z = fit.curvature.Z if fit.curvature.inputs is inputs else inputs.apply(dataset.X)
    n, k = Z.shape
    outputs = dataset.n_outputs
    W = np.zeros((k, outputs))  # the reference runs only where the network starts from zeros
    b = np.array(fit.start_bias, dtype=float) if use_bias else np.zeros(outputs)
    pen = penalty.of_run(spec.penalty, dataset, use_bias)
    rates = learning_rate_by_step(fit.learning_rates, fit.epochs_run)
    blocks = [Block(Z, rows, dataset, outputs) for rows in row_blocks(n, k + outputs, CACHE_BYTES)]
    gradient_of = (lambda block: block.softmax_gradient(W, b, n)) if family.multiclass else gradient_by(family, W, b, n)

    params = [W, b] if use_bias else [W]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    g_W, g_b = np.empty_like(W), np.empty_like(b)
    for t in range(1, fit.epochs_run + 1):
        g_W.fill(0.0)
        g_b.fill(0.0)
        for block in blocks:
            d_eta = gradient_of(block)
            g_W += block.Z.T @ d_eta
            g_b += d_eta.sum(axis=0)
        grads = [g_W, g_b] if use_bias else [g_W]
        if pen is not None:
            grads[0] = g_W + penalty_gradient(W, inputs.matrix, pen, use_bias, family.nll_factor)
        alpha = rates[t - 1] * np.sqrt(1 - train.beta_2**t) / (1 - train.beta_1**t)
        for p, g, m_i, v_i in zip(params, grads, m, v):
            m_i += (g - m_i) * (1 - train.beta_1)
            v_i += (g * g - v_i) * (1 - train.beta_2)
            p -= alpha * m_i / (np.sqrt(v_i) + train.epsilon)
    seconds = time.perf_counter() - start
    return ReferenceFit(to_original(W, b if use_bias else None, inputs, family.multiclass), fit.epochs_run, seconds)


CACHE_BYTES = 2**20  # a block of rows this large stays in a core's cache between a step's two products


class Block:
    """A block of rows: views of the inputs and the row data, and a buffer for its eta."""

    def __init__(self, Z: np.ndarray, rows: slice, dataset: Dataset, outputs: int):
        self.Z, self.y = Z[rows], dataset.y[rows]
        self.w = None if dataset.weights is None else dataset.weights[rows]
        self.offset = None if dataset.offset is None else dataset.offset[rows, None]
        self.eta = np.empty((len(self.y), outputs))
        self.labels = self.y.astype(int) if dataset.classes else None

    def linear_predictor(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        np.dot(self.Z, W, out=self.eta)
        self.eta += b
        if self.offset is not None:
            self.eta += self.offset
        return self.eta

    def softmax_gradient(self, W: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        d_eta = softmax(self.linear_predictor(W, b))
        d_eta[np.arange(len(d_eta)), self.labels] -= 1.0
        d_eta /= n
        return d_eta


def gradient_by(family, W: np.ndarray, b: np.ndarray, n: int):
    """d loss / d eta of a block, from statsmodels' link and variance (see the module's notes)."""
    sm_family = family.sm_family()
    link, variance, factor = sm_family.link, sm_family.variance, family.nll_factor / n

    def gradient(block: Block) -> np.ndarray:
        eta = block.linear_predictor(W, b)[:, 0]
        mu = link.inverse(eta)
        d = (mu - block.y) / variance(mu) * link.inverse_deriv(eta) * factor
        if block.w is not None:
            d *= block.w
        return d[:, None]

    return gradient


def penalty_gradient(W: np.ndarray, M: np.ndarray, pen: penalty.Penalty, use_bias: bool, factor: float) -> np.ndarray:
    """The gradient in W of factor * sum(ridge / 2 * (M W)^2 + lasso * |M W|), the penalty on the slopes."""
    slopes = M @ W
    ridge, lasso = pen.ridge[int(use_bias) :, None], pen.lasso[int(use_bias) :, None]
    return factor * M.T @ (ridge * slopes + lasso * np.sign(slopes))


def learning_rate_by_step(changes: Sequence[tuple[int, float | None]], steps: int) -> np.ndarray:
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


# the NumPy reference's default, measured (Benchmarks): at 1e6 x 21 cells it took 0.59 to 0.79 times a float64
# network's training but 1.33 to 1.48 times a float32 network's. Its step is memory-bound (the float64
# design streamed once, in row blocks, as many bytes as a float32 step's two passes) and has no compiled
# loop, so it cannot get under a float32 training: by default it is left out of float32 runs from half that size up
REFERENCE_CELLS = 10_000_000


def attempt(dataset: Dataset, spec: NetworkSpec, fit: NetworkFit, asked: bool | None) -> ReferenceFit | str:
    """Adam from scratch, or why it did not run. `asked`: compare.reference."""
    if asked is False:
        return "compare.reference is false"
    cells = dataset.n_rows * (dataset.n_features + spec.use_bias)
    if asked is None and spec.train.dtype == "float32" and cells > REFERENCE_CELLS:
        return (
            f"off by default for a float32 run of more than {REFERENCE_CELLS:,} design cells ({cells:,} here), where its float64 "
            "NumPy steps cost more than the network's training; compare.reference: true runs it"
        )
    if not network.full_batch(spec.train.batch_size, dataset.n_rows):
        return "the reference runs full-batch training only"
    if spec.kernel_initializer != "zeros" or network.starts_inside(spec.family, spec.use_bias):
        return "the reference starts from zeros only"
    if fit.diverged:
        return "the network diverged"
    if spec.family.estimated:
        return "the reference learns the coefficients only, not model.alpha: estimate"
    return adam(dataset, spec, fit)


def section(
    ref: ReferenceFit | str, terms: list[str], weights: np.ndarray, glm_bse: np.ndarray, dtype: str, multiclass: bool
) -> ReferenceSection:
    """result.json's reference section: the reference against the network's `weights` (by `terms`), each gap
    measured against the larger of the weight's size and the GLM's standard error; or why it did not run."""
    if isinstance(ref, str):
        return ReferenceSection(skipped=ref)
    gap = np.abs(ref.coefficients - weights)
    relative = float(np.max(gap / scale(weights, glm_bse), initial=0.0))
    return ReferenceSection(
        coefficients=nest(dict(zip(terms, map(float, ref.coefficients))), multiclass),
        max_abs_diff_to_network=float(np.max(gap, initial=0.0)),
        max_rel_diff_to_network=relative,
        steps=ref.steps,
        seconds=ref.seconds,
        dtype="float64",
        agreement=agreement(relative, dtype),
    )


def agreement(relative: float, dtype: str) -> str:
    """One sentence on how close the NumPy reference came to the network, each gap measured
    against the larger of the weight's size and its standard error."""
    # a different update rule parts at the scale of the learning rate; round-off, over thousands of
    # steps, stays below the square root of the dtype's eps (3e-4 in float32, 1.5e-8 in float64)
    round_off = float(np.sqrt(np.finfo(dtype).eps))
    if relative <= round_off:
        return (
            f"Adam written from scratch in NumPy (float64) reaches the network's weights within {relative:.2g} "
            f"(relative), below √eps of {dtype} ({round_off:.2g}): round-off, the same update rule"
        )
    return (
        f"Adam written from scratch in NumPy differs from the network by {relative:.2g} (relative), "
        f"more than {dtype} round-off ({round_off:.2g}): not the same update rule"
    )
