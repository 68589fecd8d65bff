"""Data sources: the synthetic generators (generators.py), CSV files, statsmodels' datasets.

Every source gives a table; the config's target and features pick the
columns, which are then checked (present, numeric, finite, target allowed by
the family) before any fit sees them.
"""

import csv
import dataclasses
import difflib
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nnglm.config import Config, CsvData, StatsmodelsData, SyntheticData
from nnglm.errors import UserError, listing, short


@dataclass(frozen=True)
class Dataset:
    X: np.ndarray  # (rows, features), float64
    y: np.ndarray  # (rows,), float64; with trials, the proportion of successes
    feature_names: list[str]
    target: str
    classes: list[str] | None = None  # multinomial: y holds 0..C-1, the index into these labels
    var_weights: np.ndarray | None = None  # statsmodels' var_weights: data.weights (var) times data.trials
    freq_weights: np.ndarray | None = None  # statsmodels' freq_weights: data.weights (freq)
    offset: np.ndarray | None = None  # added to the linear predictor: data.offset + log(data.exposure)
    intercept: str = "const"  # the intercept's name ('Intercept' with a formula, as statsmodels names it)
    rows_dropped: int = 0  # data.missing: drop

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]

    @property
    def weights(self) -> np.ndarray | None:
        """Each row's weight in the loss: its var weight times its freq weight (None: all 1)."""
        if self.var_weights is None and self.freq_weights is None:
            return None
        ones = np.ones(self.n_rows)
        return (ones if self.var_weights is None else self.var_weights) * (ones if self.freq_weights is None else self.freq_weights)

    @property
    def n_obs(self) -> float:
        """The number of observations: the rows, or the sum of the frequency weights."""
        return float(self.freq_weights.sum()) if self.freq_weights is not None else float(self.n_rows)

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.classes else 1

    def subset(self, rows: np.ndarray) -> "Dataset":
        def part(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[rows]

        return dataclasses.replace(
            self,
            X=self.X[rows],
            y=self.y[rows],
            var_weights=part(self.var_weights),
            freq_weights=part(self.freq_weights),
            offset=part(self.offset),
        )

    def terms(self, use_bias: bool) -> list[str]:
        """Coefficient labels in order: the intercept ('const', or 'Intercept' with a formula) first, then
        the features; for a multinomial model, '<class>:<term>' for every class but the reference (the first)."""
        terms = ([self.intercept] if use_bias else []) + self.feature_names
        if self.classes:
            return [f"{c}:{t}" for c in self.classes[1:] for t in terms]
        return terms


def load(config: Config) -> Dataset:
    try:
        return select(read(config), config, config.data.describe())
    except MemoryError:
        raise UserError(f"data: the data does not fit in this machine's memory ({available_memory() / 2**30:.1f} GiB available)") from None


# --- memory ---

# statsmodels' IRLS peaks at about 10 times the float64 design matrix (measured by `make bench`)
MEMORY_FACTOR = 10


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable), or all of it where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(key: str, rows: int, columns: int) -> None:
    """Refuse data that could not be fitted in this machine's memory, before it is made."""
    need = rows * columns * 8 * MEMORY_FACTOR
    if need > available_memory():
        raise UserError(
            f"{key}: {rows:,} rows x {columns:,} columns need about {need / 2**30:,.1f} GiB for one run "
            f"({MEMORY_FACTOR} times the float64 design matrix, as statsmodels' IRLS takes); "
            f"this machine has {available_memory() / 2**30:.1f} GiB available"
        )


def split(dataset: Dataset, config: Config) -> tuple[Dataset, Dataset | None]:
    """Training rows and held-out rows (data.validation_fraction, a seeded random choice)."""
    fraction = config.data.validation_fraction
    if fraction == 0:
        return dataset, None
    n = dataset.n_rows
    held = int(round(fraction * n))
    n_coefs = len(dataset.terms(config.model.use_bias))
    if held < 1 or n - held < n_coefs:
        raise UserError(
            f"data.validation_fraction: {fraction:g} of {n} rows leaves {held} held out and {n - held} to train on; "
            f"both fits need at least {n_coefs} training rows and at least 1 held out"
        )
    order = np.random.default_rng([config.seed, 1]).permutation(n)  # independent of the data's own draw
    return dataset.subset(np.sort(order[held:])), dataset.subset(np.sort(order[:held]))


