"""Both fits' estimates as a results object shows them: statsmodels' params, bse, pvalues, conf_int()
and summary(), R's coef(summary(fit)), one column a fit.

The test's distribution is the one result.json records (inference.use_t: t on the residual degrees
of freedom where the dispersion is estimated, as R's summary.glm; else z), and so are the p-values
where it records them (coefficients.csv's p for the network, glm.pvalues for the GLM); they are
computed from the estimate and its standard error, with that distribution, only where a run did not
record them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnglm.log.result import RunResult, flat

FITS = ("network", "glm")


@dataclass(frozen=True)
class Test:
    """The distribution a run's Wald tests use: z, or t with df degrees of freedom."""

    name: str  # "z" or "t"
    df: float | None = None

    def sf(self, x: np.ndarray) -> np.ndarray:
        from scipy import stats

        return stats.t.sf(x, self.df) if self.name == "t" else stats.norm.sf(x)

    def quantile(self, q: float) -> float:
        from scipy import stats

        return float(stats.t.ppf(q, self.df) if self.name == "t" else stats.norm.ppf(q))


def test_of(result: RunResult) -> Test:
    """The distribution result.json records: t on the GLM's residual degrees of freedom where it says use_t."""
    inference = result.inference
    use_t = getattr(inference, "use_t", None) if inference is not None else None
    if not use_t:
        return Test("z")
    df = getattr(inference, "df_resid", None)
    if df is None and result.glm and result.glm.statistics:
        df = result.glm.statistics.df_resid
    return Test("t", float(df) if df is not None and math.isfinite(df) else None)


def terms_of(result: RunResult) -> list[str]:
    network = result.network.coefficients if result.network else {}
    fitted = result.glm.coefficients if result.glm else {}
    return list(flat(network) or flat(fitted))


def column(values: Mapping | None, terms: list[str]) -> np.ndarray:
    found = flat(dict(values or {}))
    return np.array([np.nan if found.get(t) is None else found[t] for t in terms], dtype=float)


def index(result: RunResult, terms: list[str]) -> pd.Index:
    """By term, or by (class, term) for a multinomial run, as Run.coefficients is."""
    network = result.network.coefficients if result.network else {}
    fitted = result.glm.coefficients if result.glm else {}
    if any(isinstance(v, dict) for v in (network or fitted).values()):
        return pd.MultiIndex.from_tuples([tuple(t.split(":", 1)) for t in terms], names=["class", "term"])
    return pd.Index(terms, name="term")


