"""`nnglm export --mlflow URI RUN ...`: each run folder as one MLflow run.

What goes where:
- params: the resolved config, flattened to dotted keys (`train.learning_rate`); strings as
  they are, other values as JSON (`0.001`, `true`, `[]`);
- tags: `nnglm.*` (run id, name, status, family, link, backend, dtype, device, outcome, verdict,
  errors (the standard errors used, in words), error, `set`: the keys --set or the sweep point set, folder) and `environment.*` (versions,
  device, determinism);
- metrics: the comparison's figures by their own names (`max_abs_diff`, `equivalent` as 0/1, ...),
  every other section's numbers as `<section>.<key>` (`network.final_loss`,
  `glm.statistics.deviance`, `validation.glm.validation_loss`), and each column of history.csv
  by step (`loss`, `max_abs_diff_to_glm`);
- artifacts: the folder's files (report.md and its plots, result.json, config.yaml, the CSVs).

A run already exported into the experiment (its `nnglm.run_id` tag) is not exported twice.
MLflow is an optional extra (`mlflow`), imported here only.
"""

import io
import json
import logging
import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from nnglm.foundation import safe
from nnglm.foundation.errors import UserError, clip, short
from nnglm.log import logbook, runlog
from nnglm.log import result as schema
from nnglm.log.result import Status

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

INSTALL_HINT = "make install EXTRAS=test,dev,mlflow, or .venv/bin/pip install -e '.[mlflow]'"

# MLflow's limits (mlflow.utils.validation): per log_batch call, and per value
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
NETWORK_SECONDS = 10  # the longest one request to a tracking server may take
MAX_HISTORY_BYTES = 256 * 2**20  # history.csv is a few MB at 200 000 steps

NOT_FIGURES = {"config", "environment", "process", "sweep_point", "overrides"}  # sections whose numbers are no result
PER_TERM = {"coefficients", "bse"}  # one number per term: coefficients.csv holds them
MLFLOW_STATUS = {Status.COMPLETED: "FINISHED", Status.FAILED: "FAILED", Status.INTERRUPTED: "KILLED"}
NOT_ARTIFACTS = {runlog.HEARTBEAT_FILE}  # and dotfiles: a file being written


@dataclass
class Run:
    folder: Path
    result: schema.RunResult

    @property
    def run_id(self) -> str:
        return self.result.run_id or self.folder.name


def load_mlflow() -> ModuleType:
    # a tracking server that does not answer fails within NETWORK_SECONDS, not after minutes of retries
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(NETWORK_SECONDS))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    try:
        import mlflow
        import mlflow.store.db.utils as sql_store
    except ImportError:
        raise UserError(f"export: MLflow is not installed; it is the optional extra `mlflow`: {INSTALL_HINT}") from None
    for name in ("mlflow", "alembic"):  # the SQL store announces its table migrations at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    # MLflow retries a database it cannot open ten times, for 100 s, warning each time: once is enough
    sql_store.MAX_RETRY_COUNT = 1
    return mlflow


def readable(folder: Path) -> Run:
    """A run folder's result, or a UserError naming the folder: unreadable, still running, or dead."""
    logged = logbook.read(folder)
    if logged.result is None:
        raise UserError(f"{folder}: cannot export it: {logged.problem}")
    if logged.status == Status.DEAD:
        raise UserError(f"{folder}: recorded as running, but {logged.problem}; it has no end to export (`nnglm runs` lists it as dead)")
    if logged.status == Status.RUNNING:
        raise UserError(f"{folder}: still running; export it once it has ended")
    return Run(folder, logged.result)