def read(config: Config) -> pd.DataFrame:
    """The source's table: a CSV file, a statsmodels dataset, or a generator's draw."""
    match config.data:
        case CsvData(path=path):
            return read_csv(path)
        case StatsmodelsData(dataset=dataset):
            return read_statsmodels(dataset)
        case SyntheticData() as synthetic:
            return generate(synthetic, config)


def generate(data: SyntheticData, config: Config) -> pd.DataFrame:
    params = data.generator_params()
    outputs = params.get("n_classes", 1)
    check_memory("data.n_rows", params.get("n_rows", 4), params.get("n_features", 2) + 1 + outputs)
    return data.generator_spec().draw(np.random.default_rng(config.seed), config.family)


# --- files ---


def read_csv(path: str) -> pd.DataFrame:
    header = read_header(path)
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            raise UserError(
                f"data.path: column {short(name)} appears twice in the header of {path} (columns {seen[name] + 1} and {i + 1}); rename one"
            )
        seen[name] = i
    try:
        return pd.read_csv(Path(path), encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"data.path: cannot read {path} as CSV: {short(str(e).strip(), 300)[1:-1]}") from None


def read_header(path: str) -> list[str]:
    """The first row of a CSV file, as written (pandas would rename a repeated name to 'a.1')."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise UserError(f"data.path: {path} is a folder; give a CSV file")
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            raise UserError(f"data.path: {path} is a device, not a CSV file")
        with open(path, newline="", encoding="utf-8-sig") as f:
            return next(csv.reader(f), [])
    except FileNotFoundError:
        raise UserError(f"data.path: file not found: {path}") from None
    except UnicodeDecodeError as e:
        raise UserError(
            f"data.path: {path} is not UTF-8 text (byte 0x{e.object[e.start]:02x} in its first lines); save it as UTF-8"
        ) from None
    except csv.Error as e:
        raise UserError(f"data.path: cannot read the header of {path}: {e}") from None
    except OSError as e:
        raise UserError(f"data.path: cannot read {path}: {e.strerror}") from None


def read_statsmodels(name: str) -> pd.DataFrame:
    import statsmodels.datasets as datasets

    available = statsmodels_datasets()
    if name not in available:
        raise UserError(f"data.dataset: statsmodels has no dataset {name!r}; available: {', '.join(available)}")
    return getattr(datasets, name).load_pandas().data


def statsmodels_datasets() -> list[str]:
    import statsmodels.datasets as datasets

    return sorted(n for n in dir(datasets) if hasattr(getattr(datasets, n), "load_pandas"))


# --- selection and checks ---


def missing_column(key: str, name: str, columns: list[str], origin: str) -> UserError:
    """'column 'y' not in d.csv; did you mean ' y' (with a space)?; columns are: 'a', ' y'"""
    near = [c for c in columns if c.strip() == name.strip() or c.casefold() == name.casefold()]
    near = near or difflib.get_close_matches(name, columns, n=1)
    hint = ""
    if near:
        spaced = " (with a space)" if near[0].strip() != near[0] else ""
        hint = f"; did you mean {short(near[0])}{spaced}?"
    return UserError(f"{key}: column {short(name)} not in {origin}{hint}; columns are: {listing(columns)}")