def estimates(result: RunResult, recorded_p: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row a term, flat names: network, glm, network_se, glm_se, network_<z|t>, glm_<z|t>, network_p, glm_p.
    `recorded_p`: the network's p-values as coefficients.csv holds them, by term."""
    terms = terms_of(result)
    test = test_of(result)
    out: dict[str, np.ndarray] = {}
    for fit in FITS:
        section = getattr(result, fit)
        out[fit] = column(section.coefficients if section else None, terms)
        out[f"{fit}_se"] = column(section.bse if section else None, terms)
    for fit in FITS:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{fit}_{test.name}"] = out[fit] / out[f"{fit}_se"]
    for fit in FITS:
        section = getattr(result, fit)
        recorded = recorded_p if fit == "network" else getattr(section, "pvalues", None)
        p = column(recorded, terms) if recorded else np.full(len(terms), np.nan)
        computed = 2 * test.sf(np.abs(out[f"{fit}_{test.name}"]))
        out[f"{fit}_p"] = np.where(np.isnan(p), computed, p) if recorded else computed
    frame = pd.DataFrame(out, index=pd.Index(terms, name="term"))
    frame.attrs = {"statistic": test.name, "df": test.df}
    return frame


def conf_int(frame: pd.DataFrame, test: Test, alpha: float) -> pd.DataFrame:
    """estimate ± quantile(1 - alpha/2) × standard error, each fit (statsmodels' conf_int, Wald)."""
    q = test.quantile(1 - alpha / 2)
    out = {}
    for fit in FITS:
        out[f"{fit}_lower"] = frame[fit] - q * frame[f"{fit}_se"]
        out[f"{fit}_upper"] = frame[fit] + q * frame[f"{fit}_se"]
    return pd.DataFrame(out, index=frame.index)


# --- summary() ---

WIDTH = 78


def summary(result: RunResult, frame: pd.DataFrame, test: Test, residuals: pd.DataFrame | None = None) -> str:
    """statsmodels' GLMResults.summary() as text, the network's and the GLM's figures side by side, then
    each fit's coefficient table. `residuals`: residuals.csv, for Pearson's chi-square and the deviance
    residuals' quantiles (R's summary.glm), where the run has it."""
    cfg = result.config
    model = cfg.get("model", {}) if isinstance(cfg.get("model"), dict) else {}
    data = result.data
    stats = {fit: (getattr(result, fit).statistics if getattr(result, fit) else None) for fit in FITS}
    lines = ["Generalized Linear Model: the network beside the GLM".center(WIDTH), "=" * WIDTH]
    head = [
        ("Dep. Variable:", str(data.target if data else "")),
        ("No. Observations:", _number(data.n_observations if data else None)),
        ("Model Family:", str(model.get("family", ""))),
        ("Link Function:", str(model.get("link", ""))),
        ("Df Residuals:", _number(stats["glm"].df_resid if stats["glm"] else None)),
        ("Test:", f"{test.name}" + (f" on {test.df:g} df" if test.df is not None else "")),
        ("Run:", f"{result.name}/{result.run_id}"),
    ]
    lines += [f"{k:<20}{v}" for k, v in head]
    lines.append("-" * WIDTH)
    lines.append(f"{'':<20}{'network':>18}{'GLM':>18}")
    figures = [
        ("Log-Likelihood:", "llf"),
        ("Deviance:", "deviance"),
        ("Null Deviance:", "null_deviance"),
        ("AIC:", "aic"),
        ("BIC:", "bic"),
        ("Scale:", "dispersion"),
    ]
    for label, key in figures:
        lines.append(f"{label:<20}" + "".join(f"{_number(getattr(stats[f], key) if stats[f] else None):>18}" for f in FITS))
    if residuals is not None and all(f"{f}_pearson" in residuals and f"{f}_deviance" in residuals for f in FITS):
        chi2 = {f: float((residuals[f"{f}_pearson"].to_numpy(dtype=float) ** 2).sum()) for f in FITS}
        lines.append(f"{'Pearson chi2:':<20}" + "".join(f"{_number(chi2[f]):>18}" for f in FITS))
        lines.append("-" * WIDTH)
        lines.append(f"{'Deviance Residuals:':<20}{'Min':>11}{'1Q':>11}{'Median':>11}{'3Q':>11}{'Max':>11}")
        for f, name in (("network", "network"), ("glm", "GLM")):
            quartiles = np.quantile(residuals[f"{f}_deviance"].to_numpy(dtype=float), [0, 0.25, 0.5, 0.75, 1])
            lines.append(f"{name:<20}" + "".join(f"{_cell(q):>11}" for q in quartiles))
    lines.append("=" * WIDTH)
    ci = conf_int(frame, test, 0.05)
    name_width = max([len("term"), *(len(str(t)) for t in frame.index)]) + 2
    stat = test.name
    header = f"{'':<{name_width}}{'coef':>11}{'std err':>11}{stat:>9}{f'P>|{stat}|':>9}{'[0.025':>11}{'0.975]':>11}"
    for fit, title in (("network", "network (its own weights and Hessian)"), ("glm", "GLM (statsmodels)")):
        lines += [title, "-" * max(WIDTH, len(header)), header]
        for term in frame.index:
            row = frame.loc[term]
            lines.append(
                f"{str(term):<{name_width}}{_cell(row[fit]):>11}{_cell(row[f'{fit}_se']):>11}{_cell(row[f'{fit}_{stat}'], 3):>9}"
                f"{_cell(row[f'{fit}_p'], 3):>9}{_cell(ci.loc[term, f'{fit}_lower']):>11}{_cell(ci.loc[term, f'{fit}_upper']):>11}"
            )
        lines.append("=" * max(WIDTH, len(header)))
    comparison = result.comparison
    if comparison is not None:
        largest = np.max(np.abs(frame["network"].to_numpy() - frame["glm"].to_numpy()), initial=0.0)
        lines.append(f"largest |network - GLM| coefficient difference: {largest:.3g}")
        if comparison.verdict:
            lines.append(comparison.verdict)
    return "\n".join(lines)


def _number(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "nan"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _cell(value: float, digits: int = 4) -> str:
    if not math.isfinite(value):
        return "nan"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 10 ** (-digits)):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"
