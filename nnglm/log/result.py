"""result.json's schema: one set of typed models, written by the runner (runlog.write_result)
and read back by `nnglm runs`, `nnglm compare`, the summary and the report.

Reading is permissive on purpose: every section and key may be missing (older
runs, runs that failed before a section was written) and keys it does not know
are kept, so that a newer runner's additions do not make older readers fail.
What it does check is the type of what is there: a file whose
`comparison.max_abs_diff` is text is one bad row, reported with the key, never
a crash further on.
"""

import json
import math
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from nnglm.foundation import safe
from nnglm.foundation.errors import clip, short
from nnglm.vocabulary import names
from nnglm.vocabulary.tolerance import Tolerance

SCHEMA = names.SCHEMA_WITH_R_NAMES  # 2: terms named as R names them; 1 (older folders): mapped on reading
MAX_RESULT_BYTES = 64 * 2**20  # a result.json is kilobytes; a multinomial with thousands of terms, a few MB

Number = float | None  # JSON has no NaN or infinity: an undefined number is written as null
# a figure every fit has, NaN where undefined (written as null, read back as NaN)
Figure = Annotated[float, BeforeValidator(lambda v: math.nan if v is None else v)]
# by term; a multinomial fit nests them by class: {"<class>": {"const": ...}} (see nest and flat)
Coefficients = dict[str, Number | dict[str, Number]]


def nest(by_term: Mapping[str, Number], multiclass: bool) -> Coefficients:
    """Coefficients as result.json keeps them: {'1:const': a, '1:x1': b} -> {'1': {'const': a, 'x1': b}}
    for a multinomial fit, as they are otherwise."""
    if not multiclass:
        return dict(by_term)
    nested: dict[str, dict[str, Number]] = {}
    for label, value in by_term.items():
        cls, _, term = label.partition(":")
        nested.setdefault(cls, {})[term] = value
    return dict(nested)


def flat(coefficients: Coefficients) -> dict[str, Number]:
    """The inverse of nest: '<class>:<term>' for a multinomial fit, as in coefficients.csv."""
    out: dict[str, Number] = {}
    for key, value in coefficients.items():
        if isinstance(value, dict):
            out.update({f"{key}:{term}": v for term, v in value.items()})
        else:
            out[key] = value
    return out


class Word(StrEnum):
    """One of a closed set of words that result.json writes as plain strings."""

    def __repr__(self) -> str:
        # as the string itself: pydantic's messages quote the allowed words ('running', ...), as result.json has them
        return repr(self.value)


class Status(Word):
    """A run's status: a run writes running, completed, failed or interrupted; a reader of the run log
    (logbook) says dead and broken. In the order `nnglm runs --status` lists them."""

    RUNNING = "running"
    DEAD = "dead"  # result.json says running, but its process is gone
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    BROKEN = "broken"  # result.json is missing or unreadable


class StopReason(Word):
    """Why the network's training stopped (network.py)."""

    CONVERGED = "converged"  # its own distance estimate within the tolerance
    FLOOR = "floor"  # at the floor of its own arithmetic (network.FLOOR)
    EPOCHS = "epochs"  # the fixed step count done
    MAX_STEPS = "max_steps"
    MAX_SECONDS = "max_seconds"
    NO_PROGRESS = "no progress"  # network.PATIENCE looks without a new best estimate
    GRAD_TOL = "grad_tol"
    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"


class ComparisonOutcome(Word):
    """What the comparison of the network with the GLM found (verdict.py)."""

    EQUIVALENT = "equivalent"
    NOT_CONVERGED = "not converged"
    NO_FINITE_MLE = "no finite MLE"
    GLM_FAILED = "GLM failed"
    RANK_DEFICIENT = "rank deficient"
    DIVERGED = "diverged"
    GLM_SHORT = "GLM short"
    DIFFERENT_POINT = "different point"


def _absent(value: Any) -> bool:
    return value is None


class Part(BaseModel):
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="null")


class Environment(Part):
    backend: str | None = None
    device: str | None = None
    dtype: str | None = None
    python: str | None = None
    numpy: str | None = None
    keras: str | None = None
    tensorflow: str | None = None
    jax: str | None = None
    torch: str | None = None
    statsmodels: str | None = None
    platform: str | None = None
    cpu: str | None = None
    cpu_count: int | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    # how the run was made repeatable (seed, deterministic ops, ...: the keys differ by backend), and a caveat
    determinism: dict[str, Any] = {}


