"""New rows through a run's own design, as R's predict.glm(newdata) takes them.

The design of new rows is the training design's, fixed on the training rows: a factor keeps the
levels it was fitted with (a level it never saw is an error, not a new column), and a formula's
terms are built again from the formula library's own record of the training design (patsy's
DesignInfo), so that its stateful transforms (centring, a spline's knots, a polynomial's basis) keep
the values the training rows gave them. The offset is computed as the training rows' was:
data.offset, plus log(data.exposure), plus the formula's offset() terms.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nnglm.config.schema import DataSource
from nnglm.data import table
from nnglm.data.spec import DataSpec
from nnglm.foundation.errors import UserError, listing, short

ORIGIN = "the new rows"


@dataclass(frozen=True)
class Rows:
    X: np.ndarray  # (rows, features) as Dataset.X: the intercept's column left out
    offset: np.ndarray | None  # added to the linear predictor; None: no offset


def training_frame(spec: DataSpec) -> pd.DataFrame:
    """The table the run's design was built from: its source read again, less what table.select leaves
    out before it builds the design (row labels, unused levels, rows with missing values)."""
    frame = table.read(spec)
    frame.columns = [str(c) for c in frame.columns]
    frame = table.drop_row_labels(frame, [])
    frame = table.drop_unused_levels(frame)
    frame, _ = table.drop_missing(frame, spec.data, spec.groups, spec.data.describe())
    return frame


def design(new: pd.DataFrame, training: pd.DataFrame, spec: DataSpec, info=None) -> Rows:
    """The new rows' design and offset, coded as the training rows were; a UserError naming the column
    (and the level) where a new row cannot be. `info`: the run's formula design as the Dataset recorded
    it (Dataset.design, its columns in R's order); built from the training rows where not given."""
    new = checked(new).rename(columns=str)
    data = spec.data
    if data.formula is not None:
        X, offset = _formula_rows(new, training, data, info)
    else:
        X, offset = _column_rows(new, training, data, spec.groups), None
    return Rows(X=X, offset=_offset(new, data, offset))


def checked(new: object) -> pd.DataFrame:
    if not isinstance(new, pd.DataFrame):
        raise UserError(f"{ORIGIN}: a pandas DataFrame, one row a prediction (got {short(type(new).__name__)})")
    return new


# --- data.features and data.categorical ---


def features(training: pd.DataFrame, data: DataSource, groups: str | None) -> list[str]:
    """The run's features, as table.columns_design picks them."""
    if data.features is not None:
        return list(data.features)
    others = set(data.target_columns()) | set(table.extra_keys(data).values()) | set(table.group_columns(groups))
    return [c for c in training.columns if c not in others]


def _column_rows(new: pd.DataFrame, training: pd.DataFrame, data: DataSource, groups: str | None) -> np.ndarray:
    names = features(training, data, groups)
    _require(new, names)
    parts = []
    for name in names:
        if name in data.categorical or table.is_text(training[name]):
            found = table.levels(training[name])
            codes = _level_codes(new[name], name, found)
            parts += [(codes == j).astype(float) for j in range(1, len(found))]  # treatment contrasts, as table.dummy_code
        else:
            parts.append(_numbers(new[name], name))
    return np.column_stack(parts) if parts else np.empty((len(new), 0))


def _level_codes(values: pd.Series, name: str, found: list) -> np.ndarray:
    """Each value's position among the training levels, matched as labels (a level read as 2 from one
    file and '2' from another is the same level)."""
    missing = values.isna().to_numpy()
    if missing.any():
        raise UserError(f"{ORIGIN}: column {short(name)}, a factor, has missing values; {table.offending(missing, lambda r: '')}")
    index = {table.label(level): j for j, level in enumerate(found)}
    labels = [table.label(v) for v in values]
    unseen = [v for v in dict.fromkeys(labels) if v not in index]
    if unseen:
        raise UserError(
            f"{ORIGIN}: column {short(name)} holds the level {short(unseen[0])}, which the run never saw"
            f"{f' (and {len(unseen) - 1} more)' if len(unseen) > 1 else ''}; its levels are {listing([table.label(v) for v in found])}"
        )
    return np.array([index[v] for v in labels], dtype=np.int64)


def _numbers(values: pd.Series, name: str) -> np.ndarray:
    if table.is_text(values):
        raise UserError(
            f"{ORIGIN}: column {short(name)} holds labels ({listing([table.label(v) for v in table.levels(values)], 5)}); "
            "the run fitted it as numbers"
        )
    missing = values.isna().to_numpy()
    if missing.any():
        raise UserError(f"{ORIGIN}: column {short(name)} has missing values; {table.offending(missing, lambda r: '')}")
    return table.numeric_values(values, name, ORIGIN)


def _require(new: pd.DataFrame, names, reader: str = "the run's design") -> None:
    for name in names:
        if name not in new.columns:
            raise UserError(f"{ORIGIN}: no column {short(name)}, which {reader} reads; their columns: {listing(list(new.columns))}")


# --- data.formula ---


def design_info(training: pd.DataFrame, data: DataSource):
    """The formula library's record of the training design (its columns, factors' levels, the state of
    its stateful transforms), built as table.formula_design builds the design."""
    import patsy

    parsed = data.parsed_formula()
    assert parsed is not None  # only called with data.formula set
    try:
        return patsy.dmatrix(parsed.rhs, table.as_doubles(training), eval_env=table.formula_env(), NA_action="raise").design_info
    except Exception as e:
        raise UserError(f"data.formula: {short(parsed.text)}: cannot build the design of the training rows: {short(str(e), 300)}") from None


def formula_columns(info, training: pd.DataFrame) -> list[str]:
    """The training columns the design's terms read."""
    from patsy.eval import ast_names

    names: dict[str, None] = {}
    for factor in info.factor_infos:
        for name in ast_names(factor.code):
            if name in training.columns:
                names[name] = None
    return list(names)


def _formula_rows(new: pd.DataFrame, training: pd.DataFrame, data: DataSource, info) -> tuple[np.ndarray, np.ndarray | None]:
    import patsy

    parsed = data.parsed_formula()
    assert parsed is not None
    info = info if info is not None else design_info(training, data)
    used = formula_columns(info, training)
    _require(new, used)
    new = new.copy()
    for name in used:
        categorical = [f for f, fi in info.factor_infos.items() if fi.type == "categorical" and name in _names_of(f.code)]
        if categorical or table.is_text(training[name]):
            found = table.levels(training[name])
            codes = _level_codes(new[name], name, found)
            # the training rows' own values (as the design recorded them), whatever type the new rows read them as
            new[name] = pd.Series([found[c] for c in codes], index=new.index, dtype=object)
        else:
            new[name] = _numbers(new[name], name)
    try:
        (X,) = patsy.build_design_matrices([info], new, NA_action="raise")
    except Exception as e:  # a term the new rows cannot give (a log of a negative number gives NaN: NA_action says where)
        raise UserError(f"{ORIGIN}: data.formula {short(parsed.text)}: {short(str(e).strip().splitlines()[0], 300)[1:-1]}") from None
    X = np.asarray(X, dtype=float)
    keep = [j for j, n in enumerate(info.column_names) if n not in ("Intercept", "(Intercept)")]
    offset = None
    if parsed.offsets:
        where = f"{ORIGIN}: data.formula {short(parsed.text)}"
        offset = np.sum([_numbers(table.formula_values(o, new, where), f"offset({o})") for o in parsed.offsets], axis=0)
    return X[:, keep], offset


def _names_of(code: str) -> set[str]:
    from patsy.eval import ast_names

    return set(ast_names(code))


# --- offsets ---


def _offset(new: pd.DataFrame, data: DataSource, from_formula: np.ndarray | None) -> np.ndarray | None:
    parts = [] if from_formula is None else [from_formula]
    for key, column in (("offset", data.offset), ("exposure", data.exposure)):
        if column is None:
            continue
        _require(new, [column], f"the run's data.{key}")
        values = _numbers(new[column], column)
        if key == "exposure":
            bad = values <= 0
            if bad.any():
                shown = table.offending(bad, lambda r, v=values: f" ({v[r]:g})")
                raise UserError(f"{ORIGIN}: data.exposure: column {short(column)} must hold numbers greater than 0; {shown}")
            values = np.log(values)
        parts.append(values)
    return np.sum(parts, axis=0) if parts else None
