"""Held-out deviance, row by row, and the paired tests of a network against the GLM (data.folds).

A row's deviance is the family's unit deviance at the mean a model predicts for it, as statsmodels'
family computes it (its resid_dev, squared, with the row's var weight; times its freq weight): the rows'
sum is statsmodels' GLMResults.deviance at those means. A multinomial row's is -2 log p of its class.
The tests are one-sided paired t tests (H1: the network's deviance is lower), across folds and across rows.
"""

import numpy as np

from nnglm.data.table import Dataset
from nnglm.log.result import NetworkAgainstGlm
from nnglm.vocabulary.families import Family

TINY = 1e-300  # a multinomial probability of exactly 0 scores a finite, very large deviance
SIGNIFICANT = 0.05  # the one-sided test's level for `improves`


def deviance_rows(family: Family, rows: Dataset, mu: np.ndarray) -> np.ndarray:
    """Each row's deviance at the means mu (class probabilities, rows by classes, for a multinomial family)."""
    if family.multiclass:
        p = np.asarray(mu, dtype=float)[np.arange(rows.n_rows), rows.y.astype(int)]
        out = -2 * np.log(np.maximum(p, TINY))
    else:
        var_weights = 1.0 if rows.var_weights is None else rows.var_weights
        out = family.sm_family().resid_dev(rows.y, np.asarray(mu, dtype=float), var_weights) ** 2
    return out if rows.freq_weights is None else out * rows.freq_weights


def mean_deviance(rows: Dataset, deviance: np.ndarray) -> float:
    """The rows' deviance per unit of weight: the sum over the sum of the weights (the rows, unweighted)."""
    total = float(np.sum(rows.weights)) if rows.weights is not None else float(rows.n_rows)
    return float(np.sum(deviance)) / total


def p_less(a: np.ndarray, b: np.ndarray) -> float:
    """The one-sided paired t test's p-value for H1: mean(a - b) < 0 (NaN where the differences do not vary)."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = a - b
    if len(d) < 2 or np.ptp(d) <= 1e-12 * np.max(np.abs(d)):  # constant within round-off: no t to speak of
        return float("nan")
    return float(stats.ttest_rel(a, b, alternative="less").pvalue)


def against(
    model: str, network_folds: np.ndarray, glm_folds: np.ndarray, network_rows: np.ndarray, glm_rows: np.ndarray
) -> NetworkAgainstGlm:
    """A network against the GLM: each fold's mean held-out deviance, and each row's (every row held out once);
    a fold or row where either is not finite (a diverged network, a failed GLM) is left out of the pairs."""
    network_folds, glm_folds = finite_pairs(network_folds, glm_folds)
    network_rows, glm_rows = finite_pairs(network_rows, glm_rows)
    diff = network_folds - glm_folds
    k = len(diff)
    se = float(diff.std(ddof=1) / np.sqrt(k)) if k > 1 else float("nan")
    glm_mean = float(np.mean(glm_folds)) if k else float("nan")
    relative = -float(diff.mean()) / glm_mean * 100 if k and glm_mean > 0 else float("nan")
    p_folds = p_less(network_folds, glm_folds)
    return NetworkAgainstGlm(
        model=model,
        mean_difference=float(diff.mean()) if k else None,
        standard_error=se,
        relative_pct=relative,
        relative_se_pct=se / glm_mean * 100 if glm_mean > 0 else float("nan"),
        p_value_folds=p_folds,
        p_value_rows=p_less(network_rows, glm_rows),
        improves=bool(p_folds < SIGNIFICANT and relative > 0),
    )


def finite_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]