class FrameSection(Part):
    """data.source: dataframe: the DataFrame as it was given, every column (frames.py)."""

    n_rows: int | None = None
    n_columns: int | None = None
    columns: list[str] = []
    dtypes: dict[str, str] = {}  # column -> pandas dtype
    sha256: str | None = None  # of the column names, dtypes and values (frames.content_hash)
    memory_bytes: int | None = None  # in memory, as pandas counts it (deep)
    kept: str | None = None  # the Parquet copy in the run folder (data.parquet), or null ...
    note: str | None = None  # ... and why not


class DataSection(Part):
    n_rows: int | None = None
    n_features: int | None = None
    feature_names: list[str] = []
    target: str | None = None
    condition_number: Number = None
    n_observations: Number = None  # rows, or the sum of the frequency weights
    rows_dropped: int | None = None  # data.missing: drop
    n_validation_rows: int | None = Field(default=None, exclude_if=_absent)  # data.validation_fraction, written only when set
    read_as: str | None = Field(default=None, exclude_if=_absent)  # a data file: how it was read ("tab-delimited text (sniffed)")
    success: str | None = Field(default=None, exclude_if=_absent)  # a labelled binomial target: the level counted as 1
    classes: list[str] | None = Field(default=None, exclude_if=_absent)  # multinomial: the class labels, the reference first
    notes: list[str] = Field(default=[], exclude_if=lambda v: not v)  # what reading the data decided: row labels, factors
    dataframe: FrameSection | None = Field(default=None, exclude_if=_absent)  # data.source: dataframe only
    # the rows both fits summed over (anova.rows_sha256: target, weights, classes), and the offset apart
    # (absent: none): `nnglm anova` compares only runs of the same rows; older runs have neither
    rows_sha256: str | None = Field(default=None, exclude_if=_absent)
    offset_sha256: str | None = Field(default=None, exclude_if=_absent)


class Quantiles(Part):
    """Min, quartiles and max, as R's summary.glm prints the deviance residuals (quantile type 7, numpy's default)."""

    min: Figure = math.nan
    q1: Figure = math.nan
    median: Figure = math.nan
    q3: Figure = math.nan
    max: Figure = math.nan

    @classmethod
    def of(cls, values: np.ndarray) -> "Quantiles":
        values = np.asarray(values, dtype=float)
        if values.size == 0 or not np.all(np.isfinite(values)):
            return cls()
        return cls(**dict(zip(("min", "q1", "median", "q3", "max"), map(float, np.quantile(values, [0, 0.25, 0.5, 0.75, 1])))))


class Statistics(Part):
    """A fit's figures as statsmodels reports them, at that fit's coefficients."""

    llf: Figure = math.nan
    deviance: Figure = math.nan
    null_deviance: Figure = math.nan
    aic: Figure = math.nan  # -2 llf + 2 k, k the design's rank
    bic: Figure = math.nan  # -2 llf + log(observations) k (statsmodels' bic_llf)
    df_resid: Figure = math.nan
    dispersion: Figure = math.nan  # Pearson chi^2 / df_resid where the family has a scale, else 1
    # what R's and statsmodels' summaries show besides (NaN in runs from before, and where undefined):
    df_null: Figure = math.nan  # the null deviance's degrees of freedom: observations - 1 (the intercept-only model)
    pearson_chi2: Figure = math.nan  # sum of the squared Pearson residuals
    pseudo_r2_mcfadden: Figure = math.nan  # 1 - llf / llnull (statsmodels' pseudo_rsquared("mcf"))
    pseudo_r2_cox_snell: Figure = math.nan  # 1 - exp(2 (llnull - llf) / n) (statsmodels' pseudo_rsquared("cs"))
    deviance_residuals: Quantiles = Quantiles()


class NetworkSection(Part):
    """The one-layer network's fit (network.NetworkFit adds what is not written here)."""

    coefficients: Coefficients = {}
    bse: Coefficients | None = None
    statistics: Statistics | None = None
    final_loss: Number = None
    epochs_run: int | None = None
    train_seconds: Number = None
    diverged: bool | None = None
    max_abs_grad: Number = None  # the largest absolute gradient of the loss at the end
    converged: bool | None = None  # its own distance estimate within train.rtol (and the gradient within train.grad_tol, if set)
    stopped: StopReason | str | None = None  # text: a newer runner's reason, read by an older reader
    distance: Number = None  # its own estimate of the distance to the optimum, relative
    floor: Number = None  # epochs: auto: how close its own arithmetic can see, relative (network.FLOOR)
    note: str | None = None  # why training stopped where it did, when that is news
    precondition: str | None = None  # what the inputs were: none, standardize or whiten
    learning_rates: list[tuple[int, Number]] = []  # (from step, Adam's learning rate)
    start_bias: list[Number] = []


