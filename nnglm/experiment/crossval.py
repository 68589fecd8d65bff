"""data.folds: does a network with hidden layers beat the GLM on rows it never saw?

K folds, the same for every model (data/folds.py). In each, the GLM is fitted on the fold's training rows,
and two hidden-layer networks are trained there: one from scratch ("scratch") and one started at that GLM
("at_glm", the Combined Actuarial Neural Network of train/hidden.py). Each network stops early on an inner
split of the training rows, never on the fold it is scored on. Each model's deviance on the held-out rows
(model/paired.py) is compared with the GLM's by one-sided paired t tests, across folds and across rows.
Where the GLM fails in a fold, the network started at it is the network from scratch there, and the
section says so.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnglm.config import Config
from nnglm.data import folds as folding
from nnglm.data.table import Dataset
from nnglm.experiment import holdout
from nnglm.log.result import CV_MODELS, CV_NETWORKS, CrossValidationSection, FoldScore, NetworkAgainstGlm
from nnglm.model import glm, paired
from nnglm.show import crossval as crossval_view
from nnglm.train import hidden
from nnglm.train.backends import Engine
from nnglm.train.network import NetworkSpec

INNER_FRACTION = 0.2  # of each fold's training rows, held for early stopping
NETWORKS = {name: f"the {crossval_view.label(name)}" for name in CV_NETWORKS}  # as the sentences name them


@dataclass
class Scores:
    """Each row's held-out deviance by model (every row held out once), and each fold's score."""

    rows: dict[str, np.ndarray]
    per_fold: list[FoldScore] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "fold k (why)" where the GLM failed
    at_glm_steps: list[int | None] = field(default_factory=list)  # the step each fold's network at the GLM kept

    @classmethod
    def empty(cls, n_rows: int) -> "Scores":
        return cls({name: np.full(n_rows, np.nan) for name in CV_MODELS})


def run(
    config: Config,
    dataset: Dataset,
    split: folding.Folds,
    engine: Engine,
    device: str,
    spec: NetworkSpec,
    options: glm.GlmOptions,
    on_fold: Callable[[int, int], None] = lambda k, K: None,
) -> CrossValidationSection:
    """The cross-validation section of a run with data.folds, on its folds (folds.assign), the run's network spec
    and GLM options serving every fold: `on_fold(k, K)` is told as fold k of K starts."""
    start = time.perf_counter()
    k = split.k
    scores = Scores.empty(dataset.n_rows)
    for j in range(k):
        on_fold(j + 1, k)
        fold(config, dataset, split, j, engine, device, spec, options, scores)
    return section(config, dataset, split, scores, time.perf_counter() - start)


def fold(
    config: Config,
    dataset: Dataset,
    split: folding.Folds,
    j: int,
    engine: Engine,
    device: str,
    spec: NetworkSpec,
    options: glm.GlmOptions,
    scores: Scores,
) -> None:
    """Fold j's three fits on its training rows, scored on its held-out rows."""
    train_rows, held_rows = split.training(j), split.held_out(j)
    train, held = dataset.subset(train_rows), dataset.subset(held_rows)
    glm_fit = glm.fit(train, config.family, options)
    coefficients = np.array(list(glm_fit.coefficients.values()), dtype=float)
    fitted, early = folding.inner(train, INNER_FRACTION, config.seed, j, split.stratified)
    fit_rows, early_rows = train.subset(fitted), train.subset(early)
    means = {"glm": holdout.linear_mean(coefficients, held, config)}
    scratch = hidden.train(engine, fit_rows, spec, device, early=early_rows)
    means["scratch"] = scratch.predict(held.X, held.offset)
    why = failure(glm_fit)
    if why is None:
        start = hidden.GlmStart(coefficients, fixed=config.model.hidden_skip == "fixed")
        at_glm = hidden.train(engine, fit_rows, spec, device, glm_start=start, early=early_rows)
        means["at_glm"] = at_glm.predict(held.X, held.offset)
        scores.at_glm_steps.append(at_glm.best_step)
    else:  # nothing to start at: the network from scratch stands in for it here
        means["at_glm"] = means["scratch"]
        scores.failed.append(f"fold {j + 1} ({why})")
    deviance: dict[str, float | None] = {}
    for name, mu in means.items():
        per_row = paired.deviance_rows(config.family, held, mu)
        scores.rows[name][held_rows] = per_row
        deviance[name] = paired.mean_deviance(held, per_row)
    scores.per_fold.append(FoldScore(fold=j + 1, n_train=len(train_rows), n_held_out=len(held_rows), deviance=deviance))


