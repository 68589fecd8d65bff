"""Data sources: the synthetic generators (generators.py), data files (files.py), statsmodels' datasets, a DataFrame (frames.py).

Every source gives a table; the config's target and features pick the
columns, which are then checked (present, numeric, finite, target allowed by
the family) before any fit sees them.
"""

import dataclasses
import difflib
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nnglm.config import DataFrameData, FileData, StatsmodelsData, SyntheticData
from nnglm.config.schema import DataSource
from nnglm.data import bases, checks, files, frames
from nnglm.data.spec import DataSpec
from nnglm.foundation.errors import UserError, listing, short
from nnglm.vocabulary import families, formula
from nnglm.vocabulary.families import Family
from nnglm.vocabulary.names import INTERCEPT, design_names, in_r_order, level_name


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
    intercept: str = INTERCEPT  # the intercept's name, as R names it
    rows_dropped: int = 0  # data.missing: drop
    success: str | None = None  # binomial with a labelled target: the level that counts as 1
    read_as: str | None = None  # a data file: how it was read (files.Table.read_as)
    notes: list[str] = dataclasses.field(default_factory=list)  # what reading the data decided (row labels, factors, ...)
    groups: np.ndarray | None = None  # inference.groups: each row's cluster, coded 0, 1, ...
    # with data.formula: the formula library's DesignInfo of the right-hand side (intercept included):
    # patsy.build_design_matrices([design], new_rows) applies the same columns, bases and levels to new rows
    design: Any = None

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

    def feature_list(self) -> str:
        """The features by name, the first 20 and how many more: 'age', 'wcyes', … (3 more)"""
        return listing(self.feature_names) if self.feature_names else "none (the intercept only)"

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
            groups=part(self.groups),
        )

    def terms(self, use_bias: bool) -> list[str]:
        """Coefficient labels in order: the intercept ('(Intercept)') first, then
        the features; for a multinomial model, '<class>:<term>' for every class but the reference (the first)."""
        terms = ([self.intercept] if use_bias else []) + self.feature_names
        if self.classes:
            return [f"{c}:{t}" for c in self.classes[1:] for t in terms]
        return terms


def load(spec: DataSpec) -> Dataset:
    try:
        dataset = select(read(spec), spec, spec.data.describe())
    except MemoryError:
        raise UserError(
            f"data: the data does not fit in this machine's memory ({checks.available_memory() / 2**30:.1f} GiB available)"
        ) from None
    checks.against_data(dataset, spec)  # what the schema cannot judge without the data
    return dataset


def split(dataset: Dataset, spec: DataSpec) -> tuple[Dataset, Dataset | None]:
    """Training rows and held-out rows (data.validation_fraction, a seeded random choice)."""
    fraction = spec.data.validation_fraction
    if fraction == 0:
        return dataset, None
    n = dataset.n_rows
    held = int(round(fraction * n))
    n_coefs = len(dataset.terms(spec.use_bias))
    if held < 1 or n - held < n_coefs:
        raise UserError(
            f"data.validation_fraction: {fraction:g} of {n} rows leaves {held} held out and {n - held} to train on; "
            f"both fits need at least {n_coefs} training rows and at least 1 held out"
        )
    order = np.random.default_rng([spec.seed, 1]).permutation(n)  # independent of the data's own draw
    return dataset.subset(np.sort(order[held:])), dataset.subset(np.sort(order[:held]))


def read(spec: DataSpec) -> pd.DataFrame:
    """The source's table: a data file, a statsmodels dataset, a generator's draw, or a DataFrame."""
    match spec.data:
        case FileData() as file:
            keys = {"object": file.object, "table": file.table, "query": file.query, "url": file.url}
            table = files.read(file.path, file.format, file.delimiter, file.sheet, **keys)
            table.frame.attrs["read_as"] = table.read_as
            return table.frame
        case StatsmodelsData(dataset=dataset):
            return read_statsmodels(dataset)
        case SyntheticData() as synthetic:
            return generate(synthetic, spec.seed, spec.family)
        case DataFrameData() as given:
            return frames.read(given)


