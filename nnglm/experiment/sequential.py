"""One run's sequential analysis of deviance (R's `anova(fit)`): the formula's terms added in turn.

As R's anova.glm does, each sub-model is the run's own design cut to the columns of its first terms
(R: `x[, varseq <= i]`), fitted to the same rows, weights and offset: the data is read once, and
each sub-model is one GLM fit and one network trained in this process, by the run's own config.
The last row is the run itself, from its folder; the NULL row is the null deviance both fits record
(the intercept-only fit, statsmodels', as R takes glm's null.deviance).
"""

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nnglm.config import Config
from nnglm.data import table
from nnglm.experiment import predict
from nnglm.foundation.errors import UserError, clip
from nnglm.log.result import Statistics
from nnglm.model import anova, glm
from nnglm.vocabulary import names

NULL = "NULL"
R_ORDER = ["Df", "Deviance", "Resid. Df", "Resid. Dev"]  # anova(fit)'s columns, before the test's


def compute(folder: Path, test: str | None = None, overrides: Sequence[str] = ()) -> anova.Anova:
    """The run's terms added in turn; test as anova.compute's. overrides: --set items naming the data
    where the folder does not hold it (data.path=FILE)."""
    anova.check_test(test)
    model = anova.model_of(folder)
    estimated = anova.check_comparable([model])
    result = model.result
    config = predict.run_config(model.folder, result.config, overrides)
    if config.family.multiclass:
        raise UserError(
            f"{clip(str(model.folder), 200)}: a multinomial run: its sequential table is not made here (give nested runs instead)"
        )
    spec = table.DataSpec.of(config)
    dataset, _ = table.split(table.load(spec), spec)
    if result.data is None or anova.rows_sha256(dataset) != result.data.rows_sha256:
        raise UserError(
            f"{clip(str(model.folder), 200)}: the data read now is not the rows the run fitted (data.rows_sha256 differs, or the run "
            "predates it): the sequential table needs the run's own rows"
        )
    terms = term_columns(dataset, config)
    null = {fit: null_row(getattr(result, fit).statistics, dataset, config) for fit in anova.FITS}
    statistics = {fit: [null[fit]] for fit in anova.FITS}
    notes = [
        f"the {NULL} row is the null deviance both fits record (the intercept-only GLM's, as R's)"
        if config.model.use_bias
        else f"the {NULL} row is the deviance at no coefficients (the mean from the offset alone, as R's)"
    ]
    for i in range(1, len(terms)):
        columns = [c for _, cs in terms[:i] for c in cs]
        glm_stats, network_stats, stopped = fit_both(subset(dataset, columns), config)
        statistics["glm"].append(glm_stats)
        statistics["network"].append(network_stats)
        if stopped is not None:
            notes.append(f"up to {terms[i - 1][0]}: the sub-model's network stopped before its own convergence test passed ({stopped})")
    for fit in anova.FITS:
        statistics[fit].append(getattr(result, fit).statistics)
    notes += anova.unreached([model])
    test = anova.chosen(test, estimated, model, notes)
    labels = [NULL] + [label for label, _ in terms]
    tables, dispersion = {}, {}
    for fit in anova.FITS:
        dispersion[fit] = float(statistics[fit][-1].dispersion) if estimated else 1.0
        frame = anova.table(statistics[fit], test, dispersion[fit], estimated)
        frame = frame[R_ORDER + anova.TEST_COLUMNS[test]]
        frame.index = pd.Index(labels, name="term")
        tables[fit] = frame
    largest, at = anova.largest_difference(tables["network"], tables["glm"])
    return anova.Anova([model], test, tables, dispersion, estimated, largest, at, anova.tolerance_of([model]), notes, sequential=True)


def term_columns(dataset: table.Dataset, config: Config) -> list[tuple[str, list[int]]]:
    """Each term (as R labels it) with its columns of the design (the intercept left out), in R's order.
    Without data.formula each design column is a term of its own."""
    if dataset.design is None:
        return [(name, [j]) for j, name in enumerate(dataset.feature_names)]
    info = dataset.design
    shift = 1 if config.model.use_bias else 0  # the intercept is the design's first column
    out = []
    for term, where in info.term_slices.items():
        if not term.factors:
            continue
        columns = list(range(where.start - shift, where.stop - shift))
        out.append((label(term), columns))
    if not out:
        raise UserError("the formula has no term besides the intercept: nothing to add in turn")
    return out


def label(term) -> str:
    """A term as R labels it: factor(year), log(service), type:factor(year)."""
    return ":".join(re.sub(r"^C\(([^,()]+)\)$", r"factor(\1)", names.deparse(f.code)) for f in term.factors)


def subset(dataset: table.Dataset, columns: list[int]) -> table.Dataset:
    return dataclasses.replace(
        dataset, X=np.ascontiguousarray(dataset.X[:, columns]), feature_names=[dataset.feature_names[c] for c in columns], design=None
    )


def null_row(stats: Statistics | None, dataset: table.Dataset, config: Config) -> Statistics:
    """The NULL row, as R's glm.fit makes it: with an intercept, the intercept-only fit's deviance (the null
    deviance each fit records) on its residual df; without, the deviance at the offset alone, on n df."""
    assert stats is not None  # anova.model_of checked both fits' statistics
    if config.model.use_bias:
        return Statistics(deviance=stats.null_deviance, df_resid=dataset.n_obs - 1, dispersion=stats.dispersion)
    return glm.statistics(glm.model(subset(dataset, []), config.family, glm.GlmOptions.of(config)), np.zeros(0), stats.dispersion)


def fit_both(dataset: table.Dataset, config: Config) -> tuple[Statistics, Statistics, str | None]:
    """The sub-model's GLM and network, each one's deviance at its own coefficients (the tests divide by the
    full model's dispersion, so a sub-model's own is not needed); and why an `auto` network stopped short, if it did."""
    from nnglm.train import backends, network

    options = glm.GlmOptions.of(config)
    glm_fit = glm.fit(dataset, config.family, options)
    if glm_fit.failed:
        raise UserError(f"a sub-model's GLM failed ({glm_fit.failed}): no sequential table")
    engine = backends.load(config.train.backend, config.train.dtype)
    device = engine.device(config.train.device)
    target = np.array(list(glm_fit.coefficients.values()))
    fit = network.train(engine, dataset, network.NetworkSpec.of(config), device, target)
    weights = np.array(list(fit.coefficients.values()))
    network_stats = glm.statistics(glm.model(dataset, config.family, options), weights)
    short = config.train.auto and not fit.converged
    return glm_fit.statistics, network_stats, fit.stopped if short else None
