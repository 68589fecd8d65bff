"""The analysis of deviance of nested runs (R's `anova(m0, m1, test = "Chisq" | "F")`), once from the
networks and once from the GLMs.

Nothing is refitted: each run records, for each fit at its own coefficients, the residual degrees of
freedom, the deviance and the dispersion (result.json's `statistics`), and the identity of the rows
it fitted (`data.rows_sha256`, `data.offset_sha256`). The table follows R's anova.glmlist and
stat.anova line by line: the models in the order given, each row's Df and Deviance against the row
before it, the dispersion taken from the model with the fewest residual degrees of freedom.
"""

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nnglm import config as config_module
from nnglm.foundation.errors import UserError, clip, listing, short
from nnglm.log import logbook, runlog
from nnglm.log.result import RunResult, Statistics, Status, flat
from nnglm.vocabulary import tolerance as measure

if TYPE_CHECKING:
    import pandas as pd

    from nnglm.data.table import Dataset

TESTS = ("Chisq", "F")
FITS = ("network", "glm")
# R's column names, as anova.glm prints them
BASE_COLUMNS = ["Resid. Df", "Resid. Dev", "Df", "Deviance"]
TEST_COLUMNS = {"Chisq": ["Pr(>Chi)"], "F": ["F", "Pr(>F)"]}
# the model keys that must agree for deviances to be compared: the family with its link and parameters
SAME_MODEL_KEYS = ("family", "link", "link_power", "alpha", "var_power")


# --- the identity of the rows a run fitted, recorded by the runner ---


