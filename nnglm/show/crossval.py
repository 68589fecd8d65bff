"""The cross-validation (data.folds) as figures: each fold's held-out deviance by model, and the picture
crossval.png, one line a fold joining its models' points, since the test is paired: a fold that is hard
for one model is hard for all, and what counts is how each line runs from the GLM to a network."""

from typing import TYPE_CHECKING

import numpy as np

from nnglm.log.result import CV_MODELS, CrossValidationSection

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# the models' names in words (result.json names them: CV_MODELS, the order they are shown in)
LABELS = {"glm": "GLM", "scratch": "network from scratch", "at_glm": "network started at the GLM"}
SHORT = {"glm": "GLM", "scratch": "from scratch", "at_glm": "at the GLM"}  # the picture's x axis
CAPTION = "Each fold's held-out deviance per row by model, one line a fold; and each network's difference to the GLM by fold"


def models(section: CrossValidationSection) -> list[str]:
    """The models the folds scored, in CV_MODELS' order (a name not known to it after them)."""
    named = {name for fold in section.per_fold for name in fold.deviance}
    return [m for m in CV_MODELS if m in named] + sorted(named - set(CV_MODELS))


def scores(section: CrossValidationSection) -> dict[str, np.ndarray]:
    """Each model's held-out deviance per row, one value a fold in the section's order (NaN where missing)."""
    return {m: section.fold_scores(m) for m in models(section)}


def mean_se(values: np.ndarray) -> tuple[float | None, float | None]:
    """The mean over the folds and its standard error (sd / sqrt(K)); None where undefined."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return None, None
    se = float(np.std(finite, ddof=1) / np.sqrt(len(finite))) if len(finite) > 1 else None
    return float(np.mean(finite)), se


def label(model: str) -> str:
    return LABELS.get(model, model)


def figure(section: CrossValidationSection) -> "Figure":
    """crossval.png: left, each fold's held-out deviance per model joined by a line; right, each
    network's difference to the GLM in each fold (below zero: the network does better there)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    by_model = scores(section)
    colours = _colours(len(section.per_fold))
    _by_fold(left, section, by_model, colours)
    _differences(right, section, by_model, colours)
    measure = section.measure or "deviance"
    fig.suptitle(f"{len(section.per_fold)}-fold cross-validation: held-out {measure} per row", fontsize=11)
    return fig


def _colours(k: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if k <= 10 else "viridis"]
    return [cmap(i if k <= 10 else i / max(k - 1, 1)) for i in range(k)]


def _by_fold(ax: "Axes", section: CrossValidationSection, by_model: dict[str, np.ndarray], colours: list) -> None:
    names = list(by_model)
    x = np.arange(len(names), dtype=float)
    for i, fold in enumerate(section.per_fold):
        values = [by_model[m][i] for m in names]
        ax.plot(x, values, marker="o", color=colours[i], lw=1.0, alpha=0.8, label=f"fold {fold.fold}")
    means = [mean_se(by_model[m])[0] for m in names]
    ax.plot(x, [np.nan if v is None else v for v in means], ls="none", marker="D", ms=8, color="black", label="mean over the folds")
    ax.set_xticks(x, [SHORT.get(m, m) for m in names])
    ax.set_xlim(-0.4, len(names) - 0.6)
    ax.set_ylabel("held-out deviance per row")
    ax.set_title("each fold's models, joined", fontsize=10)
    # beside the axes, never over a fold's line
    ax.legend(fontsize=7, ncols=2 if len(section.per_fold) > 12 else 1, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _differences(ax: "Axes", section: CrossValidationSection, by_model: dict[str, np.ndarray], colours: list) -> None:
    networks = [m for m in by_model if m != "glm"]
    if "glm" not in by_model or not networks:
        ax.set_axis_off()
        return
    x = np.arange(len(networks), dtype=float)
    differences = {m: by_model[m] - by_model["glm"] for m in networks}
    for i in range(len(section.per_fold)):
        fold = section.per_fold[i].fold  # named for a reader of the figure, not in the legend (the left one's)
        ax.plot(x, [differences[m][i] for m in networks], marker="o", color=colours[i], lw=1.0, alpha=0.8, label=f"_fold {fold}")
    for j, m in enumerate(networks):
        mean, se = mean_se(differences[m])
        if mean is not None:
            ax.errorbar([x[j]], [mean], yerr=None if se is None else [[se], [se]], fmt="D", ms=8, color="black", capsize=6)
    ax.axhline(0.0, color="tab:red", ls="--", lw=1.0, label="the GLM")
    ax.set_xticks(x, [SHORT.get(m, m) for m in networks])
    ax.set_xlim(-0.5, len(networks) - 0.5)
    ax.set_ylabel("network − GLM (mean ± se in black)")
    ax.set_title("below 0: the network does better", fontsize=10)
    ax.legend(fontsize=7)
