"""Held-out rows: how well each fit predicts rows it never saw, in the family's own loss.

With a hidden-layer network beside the GLM there are no coefficients to set side
by side; the fits are compared by their loss on the held-out rows, and the
difference is judged against its own noise (the paired per-row losses).
"""

from typing import Any

import numpy as np

from nnglm.config import Config
from nnglm.data.table import Dataset
from nnglm.log.result import Losses, ValidationSection
from nnglm.model.glm import design
from nnglm.train.inference import loss_function
from nnglm.vocabulary.families import softmax


def linear_mean(coefficients: np.ndarray, dataset: Dataset, config: Config) -> np.ndarray:
    """The mean a GLM with these coefficients (Dataset.terms' order) predicts for the rows."""
    X = design(dataset, config.model.use_bias)
    eta = X @ np.asarray(coefficients).reshape(-1, X.shape[1]).T  # (rows, outputs)
    if dataset.offset is not None:
        eta = eta + dataset.offset[:, None]
    if config.family.multiclass:
        return softmax(np.column_stack([np.zeros(len(eta)), eta]))  # class 0 the reference
    return config.family.sm_family().link.inverse(eta[:, 0])


def row_losses(config: Config, rows: Dataset, mu: np.ndarray) -> np.ndarray:
    """The family's own loss (the network's training loss), row by row, times the row's weight."""
    import keras

    mu = mu if mu.ndim == 2 else mu[:, None]
    losses = keras.ops.convert_to_numpy(loss_function(config.family)(rows.y[:, None], mu)).astype(float).ravel()
    return losses if rows.weights is None else losses * rows.weights


def section(config: Config, train: Dataset, held: Dataset, fits: dict[str, Any]) -> ValidationSection:
    """{fit: {train_loss, validation_loss}} for 'glm', 'network' and (when set) 'hidden',
    each fit given as coefficients (linear) or a hidden.HiddenFit (hidden layers)."""
    per_row = {}
    out = ValidationSection()
    for name, fit in fits.items():
        losses = {}
        for part, rows in (("train", train), ("validation", held)):
            mu = linear_mean(fit, rows, config) if isinstance(fit, np.ndarray) else fit.predict(rows.X, rows.offset)
            losses[part] = row_losses(config, rows, mu)
        per_row[name] = losses["validation"]
        setattr(out, name, Losses(train_loss=float(losses["train"].mean()), validation_loss=float(losses["validation"].mean())))
    if "hidden" in fits:
        out.verdict = verdict(per_row["glm"], per_row["hidden"], config.model.hidden)
    return out


def verdict(glm: np.ndarray, hidden: np.ndarray, widths: list[int]) -> str:
    gap = glm - hidden  # positive: the hidden-layer network predicts the row better
    noise = 2 * gap.std(ddof=1) / np.sqrt(len(gap)) if len(gap) > 1 else np.inf
    a, b = hidden.mean(), glm.mean()
    numbers = f"held-out loss {a:.4g} for the hidden-layer network {list(widths)}, {b:.4g} for the GLM"
    if gap.mean() > noise:
        return (
            f"the hidden layer pays: {numbers} ({b / a:.3g}x lower); the rule behind the data is not linear "
            "in the link, which no GLM on these features can follow"
        )
    if gap.mean() < -noise:
        return f"the linear model suffices: the hidden-layer network does worse on held-out rows ({numbers})"
    return (
        f"the linear model suffices: the hidden-layer network does no better on held-out rows ({numbers}; the difference is within noise)"
    )