def select(frame: pd.DataFrame, config: Config, origin: str) -> Dataset:
    data = config.data
    frame.columns = [str(c) for c in frame.columns]
    frame, dropped = drop_missing(frame, config, origin)
    if data.formula is not None:
        X, names, y, target = formula_design(frame, config, origin)
    else:
        X, names, y, target = columns_design(frame, config, origin)
    check_memory("data", len(y), X.shape[1] + 1)
    extras = extra_columns(frame, config, origin)
    _check_range(X, names, y, target, config, origin)
    trials = extras.get("trials")
    if trials is not None:
        y = proportions(y, trials, target, str(data.trials))
    weighted = trials is not None or "weights" in extras
    _check_target(y, target, config, weighted)
    classes = None
    if config.family.multiclass:
        labels, y = np.unique(y, return_inverse=True)
        if len(labels) < 2:
            raise UserError(f"data.target: column {target!r} holds one class only; a multinomial model needs two or more")
        classes = [f"{v:g}" for v in labels]
        y = y.astype(float)
    batch = config.train.batch_size
    if batch != "full" and batch > len(y):
        raise UserError(f"train.batch_size: {batch} is more than the {len(y)} rows of the data; use 'full' or at most {len(y)}")
    var, freq = extras.get("weights"), None
    if data.weights_kind == "freq":
        var, freq = None, var
    if trials is not None:
        var = trials if var is None else var * trials
    return Dataset(
        X=X,
        y=y,
        feature_names=names,
        target=target,
        classes=classes,
        var_weights=var,
        freq_weights=freq,
        offset=offset_of(extras, config),
        intercept="Intercept" if data.formula is not None else "const",
        rows_dropped=dropped,
    )


def extra_keys(config: Config) -> dict[str, str]:
    """{key: column} for data.trials, weights, offset and exposure, where set."""
    data = config.data
    keys = {"trials": data.trials, "weights": data.weights, "offset": data.offset, "exposure": data.exposure}
    return {key: column for key, column in keys.items() if column is not None}


def drop_missing(frame: pd.DataFrame, config: Config, origin: str) -> tuple[pd.DataFrame, int]:
    """data.missing: drop leaves out the rows with a missing value in a used column; with error (the
    default) they stay, and the column checks name them."""
    data = config.data
    if data.missing != "drop":
        return frame, 0
    used = list(extra_keys(config).values())
    if data.formula is None:
        used += [str(data.target)] + (data.features if data.features is not None else list(frame.columns))
    else:
        used += formula_columns(data.formula, list(frame.columns))
    used = [c for c in dict.fromkeys(used) if c in frame.columns]
    missing = frame[used].isna().any(axis=1).to_numpy()
    if missing.all():
        raise UserError(f"data.missing: drop would leave no rows: every row of {origin} has a missing value in {listing(used)}")
    return frame[~missing].reset_index(drop=True), int(missing.sum())


def formula_columns(formula: str, columns: list[str]) -> list[str]:
    """The columns a formula names (a name that is a column, wherever it appears)."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)) | set(re.findall(r"Q\(['\"]([^'\"]+)['\"]\)", formula))
    return [c for c in columns if c in words]


def formula_design(frame: pd.DataFrame, config: Config, origin: str) -> tuple[np.ndarray, list[str], np.ndarray, str]:
    """The design statsmodels' own formula handling builds, with its term names; the intercept
    column becomes the network's bias."""
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import MissingDataError

    formula = str(config.data.formula)
    for column in formula_columns(formula, list(frame.columns)):
        missing = frame[column].isna().to_numpy()
        if missing.any():
            raise UserError(
                f"data: column {short(column)} of {origin}, which the formula uses, has missing values; "
                f"{offending(missing, lambda r: '')}; set data.missing: drop to leave those rows out"
            )
    try:
        model = smf.glm(formula, frame, missing="raise")
    except MissingDataError:
        raise UserError(
            f"data.formula: a column it uses has missing values in {origin}; set data.missing: drop to leave those rows out"
        ) from None
    except Exception as e:  # the formula library's errors: unknown names, syntax, functions
        raise formula_error(formula, e, list(frame.columns), origin) from None
    if model.endog.ndim > 1 and model.endog.shape[1] > 1:
        raise UserError(f"data.formula: its left-hand side {short(formula.split('~')[0].strip())} must be one numeric column")
    names = list(model.exog_names)
    has_intercept = "Intercept" in names
    if has_intercept and not config.model.use_bias:
        raise UserError(
            f"data.formula: {short(formula)} has an intercept, but model.use_bias is false; "
            "write '- 1' in the formula (no intercept) or set model.use_bias: true"
        )
    if config.model.use_bias and not has_intercept:
        raise UserError(
            f"data.formula: {short(formula)} has no intercept, but model.use_bias is true; "
            "set model.use_bias: false or take '- 1' out of the formula"
        )
    keep = [j for j, n in enumerate(names) if n != "Intercept"]
    X = np.asarray(model.exog, dtype=float)[:, keep]
    return X, [names[j] for j in keep], np.asarray(model.endog, dtype=float).ravel(), str(model.endog_names)


