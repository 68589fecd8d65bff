"""The run folder: experiments/<name>/<run_id>/ with config, result, history, coefficients.

Every file is written to a temporary name in the same folder and renamed into
place, so a crash never leaves a half-written file. A run id is a timestamp
plus random hex and its folder is created exclusively, so runs started at the
same moment never share a folder.
"""

import csv
import io
import json
import math
import os
import platform
import secrets
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

SCHEMA = 1


def new_run_dir(root: Path, name: str) -> tuple[Path, str]:
    while True:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        path = Path(root) / name / run_id
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path, run_id
        except FileExistsError:
            continue


def write_atomic(path: Path, content: str | bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = content.encode() if isinstance(content, str) else content
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    write_atomic(run_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))


def write_result(run_dir: Path, result: dict[str, Any]) -> None:
    write_atomic(run_dir / "result.json", json.dumps(_finite(result), indent=2, allow_nan=False) + "\n")


def write_csv(run_dir: Path, name: str, header: list[str], rows: list) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(run_dir / name, buf.getvalue())


def write_history(run_dir: Path, history: list[tuple[int, float, float]]) -> None:
    write_csv(run_dir, "history.csv", ["step", "loss", "max_abs_diff_to_glm"], history)


def environment(backend: str, device: str, dtype: str) -> dict[str, str]:
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return ""

    return {
        "backend": backend,
        "device": device,
        "dtype": dtype,
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "keras": version("keras"),
        "tensorflow": version("tensorflow"),
        "jax": version("jax"),
        "torch": version("torch"),
        "statsmodels": version("statsmodels"),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        **source_version(),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def source_version() -> dict[str, object]:
    """The git commit of nnglm's own source, and whether its tree had uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "-C", str(here), "status", "--porcelain"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    if commit.returncode != 0:
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit.stdout.strip(), "git_dirty": bool(status.stdout.strip())}


def _finite(value: Any) -> Any:
    # JSON has no NaN or infinity: an undefined number is null
    if hasattr(value, "item") and not isinstance(value, (dict, list, tuple)):
        value = value.item()  # NumPy scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
