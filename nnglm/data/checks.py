"""The checks of a config that need its data: values the schema accepts alone, but that these data
would turn into a crash or a meaningless run. data.load makes them, so that `validate` refuses
what `run` would fail on."""

import numpy as np

from nnglm.config.schema import DataSource
from nnglm.data.files.base import available_memory
from nnglm.data.spec import DataSpec
from nnglm.foundation.errors import UserError, short
from nnglm.vocabulary.families import Family


def against_data(dataset, spec: DataSpec) -> None:
    """Every check below."""
    something_to_fit(dataset, spec.data.formula, spec.use_bias)
    estimated_names(dataset, spec.family, spec.use_bias)
    target_magnitude(dataset, spec.family, spec.dtype)
    feature_magnitude(dataset)
    offset_range(dataset, spec.data, spec.family, spec.dtype)
    frequency_weights(dataset, spec.data.weights, spec.use_bias)
    hidden_memory(dataset, spec.hidden)


def estimated_names(dataset, family: Family, use_bias: bool) -> None:
    """A family parameter estimated beside the coefficients (model.alpha: estimate) is a term of its own name."""
    terms = set(dataset.terms(use_bias))
    clash = [name for name in family.estimated if name in terms]
    if clash:
        raise UserError(f"data: a feature is named {clash[0]!r}, the term model.alpha: estimate adds after the coefficients; rename it")


def something_to_fit(dataset, formula: str | None, use_bias: bool) -> None:
    what = f"data.formula: {short(formula)} leaves" if formula else "data.features: there are"
    if dataset.n_features == 0 and not use_bias:
        raise UserError(f"{what} no terms, and the model has no intercept: there is nothing to fit")
    if dataset.n_features == 0:
        # a Dense layer of no inputs aborts the training backend's native code (oneDNN)
        raise UserError(
            f"{what} the intercept alone: the network would have no weight beside its bias, and Keras cannot build "
            "a layer of no inputs; that model is the null model, whose deviance every run reports (null deviance): add a term"
        )


def target_magnitude(dataset, family: Family, dtype: str) -> None:
    """The losses and the dispersion sum the target's squares over the rows: past sqrt(largest / rows)
    in the training dtype, that sum is infinite."""
    if family.multiclass or not dataset.y.size:
        return
    largest = float(np.finfo(dtype).max)
    limit = np.sqrt(largest / dataset.n_rows)
    biggest = float(np.max(np.abs(dataset.y)))
    if biggest > limit:
        raise UserError(
            f"data.target: column {short(dataset.target)} holds {biggest:.3g} in magnitude; beyond {limit:.3g} the loss, "
            f"which sums its square over {dataset.n_rows} rows, is infinite in {dtype} (largest number {largest:.3g}); rescale the column"
        )


def feature_magnitude(dataset) -> None:
    """The GLM's information matrix (X'WX, in float64 whatever the network's dtype) sums each feature's
    squares over the rows: past sqrt(largest / rows) it is infinite, and the standard errors fail."""
    if not dataset.X.size:
        return
    largest = float(np.finfo("float64").max)
    limit = np.sqrt(largest / dataset.n_rows)
    biggest = np.max(np.abs(dataset.X), axis=0)
    column = int(np.argmax(biggest))
    if biggest[column] > limit:
        raise UserError(
            f"data: column {short(dataset.feature_names[column])} holds {biggest[column]:.3g} in magnitude; beyond {limit:.3g} the "
            f"GLM's information matrix, which sums its squares over {dataset.n_rows} rows, is infinite in float64; rescale the column"
        )