# One declaration per figure: a section here declares the figures that result.json holds, and the fit that
# fills it (glm.GlmFit) subclasses it, adding only what the fit alone holds, as Field(exclude=True) so that it
# is never written; the runner still copies the fit into its section (model_validate, from_attributes). Where
# a figure's type is narrower in the fit (always there, flat coefficients), the fit says so to the type checker
# alone, under TYPE_CHECKING, and declares no field.
class GlmSection(Part):
    coefficients: Coefficients = {}
    bse: Coefficients | None = None
    llf: Number = None
    converged: bool | None = None
    iterations: int | None = None
    fit_seconds: Number = None
    statistics: Statistics | None = None
    warnings: list[str] = []
    perfect_separation: bool | None = None
    rank_deficient: bool | None = None
    aliased: list[str] = []
    method: str | None = None
    failed: str | None = Field(default=None, exclude_if=_absent)  # why no fit of statsmodels' was usable
    loss: Number = None  # the network's loss (history.csv's) at the GLM's coefficients: where the network's loss goes


class ReferenceSection(Part):
    """Adam written from scratch in NumPy, or why it did not run (skipped)."""

    coefficients: Coefficients | None = None
    max_abs_diff_to_network: Number = None
    max_rel_diff_to_network: Number = None
    steps: int | None = None
    seconds: Number = None
    dtype: str | None = None
    agreement: str | None = None
    skipped: str | None = Field(default=None, exclude_if=_absent)  # why it did not run


class ComparisonSection(Part):
    """The network's weights beside the GLM's coefficients (verdict.Comparison adds what is not written here)."""

    max_abs_diff: Number = None
    max_rel_diff: Number = None  # max |w - b| / max(|b|, bse)
    mape_pct: Number = None  # mean absolute percentage error, as seed 002 reports it; null where undefined
    rel_l2: Number = None
    direction_cosine: Number = None  # what is left to compare when no finite MLE exists
    network_llf: Number = None
    glm_llf: Number = None
    equivalent: bool | None = None
    outcome: ComparisonOutcome | str | None = None  # text: a newer runner's outcome, read by an older reader
    tolerance: Tolerance | None = None
    verdict: str | None = None
    epochs_to_match: int | None = None  # the first logged step with every weight within the tolerance
    bse_max_rel_diff: Number = None  # the network's standard errors against statsmodels'
    undefined: str | None = Field(default=None, exclude_if=_absent)  # why mape_pct (or rel_l2) is null


class InferenceSection(Part):
    """Which standard errors both fits report (the config's inference section) and the dispersion each used."""

    cov_type: str | None = None  # nonrobust | HC0 | HC1 | HC2 | HC3 | cluster (statsmodels' cov_type)
    information: str | None = None  # observed | expected: the network's information matrix
    scale: str | float | None = None  # family | X2 | dev | a number
    groups: str | None = Field(default=None, exclude_if=_absent)  # cluster: the column
    n_groups: int | None = Field(default=None, exclude_if=_absent)  # cluster: how many clusters
    described: str | None = None  # in a few words, as the summary and `nnglm compare` show it
    network_dispersion: Number = None
    glm_scale: Number = None
    # t tests and intervals on df_resid residual degrees of freedom (R's summary.glm where the dispersion is
    # estimated), or z (normal) ones: both fits' p-values and intervals from their own errors (p_values, critical)
    use_t: bool | None = None  # absent in older runs: z
    df_resid: Number = None

    def p_values(self, statistic: np.ndarray) -> np.ndarray:
        """Two-sided p-values of coefficient / standard error, by this run's test."""
        return p_values(statistic, self.df_resid if self.use_t else None)

    def critical(self, alpha: float = 0.05) -> float:
        """The multiple of a standard error that makes a 1 - alpha interval, by this run's test."""
        return critical(alpha, self.df_resid if self.use_t else None)


def p_values(statistic: np.ndarray, df: float | None) -> np.ndarray:
    """Two-sided p-values: Student's t on df degrees of freedom, or the normal where df is None (z)."""
    from scipy import stats

    statistic = np.abs(np.asarray(statistic, dtype=float))
    return 2 * (stats.norm.sf(statistic) if df is None else stats.t.sf(statistic, df))


def critical(alpha: float, df: float | None) -> float:
    """The 1 - alpha/2 quantile of t on df degrees of freedom, or of the normal where df is None."""
    from scipy import stats

    return float(stats.norm.isf(alpha / 2) if df is None else stats.t.isf(alpha / 2, df))


