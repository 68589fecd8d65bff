"""After the fit: each fit's predictions on new rows and its residuals on the training rows, side by side.

Predictions are R's predict.glm and statsmodels' get_prediction: the linear predictor or the mean of
new rows built through the run's own design (newrows.py), and with se=True their standard errors by
the delta method from each fit's own covariance (covariance.csv: statsmodels' cov_params for the GLM,
the network's from its own Hessian). Residuals are statsmodels' resid_deviance, resid_pearson,
resid_response and resid_working, computed by statsmodels' own GLMResults at each fit's coefficients;
each run writes all four of both fits into residuals.csv.

The coefficients and covariances come from the run folder's files; the training rows (what a new
row's design is fixed on, and what residuals are of) from its data, read again: the kept copy
data.parquet, the file its config names, a statsmodels dataset, or a generator with its seed.
"""

import io
import math
import os
import stat
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nnglm import config as config_module
from nnglm.config import Config, received
from nnglm.data import newrows, table
from nnglm.foundation import safe
from nnglm.foundation.errors import UserError, clip, short
from nnglm.log import runlog
from nnglm.log.result import RunResult, Status, flat
from nnglm.model import glm

TYPES = ("response", "link")  # R's predict.glm(type = ...): the mean, or the linear predictor
KINDS = ("deviance", "pearson", "response", "working")  # R's residuals.glm(type = ...), statsmodels' resid_*
FITS = ("network", "glm")
MAX_COVARIANCE_BYTES = 64 * 2**20
# residuals.csv is written for up to this many rows (about 20 MB); a larger run's are computed when asked
MAX_RESIDUAL_ROWS = 100_000


@dataclass(frozen=True)
class Fits:
    """Both fits' coefficients as the run folder holds them, in the design's order (the intercept first)."""

    terms: list[str]
    network: np.ndarray
    glm: np.ndarray
    recorded: list[str]  # every term result.json holds: the design's, then those learned beside them (model.alpha: estimate)

    def of(self, fit: str) -> np.ndarray:
        return self.network if fit == "network" else self.glm


def fits_of(result: RunResult, config: Config, what: str, estimated: bool = True, multiclass: bool = False) -> Fits:
    """The coefficients of a completed run; a UserError saying why `what` cannot be had otherwise. `estimated`:
    a run that learned model.alpha beside the coefficients is taken (its alpha left out); `multiclass`: a
    multinomial run is taken (its coefficients class by class, '<class>:<term>')."""
    if config.family.multiclass and not multiclass:
        raise UserError(f"{what}: a multinomial run has one linear predictor a class; {what} are made for single-output families only")
    if config.family.estimated and not estimated:
        raise UserError(
            f"{what}: model.alpha: estimate fits statsmodels' NB2 count model, which has no GLM {what}; give model.alpha a number"
        )
    if result.status != Status.COMPLETED or not (result.network and result.glm):
        raise UserError(f"{what}: the run did not complete (status {result.status}); there are no fits to use")
    network, fitted = flat(result.network.coefficients), flat(result.glm.coefficients)
    recorded = list(network)
    if list(fitted) != recorded:
        raise UserError(f"{what}: result.json's network and GLM coefficients name different terms")
    terms = recorded[: len(recorded) - len(config.family.estimated)]
    return Fits(
        terms=terms,
        network=np.array([math.nan if network[t] is None else network[t] for t in terms], dtype=float),
        glm=np.array([math.nan if fitted[t] is None else fitted[t] for t in terms], dtype=float),
        recorded=recorded,
    )


def run_config(folder: Path, raw: dict, overrides: Sequence[str] = ()) -> Config:
    """The run's config (result.json's) as predictions and residuals read its data: a run folder is
    received, so from inside the folder only (received.confine), unless the user names the data
    (`--set data.path=FILE`, overrides={"data.path": FILE})."""
    points = config_module.expand_raw(raw, clip(str(Path(folder) / runlog.CONFIG_FILE), 200), overrides)
    if len(points) != 1:
        raise UserError("overrides: a sweep names many runs' data; give single values")
    config = points[0][1]  # a DataFrame run's kept copy is found in the folder, wherever it now is (received.confine)
    return config if received.named_by_user(list(overrides)) else received.confine(config, Path(folder))


