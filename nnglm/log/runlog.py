"""The run folder: experiments/<name>/<run_id>/ with config, result, history, coefficients.

Every file but history.csv is written to a temporary name in the same folder
and renamed into place, so a crash never leaves a half-written file;
history.csv grows by whole lines as training goes, so a killed run keeps the
steps it reached. A run id is a timestamp plus random hex and its folder is
created exclusively, so runs started at the same moment never share a folder.

While a run goes, `heartbeat` in its folder is touched every few seconds and
result.json records the host, pid and start of its process: a reader can tell
a live run from one whose process died without a word (SIGKILL, power loss).
"""

import csv
import datetime
import io
import json
import math
import os
import platform
import secrets
import shutil
import socket
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nnglm.foundation.errors import UserError, clip
from nnglm.log.result import Environment, Process, RunResult

# the run folder's layout, declared here only: <out>/<config name>/<run id>/ holding these files
CONFIG_FILE = "config.yaml"
RESULT_FILE = "result.json"  # written last: a completed result.json means the folder is whole
HISTORY_FILE = "history.csv"
COEFFICIENTS_FILE = "coefficients.csv"
TRAJECTORY_FILE = "trajectory.csv"
COVARIANCE_FILE = "covariance.csv"  # each fit's covariance of its coefficients (predictions' standard errors)
RESIDUALS_FILE = "residuals.csv"  # each fit's fitted means and residuals on the training rows
HEARTBEAT_FILE = "heartbeat"
REPORT_MD, REPORT_HTML = "report.md", "report.html"
DATA_FILE = "data.parquet"  # the copy of a DataFrame given to nnglm.run (data.source: dataframe)
LOSS_PICTURE = "loss.png"
DISTANCE_PICTURE = "distance.png"
LINES_PICTURE = "lines.png"  # two features and a binary target only
DIAGNOSTICS_PICTURE = "diagnostics.png"
CROSSVAL_PICTURE = "crossval.png"  # runs with data.folds only
SWEEP_PREFIX = "sweep-"  # a sweep's own folder, beside its points': sweep-<its first point's run id>/
SWEEP_PICTURE = "sweep.png"  # the one file of a sweep's own folder
FILES_GLOB = "*/*/*"  # every file of every run under <out>: <name>/<run id>/<file>

HEARTBEAT_SECONDS = 5.0
MAX_HEARTBEAT_SECONDS = 100.0  # a recorded period past this is not believed (6 periods: 10 minutes)


class RunFolderError(UserError):
    """The run folder cannot be made or written (missing permission, full disk, folder removed)."""


def folder_error(path: Path, e: OSError) -> RunFolderError:
    return RunFolderError(f"cannot write {clip(str(path), 200)}: {e.strerror or type(e).__name__}")


# logged steps that a reader of history.csv takes (a picture, an export): more are thinned evenly,
# the first and last kept; a line of 20 000 points is finer than its pixels
MAX_READ_STEPS = 20_000


def thinned(n: int) -> np.ndarray:
    """Row indices of at most MAX_READ_STEPS of n logged steps, evenly spread, the first and last kept."""
    return np.arange(n) if n <= MAX_READ_STEPS else np.unique(np.linspace(0, n - 1, MAX_READ_STEPS).round().astype(int))


def is_run_folder(folder: Path) -> bool:
    """A folder nnglm wrote a run into (its result.json, even a link, marks it): its files are received ones."""
    try:
        return os.path.lexists(Path(folder) / RESULT_FILE)
    except (OSError, ValueError):
        return False


def sweep_folder(run_dirs: list[Path]) -> Path:
    """A sweep's own folder, beside its points' folders and named after the first of them (the smallest
    run id), so that drawing its picture again (`nnglm report`) finds the same folder."""
    first = min(run_dirs, key=lambda d: d.name)
    return first.parent / f"{SWEEP_PREFIX}{first.name}"


def is_sweep_folder(folder: Path) -> bool:
    return folder.name.startswith(SWEEP_PREFIX)