class Losses(Part):
    train_loss: Number = None
    validation_loss: Number = None


class ValidationSection(Part):
    glm: Losses | None = None
    network: Losses | None = None
    hidden: Losses | None = None
    verdict: str | None = None  # with a hidden-layer network: does the hidden layer pay?


class HiddenSection(Part):
    """The network with hidden layers (model.hidden): no coefficients, judged on held-out rows."""

    widths: list[int] = []
    activation: str | None = None
    epochs_run: int | None = None
    final_loss: Number = None
    train_seconds: Number = None
    diverged: bool | None = None
    note: str | None = None
    # model.hidden_start and hidden_skip as trained (a start at the GLM whose GLM failed says scratch), and with
    # early stopping the step whose weights were kept; written only where set
    start: str | None = Field(default=None, exclude_if=_absent)
    skip: str | None = Field(default=None, exclude_if=_absent)
    best_step: int | None = Field(default=None, exclude_if=_absent)


class FoldScore(Part):
    """One fold of the cross-validation (data.folds): each model's held-out deviance."""

    fold: int  # 1..K
    n_train: int | None = None  # rows fitted (the inner early-stopping rows included)
    n_held_out: int | None = None
    deviance: dict[str, Number] = {}  # model name -> mean held-out deviance per row (weighted mean), this fold


class NetworkAgainstGlm(Part):
    """A hidden-layer network against the GLM across the folds: negative differences favour the network."""

    model: str  # "scratch" | "at_glm"
    mean_difference: Number = None  # mean over folds of (network - GLM) held-out deviance per row; < 0: network better
    standard_error: Number = None  # of that mean, across folds (sd / sqrt(K))
    relative_pct: Number = None  # -mean_difference / mean GLM held-out deviance x 100 (> 0: the network improves)
    relative_se_pct: Number = None
    p_value_folds: Number = None  # one-sided paired t test across folds (H1: the network lowers the deviance), K-1 df
    p_value_rows: Number = None  # one-sided paired t test across all held-out rows (each row held out once)
    improves: bool | None = None  # p_value_folds < 0.05 and relative_pct > 0
    sentence: str | None = None  # what it means, in one sentence


CV_MODELS = ("glm", "scratch", "at_glm")  # what a cross-validation scores, as result.json names them
CV_NETWORKS = CV_MODELS[1:]  # each compared with the GLM


class CrossValidationSection(Part):
    """K-fold cross-validation of the GLM, the hidden network from scratch and the one started at the GLM."""

    folds: int | None = None
    stratified: bool | None = None  # folds stratified by class (binomial with 0/1 target, multinomial)
    measure: str | None = None  # "deviance": the family's unit deviance, weighted; multinomial: -2 log p
    inner_fraction: Number = None  # share of each fold's training rows held for early stopping
    per_fold: list[FoldScore] = []
    networks: list[NetworkAgainstGlm] = []
    verdict: str | None = None  # the best network's sentence, or "no evidence that a hidden layer helps here (...)"
    fallback: str | None = None  # where the GLM failed in a fold and at_glm fell back to scratch
    seconds: Number = None

    def fold_scores(self, model: str) -> np.ndarray:
        """The model's held-out deviance per row in each fold, in the section's order (NaN where missing)."""
        values = [f.deviance.get(model) for f in self.per_fold]
        return np.array([np.nan if v is None else v for v in values], dtype=float)


class Process(Part):
    """Where the run runs: enough for a reader to tell a live run from a dead one."""

    host: str
    pid: int
    started: str  # ISO 8601, UTC
    process_start: int | None = None  # the process's start time in clock ticks since boot (Linux), against pid reuse
    boot_id: str | None = None  # the machine's boot, against a pid from before a reboot
    heartbeat_seconds: float | None = None  # how often the heartbeat file is touched


# the config's fields that the readers of a run folder use, each with the type they need
RECORDED_SECTIONS = ("data", "model", "train", "glm", "inference", "compare")
RECORDED_TEXT = {"model": ("family", "link"), "data": ("target", "source"), "train": ("dtype", "backend")}


def _recorded_config(config: dict) -> dict:
    """result.json's config, checked for what its readers take from it: each section a mapping (or
    absent), the few names they show text; a received folder's config can hold anything."""
    config = {k: {} if k in RECORDED_SECTIONS and v is None else v for k, v in config.items()}
    for section in RECORDED_SECTIONS:
        value = config.get(section)
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"config.{section}: a mapping of keys, not {type(value).__name__}")
        for key in RECORDED_TEXT.get(section, ()):
            if value is not None and value.get(key) is not None and not isinstance(value.get(key), str):
                raise ValueError(f"config.{section}.{key}: text, not {type(value[key]).__name__}")
    if "model" in config and not isinstance(config["model"].get("family"), str):
        raise ValueError("config.model: names its family (a run writes it)")
    return config