def generate(data: SyntheticData, seed: int, family: Family) -> pd.DataFrame:
    params = data.generator_params()
    outputs = params.get("n_classes", 1)
    checks.check_memory("data.n_rows", params.get("n_rows", 4), params.get("n_features", 2) + 1 + outputs)
    return data.generator_spec().draw(np.random.default_rng(seed), family)


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


def missing_column(key: str, name: str, columns: list[str], origin: str, read_as: str | None = None) -> UserError:
    """'column 'y' not in d.csv; did you mean ' y' (with a space)?; columns are: 'a', ' y'"""
    near = [c for c in columns if c.strip() == name.strip() or c.casefold() == name.casefold()]
    near = near or difflib.get_close_matches(name, columns, n=1)
    hint = ""
    if near:
        spaced = " (with a space)" if near[0].strip() != near[0] else ""
        hint = f"; did you mean {short(near[0])}{spaced}?"
    how = f" (read as {read_as}; set data.delimiter if that is wrong)" if read_as and "delimited" in read_as and len(columns) == 1 else ""
    return UserError(f"{key}: column {short(name)} not in {origin}{how}{hint}; columns are: {listing(columns)}")


def select(frame: pd.DataFrame, spec: DataSpec, origin: str) -> Dataset:
    data = spec.data
    read_as = frame.attrs.get("read_as")
    frame.columns = [str(c) for c in frame.columns]
    if not frame.columns.is_unique:  # 1 and "1", once names are text
        twice = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise UserError(f"data: columns named {listing(twice)} more than once in {origin} (compared as text); rename them")
    notes: list[str] = []
    frame = drop_row_labels(frame, notes)
    frame = drop_unused_levels(frame)
    frame.attrs["read_as"] = read_as
    frame, dropped = drop_missing(frame, data, spec.groups, origin)
    formula_extras: dict[str, np.ndarray] = {}
    design = None
    if data.formula is not None:
        X, names, target_values, target, design = formula_design(frame, spec, origin, formula_extras)
    else:
        X, names, target_values, target = columns_design(frame, spec, origin, notes)
    checks.check_memory("data", len(target_values), X.shape[1] + 1)
    _check_term_names(names, spec.use_bias)
    notes += checks.factor_like(frame, names)
    extras = merge_extras(extra_columns(frame, data, origin), formula_extras)
    y, classes, success = target_of(target_values, target, spec, origin)
    if success is not None:
        notes.append(
            f"target {short(target)}: {short(success)} counts as success (1), {levels_text(target_values, success)} as failure (0)"
        )
    _check_range(X, names, y, target, origin, spec.dtype, spec.standardize)
    trials = extras.get("trials")
    if trials is not None:
        y = proportions(y, trials, target, str(data.trials) if data.trials else "cbind")
    weighted = trials is not None or "weights" in extras
    if classes is None:
        _check_target(y, target, spec.family, spec.family_assumed, weighted)
    batch = spec.batch_size
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
        offset=offset_of(extras, data, spec.family),
        rows_dropped=dropped,
        success=success,
        notes=notes,
        read_as=read_as,
        groups=groups_of(frame, spec.groups, origin),
        design=design,
    )


def _check_term_names(names: list[str], use_bias: bool) -> None:
    """Each coefficient has its own name: a column named as the intercept, or as another term's R name
    (a factor a's level b is the term 'ab'), would make two coefficients of one name."""
    terms = ([INTERCEPT] if use_bias else []) + names
    twice = sorted(t for t, count in Counter(terms).items() if count > 1)
    if twice:
        raise UserError(
            f"data: two terms of the design are named {listing(twice)} (a column named as the intercept, "
            "or as a factor's level is named); rename the column"
        )


# --- row labels, levels, targets ---

ROW_LABELS = ("", "Unnamed: 0", "rownames")  # the leading column R's write.csv, pandas' to_csv and Rdatasets write