def formula_error(formula: str, error: Exception, columns: list[str], origin: str) -> UserError:
    text = str(error).strip()
    name = re.search(r"name '([^']+)' is not defined", text)
    if name and name.group(1) not in ("np", "C", "Q", "I"):
        return missing_column("data.formula", name.group(1), columns, origin)
    return UserError(f"data.formula: cannot build the design from {short(formula)}: {short(text.splitlines()[0], 300)[1:-1]}")


def columns_design(frame: pd.DataFrame, config: Config, origin: str) -> tuple[np.ndarray, list[str], np.ndarray, str]:
    """The design from data.target, data.features and data.categorical (dummy coded)."""
    data = config.data
    columns = list(frame.columns)
    target = str(data.target)
    if target not in columns:
        raise missing_column("data.target", target, columns, origin)
    targets = data.target_columns()
    extras = list(extra_keys(config).values())
    features = data.features if data.features is not None else [c for c in columns if c not in targets and c not in extras]
    check_features(features, frame, config, origin)
    n_terms = len(features) - len(data.categorical) + int(config.model.use_bias)
    n_terms += sum(frame[name].nunique() - 1 for name in data.categorical)
    if len(frame) < n_terms:
        raise UserError(f"data: {len(frame)} rows from {origin}, fewer than the {n_terms} coefficients to estimate")
    check_memory("data.categorical" if data.categorical else "data", len(frame), n_terms)
    parts, names = [], []
    for name in features:
        if name in data.categorical:
            dummies = dummy_code(frame[name], name)
            parts += [dummies[c].to_numpy(dtype=float) for c in dummies.columns]
            names += list(dummies.columns)
        else:
            parts.append(_numeric(frame, name, origin))
            names.append(name)
    X = np.column_stack(parts) if parts else np.empty((len(frame), 0))
    return X, names, _numeric(frame, target, origin), target


def check_features(features: list[str], frame: pd.DataFrame, config: Config, origin: str) -> None:
    data = config.data
    columns = list(frame.columns)
    for key, names in (("data.features", features), ("data.categorical", data.categorical)):
        twice = sorted(n for n, count in Counter(names).items() if count > 1)
        if twice:
            raise UserError(f"{key}: {listing(twice)} listed twice; name each column once")
    for name in features:
        if name not in columns:
            raise missing_column("data.features", name, columns, origin)
    if data.target in features:
        raise UserError(f"data.features: the target column {data.target!r} cannot also be a feature")
    for key, column in extra_keys(config).items():
        if column in features or column == data.target:
            raise UserError(f"data.{key}: column {short(column)} is also the target or a feature; a column has one role")
    if not features and not config.model.use_bias:
        raise UserError("data.features: no features and model.use_bias is false: there is nothing to fit")
    for name in data.categorical:
        if name not in features:
            raise UserError(f"data.categorical: {short(name)} is not among the features ({listing(features)})")


def extra_columns(frame: pd.DataFrame, config: Config, origin: str) -> dict[str, np.ndarray]:
    """data.trials, weights, offset and exposure, each read and checked."""
    out = {}
    rules = {
        "trials": (lambda v: (v >= 1) & (v == np.round(v)), "whole numbers, 1 or more"),
        "weights": (lambda v: v >= 0, "0 or more"),
        "offset": (lambda v: np.ones(len(v), bool), "finite numbers"),
        "exposure": (lambda v: v > 0, "greater than 0 (the offset is its log)"),
    }
    for key, column in extra_keys(config).items():
        if column not in frame.columns:
            raise missing_column(f"data.{key}", column, list(frame.columns), origin)
        values = _numeric(frame, column, origin)
        ok, rule = rules[key]
        bad = ~ok(values)
        if bad.any():
            shown = offending(bad, lambda r, v=values: f" ({v[r]:g})")
            raise UserError(f"data.{key}: column {short(column)} must hold {rule}; {shown}")
        out[key] = values
    if "weights" in out and not out["weights"].any():
        raise UserError(f"data.weights: column {short(config.data.weights)} is 0 on every row; nothing would be fitted")
    return out