class RunResult(Part):
    schema_version: int | None = Field(None, alias="schema")
    run_id: str | None = None
    name: str | None = None
    status: Literal[Status.RUNNING, Status.COMPLETED, Status.FAILED, Status.INTERRUPTED]  # DEAD and BROKEN are never written
    error: str | None = None
    process: Process | None = None
    config: Annotated[dict, AfterValidator(_recorded_config)] = {}  # the resolved config, as config.yaml holds it
    sweep_point: dict[str, Any] | None = Field(default=None, exclude_if=_absent)  # the keys this sweep point set
    overrides: dict[str, Any] | None = Field(default=None, exclude_if=_absent)  # the keys `--set KEY=VALUE` set over the config file
    environment: Environment = Environment()
    # the sections a run reaches (or asks for); left out of the file until then
    data: DataSection | None = Field(default=None, exclude_if=_absent)
    network: NetworkSection | None = Field(default=None, exclude_if=_absent)
    glm: GlmSection | None = Field(default=None, exclude_if=_absent)
    reference: ReferenceSection | None = Field(default=None, exclude_if=_absent)
    comparison: ComparisonSection | None = Field(default=None, exclude_if=_absent)
    validation: ValidationSection | None = Field(default=None, exclude_if=_absent)
    hidden: HiddenSection | None = Field(default=None, exclude_if=_absent)
    inference: InferenceSection | None = Field(default=None, exclude_if=_absent)
    cross_validation: CrossValidationSection | None = Field(default=None, exclude_if=_absent)  # data.folds
    # seconds by phase (show/progress.PHASES: data, glm, training, standard_errors, reference, plots, ...;
    # training's own parts as training_build, training_steps, ...)
    timings: dict[str, float] | None = Field(default=None, exclude_if=_absent)

    model_config = ConfigDict(extra="allow", populate_by_name=True, ser_json_inf_nan="null")

    @model_validator(mode="before")
    @classmethod
    def _r_names(cls, raw: Any) -> Any:
        # an older folder's terms (const, C(x)[T.b]) in R's scheme, so that it lists and compares
        # beside new runs: the one place where old names are mapped
        return names.renamed_record(raw) if isinstance(raw, dict) else raw

    @property
    def set_keys(self) -> dict[str, Any]:
        """The config keys this run set over its config file: `--set` overrides and its sweep point."""
        return (self.overrides or {}) | (self.sweep_point or {})

    def to_json(self) -> dict[str, Any]:
        # a new dict at each call: NaN is None there, and an edit to it is not kept
        """result.json's content: undefined numbers are null."""
        return _finite(self.model_dump(mode="json", by_alias=True))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class Unreadable(Exception):
    """result.json is missing, too large, not JSON, or not of this schema: why, in a few words."""


def read(path: Path) -> RunResult:
    """A run folder's result.json (never through a link out of the folder, never a FIFO or device)."""
    try:
        data = safe.read_bytes(path, MAX_RESULT_BYTES, within=path.parent)
    except FileNotFoundError:
        raise Unreadable("no result.json") from None
    except safe.Refused as e:
        raise Unreadable(str(e)) from None
    except OSError as e:
        raise Unreadable(f"unreadable result.json ({e.strerror})") from None
    if len(data) > MAX_RESULT_BYTES:
        raise Unreadable(f"result.json is larger than {MAX_RESULT_BYTES // 2**20} MB")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError) as e:
        raise Unreadable(f"unreadable result.json ({type(e).__name__})") from None
    except ValueError as e:  # JSONDecodeError, or an integer past Python's 4300-digit limit
        why = "JSONDecodeError" if isinstance(e, json.JSONDecodeError) else "a number of more than 4300 digits"
        raise Unreadable(f"unreadable result.json ({why})") from None
    if not isinstance(raw, dict):
        raise Unreadable("result.json is not an object")
    if not safe.encodable(json.dumps(raw, ensure_ascii=False)):
        raise Unreadable("result.json holds a lone surrogate (\\ud800 to \\udfff), which is no character")
    try:
        return RunResult.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        key = ".".join(clip(str(part)) for part in first["loc"]) or "result.json"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        why = first["msg"].removeprefix("Value error, ")
        raise Unreadable(f"result.json: {key}: {why} (got {short(first.get('input'), 40)}){more}") from None
