"""The elastic net, solved exactly.

`model.penalty: {alpha: A, l1_wt: W}` is the objective of statsmodels'
`fit_regularized(method="elastic_net", alpha=A, L1_wt=W)`:

    f(b) = -llf(b; scale 1) / n + A * sum_j ((1 - W) / 2 * b_j^2 + W * |b_j|)

over every coefficient but the intercept (n: the rows). statsmodels solves it
by coordinate descent, which stops about 1e-4 (relative) short of the optimum.
Here its answer is only the start: Newton's method on the active set (the
coefficients that are not exactly zero) takes it to the optimum, to round-off,
and the Karush-Kuhn-Tucker conditions are checked for the coefficients at zero
(|gradient of the smooth part| <= A * W). The same step, taken on the network's
own loss, is how a penalized network estimates its distance to the optimum.
"""

from dataclasses import dataclass

import numpy as np

from nnglm.config.schema import Penalty as PenaltySpec
from nnglm.data.table import Dataset


@dataclass(frozen=True)
class Penalty:
    alpha: np.ndarray  # per coefficient (0 for the intercept)
    l1_wt: float

    @classmethod
    def of(cls, alpha: float, l1_wt: float, terms: list[str], intercept: str) -> "Penalty":
        return cls(np.array([0.0 if t == intercept else alpha for t in terms]), l1_wt)

    @property
    def ridge(self) -> np.ndarray:
        """The weight of b_j^2 / 2 in the smooth part."""
        return self.alpha * (1 - self.l1_wt)

    @property
    def lasso(self) -> np.ndarray:
        """The weight of |b_j|."""
        return self.alpha * self.l1_wt

    def value(self, b: np.ndarray) -> float:
        return float(np.sum(self.ridge / 2 * b**2 + self.lasso * np.abs(b)))


def of_run(spec: PenaltySpec | None, dataset: Dataset, use_bias: bool) -> Penalty | None:
    """The run's model.penalty (`spec`) over its coefficients (Dataset.terms' order), or None."""
    if spec is None:
        return None
    return Penalty.of(spec.alpha, spec.l1_wt, dataset.terms(use_bias), dataset.intercept)


def newton_step(b: np.ndarray, g: np.ndarray, H: np.ndarray, lasso: np.ndarray) -> np.ndarray:
    """The Newton step for a smooth function (gradient g, Hessian H at b) plus sum_j lasso_j |b_j|.

    Coefficients whose step would carry them across zero are held at zero instead; a coefficient at
    zero whose gradient leaves [-lasso_j, lasso_j] is freed with the sign the gradient gives it."""
    k = len(b)
    active = (lasso == 0) | (b != 0)
    signs = np.sign(b)
    d = np.zeros(k)
    for _ in range(2 * k + 2):
        A, Z = np.flatnonzero(active), np.flatnonzero(~active)  # free, and held at zero
        d = np.zeros(k)
        d[Z] = -b[Z]
        rhs = -(g[A] + lasso[A] * signs[A] + H[np.ix_(A, Z)] @ d[Z])
        d[A] = np.linalg.lstsq(H[np.ix_(A, A)], rhs, rcond=None)[0] if len(A) else d[A]
        new = b + d
        crossed = active & (lasso > 0) & (signs != 0) & (np.sign(new) == -signs)
        if crossed.any():
            active[crossed] = False
            continue
        r = g + H @ d  # the smooth part's gradient at b + d, by the quadratic model
        violated = ~active & (np.abs(r) > lasso * (1 + 1e-9))
        if violated.any():
            j = np.flatnonzero(violated)[np.argmax(np.abs(r[violated]) - lasso[violated])]
            active[j], signs[j] = True, -np.sign(r[j])
            continue
        return d
    return d


@dataclass
class Solution:
    params: np.ndarray
    converged: bool
    iterations: int
    bse: np.ndarray  # sqrt(diag) of the inverse Hessian of the smooth part (summed), times the dispersion


def solve(model, penalty: Penalty, start: np.ndarray, tol: float, maxiter: int) -> Solution:
    """Minimize f from `start` by active-set Newton steps with backtracking; `model` is a statsmodels GLM."""
    n = model.nobs

    def objective(b):
        return -model.loglike(b, scale=1.0) / n + penalty.value(b)

    def derivatives(b):
        g = -model.score(b, scale=1.0) / n + penalty.ridge * b
        H = -model.hessian(b, scale=1.0) / n + np.diag(penalty.ridge)
        return g, H

    b = np.asarray(start, dtype=float).copy()
    converged, iterations = False, 0
    while iterations < maxiter:
        iterations += 1
        g, H = derivatives(b)
        d = newton_step(b, g, H, penalty.lasso)
        t, f0 = 1.0, objective(b)
        while objective(b + t * d) > f0 + 1e-13 * abs(f0) and t > 1e-8:
            t /= 2
        b = b + t * d
        if np.max(np.abs(t * d), initial=0.0) <= tol * max(1.0, np.max(np.abs(b), initial=0.0)):
            converged = True
            break
    _, H = derivatives(b)
    scale = float(model.estimate_scale(model.predict(b)))
    bse = np.sqrt(np.abs(np.diag(np.linalg.pinv(H * n)))) * np.sqrt(scale)
    return Solution(b, converged, iterations, bse)