def check_out(root: Path) -> None:
    """--out must be a folder, or a path where one can be made; checked before any data is read,
    without making anything (bad data must not leave an empty run log behind)."""
    if "\x00" in str(root):  # the Python API's out=; a shell cannot pass one
        raise UserError("--out: holds a NUL byte, which no folder name can")
    existing = Path(root)
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():
            raise UserError(f"--out: {clip(str(existing), 200)} is a broken link")
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"--out: {clip(str(existing), 200)} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--out: no permission to write in {clip(str(existing), 200)}")


def new_run_dir(root: Path, name: str) -> tuple[Path, str]:
    while True:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        path = Path(root) / name / run_id
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path, run_id
        except FileExistsError:
            if not path.parent.is_dir():
                raise RunFolderError(f"--out: cannot make {clip(str(path.parent), 200)}: a file of that name is in the way") from None
            continue
        except OSError as e:
            raise RunFolderError(f"--out: cannot make the run folder {clip(str(path), 200)}: {e.strerror or type(e).__name__}") from None


def write_atomic(path: Path, content: str | bytes) -> None:
    """The file written whole or not at all: into a new temporary file of the same folder, then renamed
    over `path` (a link there is replaced, never written through); on a failure nothing is left."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    data = content.encode() if isinstance(content, str) else content
    try:
        _write_file(tmp, data)
        os.replace(tmp, path)
    except BaseException as e:  # a full disk or a second Ctrl-C: no half-written file left behind
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise folder_error(path, e) from None
        raise


def _write_file(path: Path, data: bytes) -> None:
    # made new (O_EXCL), so that no file or link already at the name is written through
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    write_atomic(run_dir / CONFIG_FILE, yaml.safe_dump(config, sort_keys=False))


def write_result(run_dir: Path, result: RunResult) -> None:
    write_atomic(run_dir / RESULT_FILE, json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n")


def write_csv(run_dir: Path, name: str, header: list[str], rows: list) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(run_dir / name, buf.getvalue())


HISTORY_HEADER = ["step", "loss", "max_abs_diff_to_glm"]


def write_history(run_dir: Path, history: list[tuple[int, float, float]]) -> None:
    write_csv(run_dir, HISTORY_FILE, HISTORY_HEADER, history)


class HistoryLog:
    """history.csv, appended one whole line per logged step as training goes."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / HISTORY_FILE
        try:
            self.file = open(self.path, "w", newline="")
            self.writer = csv.writer(self.file, lineterminator="\n")
            self._write(HISTORY_HEADER)
        except OSError as e:
            raise folder_error(self.path, e) from None

    def append(self, row: tuple[int, float, float]) -> None:
        self._write(row)

    def _write(self, row) -> None:
        try:
            self.writer.writerow(row)
            self.file.flush()  # in the kernel's hands: survives the process being killed
        except OSError as e:
            raise folder_error(self.path, e) from None

    def close(self) -> None:
        try:
            self.file.close()
        except OSError:
            pass  # the end of the run rewrites the file whole, or the error is already on its way


def start(run_dir: Path, result: RunResult) -> "tuple[HistoryLog, Heartbeat]":
    """A new run's first files: config.yaml, result.json (status running), the heartbeat, history.csv's header.
    If they cannot be written the folder, which holds nothing yet, is removed again."""
    heartbeat = None
    try:
        write_config(run_dir, result.config)
        heartbeat = Heartbeat(run_dir)  # before result.json says running: readers look for it then
        write_result(run_dir, result)
        return HistoryLog(run_dir), heartbeat
    except (UserError, OSError) as e:
        if heartbeat:
            heartbeat.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
        raise folder_error(run_dir, e) if isinstance(e, OSError) else e from None