def proportions(successes: np.ndarray, trials: np.ndarray, target: str, column: str) -> np.ndarray:
    bad = (successes < 0) | (successes > trials) | (successes != np.round(successes))
    if bad.any():
        shown = offending(bad, lambda r: f" ({successes[r]:g} of {trials[r]:g})")
        raise UserError(
            f"data.target: column {short(target)} counts successes out of data.trials ({short(column)}): "
            f"it must be a whole number from 0 to the trials; {shown}"
        )
    return successes / trials


def offset_of(extras: dict[str, np.ndarray], config: Config) -> np.ndarray | None:
    if "offset" not in extras and "exposure" not in extras:
        return None
    offset = np.asarray(extras.get("offset", 0.0) + np.log(extras.get("exposure", 1.0)), dtype=float)
    with np.errstate(all="ignore"):
        mean = config.family.sm_family().link.inverse(offset)
    if "offset" in extras and not np.all(np.isfinite(mean)):
        bad = ~np.isfinite(mean)
        raise UserError(
            f"data.offset: column {short(config.data.offset)} is on the scale of the linear predictor, where "
            f"{np.max(np.abs(offset[bad])):.4g} gives the {config.family.link} link an infinite mean; "
            "for a log link give the exposure itself as data.exposure (its log is the offset)"
        )
    return offset


def dummy_code(values: pd.Series, name: str) -> pd.DataFrame:
    """Treatment contrasts, as R's default: one column per level but the first (sorted), coded by the
    formula library statsmodels uses, the terms named like colour[T.red]."""
    import patsy

    if values.isna().any():
        raise UserError(f"data.categorical: column {name!r} has missing values; {offending(values.isna().to_numpy(), lambda r: '')}")
    design = patsy.dmatrix("C(v)", pd.DataFrame({"v": values.astype(str) if values.dtype == object else values}), return_type="dataframe")
    design = design.drop(columns="Intercept")
    return design.rename(columns=lambda c: name + c.removeprefix("C(v)"))


def _numeric(frame: pd.DataFrame, name: str, origin: str) -> np.ndarray:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        shown = offending(bad, lambda r: f" ({short(frame[name].iloc[r])})")
        hint = "; set data.missing: drop to leave rows with missing values out" if frame[name].isna().any() else ""
        raise UserError(f"data: column {short(name)} of {origin} must hold finite numbers; {shown}{hint}")
    return values


def _check_range(X: np.ndarray, names: list[str], y: np.ndarray, target: str, config: Config, origin: str) -> None:
    """float32 ends at 3.4e38: a larger value would reach the network as infinity."""
    dtype = config.train.dtype
    largest = float(np.finfo(dtype).max)
    checks = [(target, y)] + ([] if config.train.standardize else list(zip(names, X.T)))
    for name, values in checks:
        if values.size and np.max(np.abs(values)) > largest:
            raise UserError(
                f"data: column {short(name)} of {origin} holds {np.max(np.abs(values)):.3g} in magnitude, beyond {dtype}'s "
                f"largest number ({largest:.3g}), which the network trains in; set train.dtype: float64, "
                "train.standardize: true (features only) or rescale the column"
            )


def _check_target(y: np.ndarray, target: str, config: Config, weighted: bool) -> None:
    family = config.family
    bad = ~family.target_ok(y, weighted)
    if bad.any():
        shown = offending(bad, lambda r: f" ({y[r]:g})")
        counts = np.all((y[bad] >= 1) & (y[bad] == np.round(y[bad])))
        hint = "; for successes out of trials, set data.trials" if family.takes_trials and not weighted and counts else ""
        raise UserError(
            f"data.target: column {target!r} must be {family.target_rule_for(weighted)} for family {family.family}; {shown}{hint}"
        )


def offending(bad: np.ndarray, value) -> str:
    """'first offending rows (0-based): 3 (2), 7 (-1)' for the first five rows where `bad` holds."""
    rows = np.flatnonzero(bad)[:5]
    return "first offending rows (0-based): " + ", ".join(f"{r}{value(r)}" for r in rows)