def drop_row_labels(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """A leading unnamed column numbering the rows 1..n (or 0..n-1), or naming each row differently
    (R's row names, as write.csv writes them), is the row labels, not a feature."""
    if frame.shape[1] < 2 or frame.columns[0] not in ROW_LABELS:
        return frame
    column = frame.iloc[:, 0]
    name = "the first column (no name in the file)" if frame.columns[0] in ("", "Unnamed: 0") else f"column {short(frame.columns[0])}"
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    n = len(frame)
    if n and (np.array_equal(values, np.arange(1, n + 1)) or np.array_equal(values, np.arange(n))):
        notes.append(f"{name} numbers the rows ({values[0]:g}..{values[-1]:g}): row labels, left out")
        return frame.iloc[:, 1:]
    if n and is_text(column) and column.notna().all() and column.nunique() == n:
        notes.append(f"{name} names every row differently ({listing([str(v) for v in column.iloc[:3]])}, ...): row names, left out")
        return frame.iloc[:, 1:]
    return frame


def drop_unused_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns keep their own level order, less the levels no row has (R's model.frame
    drops them too): an empty level would be an all-zero column."""
    categorical = [c for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
    if not categorical:
        return frame
    frame = frame.copy()
    for c in categorical:
        frame[c] = frame[c].cat.remove_unused_categories()
    return frame


def is_text(values: pd.Series) -> bool:
    """A column of labels (text or categorical), not of numbers: mostly not numbers, or categorical."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return False
    present = values.dropna()
    if present.empty:
        return False
    # a numeric column with a few stray entries stays numeric, so that its bad rows are named
    return bool(pd.to_numeric(present, errors="coerce").isna().mean() > 0.5)


def levels(values: pd.Series) -> list:
    """A label column's levels in R's order: a categorical's own, else sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    present = values.dropna().unique()
    try:
        return sorted(present)
    except TypeError:  # mixed types: sorted by their text
        return sorted(present, key=str)


def label(value) -> str:
    """A level as messages, result.json and coefficient names show it."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{float(value):g}"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def levels_text(values: pd.Series, success: str) -> str:
    others = [label(v) for v in levels(values) if label(v) != success]
    return listing(others)


def target_of(values: pd.Series, target: str, spec: DataSpec, origin: str) -> tuple[np.ndarray, list[str] | None, str | None]:
    """(y, class labels, success level): numbers as they are; labels as R's factor codes them."""
    family, data = spec.family, spec.data
    if values.isna().any():
        raise UserError(
            f"data: column {short(target)} of {origin} has missing values; {offending(values.isna().to_numpy(), lambda r: '')}; "
            "set data.missing: drop to leave rows with missing values out"
        )
    if family.multiclass:
        if not is_text(values):
            _check_target(numeric_values(values, target, origin), target, family, spec.family_assumed, weighted=False)
        return multinomial_target(values, target, data.reference_class)
    text = is_text(values)
    if family.takes_trials and (text or data.success is not None) and data.trials is None:
        found = levels(values)
        names = [label(v) for v in found]
        if data.success is not None and label(data.success) not in names:
            raise UserError(f"data.success: {short(data.success)} is not a level of column {short(target)}; its levels: {listing(names)}")
        if len(found) > 2 or (len(found) == 1 and data.success is None):
            raise UserError(
                f"data.target: column {short(target)} holds {len(found)} levels ({listing(names)}); a binomial target has two "
                "(set data.success to the level that counts as success, or use model.family multinomial)"
                if len(found) > 2
                else f"data.target: column {short(target)} holds one level only ({listing(names)}); a binomial target has two"
            )
        success = label(data.success) if data.success is not None else names[-1]
        return np.array([label(v) == success for v in values], dtype=float), None, success
    if text:
        raise UserError(
            f"data.target: column {short(target)} of {origin} holds labels ({listing([label(v) for v in levels(values)], 5)}); "
            f"model.family {family.family} needs numbers"
        )
    return numeric_values(values, target, origin), None, None


def multinomial_target(values: pd.Series, target: str, reference) -> tuple[np.ndarray, list[str], None]:
    found = levels(values) if is_text(values) else sorted(values.unique())
    names = [label(v) for v in found]
    if len(names) < 2:
        raise UserError(f"data.target: column {target!r} holds one class only; a multinomial model needs two or more")
    if any(":" in n for n in names):
        raise UserError(
            f"data.target: class {short(next(n for n in names if ':' in n))} holds ':', which names a class's terms (class:term); rename it"
        )
    if reference is not None:
        if label(reference) not in names:
            raise UserError(
                f"data.reference_class: {short(reference)} is not a class of column {short(target)}; its classes: {listing(names)}"
            )
        at = names.index(label(reference))
        found, names = [found[at]] + found[:at] + found[at + 1 :], [names[at]] + names[:at] + names[at + 1 :]
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[label(v)] for v in values], dtype=float), names, None