def record_end(run_dir: Path, result: RunResult, history: list | None = None) -> None:
    """result.json of a run that failed or was interrupted, and the history it reached. On a full disk
    there may be no room even for that: result.json then still says running, and the heartbeat,
    which stops with the process, tells readers that it is not."""
    try:
        if history is not None:
            write_history(run_dir, history)
        write_result(run_dir, result)
    except RunFolderError:
        pass


# --- liveness ---


def process_record() -> Process:
    """Who runs this run: host, pid, start; result.json keeps it under `process`."""
    return Process(
        host=socket.gethostname(),
        pid=os.getpid(),
        started=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        process_start=process_start(os.getpid()),
        boot_id=boot_id(),
        heartbeat_seconds=HEARTBEAT_SECONDS,
    )


def process_start(pid: int) -> int | None:
    """When a process started, in clock ticks since boot (Linux); None where unknown or gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rpartition(")")[2].split()[19])  # field 22; the command name may hold spaces
    except (OSError, ValueError, IndexError):
        return None


def boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


class Heartbeat:
    """Touches <run>/heartbeat every HEARTBEAT_SECONDS from a thread, while the run goes."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / HEARTBEAT_FILE
        self.path.touch(exist_ok=False)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="nnglm-heartbeat", daemon=True)
        self.thread.start()

    def _beat(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                os.utime(self.path)
            except OSError:
                return  # the folder is gone or read-only: the run itself will say so

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.path.unlink(missing_ok=True)


def liveness(process: Process | None, run_dir: Path) -> tuple[bool | None, str]:
    """Whether the process of a `running` run is alive: (True, ''), (False, why) or (None, why unknown)."""
    if not process:
        return None, "written before runs recorded their process"
    host, pid = process.host, process.pid
    gone = f"its process (pid {pid} on {host}) is gone"
    beat = run_dir / HEARTBEAT_FILE
    if not beat.exists():  # removed when a run ends: this one ended without recording how (a full disk)
        return False, "it ended without recording its status"
    if host == socket.gethostname() and isinstance(pid, int):
        if process.boot_id and boot_id() and process.boot_id != boot_id():
            return False, f"{host} has restarted since the run began"
        start = process_start(pid)
        if start is None and not Path("/proc").is_dir():  # not Linux: the pid alone
            return (True, "") if _pid_exists(pid) else (False, gone)
        if start is None or process.process_start not in (None, start):  # gone, or the pid reused
            return False, gone
        return True, ""
    try:
        age = time.time() - beat.stat().st_mtime
    except OSError:
        return False, "it ended without recording its status"
    limit = 6 * heartbeat_period(process.heartbeat_seconds)
    if age > limit:
        return False, f"no heartbeat from {host} for {age / 60:.0f} min"
    return True, ""


def heartbeat_period(recorded: float | None) -> float:
    """The heartbeat's period as a run recorded it; ours where that is no sensible period (NaN, 0, negative,
    or longer than the 10 minutes after which a silent run counts as dead)."""
    if recorded is None or not math.isfinite(recorded) or not 0 < recorded <= MAX_HEARTBEAT_SECONDS:
        return HEARTBEAT_SECONDS
    return float(recorded)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def environment(backend: str, device: str, dtype: str, determinism: dict[str, Any]) -> Environment:
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return ""

    commit, dirty = source_version()
    return Environment(
        backend=backend,
        device=device,
        dtype=dtype,
        python=platform.python_version(),
        numpy=version("numpy"),
        keras=version("keras"),
        tensorflow=version("tensorflow"),
        jax=version("jax"),
        torch=version("torch"),
        statsmodels=version("statsmodels"),
        platform=platform.platform(),
        cpu=cpu_model(),
        cpu_count=os.cpu_count(),
        git_commit=commit,
        git_dirty=dirty,
        determinism=determinism,
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def source_version() -> tuple[str | None, bool | None]:
    """The git commit of nnglm's own source, and whether its tree had uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "-C", str(here), "status", "--porcelain"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None, None
    if commit.returncode != 0:
        return None, None
    return commit.stdout.strip(), bool(status.stdout.strip())