def text(value: object) -> str:
    """A config value as a param or tag: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def params(result: schema.RunResult) -> dict[str, str]:
    """The resolved config, flattened to dotted keys."""
    return {clip(key, MAX_KEY): clip(text(value), MAX_PARAM_VALUE) for key, value in logbook.flatten(result.config).items()}


def tags(run: Run) -> dict[str, str]:
    r = run.result
    model = r.config.get("model")
    model = model if isinstance(model, dict) else {}
    dumped = r.model_dump(mode="json", by_alias=True)
    set_keys = r.set_keys  # as `nnglm runs` shows them
    comparison = dumped.get("comparison") or {}
    found = {
        "nnglm.run_id": run.run_id,
        "nnglm.name": r.name or run.folder.parent.name,
        "nnglm.status": r.status,
        "nnglm.family": model.get("family"),
        "nnglm.link": model.get("link"),
        "nnglm.backend": r.environment.backend,
        "nnglm.dtype": r.environment.dtype,
        "nnglm.device": r.environment.device,
        "nnglm.outcome": comparison.get("outcome"),
        "nnglm.verdict": comparison.get("verdict"),
        "nnglm.cross_validation": (dumped.get("cross_validation") or {}).get("verdict"),
        "nnglm.errors": logbook.errors_used(r),  # which standard errors both fits report
        "nnglm.error": r.error,
        "nnglm.set": " ".join(f"{k}={text(v)}" for k, v in set_keys.items()),
        "nnglm.folder": str(run.folder.resolve()),
        "mlflow.note.content": comparison.get("verdict") or r.error,  # the run's description in MLflow's UI
    }
    found |= {f"environment.{key}": value for key, value in logbook.flatten(dumped.get("environment") or {}).items()}
    return {clip(key, MAX_KEY): clip(text(value), MAX_TAG_VALUE) for key, value in found.items() if value not in (None, "", {})}


def numbers(section: dict, prefix: str) -> dict[str, float]:
    """The numbers in a section (true/false as 1/0), by dotted key; per-term maps and lists left out."""
    out: dict[str, float] = {}
    for key, value in section.items():
        if key in PER_TERM:
            continue
        if isinstance(value, dict):
            out |= numbers(value, f"{prefix}{key}.")
        elif isinstance(value, (bool, int, float)) and _finite(value):
            out[clip(f"{prefix}{key}", MAX_KEY)] = float(value)
    return out


def _finite(value: bool | int | float) -> bool:
    """A number a float holds: not NaN or infinite, and no integer past a float's range (a received
    result.json may hold 401 digits)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def figures(result: schema.RunResult) -> dict[str, float]:
    """The final figures: the comparison's by their own names, every other section's as <section>.<key>."""
    dumped = result.model_dump(mode="json", by_alias=True)
    out = numbers(dumped.get("comparison") or {}, "")
    for section, content in dumped.items():
        if section not in NOT_FIGURES and section != "comparison" and isinstance(content, dict):
            out |= numbers(content, f"{section}.")
    for versus in (dumped.get("cross_validation") or {}).get("networks") or []:  # a list: by its network's name
        if isinstance(versus, dict) and isinstance(versus.get("model"), str):
            out |= numbers({k: v for k, v in versus.items() if k != "model"}, f"cross_validation.{versus['model']}.")
    return out


