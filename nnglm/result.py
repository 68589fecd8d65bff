"""The typed schema of result.json, as `nnglm runs` and `nnglm compare` read it.

Permissive on purpose: every section and key may be missing (older runs, runs
that failed before a section was written) and keys it does not know are kept,
so that a newer runner's additions do not make older readers fail. What it
does check is the type of what is there: a file whose `comparison.max_abs_diff`
is text is one bad row, reported with the key, never a crash further on.
"""

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nnglm.errors import clip, short

MAX_RESULT_BYTES = 64 * 2**20  # a result.json is kilobytes; a multinomial with thousands of terms, a few MB

Number = float | None  # JSON has no NaN or infinity: the runner writes an undefined number as null
# by term; a multinomial fit nests them by class: {"<class>": {"const": ...}}
Coefficients = dict[str, Number | dict[str, Number]]


class Part(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Environment(Part):
    backend: str | None = None
    device: str | None = None
    dtype: str | None = None


class DataSection(Part):
    n_rows: int | None = None
    n_features: int | None = None
    feature_names: list[str] = []
    target: str | None = None


class Statistics(Part):
    llf: Number = None
    deviance: Number = None
    null_deviance: Number = None
    aic: Number = None
    bic: Number = None
    df_resid: Number = None
    dispersion: Number = None


class NetworkSection(Part):
    coefficients: Coefficients = {}
    statistics: Statistics | None = None
    bse: Coefficients | None = None
    final_loss: Number = None
    epochs_run: int | None = None
    train_seconds: Number = None
    diverged: bool | None = None
    note: str | None = None


class GlmSection(Part):
    coefficients: Coefficients = {}
    statistics: Statistics | None = None
    bse: Coefficients | None = None
    llf: Number = None
    converged: bool | None = None
    warnings: list[str] = []


class Tolerance(Part):
    max_abs: Number = None


class ComparisonSection(Part):
    max_abs_diff: Number = None
    equivalent: bool | None = None
    verdict: str | None = None
    tolerance: Tolerance | None = None


class Losses(Part):
    train_loss: Number = None
    validation_loss: Number = None


class ValidationSection(Part):
    glm: Losses | None = None
    network: Losses | None = None
    hidden: Losses | None = None


class Process(Part):
    """Where the run runs: enough for a reader to tell a live run from a dead one."""

    host: str
    pid: int
    started: str  # ISO 8601, UTC
    process_start: int | None = None  # the process's start time in clock ticks since boot (Linux), against pid reuse
    boot_id: str | None = None  # the machine's boot, against a pid from before a reboot
    heartbeat_seconds: float | None = None  # how often the heartbeat file is touched


class RunResult(Part):
    schema_version: int | None = Field(None, alias="schema")
    run_id: str | None = None
    name: str | None = None
    status: Literal["running", "completed", "failed", "interrupted"]
    error: str | None = None
    config: dict = {}
    process: Process | None = None
    environment: Environment = Environment()
    data: DataSection | None = None
    network: NetworkSection | None = None
    glm: GlmSection | None = None
    comparison: ComparisonSection | None = None
    validation: ValidationSection | None = None


class Unreadable(Exception):
    """result.json is missing, too large, not JSON, or not of this schema: why, in a few words."""


def read(path: Path) -> RunResult:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_RESULT_BYTES + 1)
    except FileNotFoundError:
        raise Unreadable("no result.json") from None
    except OSError as e:
        raise Unreadable(f"unreadable result.json ({e.strerror})") from None
    if len(data) > MAX_RESULT_BYTES:
        raise Unreadable(f"result.json is larger than {MAX_RESULT_BYTES // 2**20} MB")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise Unreadable(f"unreadable result.json ({type(e).__name__})") from None
    if not isinstance(raw, dict):
        raise Unreadable("result.json is not an object")
    try:
        return RunResult.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        key = ".".join(clip(str(part)) for part in first["loc"]) or "result.json"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise Unreadable(f"result.json: {key}: {first['msg']} (got {short(first.get('input'), 40)}){more}") from None


def flat(coefficients: Coefficients) -> dict[str, Number]:
    """Multinomial fits nest coefficients by class; here they are '<class>:<term>', as in coefficients.csv."""
    out: dict[str, Number] = {}
    for key, value in coefficients.items():
        if isinstance(value, dict):
            out.update({f"{key}:{term}": v for term, v in value.items()})
        else:
            out[key] = value
    return out
