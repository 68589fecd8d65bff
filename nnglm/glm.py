"""The statsmodels GLM that the network must equal.

The design matrix gets a constant column exactly when the network has a bias.
statsmodels' warnings (perfect separation, non-convergence) are captured into
the result instead of being printed.
"""

import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from nnglm.config import Config
from nnglm.data import Dataset
from nnglm.families import Family


@dataclass
class GlmFit:
    coefficients: dict[str, float]
    bse: dict[str, float]
    llf: float
    scale: float
    converged: bool
    iterations: int
    fit_seconds: float
    warnings: list[str] = field(default_factory=list)
    perfect_separation: bool = False
    rank_deficient: bool = False
    aliased: list[str] = field(default_factory=list)  # columns that are combinations of earlier ones

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d.pop("scale")
        return d


def design(dataset: Dataset, use_bias: bool) -> np.ndarray:
    if use_bias:
        return np.column_stack([np.ones(dataset.n_rows), dataset.X])
    return dataset.X


def fit(dataset: Dataset, config: Config) -> GlmFit:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    family = config.family
    X = design(dataset, config.model.use_bias)
    notes = []
    columns = (["const"] if config.model.use_bias else []) + dataset.feature_names
    aliased = aliased_columns(X, columns)
    if aliased:
        notes.append(
            f"design matrix is rank deficient: {', '.join(aliased)} "
            f"{'is a linear combination' if len(aliased) == 1 else 'are linear combinations'} of the columns "
            "before it (aliased; R reports NA): the coefficients are not identified"
        )

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if family.multiclass:
            result = sm.MNLogit(dataset.y, X).fit(method="newton", maxiter=config.glm.maxiter, tol=config.glm.tol, disp=0)
            converged, iterations = result.mle_retvals["converged"], result.mle_retvals["iterations"]
            scale = 1.0
        else:
            # glm.tol bounds the change in the coefficients, not in the deviance: IRLS stopped on the deviance
            # leaves a non-canonical fit (probit) about 1e-6 of a standard error short of its optimum
            result = sm.GLM(dataset.y, X, family=family.sm_family()).fit(
                maxiter=config.glm.maxiter, tol=config.glm.tol, tol_criterion="params"
            )
            converged, iterations = result.converged, result.fit_history["iteration"]
            scale = float(result.scale)
        # statsmodels computes these lazily: read them while the warnings are still caught
        # (MNLogit's are (terms, classes - 1): read class by class, as Dataset.terms orders them)
        params, bse, llf = np.ravel(result.params, order="F"), np.ravel(result.bse, order="F"), float(result.llf)
    seconds = time.perf_counter() - start

    kinds = Counter((w.category.__name__, str(w.message)) for w in caught)
    for (kind, message), count in kinds.items():
        notes.append(f"{kind}: {message}" + (f" (x{count})" if count > 1 else ""))
    separation = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    if family.family == "binomial" and not separation:
        fitted = result.mu
        if np.any((fitted < 1e-8) | (fitted > 1 - 1e-8)):
            notes.append(
                "quasi-separation: some fitted probabilities are numerically 0 or 1, so some coefficients "
                "may be very large and poorly determined"
            )
    converged = bool(converged) and not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if not converged:
        notes.append(f"not converged within glm.maxiter = {config.glm.maxiter} iterations (tol {config.glm.tol:g})")
    names = dataset.terms(config.model.use_bias)
    return GlmFit(
        coefficients=dict(zip(names, map(float, params))),
        bse=dict(zip(names, map(float, bse))),
        llf=llf,
        scale=scale,
        converged=converged,
        iterations=int(iterations),
        fit_seconds=seconds,
        warnings=notes,
        perfect_separation=separation,
        rank_deficient=bool(aliased),
        aliased=aliased,
    )


ALIAS_TOL = 1e-7  # R's lm.fit: a column within 1e-7 (relative) of the span of the earlier ones is aliased


def aliased_columns(X: np.ndarray, names: list[str], tol: float = ALIAS_TOL) -> list[str]:
    """The columns that are linear combinations of the columns before them, in order (R's NA).

    One QR of the design, columns scaled to unit length so that the test does not depend on
    their units: |R[j, j]| is then column j's distance from the span of the columns before it.
    An aliased column is deleted from the factorization (a Givens update, O(k^2)) and the
    columns after it are read again, so the cost is one QR, not a rank per column."""
    from scipy import linalg

    k = X.shape[1]
    if k == 0:
        return []
    norms = np.linalg.norm(X, axis=0)
    R = linalg.qr(X / np.where(norms > 0, norms, 1.0), mode="r")[0][: min(X.shape)]  # rows past k are zeros
    Q = np.eye(R.shape[0])
    kept = list(range(k))
    aliased = []
    j = 0
    while j < len(kept):
        if j >= R.shape[0]:  # more columns than rows: the rest lie in the span already
            aliased += [names[i] for i in kept[j:]]
            break
        if abs(R[j, j]) > tol:
            j += 1
            continue
        aliased.append(names[kept.pop(j)])
        Q, R = linalg.qr_delete(Q, R, j, 1, which="col", check_finite=False)
    return aliased


def loglike(family: Family, y: np.ndarray, mu: np.ndarray, glm_scale: float) -> float:
    # the log-likelihood of any fitted mean, on the same footing as statsmodels' llf
    if family.multiclass:
        return float(np.sum(np.log(mu[np.arange(len(y)), y.astype(int)])))
    sm_family = family.sm_family()
    if family.mle_scale:
        scale = float(np.mean((y - mu) ** 2))
    else:
        scale = glm_scale
    return float(sm_family.loglike(y, mu, scale=scale))
