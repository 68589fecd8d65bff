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

from nnglm import penalty
from nnglm.config import Config
from nnglm.data import Dataset
from nnglm.result import Statistics


@dataclass
class GlmFit:
    coefficients: dict[str, float]
    bse: dict[str, float]
    llf: float
    scale: float
    converged: bool
    iterations: int
    fit_seconds: float
    statistics: Statistics
    warnings: list[str] = field(default_factory=list)
    perfect_separation: bool = False
    rank_deficient: bool = False
    aliased: list[str] = field(default_factory=list)  # columns that are combinations of earlier ones
    method: str = "IRLS"  # how statsmodels' answer was reached


def design(dataset: Dataset, use_bias: bool) -> np.ndarray:
    if use_bias:
        return np.column_stack([np.ones(dataset.n_rows), dataset.X])
    return dataset.X


def model(dataset: Dataset, config: Config):
    """The statsmodels model of the run: GLM with the family, offset and weights, or MNLogit."""
    import statsmodels.api as sm

    X = design(dataset, config.model.use_bias)
    if config.family.multiclass:
        return sm.MNLogit(dataset.y, X)
    return sm.GLM(
        dataset.y,
        X,
        family=config.family.sm_family(),
        offset=dataset.offset,
        var_weights=dataset.var_weights,
        freq_weights=dataset.freq_weights,
    )


def statistics(sm_model, params: np.ndarray, scale: float | None = None) -> Statistics:
    """deviance, AIC, BIC ... of any coefficients (Dataset.terms' order), by statsmodels' own formulas;
    scale None: the fit's own dispersion (Pearson chi^2 / df_resid, as statsmodels estimates it)."""
    import statsmodels.api as sm
    from statsmodels.genmod.generalized_linear_model import GLMResults

    params = np.asarray(params, dtype=float)
    if isinstance(sm_model, sm.MNLogit):
        return _multinomial_statistics(sm_model, params)
    if scale is None:
        scale = float(sm_model.estimate_scale(sm_model.predict(params)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = GLMResults(sm_model, params, None, scale)
        return Statistics(
            llf=float(r.llf),
            deviance=float(r.deviance),
            null_deviance=float(r.null_deviance),
            aic=float(r.aic),
            bic=float(r.bic_llf),
            df_resid=float(r.df_resid),
            dispersion=float(scale),
        )


def _multinomial_statistics(sm_model, params: np.ndarray) -> Statistics:
    n, k = sm_model.exog.shape
    llf = float(sm_model.loglike(params.reshape(-1, k).T))
    shares = np.bincount(sm_model.endog.astype(int)) / n
    llnull = float(np.sum(np.log(shares[sm_model.endog.astype(int)])))
    return Statistics(
        llf=llf,
        deviance=-2 * llf,
        null_deviance=-2 * llnull,
        aic=-2 * llf + 2 * params.size,
        bic=-2 * llf + np.log(n) * params.size,
        df_resid=float(n - params.size),
        dispersion=1.0,
    )


def fit(dataset: Dataset, config: Config) -> GlmFit:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    family = config.family
    notes = []
    columns = ([dataset.intercept] if config.model.use_bias else []) + dataset.feature_names
    aliased = aliased_columns(design(dataset, config.model.use_bias), columns)
    if aliased:
        notes.append(
            f"design matrix is rank deficient: {', '.join(aliased)} "
            f"{'is a linear combination' if len(aliased) == 1 else 'are linear combinations'} of the columns "
            "before it (aliased; R reports NA): the coefficients are not identified"
        )
    sm_model = model(dataset, config)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        solved = _solve(sm_model, dataset, config)
    seconds = time.perf_counter() - start

    kinds = Counter((w.category.__name__, str(w.message)) for w in caught)
    for (kind, message), count in kinds.items():
        notes.append(f"{kind}: {message}" + (f" (x{count})" if count > 1 else ""))
    separation = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    if family.takes_trials and not separation and solved.mu is not None:
        if np.any((solved.mu < 1e-8) | (solved.mu > 1 - 1e-8)):
            notes.append(
                "quasi-separation: some fitted probabilities are numerically 0 or 1, so some coefficients "
                "may be very large and poorly determined"
            )
    converged = bool(solved.converged) and not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if not converged:
        notes.append(f"not converged within glm.maxiter = {config.glm.maxiter} iterations (tol {config.glm.tol:g})")
    names = dataset.terms(config.model.use_bias)
    return GlmFit(
        coefficients=dict(zip(names, map(float, solved.params))),
        bse=dict(zip(names, map(float, solved.bse))),
        llf=solved.statistics.llf,
        scale=solved.statistics.dispersion,
        converged=converged,
        iterations=int(solved.iterations),
        fit_seconds=seconds,
        statistics=solved.statistics,
        warnings=notes,
        perfect_separation=separation,
        rank_deficient=bool(aliased),
        aliased=aliased,
        method=solved.method,
    )


@dataclass
class _Solved:
    params: np.ndarray  # Dataset.terms' order
    bse: np.ndarray
    converged: bool
    iterations: int
    statistics: Statistics
    mu: np.ndarray | None
    method: str


def _solve(sm_model, dataset: Dataset, config: Config) -> _Solved:
    """statsmodels' fit (read while its warnings are caught: it computes lazily)."""
    glm_config = config.glm
    if config.family.multiclass:
        result = sm_model.fit(method="newton", maxiter=glm_config.maxiter, tol=glm_config.tol, disp=0)
        # MNLogit's are (terms, classes - 1): read class by class, as Dataset.terms orders them
        params, bse = np.ravel(result.params, order="F"), np.ravel(result.bse, order="F")
        retvals = result.mle_retvals
        return _Solved(params, bse, retvals["converged"], retvals["iterations"], statistics(sm_model, params), None, "Newton (MNLogit)")
    if config.model.penalty is not None:
        return _solve_penalized(sm_model, dataset, config)
    # glm.tol bounds the change in the coefficients, not in the deviance: IRLS stopped on the deviance
    # leaves a non-canonical fit (probit) about 1e-6 of a standard error short of its optimum
    result = sm_model.fit(maxiter=glm_config.maxiter, tol=glm_config.tol, tol_criterion="params")
    params = np.asarray(result.params, dtype=float)
    return _Solved(
        params,
        np.asarray(result.bse, dtype=float),
        result.converged,
        result.fit_history["iteration"],
        statistics(sm_model, params, float(result.scale)),
        np.asarray(result.mu),
        "IRLS",
    )


def _solve_penalized(sm_model, dataset: Dataset, config: Config) -> _Solved:
    pen = penalty.of_run(config, dataset)
    assert pen is not None  # only called with model.penalty set
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only the start: its shortfall is what the Newton steps remove
        start = sm_model.fit_regularized(method="elastic_net", alpha=pen.alpha, L1_wt=pen.l1_wt).params
    solution = penalty.solve(sm_model, pen, np.asarray(start, dtype=float), config.glm.tol, config.glm.maxiter)
    stats = statistics(sm_model, solution.params)
    mu = np.asarray(sm_model.predict(solution.params))
    method = "elastic net: statsmodels' coordinate descent, then active-set Newton to the optimum"
    return _Solved(solution.params, solution.bse, solution.converged, solution.iterations, stats, mu, method)


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
