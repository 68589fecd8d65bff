"""diagnostics.png: R's plot(glm), the GLM's four panels with the network's points drawn over them.

As R's plot.lm draws a glm: residuals against the linear predictor ("Residuals vs Fitted", deviance
residuals, with a lowess line), a normal Q-Q plot of the standardized deviance residuals, the square
root of their size against the linear predictor ("Scale-Location"), and the standardized Pearson
residuals against the leverage with Cook's distance at 0.5 and 1 ("Residuals vs Leverage"). Each
standardized residual is r / sqrt(dispersion (1 - h)), h the leverage, as R's rstandard; Cook's
distance (r_P / (1 - h))^2 h / (dispersion p), as R's cooks.distance. Drawn from residuals.csv.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DRAWN_ROWS = 20_000  # past this, a seeded random choice of rows is drawn (100 000 rows' eight scatters took 4 s to render)
NEEDED = [f"{fit}_{what}" for what in ("fitted", "deviance", "pearson", "hat") for fit in ("network", "glm")]
STYLE: dict[str, dict[str, Any]] = {
    "glm": dict(s=22, facecolors="none", edgecolors="0.35", linewidths=0.9, label="GLM"),
    "network": dict(s=14, marker="x", color="tab:red", linewidths=0.8, label="network"),
}


def drawable(table: pd.DataFrame) -> bool:
    """The GLM's leverage is there (residuals.csv leaves it out where its QR would cost too much)."""
    return bool(np.isfinite(table["glm_hat"].to_numpy(dtype=float)).any())


