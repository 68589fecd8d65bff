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

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d.pop("scale")
        return d


def terms(dataset: Dataset, use_bias: bool) -> list[str]:
    return (["const"] if use_bias else []) + dataset.feature_names


def design(dataset: Dataset, use_bias: bool) -> np.ndarray:
    if use_bias:
        return np.column_stack([np.ones(dataset.n_rows), dataset.X])
    return dataset.X


def fit(dataset: Dataset, config: Config) -> GlmFit:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    family = config.family
    X = design(dataset, config.model.use_bias)
    names = terms(dataset, config.model.use_bias)
    notes = []
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        notes.append(f"design matrix is rank deficient: rank {rank} for {X.shape[1]} coefficients")

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = sm.GLM(dataset.y, X, family=family.sm_family())
        result = model.fit(maxiter=config.glm.maxiter, tol=config.glm.tol)
        # statsmodels computes these lazily: read them while the warnings are still caught
        params, bse, llf = result.params, result.bse, float(result.llf)
    seconds = time.perf_counter() - start

    kinds = Counter((w.category.__name__, str(w.message)) for w in caught)
    for (kind, message), count in kinds.items():
        notes.append(f"{kind}: {message}" + (f" (x{count})" if count > 1 else ""))
    separation = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    converged = bool(result.converged) and not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return GlmFit(
        coefficients=dict(zip(names, map(float, params))),
        bse=dict(zip(names, map(float, bse))),
        llf=llf,
        scale=float(result.scale),
        converged=converged,
        iterations=int(result.fit_history["iteration"]),
        fit_seconds=seconds,
        warnings=notes,
        perfect_separation=separation,
        rank_deficient=rank < X.shape[1],
    )


def loglike(family: Family, y: np.ndarray, mu: np.ndarray, glm_scale: float) -> float:
    # the log-likelihood of any fitted mean, on the same footing as statsmodels' llf
    sm_family = family.sm_family()
    if family.mle_scale:
        scale = float(np.mean((y - mu) ** 2))
    else:
        scale = glm_scale
    return float(sm_family.loglike(y, mu, scale=scale))