def _digest(*arrays: np.ndarray | None, labels: list[str] | None = None) -> str:
    digest = hashlib.sha256()
    for a in arrays:
        # a missing array (no weights) hashes apart from any array, however short
        digest.update(b"none" if a is None else b"array" + np.ascontiguousarray(a, dtype="<f8").tobytes())
    for label in labels or []:
        digest.update(label.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


def rows_sha256(dataset: "Dataset") -> str:
    """sha256 of what a deviance sums over: the target, the variance and frequency weights, the class labels."""
    return _digest(dataset.y, dataset.var_weights, dataset.freq_weights, labels=dataset.classes)


def offset_sha256(dataset: "Dataset") -> str | None:
    """sha256 of the offset (data.offset, log data.exposure, a formula's offset()); None: no offset."""
    return None if dataset.offset is None else _digest(dataset.offset)


# --- the table ---


@dataclass
class Model:
    """One run as a row of the table."""

    folder: Path
    label: str  # name/run_id
    described: str  # "incidents ~ type + factor(year)", R's "Model 1:" line
    terms: list[str]
    result: RunResult


@dataclass
class Anova:
    models: list[Model]
    test: str  # Chisq | F
    tables: dict[str, "pd.DataFrame"]  # fit (network, glm) -> R's table, one row a model
    dispersion: dict[str, float]  # fit -> the dispersion the tests divide by (the largest model's)
    estimated: bool  # the dispersion is estimated (F on the largest model's residual df), else known (1)
    largest: float  # the largest difference between the two tables, each cell over max(|GLM's value|, 1)
    at: str  # where: "Resid. Dev, model 2"
    tolerance: float  # the runs' own verdict tolerance (the largest of them)
    notes: list[str] = field(default_factory=list)
    sequential: bool = False  # one run's terms added in turn (R's anova(fit)), rows named by term

    @property
    def equal(self) -> bool:
        return bool(self.largest <= self.tolerance)

    def verdict(self) -> str:
        return (
            f"largest difference between the networks' and the GLMs' tables: {self.largest:.3g} ({self.at}; "
            f"each cell over max(|GLM's value|, 1)), tolerance {self.tolerance:g} (the runs' own): "
            f"{'equal' if self.equal else 'different'}"
        )

    def frame(self) -> "pd.DataFrame":
        """Both tables in one DataFrame: a row a model (1, 2, ...), columns (fit, R's column)."""
        import pandas as pd

        frame = pd.concat({fit: self.tables[fit] for fit in FITS}, axis=1, names=["fit", None])
        frame.attrs = {
            "test": self.test,
            "models": [f"{m.label}: {m.described}" for m in self.models],
            "folders": [str(m.folder) for m in self.models],
            "dispersion": dict(self.dispersion),
            "dispersion_estimated": self.estimated,
            "largest_difference": self.largest,
            "tolerance": self.tolerance,
            "equal": self.equal,
            "verdict": self.verdict(),
            "notes": list(self.notes),
            "sequential": self.sequential,
        }
        return frame


def compute(folders: list[Path], test: str | None = None) -> Anova:
    """The analysis of deviance of runs (folders), in the order given. test: Chisq or F; None, as current R
    chooses: Chisq where the dispersion is known, F where it is estimated."""
    if len(folders) < 2:
        raise UserError("anova: give two or more runs of nested models (run folders or run ids), the smallest first")
    check_test(test)
    models = [model_of(Path(f)) for f in folders]
    estimated = check_comparable(models)
    notes = _check_nested(models)
    test = chosen(test, estimated, models[0], notes)
    tables, dispersion = {}, {}
    for fit in FITS:
        stats = [_statistics(m, fit) for m in models]
        biggest = int(np.argmin([s.df_resid for s in stats]))  # R: order(resdf)[1]
        dispersion[fit] = float(stats[biggest].dispersion) if estimated else 1.0
        tables[fit] = table(stats, test, dispersion[fit], estimated)
    notes += unreached(models)
    largest, at = largest_difference(tables["network"], tables["glm"])
    return Anova(models, test, tables, dispersion, estimated, largest, at, tolerance_of(models), notes)


def unreached(models: list[Model]) -> list[str]:
    """A note for each run whose network did not reach its GLM: its row differs between the tables."""
    notes = []
    for m in models:
        comparison = m.result.comparison
        if comparison is not None and comparison.equivalent is False:
            notes.append(
                f"{m.label}: the network did not reach its GLM ({comparison.outcome}): its row of the networks' table is not the GLM's"
            )
    return notes


def check_test(test: str | None) -> None:
    if test is not None and test not in TESTS:
        raise UserError(
            f"test: {short(test)} is not 'Chisq' (the deviance against chi-square) or 'F' (an F test, the dispersion estimated)"
        )


def chosen(test: str | None, estimated: bool, model: Model, notes: list[str]) -> str:
    """The test asked for, or R's choice: Chisq where the dispersion is known, F where it is estimated;
    an F test with a known dispersion gets R's warning as a note."""
    test = test or ("F" if estimated else "Chisq")
    if test == "F" and not estimated:
        family = (model.result.config.get("model") or {}).get("family")
        notes.append(f"an F test with a known dispersion (family {family}) is as R warns inappropriate: its denominator has infinite df")
    return test


ROUND_OFF = 1e-9  # of the largest residual deviance: a deviance difference this small is 0


def table(stats: list[Statistics], test: str, dispersion: float, estimated: bool) -> "pd.DataFrame":
    """R's table from each model's residual df and deviance, as anova.glmlist and stat.anova compute it."""
    import pandas as pd
    from scipy import stats as distributions

    resdf = np.array([s.df_resid for s in stats], dtype=float)
    resdev = np.array([s.deviance for s in stats], dtype=float)
    df = np.concatenate([[np.nan], -np.diff(resdf)])
    deviance = np.concatenate([[np.nan], -np.diff(resdev)])
    # a term that adds nothing leaves a difference at round-off, of either sign (R's own fit: +6e-15 on
    # Dobson's example, the network's: -3e-12): taken as 0, so that both tables test it alike (p = 1)
    round_off = ROUND_OFF * np.nanmax(np.abs(resdev)) if len(resdev) else 0.0
    deviance[np.abs(deviance) <= round_off] = 0.0
    columns = {"Resid. Df": resdf, "Resid. Dev": resdev, "Df": df, "Deviance": deviance}
    with np.errstate(divide="ignore", invalid="ignore"):
        if test == "Chisq":
            values = deviance / dispersion * np.sign(df)
            values[(df == 0) | (values < 0)] = np.nan
            columns["Pr(>Chi)"] = distributions.chi2.sf(values, np.abs(df))
        else:
            f_value = deviance / df / dispersion
            f_value[(df == 0) | (f_value < 0)] = np.nan
            # a known dispersion: an infinite denominator df, as R (the chi-square over its df)
            df_scale = float(np.min(resdf)) if estimated else math.inf
            columns["F"] = f_value
            columns["Pr(>F)"] = (
                distributions.f.sf(f_value, np.abs(df), df_scale) if estimated else distributions.chi2.sf(f_value * np.abs(df), np.abs(df))
            )
    frame = pd.DataFrame(columns, index=pd.RangeIndex(1, len(stats) + 1, name="model"))
    return frame


def model_of(folder: Path) -> Model:
    run = logbook.read(logbook.run_folder(folder))
    where = clip(str(run.folder), 200)
    if run.result is None:
        raise UserError(f"{where}: cannot compare a broken run ({run.problem})")
    if run.status != Status.COMPLETED:
        raise UserError(f"{where}: status {run.status}; only a completed run has deviances to compare")
    r = run.result
    for fit in FITS:
        section = getattr(r, fit)
        if section is None or section.statistics is None or not math.isfinite(section.statistics.deviance):
            raise UserError(f"{where}: result.json has no {fit} deviance (statistics.deviance) to compare")
    assert r.network is not None
    return Model(run.folder, f"{run.name}/{run.run_id}", described(r), list(flat(r.network.coefficients)), r)


def described(r: RunResult) -> str:
    """The model as R's anova heading writes it: its formula, or target ~ features."""
    data = r.config.get("data", {}) if isinstance(r.config.get("data"), dict) else {}
    if data.get("formula"):
        return str(data["formula"])
    features = data.get("features") or (r.data.feature_names if r.data else [])
    use_bias = (r.config.get("model") or {}).get("use_bias", True)
    target = data.get("target") or (r.data.target if r.data else "y")
    rhs = " + ".join(map(str, features)) or "1"
    return f"{target} ~ {rhs}" + ("" if use_bias else " - 1")


def _statistics(m: Model, fit: str) -> Statistics:
    """A fit's recorded figures, checked where a received result.json may hold anything: a residual df
    that is a whole number of 1 or more, a finite deviance and, where it divides, dispersion."""
    stats = getattr(m.result, fit).statistics
    df = stats.df_resid
    if df is None or not math.isfinite(df) or df < 1 or df != round(df):
        raise UserError(
            f"{clip(str(m.folder), 200)}: its result.json records {fit}.statistics.df_resid {short(df)}, not a whole number of 1 or more"
        )
    for name in ("deviance", "dispersion"):
        value = getattr(stats, name)
        if value is None or not math.isfinite(value) or value < 0:
            raise UserError(
                f"{clip(str(m.folder), 200)}: its result.json records {fit}.statistics.{name} {short(value)}, not a finite number of 0 or more"
            )
    return stats


def check_comparable(models: list[Model]) -> bool:
    """The runs fitted the same rows with the same family; returns whether the dispersion is estimated."""
    first = models[0]
    configs = []
    for m in models:
        try:
            configs.append(config_module.validate(m.result.config, str(m.folder / runlog.CONFIG_FILE)))
        except UserError as e:
            raise UserError(f"{clip(str(m.folder), 200)}: its recorded config no longer validates: {e}") from None
    for m, cfg in zip(models, configs):
        where = clip(str(m.folder), 200)
        if cfg.model.penalty is not None:
            raise UserError(f"{where}: a penalized fit (model.penalty): its deviance is not a likelihood's, and no deviance test applies")
        if cfg.family.estimated:
            raise UserError(
                f"{where}: model.alpha: estimate: each run estimated its own alpha, so their deviances are on different scales; "
                "fix model.alpha to one value in every run"
            )
    ours = [{key: getattr(cfg.model, key, None) for key in SAME_MODEL_KEYS} for cfg in configs]
    for m, model in zip(models[1:], ours[1:]):
        differs = [f"model.{k} {model[k]!r} against {ours[0][k]!r}" for k in SAME_MODEL_KEYS if model[k] != ours[0][k]]
        if differs:
            raise UserError(
                f"{clip(str(m.folder), 200)}: not the first run's family ({'; '.join(differs)}): deviances of different families do not compare"
            )
    for m in models[1:]:
        _check_same_rows(first, m)
    scale = configs[0].inference.scale
    scales = {str(cfg.inference.scale) for cfg in configs}
    if len(scales) > 1:
        raise UserError(f"the runs' inference.scale differ ({', '.join(sorted(scales))}): the tests' dispersion would not be one")
    return scale in ("X2", "dev") or (scale == "family" and configs[0].family.free_scale)


def _check_same_rows(first: Model, other: Model) -> None:
    a, b = first.result.data, other.result.data
    where = clip(str(other.folder), 200)
    if a is None or b is None:
        raise UserError(f"{where}: result.json has no data section: which rows it fitted is unknown")
    if a.target != b.target:
        raise UserError(
            f"{where}: its target {b.target!r} is not the first run's {a.target!r}: models of different responses do not compare"
        )
    if a.n_rows != b.n_rows:
        raise UserError(
            f"{where}: fitted on {b.n_rows} rows, the first run on {a.n_rows} (as R says: models were not all fitted to the same size of dataset)"
        )
    for m in (first, other):
        if m.result.data is None or m.result.data.rows_sha256 is None:
            raise UserError(
                f"{clip(str(m.folder), 200)}: records no identity of the rows it fitted (data.rows_sha256, written since anova "
                "was added): run it again to compare it"
            )
    if a.rows_sha256 != b.rows_sha256:
        raise UserError(
            f"{where}: fitted on different rows than the first run (the same count, {b.n_rows}, but another target, weights or "
            "order: data.rows_sha256 differs)"
        )
    if a.offset_sha256 != b.offset_sha256:
        has = lambda d: "none" if d.offset_sha256 is None else "one"  # noqa: E731
        raise UserError(
            f"{where}: its offset is not the first run's (its: {has(b)}, the first run's: {has(a)}; data.offset_sha256 differs): "
            "models with different offsets are not nested by their terms"
        )


def _check_nested(models: list[Model]) -> list[str]:
    """Each run's terms nest in the next run's, or the next run's in its (R allows either order)."""
    notes = []
    for i, (a, b) in enumerate(zip(models, models[1:]), start=1):
        small, big = set(a.terms), set(b.terms)
        if small == big:
            raise UserError(
                f"{clip(str(b.folder), 200)}: the same terms as the run before it: nothing to test "
                "(`nnglm compare` compares runs of one model)"
            )
        if small < big or big < small:
            if big < small:
                notes.append(f"model {i + 1} is nested in model {i}: its row's Df and Deviance are negative, as R shows them")
            continue
        raise UserError(
            f"{clip(str(b.folder), 200)}: its terms and those of the run before it do not nest: only that run has "
            f"{listing(sorted(small - big))}; only this one has {listing(sorted(big - small))}"
        )
    return notes


def largest_difference(network: "pd.DataFrame", glm: "pd.DataFrame") -> tuple[float, str]:
    """The largest difference between the tables, each cell over max(|GLM's value|, 1); a cell
    defined in one table only counts as infinite."""
    n, g = network.to_numpy(dtype=float), glm.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        gaps = np.abs(n - g) / np.maximum(np.abs(g), 1.0)
    gaps = np.where(np.isnan(n) & np.isnan(g), 0.0, gaps)
    gaps = np.where(np.isnan(n) ^ np.isnan(g), np.inf, gaps)
    row, column = np.unravel_index(int(np.argmax(gaps)), gaps.shape)
    where = f"model {glm.index[row]}" if glm.index.name == "model" else f"row {glm.index[row]}"
    return float(gaps[row, column]), f"{glm.columns[column]}, {where}"


def tolerance_of(models: list[Model]) -> float:
    """The largest of the runs' own verdict tolerances (compare.rtol or compare.max_abs)."""
    limits = [m.result.comparison.tolerance.limit for m in models if m.result.comparison and m.result.comparison.tolerance]
    limits = [x for x in limits if math.isfinite(x)]
    return max(limits, default=measure.across_runs([m.result.environment.dtype or "float32" for m in models]))