# --- predictions ---


def predict(folder: Path, result: RunResult, config: Config, new: pd.DataFrame, type: str = "response", se: bool = False) -> pd.DataFrame:
    """Both fits' predictions for the rows of `new`: columns network and glm (with se, network_se and
    glm_se), indexed as `new` is. `.attrs`: type, max_abs_diff (network - glm, largest)."""
    if type not in TYPES:
        raise UserError(f"type: {short(type)}; give 'response' (the mean, R's default for new data) or 'link' (the linear predictor)")
    if not isinstance(se, (bool, np.bool_)):  # se='no' would be true
        raise UserError(f"se: {short(se)}; give True (with standard errors) or False")
    se = bool(se)
    fits = fits_of(result, config, "predictions", multiclass=True)
    newrows.checked(new)
    twice = new.columns[new.columns.duplicated()]
    if len(twice):
        raise UserError(f"{newrows.ORIGIN}: two columns are named {short(twice[0])}; give each column its own name")
    if len(new) == 0:
        raise UserError(f"{newrows.ORIGIN}: no rows; give at least one row to predict")
    spec = table.DataSpec.of(config)
    training = newrows.training_frame(spec)
    info = check_design(training, spec)
    rows = newrows.design(new, training, spec, info)
    X1 = np.column_stack([np.ones(len(rows.X)), rows.X]) if config.model.use_bias else rows.X
    if config.family.multiclass:
        return multinomial(folder, result, fits, X1, new.index, type, se)
    if X1.shape[1] != len(fits.terms):
        raise UserError(
            f"predictions: the design of the new rows has {X1.shape[1]} columns, the run's coefficients {len(fits.terms)}; "
            "the run was made by another version of nnglm"
        )
    k = len(fits.terms)  # the design's block of the covariance (an estimated alpha's row and column left out)
    covariance = {fit: cov[:k, :k] for fit, cov in read_covariance(folder, fits.recorded).items()} if se else {}
    link = config.family.sm_family().link
    offset = rows.offset if rows.offset is not None else 0.0
    columns: dict[str, np.ndarray] = {}
    errors: dict[str, np.ndarray] = {}
    for fit in FITS:
        eta = X1 @ fits.of(fit) + offset
        with np.errstate(all="ignore"):
            columns[fit] = eta if type == "link" else np.asarray(link.inverse(eta), dtype=float)
            if se:
                # statsmodels' get_prediction: x' C x, times the inverse link's derivative squared for the mean
                variance = (X1 * np.dot(covariance[fit], X1.T).T).sum(1)
                if type == "response":
                    variance = np.asarray(link.inverse_deriv(eta), dtype=float) ** 2 * variance
                errors[f"{fit}_se"] = np.sqrt(variance)
    frame = pd.DataFrame(columns | errors, index=new.index)[[*FITS, *errors]]
    frame.attrs = {"type": type, "max_abs_diff": float(np.max(np.abs(frame["network"].to_numpy() - frame["glm"].to_numpy()), initial=0.0))}
    return frame