def standardized(table: pd.DataFrame, fit: str, kind: str, dispersion: float) -> np.ndarray:
    h = table[f"{fit}_hat"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return table[f"{fit}_{kind}"].to_numpy(dtype=float) / np.sqrt(dispersion * (1 - h))


def figure(table: pd.DataFrame, link, dispersion: dict[str, float], n_params: int) -> Figure:
    """The four panels from residuals.csv's columns; `link`: statsmodels' link (the x axis is the
    linear predictor, link(fitted mean)); `dispersion`: each fit's; `n_params`: the coefficients."""
    from matplotlib.figure import Figure

    n = len(table)
    if n > DRAWN_ROWS:
        table = table.iloc[np.sort(np.random.default_rng(0).choice(n, DRAWN_ROWS, replace=False))]
    fig = Figure(figsize=(9.0, 7.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    points = {}
    for fit in ("glm", "network"):
        with np.errstate(all="ignore"):
            eta = np.asarray(link(table[f"{fit}_fitted"].to_numpy(dtype=float)), dtype=float)
        points[fit] = dict(
            eta=eta,
            deviance=table[f"{fit}_deviance"].to_numpy(dtype=float),
            std_deviance=standardized(table, fit, "deviance", dispersion[fit]),
            std_pearson=standardized(table, fit, "pearson", dispersion[fit]),
            hat=table[f"{fit}_hat"].to_numpy(dtype=float),
        )
    _residuals_vs_fitted(axes[0], points)
    _qq(axes[1], points)
    _scale_location(axes[2], points)
    _leverage(axes[3], points, n_params)
    axes[0].legend(loc="best", fontsize=8)
    drawn = f" ({DRAWN_ROWS:,} of the {n:,} rows, chosen at random)" if n > DRAWN_ROWS else ""
    fig.suptitle(f"the GLM's diagnostics, as R's plot(glm) draws them, the network's points over them{drawn}", fontsize=10)
    return fig


def _scatter(ax: Axes, points: dict, x: str, y: str) -> None:
    for fit in ("glm", "network"):
        ax.scatter(points[fit][x], points[fit][y], **STYLE[fit])


def _smooth(ax: Axes, x: np.ndarray, y: np.ndarray) -> None:
    """R's panel.smooth: a lowess line through the GLM's points."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return
    span = float(np.max(x[keep]) - np.min(x[keep]))
    line = lowess(y[keep], x[keep], frac=2 / 3, it=3, delta=0.01 * span)  # R's lowess: delta 1% of the range
    ax.plot(line[:, 0], line[:, 1], color="tab:blue", lw=1)


def _residuals_vs_fitted(ax: Axes, points: dict) -> None:
    _scatter(ax, points, "eta", "deviance")
    _smooth(ax, points["glm"]["eta"], points["glm"]["deviance"])
    ax.axhline(0, color="0.6", ls=":", lw=1)
    ax.set(title="Residuals vs Fitted", xlabel="predicted values (linear predictor)", ylabel="deviance residuals")


def _qq(ax: Axes, points: dict) -> None:
    from scipy import stats

    for fit in ("glm", "network"):
        r = points[fit]["std_deviance"]
        r = np.sort(r[np.isfinite(r)])
        if not len(r):
            continue
        a = 3 / 8 if len(r) <= 10 else 1 / 2  # R's ppoints
        theoretical = stats.norm.ppf((np.arange(1, len(r) + 1) - a) / (len(r) + 1 - 2 * a))
        ax.scatter(theoretical, r, **STYLE[fit])
        if fit == "glm":  # R's qqline: through the quartiles
            q = np.quantile(r, [0.25, 0.75])
            z = stats.norm.ppf([0.25, 0.75])
            slope = (q[1] - q[0]) / (z[1] - z[0])
            ax.axline((z[0], q[0]), slope=slope, color="0.6", ls=":", lw=1)
    ax.set(title="Normal Q-Q", xlabel="theoretical quantiles", ylabel="std. deviance residuals")


def _scale_location(ax: Axes, points: dict) -> None:
    for fit in ("glm", "network"):
        points[fit]["root"] = np.sqrt(np.abs(points[fit]["std_deviance"]))
    _scatter(ax, points, "eta", "root")
    _smooth(ax, points["glm"]["eta"], points["glm"]["root"])
    ax.set(title="Scale-Location", xlabel="predicted values (linear predictor)", ylabel="√|std. deviance residuals|")


def _leverage(ax: Axes, points: dict, n_params: int) -> None:
    _scatter(ax, points, "hat", "std_pearson")
    ax.axhline(0, color="0.6", ls=":", lw=1)
    hat = points["glm"]["hat"]
    finite = hat[np.isfinite(hat)]
    if finite.size and n_params > 0:
        h = np.linspace(max(float(finite.min()), 1e-3), min(float(finite.max()) * 1.05, 0.999), 100)
        for level in (0.5, 1.0):  # R's Cook's distance contours
            bound = np.sqrt(level * n_params * (1 - h) / h)
            ax.plot(h, bound, color="tab:red", ls="--", lw=0.8)
            ax.plot(h, -bound, color="tab:red", ls="--", lw=0.8)
            at = len(h) * 3 // 4  # labelled inside the frame, apart from each other
            ax.annotate(f"{level:g}", (h[at], bound[at]), fontsize=7, color="tab:red")
        residuals = points["glm"]["std_pearson"]
        residuals = residuals[np.isfinite(residuals)]  # a row of leverage 1 has none
        if residuals.size:
            low, high = float(residuals.min()), float(residuals.max())
            pad = 0.15 * (high - low) if high > low else 1.0
            ax.set_ylim(low - pad, high + pad)
    ax.set(title="Residuals vs Leverage (Cook's distance dashed)", xlabel="leverage", ylabel="std. Pearson residuals")


def cooks_distance(table: pd.DataFrame, fit: str, dispersion: float, n_params: int) -> np.ndarray:
    """R's cooks.distance(glm): (r_P / (1 - h))^2 h / (dispersion p)."""
    h = table[f"{fit}_hat"].to_numpy(dtype=float)
    r = table[f"{fit}_pearson"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (r / (1 - h)) ** 2 * h / (dispersion * n_params)