def extra_keys(data: DataSource) -> dict[str, str]:
    """{key: column} for data.trials, weights, offset and exposure, where set."""
    keys = {"trials": data.trials, "weights": data.weights, "offset": data.offset, "exposure": data.exposure}
    return {key: column for key, column in keys.items() if column is not None}


def group_columns(groups: str | None) -> list[str]:
    """inference.groups, where set: the column that names each row's cluster."""
    return [groups] if groups is not None else []


def groups_of(frame: pd.DataFrame, column: str | None, origin: str) -> np.ndarray | None:
    """Each row's cluster (inference.groups) coded 0, 1, ... in order of first appearance; labels or numbers alike."""
    if column is None:
        return None
    if column not in frame.columns:
        raise missing_column("inference.groups", column, list(frame.columns), origin)
    values = frame[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise UserError(f"inference.groups: column {short(column)} has a missing value; {offending(missing, lambda r: '')}")
    codes, clusters = pd.factorize(values)
    if len(clusters) < 2:
        raise UserError(f"inference.groups: column {short(column)} names {len(clusters)} cluster; cluster-robust errors need at least 2")
    return codes.astype(np.int64)


def drop_missing(frame: pd.DataFrame, data: DataSource, groups: str | None, origin: str) -> tuple[pd.DataFrame, int]:
    """data.missing: drop leaves out the rows with a missing value in a used column; with error (the
    default) they stay, and the column checks name them."""
    if data.missing != "drop":
        return frame, 0
    used = list(extra_keys(data).values()) + group_columns(groups)
    if data.formula is None:
        used += [str(data.target)] + (data.features if data.features is not None else list(frame.columns))
    else:
        used += formula_columns(data, groups, list(frame.columns))
    used = [c for c in dict.fromkeys(used) if c in frame.columns]
    missing = frame[used].isna().any(axis=1).to_numpy()
    if missing.all():
        raise UserError(f"data.missing: drop would leave no rows: every row of {origin} has a missing value in {listing(used)}")
    return frame[~missing].reset_index(drop=True), int(missing.sum())


def formula_columns(data: DataSource, groups: str | None, columns: list[str]) -> list[str]:
    """The columns a formula names, those its '.' stands for included."""
    parsed = data.parsed_formula()
    if parsed is None:
        return []
    dot = dot_columns(parsed, data, groups, columns) if parsed.dot else []
    return [c for c in columns if c in parsed.names or c in dot]


def dot_columns(parsed: formula.Formula, data: DataSource, groups: str | None, columns: list[str]) -> list[str]:
    """What R's '.' stands for: every column but the target's and those data.weights, data.offset,
    data.exposure, data.trials and inference.groups name."""
    taken = set(parsed.left_names) | set(extra_keys(data).values()) | set(group_columns(groups))
    return [c for c in columns if c not in taken]


def formula_rhs(parsed: formula.Formula, data: DataSource, groups: str | None, columns: list[str]) -> str:
    """The right-hand side for the formula library, '.' expanded against the data's columns."""
    try:
        return parsed.expand(dot_columns(parsed, data, groups, columns))
    except formula.FormulaError as e:
        raise UserError(str(e)) from None


def formula_design(
    frame: pd.DataFrame, spec: DataSpec, origin: str, extras: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[str], pd.Series, str, Any]:
    """The design the formula library statsmodels uses builds, its terms named as R names them (names.py),
    and its DesignInfo; the intercept column becomes the network's bias. cbind's trials and offset()'s
    sum go into `extras`."""
    import patsy

    data, groups = spec.data, spec.groups
    parsed = data.parsed_formula()
    assert parsed is not None  # only called with data.formula set
    where = f"data.formula: {short(parsed.text)}"
    columns = list(frame.columns)
    _check_formula_columns(frame, parsed, data, groups, origin)
    rhs = formula_rhs(parsed, data, groups, columns)
    check_formula_cost(parsed, rhs, frame, data, groups)
    try:
        design = patsy.dmatrix(rhs, as_doubles(frame), eval_env=formula_env(), NA_action="raise", return_type="dataframe")
    except UserError:  # a basis's own message (bases.py)
        raise
    except Exception as e:  # the formula library's errors: types, levels, functions
        raise UserError(f"{where}: cannot build the design: {short(str(e).strip().splitlines()[0], 300)[1:-1]}") from None
    info, order = in_r_order(design.design_info, patsy.ModelDesc.from_formula(rhs).rhs_termlist)
    terms = design_names(info)
    _check_intercept(parsed.text, INTERCEPT in terms, spec.use_bias)
    keep = [n for n in terms if n != INTERCEPT]
    X = design.to_numpy(dtype=float)[:, [column for column, n in zip(order, terms) if n != INTERCEPT]]
    target = _formula_target(frame, parsed, where, origin, extras)
    if parsed.offsets:
        values = [numeric_values(formula_values(o, frame, where), f"offset({o})", origin) for o in parsed.offsets]
        extras["offset"] = np.sum(values, axis=0)
    return X, keep, target, parsed.target, info


def _check_formula_columns(frame: pd.DataFrame, parsed: formula.Formula, data: DataSource, groups: str | None, origin: str) -> None:
    """Every column the formula names is in the data, without missing values."""
    columns = list(frame.columns)
    for name in sorted(parsed.names):
        if name not in columns and name not in formula.FUNCTIONS:
            raise missing_column("data.formula", name, columns, origin, frame.attrs.get("read_as"))
    for column in formula_columns(data, groups, columns):
        missing = frame[column].isna().to_numpy()
        if missing.any():
            raise UserError(
                f"data: column {short(column)} of {origin}, which the formula uses, has missing values; "
                f"{offending(missing, lambda r: '')}; set data.missing: drop to leave those rows out"
            )


def _check_intercept(text: str, has_intercept: bool, use_bias: bool) -> None:
    """The formula's intercept is the network's bias: both or neither."""
    if has_intercept and not use_bias:
        raise UserError(
            f"data.formula: {short(text)} has an intercept, but model.use_bias is false; "
            "write '- 1' in the formula (no intercept) or set model.use_bias: true"
        )
    if use_bias and not has_intercept:
        raise UserError(
            f"data.formula: {short(text)} has no intercept, but model.use_bias is true; "
            "set model.use_bias: false or take '- 1' out of the formula"
        )


def _formula_target(frame: pd.DataFrame, parsed: formula.Formula, where: str, origin: str, extras: dict[str, np.ndarray]) -> pd.Series:
    """The formula's left-hand side: a column, an expression of columns, or cbind(successes, failures),
    whose trials go into `extras`."""
    if parsed.target_is_column:
        target = frame[parsed.target]
    else:
        target = formula_values(parsed.target, frame, where)
    if parsed.failures is not None:
        successes = numeric_values(target, parsed.target, origin)
        failures = numeric_values(formula_values(parsed.failures, frame, where), parsed.failures, origin)
        bad = (successes < 0) | (failures < 0) | (successes + failures < 1)
        if bad.any():
            shown = offending(bad, lambda r: f" ({successes[r]:g}, {failures[r]:g})")
            raise UserError(f"{where}: cbind(successes, failures) needs counts of 0 or more with at least one trial a row; {shown}")
        extras["trials"] = successes + failures
        target = pd.Series(successes)
    return target


def as_doubles(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame a formula's terms are evaluated on: integer columns as doubles, as R holds its numbers
    (in integers, a term such as speed^500 wraps around silently)."""
    integers = [c for c, dtype in frame.dtypes.items() if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)]
    return frame.astype({c: "float64" for c in integers}) if integers else frame


def formula_env():
    """What a formula's terms see beside the data's columns: numpy as np and R's bases (poly, ns, bs),
    nothing else of Python's."""
    import patsy

    return patsy.EvalEnvironment([{"np": np, "factor": r_factor, "relevel": r_relevel, **bases.transforms()}])


def r_factor(values, levels=None):
    """R's factor(x, levels = c(...)): patsy's C(x, levels=...), under R's name so that its terms are named
    as R names them (factor(lvl)2)."""
    from patsy.categorical import C

    return C(values, levels=levels)


def r_relevel(values, ref=None):
    """R's relevel(x, ref = "b"): patsy's C(x, Treatment("b")), named as R names it (relevel(sex, ref = "M")F)."""
    from patsy.categorical import C
    from patsy.contrasts import Treatment

    return C(values, Treatment(ref))


def formula_values(expression: str, frame: pd.DataFrame, where: str) -> pd.Series:
    """One expression of checked formula code, evaluated by the formula library: its values, or its
    labels where it gives levels (I(x == 'yes') gives False and True)."""
    import patsy

    try:
        # inside I(): a '-' is subtraction, not the formula's removal of a term (cbind(s, n - s))
        values = patsy.dmatrix(f"0 + I({expression})", frame, eval_env=formula_env(), NA_action="raise", return_type="dataframe")
    except Exception as e:
        raise UserError(f"{where}: cannot evaluate {short(expression)}: {short(str(e).strip().splitlines()[0], 300)[1:-1]}") from None
    if values.shape[1] == 1:
        return values.iloc[:, 0]
    names = [str(c) for c in values.columns]
    prefix = os.path.commonprefix(names)
    labels = [n[len(prefix) :].rstrip("]") for n in names]
    return pd.Series(pd.Categorical.from_codes(values.to_numpy().argmax(axis=1), categories=labels))


def check_formula_cost(parsed: formula.Formula, rhs: str, frame: pd.DataFrame, data: DataSource, groups: str | None) -> None:
    """The design's width from the terms and the columns' levels, refused before it is built when it
    would not fit (a C() over an identifier column has as many columns as rows)."""
    import patsy

    try:
        terms = patsy.ModelDesc.from_formula(rhs).rhs_termlist
    except Exception:  # the design's own build names what is wrong
        return
    used = formula_columns(data, groups, list(frame.columns))  # '.' included
    width = 0
    for term in terms:
        columns = 1
        for factor in term.factors:
            code = factor.name()
            column = next((c for c in used if c in frame.columns and re.search(rf"\b{re.escape(c)}\b", code)), None)
            if column is not None and (code.startswith("C(") or is_text(frame[column])):
                columns *= max(frame[column].nunique(), 1)
        width += columns
    checks.check_memory("data.formula", len(frame), width)


def columns_design(frame: pd.DataFrame, spec: DataSpec, origin: str, notes: list[str]) -> tuple[np.ndarray, list[str], pd.Series, str]:
    """The design from data.target, data.features and data.categorical (dummy coded); a text or categorical
    feature is coded as a factor, as R codes it."""
    data = spec.data
    columns = list(frame.columns)
    target = str(data.target)
    read_as = frame.attrs.get("read_as")
    if target not in columns:
        raise missing_column("data.target", target, columns, origin, read_as)
    targets = data.target_columns()
    extras = list(extra_keys(data).values()) + group_columns(spec.groups)
    given = data.features is not None
    left_out = set(targets) | set(extras)
    features = data.features if data.features is not None else [c for c in columns if c not in left_out]
    check_features(features, frame, data, spec.use_bias, origin, read_as)
    numeric = {c for c, dtype in frame.dtypes.items() if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)}
    categorical = set(data.categorical)
    factors = [name for name in features if name in categorical or (name not in numeric and is_text(frame[name]))]
    for name in factors:
        if name not in data.categorical:
            check_factor(frame[name], name, given, len(frame))
            found = [label(v) for v in levels(frame[name])]
            notes.append(f"column {short(name)} holds labels: coded as a factor, reference level {short(found[0])} ({len(found)} levels)")
    n_terms = len(features) - len(factors) + int(spec.use_bias)
    n_terms += sum(frame[name].nunique() - 1 for name in factors)
    if len(frame) < n_terms:
        raise UserError(f"data: {len(frame)} rows from {origin}, fewer than the {n_terms} coefficients to estimate")
    checks.check_memory("data.categorical" if data.categorical else "data", len(frame), n_terms)
    parts, names = [], []
    for name in features:
        if name in factors:
            dummies = dummy_code(frame[name], name)
            parts += [dummies[c].to_numpy(dtype=float) for c in dummies.columns]
            names += list(dummies.columns)
        else:
            parts.append(_numeric(frame, name, origin))
            names.append(name)
    return beside_constant(parts, len(frame)), names, frame[target], target


def beside_constant(parts: list[np.ndarray], rows: int) -> np.ndarray:
    """The features as columns 1.. of one float64 array whose column 0 holds ones (a view of them): the
    GLM's design with an intercept is then that array itself (glm.stack), not a second copy of the features."""
    full = np.empty((rows, len(parts) + 1))
    full[:, 0] = 1.0
    for j, part in enumerate(parts):
        full[:, j + 1] = part
    return full[:, 1:]


def check_factor(values: pd.Series, name: str, given: bool, rows: int) -> None:
    """A text column taken as a feature by default that labels (nearly) every row differently is an
    identifier, not a factor: as dummies it would add a column a row."""
    count = values.nunique()
    if not given and (count > max(rows // 2, 50) or (count == rows and rows >= 10)):
        raise UserError(
            f"data.features: column {short(name)} holds text with {count} different values in {rows} rows (an identifier?); "
            "as a factor it would add a column for nearly every row; list the features to use in data.features"
        )


def check_features(
    features: list[str], frame: pd.DataFrame, data: DataSource, use_bias: bool, origin: str, read_as: str | None = None
) -> None:
    columns, present, chosen = list(frame.columns), set(frame.columns), set(features)
    for key, names in (("data.features", features), ("data.categorical", data.categorical)):
        twice = sorted(n for n, count in Counter(names).items() if count > 1)
        if twice:
            raise UserError(f"{key}: {listing(twice)} listed twice; name each column once")
    for name in features:
        if name not in present:
            raise missing_column("data.features", name, columns, origin, read_as)
    if data.target in chosen:
        raise UserError(f"data.features: the target column {data.target!r} cannot also be a feature")
    for key, column in extra_keys(data).items():
        if column in chosen or column == data.target:
            raise UserError(f"data.{key}: column {short(column)} is also the target or a feature; a column has one role")
    if not features and not use_bias:
        raise UserError("data.features: no features and model.use_bias is false: there is nothing to fit")
    for name in data.categorical:
        if name not in chosen:
            raise UserError(f"data.categorical: {short(name)} is not among the features ({listing(features)})")


def extra_columns(frame: pd.DataFrame, data: DataSource, origin: str) -> dict[str, np.ndarray]:
    """data.trials, weights, offset and exposure, each read and checked."""
    out = {}
    rules = {
        "trials": (lambda v: (v >= 1) & (v == np.round(v)), "whole numbers, 1 or more"),
        "weights": (lambda v: v >= 0, "0 or more"),
        "offset": (lambda v: np.ones(len(v), bool), "finite numbers"),
        "exposure": (lambda v: v > 0, "greater than 0 (the offset is its log)"),
    }
    for key, column in extra_keys(data).items():
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
        raise UserError(f"data.weights: column {short(data.weights)} is 0 on every row; nothing would be fitted")
    return out


def merge_extras(columns: dict[str, np.ndarray], from_formula: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """data.trials, weights, offset and exposure with what the formula gives: cbind's trials, offset()'s
    sum (added to data.offset, as R adds an offset argument to the formula's offsets)."""
    out = dict(columns)
    if "trials" in from_formula:
        out["trials"] = from_formula["trials"]
    if "offset" in from_formula:
        out["offset"] = out.get("offset", 0.0) + from_formula["offset"]
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


def offset_of(extras: dict[str, np.ndarray], data: DataSource, family: Family) -> np.ndarray | None:
    if "offset" not in extras and "exposure" not in extras:
        return None
    offset = np.asarray(extras.get("offset", 0.0) + np.log(extras.get("exposure", 1.0)), dtype=float)
    with np.errstate(all="ignore"):
        mean = family.sm_family().link.inverse(offset)
    if "offset" in extras and not np.all(np.isfinite(mean)):
        bad = ~np.isfinite(mean)
        given = f"column {short(data.offset)}" if data.offset else "the formula's offset()"
        raise UserError(
            f"data.offset: {given} is on the scale of the linear predictor, where "
            f"{np.max(np.abs(offset[bad])):.4g} gives the {family.link} link an infinite mean; "
            "for a log link give the exposure itself as data.exposure (its log is the offset)"
        )
    return offset


def dummy_code(values: pd.Series, name: str) -> pd.DataFrame:
    """Treatment contrasts, as R's default: one column per level but the first (a categorical's own
    first level, else the first sorted), coded by the formula library statsmodels uses, the terms
    named as R names them (colourred)."""
    import patsy

    if values.isna().any():
        raise UserError(
            f"data: column {short(name)}, a factor, has missing values; {offending(values.isna().to_numpy(), lambda r: '')}; "
            "set data.missing: drop to leave rows with missing values out"
        )
    coded = pd.Categorical(values, categories=levels(values))
    design = patsy.dmatrix("C(v)", pd.DataFrame({"v": coded}), return_type="dataframe")
    design = design.drop(columns="Intercept")
    return design.rename(columns=lambda c: level_name(name, c.removeprefix("C(v)[T.").removesuffix("]")))


def _numeric(frame: pd.DataFrame, name: str, origin: str) -> np.ndarray:
    return numeric_values(frame[name], name, origin)


def numeric_values(column: pd.Series, name: str, origin: str) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        shown = offending(bad, lambda r: f" ({short(column.iloc[r])})")
        hint = "; set data.missing: drop to leave rows with missing values out" if column.isna().any() else ""
        raise UserError(f"data: column {short(name)} of {origin} must hold finite numbers; {shown}{hint}")
    return values


def _check_range(X: np.ndarray, names: list[str], y: np.ndarray, target: str, origin: str, dtype: str, standardize: bool) -> None:
    """float32 ends at 3.4e38: a larger value would reach the network as infinity."""
    for name, values in zip(names, X.T):  # a formula's term can make inf or NaN of finite columns (x^1000, log(0))
        bad = ~np.isfinite(values)
        if bad.any():
            shown = {int(r): f" ({values[r]:g})" for r in np.flatnonzero(bad)[:5]}
            raise UserError(f"data.formula: term {short(name)} must give finite numbers; {offending(bad, shown.get)}")
    largest = float(np.finfo(dtype).max)
    checks = [(target, y)] + ([] if standardize else list(zip(names, X.T)))
    for name, values in checks:
        if values.size and np.max(np.abs(values)) > largest:
            raise UserError(
                f"data: column {short(name)} of {origin} holds {np.max(np.abs(values)):.3g} in magnitude, beyond {dtype}'s "
                f"largest number ({largest:.3g}), which the network trains in; set train.dtype: float64, "
                "train.standardize: true (features only) or rescale the column"
            )


def _check_target(y: np.ndarray, target: str, family: Family, family_assumed: bool, weighted: bool) -> None:
    bad = ~family.target_ok(y, weighted)
    if bad.any():
        shown = offending(bad, lambda r: f" ({y[r]:g})")
        counts = np.all((y[bad] >= 1) & (y[bad] == np.round(y[bad])))
        hint = "; for successes out of trials, set data.trials" if family.takes_trials and not weighted and counts else ""
        if family_assumed:  # the default was assumed: say so, and what to set
            hint = f"; {families.assumed(y[np.isfinite(y)])}"
        raise UserError(
            f"data.target: column {target!r} must be {family.target_rule_for(weighted)} for family {family.family}; {shown}{hint}"
        )


def offending(bad: np.ndarray, value) -> str:
    """'first offending rows (0-based): 3 (2), 7 (-1)' for the first five rows where `bad` holds."""
    rows = np.flatnonzero(bad)[:5]
    return "first offending rows (0-based): " + ", ".join(f"{r}{value(r)}" for r in rows)