def multinomial(folder: Path, result: RunResult, fits: Fits, X1: np.ndarray, index: pd.Index, type: str, se: bool) -> pd.DataFrame:
    """A multinomial run's predictions, one row a (new row, class): each class's probability (type
    response, every class) or its linear predictor against the reference class (link, every class but
    the reference, as the coefficients are); with se, by the delta method from each fit's covariance."""
    classes = list(result.data.classes or []) if result.data else []
    n, k = X1.shape
    if len(classes) < 2 or len(fits.terms) != (len(classes) - 1) * k:
        raise UserError(
            f"predictions: the design of the new rows has {k} columns, which do not divide the run's "
            f"{len(fits.terms)} coefficients among its {len(classes) - 1} classes past the reference; "
            "the run was made by another version of nnglm"
        )
    C = len(classes) - 1
    covariance = read_covariance(folder, fits.recorded) if se else {}
    columns: dict[str, np.ndarray] = {}
    for fit in FITS:
        B = fits.of(fit).reshape(C, k)  # class by class, as Dataset.terms orders them
        eta = X1 @ B.T  # (rows, classes past the reference)
        with np.errstate(all="ignore"):
            full = np.column_stack([np.zeros(n), eta])
            P = np.exp(full - full.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            columns[fit] = (eta if type == "link" else P).ravel()
            if se:
                # x' Cov_de x for each pair of classes d, e past the reference
                cov = covariance[fit].reshape(C, k, C, k)
                T = np.einsum("ij,djek,ik->ide", X1, cov, X1)
                if type == "link":
                    variance = np.einsum("idd->id", T)
                else:  # d p_c / d beta_d = p_c (1[c = d] - p_d) x
                    A = P[:, :, None] * (np.eye(C + 1)[None, :, 1:] - P[:, None, 1:])
                    variance = np.einsum("icd,ide,ice->ic", A, T, A)
                columns[f"{fit}_se"] = np.sqrt(variance).ravel()
    shown = classes[1:] if type == "link" else classes
    frame = pd.DataFrame(columns, index=pd.MultiIndex.from_product([index, shown], names=[index.name or "row", "class"]))
    frame = frame[[*FITS, *(f"{fit}_se" for fit in FITS if se)]]
    frame.attrs = {"type": type, "max_abs_diff": float(np.max(np.abs(frame["network"].to_numpy() - frame["glm"].to_numpy()), initial=0.0))}
    return frame


def check_design(training: pd.DataFrame, spec: table.DataSpec):
    """The training rows, put through the new rows' path, must give the run's own design exactly: else a
    new row's prediction would be of another model. Returns the formula's design as the Dataset records it."""
    dataset = table.load(spec)
    info = getattr(dataset, "design", None)
    again = newrows.design(training, training, spec, info)
    if again.X.shape != dataset.X.shape or not np.array_equal(again.X, dataset.X):
        raise UserError(
            "predictions: the run's design cannot be built again for new rows (the training rows do not give the design they gave the fit)"
        )
    return info


# --- covariances ---


def write_covariance(run_dir: Path, terms: list[str], covariances: dict[str, np.ndarray | None]) -> None:
    """covariance.csv: for each fit (network, glm) one row a term, one column a term; NaN where a fit
    kept no covariance (an elastic net's GLM)."""
    rows = []
    for fit in FITS:
        cov = covariances.get(fit)
        if cov is None or np.shape(cov) != (len(terms), len(terms)):
            cov = np.full((len(terms), len(terms)), np.nan)
        rows += [[fit, term, *map(float, cov[i])] for i, term in enumerate(terms)]
    runlog.write_csv(run_dir, runlog.COVARIANCE_FILE, ["fit", "term", *terms], rows)


def read_covariance(folder: Path, terms: list[str]) -> dict[str, np.ndarray]:
    path = Path(folder) / runlog.COVARIANCE_FILE
    where = clip(str(path), 200)
    try:
        content = safe.read_bytes(path, MAX_COVARIANCE_BYTES, within=Path(folder))
    except FileNotFoundError:
        raise UserError(
            f"se=True: {where} is missing; runs made before predictions kept their covariances do not have it: run the config again"
        ) from None
    except (OSError, safe.Refused) as e:
        raise UserError(f"{where}: cannot be read ({e})") from None
    if len(content) > MAX_COVARIANCE_BYTES:
        raise UserError(f"{where}: larger than {MAX_COVARIANCE_BYTES // 2**20} MB")
    try:
        frame = pd.read_csv(io.BytesIO(content), dtype={"fit": str, "term": str})
        out = {}
        for fit in FITS:
            block = frame[frame["fit"] == fit]
            if list(block["term"]) != terms or list(block.columns[2:]) != terms:
                raise ValueError(f"its {fit} block does not name the run's terms")
            out[fit] = block[terms].to_numpy(dtype=float)
    except (ValueError, KeyError) as e:
        raise UserError(f"{where}: not the covariances of this run ({clip(str(e), 200)})") from None
    kept_none = [fit for fit, cov in out.items() if np.all(np.isnan(cov))]  # as write_covariance writes a fit that kept none
    if len(kept_none) == len(out):
        raise UserError(f"se=True: {where}: neither fit kept a covariance, so there are no standard errors")
    for fit in kept_none:  # a penalized GLM: the network's standard errors stand, the fit's are left empty with a word
        warnings.warn(
            f"se=True: {where}: the {fit} fit kept no covariance (a penalized GLM has none); its {fit}_se are left empty",
            RuntimeWarning,
            stacklevel=1,
        )
    for fit, cov in out.items():
        if fit in kept_none:
            continue
        variances = np.diag(cov)
        bad = [i for i, v in enumerate(variances) if not (np.isfinite(v) and v >= 0)]
        if bad:
            said = f"variance of {short(terms[bad[0]])} is {short(variances[bad[0]])}"
        elif not np.all(np.isfinite(cov)):
            said = "covariances are not all finite numbers"
        else:
            continue
        raise UserError(f"se=True: {where}: the {fit} fit's {said}; standard errors need finite variances of 0 or greater")
    return out


# --- the CSV that `nnglm predict --out` writes ---


def out_path(out: str, data: str) -> Path:
    """`--out` checked before anything is computed: a new or plain .csv file in an existing folder, not a
    link (it would be written through), a folder, a FIFO or device (a write that blocks or fails), nor
    the --data file itself."""
    path = Path(out)
    where = clip(out, 200)
    if not path.parent.is_dir():
        raise UserError(f"--out: {where}: the folder {clip(str(path.parent), 200)} does not exist")
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except OSError as e:
        raise UserError(f"--out: {where}: cannot be looked at ({e.strerror or type(e).__name__})") from None
    if found is not None:
        if stat.S_ISLNK(found.st_mode):
            raise UserError(f"--out: {where} is a link; predictions are not written through a link: give the name of a file")
        if stat.S_ISDIR(found.st_mode):
            raise UserError(f"--out: {where} is a folder; give the name of a file, e.g. {clip(str(path / 'predictions.csv'), 200)}")
        if not stat.S_ISREG(found.st_mode):
            raise UserError(f"--out: {where} is not a plain file (a FIFO, a device or a socket); give the name of a file")
        try:
            same = os.path.samestat(found, os.stat(data))
        except OSError:
            same = False
        if same:
            raise UserError(f"--out: {where} is the --data file itself; give another name, or the new rows would be overwritten")
    if not path.name.lower().endswith(".csv"):
        raise UserError(f"--out: {where}: predict writes CSV; give a name ending in .csv")
    return path


def write_out(path: Path, text: str) -> None:
    """The CSV written whole or not at all (runlog.write_atomic: never through a link; on a failure, a
    full disk, the old file stays and nothing else is left)."""
    try:
        runlog.write_atomic(path, text)
    except runlog.RunFolderError as e:
        raise UserError(f"--out: {e}; nothing was written") from None


# --- residuals ---


def residual_table(dataset: table.Dataset, config: Config, network: np.ndarray, fitted: np.ndarray) -> pd.DataFrame:
    """residuals.csv: one row a training row; each fit's fitted mean, its four kinds of residual and its
    leverage (the hat matrix's diagonal, NaN past HAT_COST), by statsmodels' GLMResults' formulas at
    that fit's coefficients, with its family's own variance, link and unit deviance (building a GLM
    model to ask it costs a rank of the design, a second's SVD at 1e5 rows)."""
    family = config.family.sm_family()
    X1 = glm.design(dataset, config.model.use_bias)
    y = dataset.y
    var_weights = np.ones(len(y)) if dataset.var_weights is None else dataset.var_weights
    freq_weights = np.ones(len(y)) if dataset.freq_weights is None else dataset.freq_weights
    offset = 0.0 if dataset.offset is None else dataset.offset
    columns: dict[str, np.ndarray] = {}
    kinds: dict[str, dict[str, np.ndarray]] = {}
    with np.errstate(all="ignore"):
        for fit, params in zip(FITS, (network, fitted)):
            mu = np.asarray(family.link.inverse(X1 @ params + offset), dtype=float)
            columns[f"{fit}_fitted"] = mu
            response = y - mu
            kinds[fit] = {
                "deviance": np.asarray(family.resid_dev(y, mu, var_weights=var_weights, scale=1.0), dtype=float),
                "pearson": response * np.sqrt(var_weights) / np.sqrt(family.variance(mu)),
                "response": response,
                "working": response * family.link.deriv(mu),
            }
            # the leverage at the IRLS weights of the fit (expected information), as R's hatvalues(fit)
            kinds[fit]["hat"] = leverage(X1, freq_weights * var_weights * family.weights(mu))
    for kind in (*KINDS, "hat"):
        for fit in FITS:
            columns[f"{fit}_{kind}"] = kinds[fit][kind]
    frame = pd.DataFrame(columns)
    frame.index.name = "row"
    return frame


# the leverage costs a QR of the weighted design, about 2 rows x columns^2 flops: left out (NaN) past this
HAT_COST = 2e9


def leverage(X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The diagonal of W^1/2 X (X'WX)^-1 X' W^1/2, from the pivoted QR of W^1/2 X (no square of its condition
    number; an aliased column adds nothing, as R's hatvalues)."""
    n, k = X.shape
    if n * k * k > HAT_COST or not (np.all(np.isfinite(weights)) and np.all(np.isfinite(X))):
        return np.full(n, np.nan)
    from scipy import linalg

    q, r, _ = linalg.qr(np.sqrt(weights)[:, None] * X, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int(np.sum(d > 1e-10 * max(float(np.max(d, initial=0.0)), 1e-300)))  # pivoted: the aliased columns last
    return np.einsum("ij,ij->i", q[:, :rank], q[:, :rank])


def write_residuals(run_dir: Path, dataset: table.Dataset, config: Config, network: np.ndarray, fitted: np.ndarray) -> None:
    """residuals.csv, for a single-output GLM (a multinomial or NB2-estimated run has none) of at most
    MAX_RESIDUAL_ROWS rows."""
    if config.family.multiclass or config.family.estimated or dataset.n_rows > MAX_RESIDUAL_ROWS:
        return
    frame = residual_table(dataset, config, network, fitted)
    runlog.write_atomic(run_dir / runlog.RESIDUALS_FILE, frame.to_csv(lineterminator="\n"))


def residuals(folder: Path, result: RunResult, config: Config | None, kind: str, kept: pd.DataFrame | None) -> pd.DataFrame:
    """One kind of residual, both fits: from residuals.csv (`kept`), or computed again from the data (with
    `config`, the run's) for a folder written before it was."""
    if kind not in KINDS:
        raise UserError(f"kind: {short(kind)}; give one of {', '.join(KINDS)} (R's residuals.glm types)")
    if kept is None:
        assert config is not None  # the caller reads the config where there is no residuals.csv
        fits = fits_of(result, config, "residuals", estimated=False)
        spec = table.DataSpec.of(config)
        dataset, _ = table.split(table.load(spec), spec)
        kept = residual_table(dataset, config, fits.network, fits.glm)
    missing = [f"{fit}_{kind}" for fit in FITS if f"{fit}_{kind}" not in kept.columns]
    if missing:
        raise UserError(f"{runlog.RESIDUALS_FILE}: no column {short(missing[0])}")
    frame = pd.DataFrame({fit: kept[f"{fit}_{kind}"].to_numpy(dtype=float) for fit in FITS}, index=kept.index)
    frame.index.name = "row"
    frame.attrs = {"kind": kind, "max_abs_diff": float(np.max(np.abs(frame["network"].to_numpy() - frame["glm"].to_numpy()), initial=0.0))}
    return frame
