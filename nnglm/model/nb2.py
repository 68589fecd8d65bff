"""The GLM side of `model.alpha: estimate`: statsmodels' NB2 count model by maximum likelihood.

statsmodels' `NegativeBinomial(loglike_method="nb2")` (statsmodels.discrete) learns alpha beside the
coefficients, as R's MASS::glm.nb learns theta = 1/alpha; its link is log, its offset and exposure enter
the linear predictor as the network's offset does (data.offset already holds log(data.exposure)), and it
takes no weights (the config refuses them). Its parameters are the coefficients, then alpha, with
alpha's standard error on alpha's own scale.

It starts from the fixed-alpha GLM (IRLS at alpha = 1) and alpha's moment estimate there: BFGS on
log(alpha) (statsmodels' own transform, which keeps alpha positive), then Newton's method on alpha to the
optimum's precision (statsmodels' standard errors are those of its Hessian there).
"""

import time
import warnings
from collections import Counter

import numpy as np

from nnglm.data.table import Dataset
from nnglm.log.result import Statistics
from nnglm.vocabulary.families import Family

MAXITER_FLOOR = 100  # Newton's iterations at least: it starts where IRLS at a fixed alpha left off


def model(dataset: Dataset, use_bias: bool):
    from statsmodels.discrete.discrete_model import NegativeBinomial

    X = np.column_stack([np.ones(len(dataset.X)), dataset.X]) if use_bias else dataset.X
    sm_model = NegativeBinomial(dataset.y, X, loglike_method="nb2", offset=dataset.offset)
    sm_model._transparams = False  # its loglike takes alpha itself, as after a Newton fit (not log alpha)
    return sm_model


def start(sm_model, family: Family) -> np.ndarray:
    """The fixed-alpha GLM's coefficients, and alpha from its Pearson residuals (a moment estimate)."""
    import statsmodels.api as sm

    glm = sm.GLM(sm_model.endog, sm_model.exog, family=family.sm_family(), offset=getattr(sm_model, "offset", None))
    beta = glm.fit().params
    mu = glm.predict(beta)
    y = sm_model.endog
    alpha = float(np.sum(((y - mu) ** 2 - mu) / mu**2) / max(len(y) - len(beta), 1))
    return np.append(beta, alpha if alpha > 1e-3 else 0.1)


def statistics(sm_model, params: np.ndarray) -> Statistics:
    """llf, deviance, AIC, BIC ... at coefficients and alpha (last): the GLM's figures at that alpha, with alpha
    counted as one more parameter in AIC, BIC and the residual degrees of freedom (as glm.nb's)."""
    import statsmodels.api as sm
    from statsmodels.genmod.generalized_linear_model import GLMResults

    params = np.asarray(params, dtype=float)
    beta, alpha = params[:-1], float(params[-1])
    n = len(sm_model.endog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not alpha > 0 or not np.isfinite(alpha):
            nan = float("nan")
            return Statistics(llf=nan, deviance=nan, null_deviance=nan, aic=nan, bic=nan, df_resid=n - len(params), dispersion=1.0)
        family = sm.families.NegativeBinomial(sm.families.links.Log(), alpha=alpha)
        glm = sm.GLM(sm_model.endog, sm_model.exog, family=family, offset=getattr(sm_model, "offset", None))
        r = GLMResults(glm, beta, None, 1.0)
        llf = float(sm_model.loglike(params))
        return Statistics(
            llf=llf,
            deviance=float(r.deviance),
            null_deviance=float(r.null_deviance),
            aic=-2 * llf + 2 * len(params),
            bic=-2 * llf + np.log(n) * len(params),
            df_resid=float(n - len(params)),
            dispersion=1.0,
        )


def fit(dataset: Dataset, family: Family, use_bias: bool, maxiter: int) -> dict:
    """The fit's figures, as glm.GlmFit takes them (glm.fit makes the GlmFit); maxiter: glm.maxiter."""
    names = dataset.terms(use_bias) + list(family.estimated)
    maxiter = max(maxiter, MAXITER_FLOOR)
    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sm_model = model(dataset, use_bias)
        failed = None
        try:
            # BFGS on log(alpha) first (alpha stays positive), then Newton's steps to the optimum's precision
            first = sm_model.fit(start_params=start(sm_model, family), method="bfgs", maxiter=maxiter, gtol=1e-8, disp=0)
            result = sm_model.fit(start_params=first.params, method="newton", maxiter=maxiter, tol=1e-12, disp=0)
            params, bse = np.asarray(result.params, dtype=float), np.asarray(result.bse, dtype=float)
            cov = np.asarray(result.cov_params(), dtype=float)  # alpha's row and column last, as the terms
            converged = bool(result.mle_retvals.get("converged")) and bool(np.all(np.isfinite(params)))
            iterations = int(first.mle_retvals.get("iterations", 0)) + int(result.mle_retvals.get("iterations", 0))
            if not np.all(np.isfinite(params)) or not np.all(np.isfinite(bse)):
                failed = "statsmodels' NegativeBinomial gave non-finite coefficients or standard errors"
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as e:
            params = bse = np.full(len(names), np.nan)
            cov = None
            converged, iterations, failed = False, 0, f"statsmodels' NegativeBinomial raised {type(e).__name__}: {e}"
    seconds = time.perf_counter() - began
    stats = statistics(sm_model, params)
    notes = [f"{kind}: {message}" + (f" (x{count})" if count > 1 else "") for (kind, message), count in _kinds(caught).items()]
    if not converged and failed is None:
        notes.append(f"not converged within {maxiter} Newton iterations")
    return dict(
        coefficients=dict(zip(names, map(float, params))),
        bse=dict(zip(names, map(float, bse))),
        llf=stats.llf,
        scale=1.0,
        converged=converged,
        iterations=iterations,
        fit_seconds=seconds,
        statistics=stats,
        warnings=notes,
        perfect_separation=False,
        rank_deficient=False,
        aliased=[],
        method="NegativeBinomial nb2, bfgs then newton",
        failed=failed,
        cov=cov,
    )


def _kinds(caught) -> Counter:
    return Counter((w.category.__name__, str(w.message)) for w in caught)