def history(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """history.csv by column, as (step, value) pairs, at most runlog.MAX_READ_STEPS of them (evenly
    thinned); {} without the file or its `step` column, or when it is no plain file of the folder, or
    larger than MAX_HISTORY_BYTES. Parsed by pandas' C reader: memory near the file's size."""
    import pandas as pd

    try:
        content = safe.read_bytes(folder / runlog.HISTORY_FILE, MAX_HISTORY_BYTES, within=folder)
        if len(content) > MAX_HISTORY_BYTES:
            return {}
        frame = pd.read_csv(io.BytesIO(content), engine="c")
    except (OSError, UnicodeDecodeError, safe.Refused, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return {}
    if frame.empty or str(frame.columns[0]) != "step":
        return {}
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    numbers = numbers[numbers["step"].notna()]  # a line cut short
    numbers = numbers.iloc[runlog.thinned(len(numbers))]
    steps = numbers["step"].astype("int64").tolist()
    columns = {}
    for name in numbers.columns[1:]:
        values = numbers[name].tolist()
        points = [(step, float(v)) for step, v in zip(steps, values) if v == v]
        if points:
            columns[clip(str(name), MAX_KEY)] = points
    return columns


def artifacts(folder: Path) -> tuple[list[Path], list[str]]:
    """Every plain file of the run folder but the heartbeat and files being written (dotfiles); and
    what is left out for being a link (whose target may lie anywhere) or no plain file (a FIFO, a device)."""
    kept, left_out = [], []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in NOT_ARTIFACTS:
            continue
        mode = os.lstat(path).st_mode
        if stat.S_ISREG(mode):
            kept.append(path)
        elif not stat.S_ISDIR(mode):
            left_out.append(f"{path.name} ({'a link' if stat.S_ISLNK(mode) else safe.kind(mode)})")
    return kept, left_out


def millis(result: schema.RunResult) -> int | None:
    """When the run started, in ms since the epoch (MLflow's clock), from result.json's process section."""
    try:
        return int(datetime.fromisoformat(result.process.started).timestamp() * 1000) if result.process else None
    except ValueError:
        return None


def batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def artifact_root(uri: str) -> str | None:
    """For a SQLite file, a new experiment keeps its artifacts in `mlartifacts/` beside the database
    (MLflow's own default is ./mlruns in whatever folder the command runs in); elsewhere MLflow decides."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").partition("?")[0]
    if not path or path == ":memory:":
        return None
    return (Path(path).resolve().parent / "mlartifacts").as_uri()


def experiment_id(client: "MlflowClient", name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name, artifact_location=artifact_root(uri))
    if found.lifecycle_stage == "deleted":
        raise UserError(f"--experiment {short(name)}: deleted in {clip(uri, 200)}; restore it in MLflow, or give another name")
    return found.experiment_id


def exported(client: "MlflowClient", experiment: str, run: Run) -> str | None:
    """The MLflow run this run was exported to before, if any (a finished export: its status is not RUNNING)."""
    if "'" in run.run_id:
        return None  # not expressible in MLflow's filter syntax; such a folder is exported again
    found = client.search_runs([experiment], filter_string=f"tags.`nnglm.run_id` = '{run.run_id}'")
    done = [r.info.run_id for r in found if r.info.status != "RUNNING"]
    return done[0] if done else None


def log(client: "MlflowClient", experiment: str, run: Run) -> str:
    """One MLflow run from one run folder; its MLflow run id. A failed export leaves no half run behind."""
    from mlflow.entities import Metric, Param, RunTag

    start = millis(run.result)
    end = int((run.folder / runlog.RESULT_FILE).stat().st_mtime * 1000)  # written last, when the run ended
    created = client.create_run(experiment, start_time=start, run_name=f"{run.folder.parent.name}/{run.folder.name}")
    mlflow_id = created.info.run_id
    try:
        for chunk in batches([Param(k, v) for k, v in params(run.result).items()], MAX_PARAMS_TAGS_PER_BATCH):
            client.log_batch(mlflow_id, params=chunk)
        for chunk in batches([RunTag(k, v) for k, v in tags(run).items()], MAX_PARAMS_TAGS_PER_BATCH):
            client.log_batch(mlflow_id, tags=chunk)
        metrics = [Metric(k, v, end, 0) for k, v in figures(run.result).items()]
        metrics += [Metric(k, v, end, step) for k, points in history(run.folder).items() for step, v in points]
        for chunk in batches(metrics, MAX_METRICS_PER_BATCH):
            client.log_batch(mlflow_id, metrics=chunk)
        for path in artifacts(run.folder)[0]:
            client.log_artifact(mlflow_id, str(path))
        client.set_terminated(mlflow_id, MLFLOW_STATUS.get(run.result.status, "FINISHED"), end_time=max(end, start or 0))
    except BaseException:
        client.delete_run(mlflow_id)
        raise
    return mlflow_id


def export(folders: list[Path], uri: str, experiment: str = "nnglm") -> Iterator[str]:
    """Exports each run folder, yielding one line per run as it goes. Every folder is read first,
    so that a bad one stops the export before anything is written."""
    mlflow = load_mlflow()
    from mlflow.exceptions import MlflowException

    check_uri(uri)
    runs = [readable(folder) for folder in folders]
    where = f"--mlflow {clip(uri, 200)}"
    try:
        client = mlflow.tracking.MlflowClient(tracking_uri=uri)
        exp = experiment_id(client, experiment, uri)
        for run in runs:
            before = exported(client, exp, run)
            if before:
                yield f"{run.folder}: already in experiment {short(experiment)} as MLflow run {before}; not exported again"
                continue
            mlflow_id = log(client, exp, run)
            left_out = artifacts(run.folder)[1]
            note = f" (left out: {', '.join(left_out)})" if left_out else ""
            yield f"{run.folder}: MLflow run {mlflow_id} in experiment {short(experiment)}{note}"
    except MlflowException as e:
        raise UserError(f"{where}: {clip(e.message.strip(), 500)}") from None
    except OSError as e:  # reading a folder's file, or writing the artifacts: a full disk, a permission
        raise UserError(f"{where}: {e.strerror or type(e).__name__}: {clip(str(e.filename), 200)}") from None
    except ImportError as e:  # a database URI whose driver is not installed (psycopg, MySQLdb, ...)
        raise UserError(f"{where}: its database driver is not installed here ({e.name or e})") from None
    except Exception as e:  # the store itself: SQLAlchemy's errors for a folder or a file that is not a database
        if type(e).__module__.split(".")[0] != "sqlalchemy":
            raise
        raise UserError(f"{where}: the tracking store cannot be used ({clip(str(e).splitlines()[0], 300)})") from None


def check_uri(uri: str) -> None:
    """A store that keeps what is exported: no empty URI, no SQLite database in memory or without a path."""
    if not uri.strip():
        raise UserError("--mlflow: empty; give a tracking URI, e.g. sqlite:///mlflow.db")
    if uri.startswith("sqlite:") and uri.removeprefix("sqlite:").lstrip("/") in ("", ":memory:"):
        raise UserError(
            f"--mlflow {clip(uri, 200)}: an SQLite store in memory or without a file keeps nothing; give a file, e.g. sqlite:///mlflow.db"
        )
    if uri.startswith("sqlite:///"):
        check_sqlite(uri, Path(uri.removeprefix("sqlite:///").partition("?")[0]))


def check_sqlite(uri: str, path: Path) -> None:
    """An SQLite store's file is a file (or none yet): a folder or a FIFO said at once (MLflow would retry for minutes)."""
    where = f"--mlflow {clip(uri, 200)}"
    if path.is_dir():
        raise UserError(f"{where}: {clip(str(path), 200)} is a folder; give a database file, e.g. sqlite:///mlflow.db")
    if path.exists() and not path.is_file():
        raise UserError(f"{where}: {clip(str(path), 200)} is not a plain file; give a database file")