def offset_range(dataset, data: DataSource, family: Family, dtype: str) -> None:
    """With a log link the mean is exp(offset + η): an offset beyond ±log(largest) of the training
    dtype makes it infinite or 0 (88.7 in float32, 709.8 in float64), and its log infinite."""
    if dataset.offset is None or family.link != "log":
        return
    limit = float(np.log(np.finfo(dtype).max))
    row = int(np.argmax(np.abs(dataset.offset)))
    value = float(dataset.offset[row])
    if abs(value) <= limit:
        return
    if data.exposure is not None and data.offset is None:
        source = f"data.exposure: column {short(data.exposure)} holds {np.exp(value):.3g} at row {row}, whose log ({value:.4g})"
    else:
        keys = "data.offset and data.exposure" if data.exposure is not None else f"data.offset: column {short(data.offset)}"
        source = f"{keys}: the offset at row {row} ({value:.4g})"
    hint = "; rescale the column, or set train.dtype: float64" if dtype == "float32" else "; rescale the column"
    raise UserError(
        f"{source} is beyond ±{limit:.4g}, where the log link's mean exp(offset) is {'infinite' if value > 0 else '0'} in {dtype}{hint}"
    )


def frequency_weights(dataset, weights: str | None, use_bias: bool) -> None:
    """Frequency weights count observations: fewer than the coefficients leave no residual degrees of freedom."""
    if dataset.freq_weights is None:
        return
    total = float(dataset.freq_weights.sum())
    n_terms = len(dataset.terms(use_bias))
    if total <= n_terms:
        raise UserError(
            f"data.weights: frequency weights (column {short(weights)}) sum to {total:.4g} observations, "
            f"no more than the {n_terms} coefficients to estimate: no degrees of freedom are left for the standard errors; "
            "for weights that are not counts, set data.weights_kind: var"
        )


def hidden_memory(dataset, hidden: tuple[int, ...]) -> None:
    """model.hidden's network: its weights (with their gradient and Adam's two moments) and its activations."""
    widths = list(hidden)
    if not widths:
        return
    sizes = [dataset.n_features, *widths, dataset.n_outputs]
    weights = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    need = 8 * (4 * weights + 3 * dataset.n_rows * sum(widths))
    if need > available_memory():
        raise UserError(
            f"model.hidden: widths {short(widths)} on {dataset.n_rows:,} rows need about {need / 2**30:,.1f} GiB "
            f"({weights:,} weights); this machine has {available_memory() / 2**30:.1f} GiB available"
        )


# --- memory ---

# a run peaks at 7.0 to 7.6 times the float64 design matrix over its imports, at statsmodels' IRLS (its
# last least squares: the weighted design, the pseudo-inverse's SVD, beside the design and the last
# iteration's weighted copy): 1.1 to 1.2 GB at 1e6 rows x 21 columns, 11.9 GB at 1e7 (`python -m
# benchmarks.bench --large`); 9 leaves a margin for designs and families whose fits hold more
MEMORY_FACTOR = 9


def check_memory(key: str, rows: int, columns: int) -> None:
    """Refuse data that could not be fitted in this machine's memory, before it is made."""
    need = rows * columns * 8 * MEMORY_FACTOR
    if need > available_memory():
        raise UserError(
            f"{key}: {rows:,} rows x {columns:,} columns need about {need / 2**30:,.1f} GiB for one run "
            f"({MEMORY_FACTOR} times the float64 design matrix, as statsmodels' IRLS takes); "
            f"this machine has {available_memory() / 2**30:.1f} GiB available"
        )


FEW_LEVELS = 10  # an integer column with 3 to this many distinct values, each seen twice on average, reads like a factor


def factor_like(frame, names: list[str]) -> list[str]:
    """Notes on the design's numeric columns that R users would likely have made factors (R's gl(), Dobson's
    outcome written by write.csv as 1, 2, 3): fitted as numbers, as R fits them, but said, with how to make them factors."""
    notes = []
    for name in names:
        if name not in frame.columns or frame[name].dtype.kind not in "iuf":
            continue
        values = frame[name].dropna().to_numpy(dtype=float)
        distinct = np.unique(values)
        whole = bool(np.all(distinct == np.round(distinct)))
        if whole and 3 <= len(distinct) <= FEW_LEVELS and len(values) >= 2 * len(distinct):
            shown = ", ".join(f"{v:g}" for v in distinct)
            notes.append(
                f"column {short(name)} holds {len(distinct)} whole numbers ({shown}) and is fitted as one number, as R fits an "
                f"integer column; if they are levels (R's gl() or factor()), write factor({name}) in data.formula or list "
                f"{short(name)} in data.categorical"
            )
    return notes