def failure(fit: glm.GlmFit) -> str | None:
    """Why a fold's GLM is no start for a network (no maximum, or none reached), or None."""
    if fit.failed is not None or not fit.finite:
        return fit.failed or "no finite coefficients"
    if fit.perfect_separation:
        return "perfect separation: the likelihood has no finite maximum"
    if not fit.converged:
        return "not converged"
    return None


def stayed(scores: Scores, k: int) -> bool:
    """The network at the GLM kept step 0, the GLM itself, in every fold: its differences are round-off."""
    return len(scores.at_glm_steps) == k and all(step == 0 for step in scores.at_glm_steps)


def section(config: Config, dataset: Dataset, split: folding.Folds, scores: Scores, seconds: float) -> CrossValidationSection:
    by_fold = {name: np.array([f.deviance[name] for f in scores.per_fold], dtype=float) for name in CV_MODELS}
    networks = []
    for name in NETWORKS:
        versus = paired.against(name, by_fold[name], by_fold["glm"], scores.rows[name], scores.rows["glm"])
        if name == "at_glm" and stayed(scores, split.k):
            versus = versus.model_copy(
                update={"improves": False, "sentence": f"{NETWORKS[name]} stayed at the GLM in every fold (early stopping kept step 0)"}
            )
        else:
            versus = versus.model_copy(update={"sentence": sentence(versus, usable_folds(by_fold[name], by_fold["glm"]))})
        networks.append(versus)
    return CrossValidationSection(
        folds=split.k,
        stratified=split.stratified,
        measure="deviance",
        inner_fraction=INNER_FRACTION,
        per_fold=scores.per_fold,
        networks=networks,
        verdict=verdict(networks, split.k),
        fallback=fallback(scores.failed),
        seconds=seconds,
    )


def usable_folds(network: np.ndarray, glm_scores: np.ndarray) -> int:
    return int(np.sum(np.isfinite(network) & np.isfinite(glm_scores)))


def p_text(p: float | None) -> str:
    if p is None or not np.isfinite(p):
        return "p undefined"
    return "p < 0.001" if p < 0.001 else "p > 0.999" if p > 0.999 else f"p = {p:.2g}"


def sentence(versus: NetworkAgainstGlm, n_folds: int) -> str:
    """What the test found, in one sentence: the network improves on the GLM, or there is no evidence that it does."""
    name = NETWORKS[versus.model]
    relative, se = versus.relative_pct, versus.relative_se_pct
    if relative is None or se is None or not np.isfinite(relative):
        return f"{name}: no held-out deviance to compare with the GLM's in {n_folds} folds"
    figures = f"{pct(abs(relative))} % ± {pct(se)} %, {p_text(versus.p_value_folds)}, in {n_folds} folds"
    if versus.improves:
        return f"{name} improves the held-out deviance by {figures}"
    if relative > 0:
        return f"{name} lowers the held-out deviance by {figures}: no evidence of a real improvement"
    return f"{name} does not lower the held-out deviance: it raises it by {figures}"


def verdict(networks: list[NetworkAgainstGlm], k: int) -> str:
    """The best network's sentence where one improves on the GLM, else that no hidden layer does."""
    better = [n for n in networks if n.improves]
    if better:
        return str(max(better, key=lambda n: n.relative_pct or 0.0).sentence)
    found = "; ".join(
        str(n.sentence)
        if n.sentence and "stayed at the GLM" in n.sentence
        else f"{NETWORKS[n.model]}: deviance {signed(n.relative_pct)}, {p_text(n.p_value_folds)}"
        for n in networks
    )
    return f"no evidence that a hidden layer helps here ({found}; in {k} folds)"


def signed(relative: float | None) -> str:
    """A network's change of the held-out deviance: -2.1 % where it lowers it."""
    if relative is None or not np.isfinite(relative):
        return "undefined"
    return f"{'+' if relative <= 0 else '-'}{pct(abs(relative))} %"


def pct(x: float) -> str:
    """A percentage as the sentences give it: 2.1, 0.4, 0.034, 100.0."""
    return f"{x:.1f}" if abs(x) >= 1 else f"{x:.2g}"


def fallback(failed: list[str]) -> str | None:
    if not failed:
        return None
    where = ", ".join(failed)
    return f"the GLM failed in {where}: the network started at the GLM fell back to the network from scratch there"
