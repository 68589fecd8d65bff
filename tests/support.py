"""Helpers and constants the test files share: the repository's folders, configs loaded by name, sample
configs of a family, nnglm in a child process (with a time limit, or waited for), a run folder written by
hand, the docs' hooks. Plain functions, imported as `from support import ...`; the fixtures are in conftest.py."""

import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from nnglm import config

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
DOCS = ROOT / "docs"


def load(name_or_path, *overrides):
    path = Path(name_or_path)
    if not path.is_absolute() and not path.exists():
        path = ROOT / "configs" / f"{name_or_path}.yaml"
    return config.load(path, list(overrides))


def engine_of(cfg):
    """The Keras backend engine a run of cfg trains on, as runner.run loads it."""
    from nnglm.train import backends

    return backends.load(cfg.train.backend, cfg.train.dtype)


def sample_config(row, *overrides, n_rows=500, dtype="float64", **data):
    """A config on a sample drawn from a known GLM of the family row, its means inside the link's domain."""
    eta_min, eta_max = row.eta_range
    bounded = bool(np.isfinite(eta_min) or np.isfinite(eta_max))
    if np.isfinite(eta_min) and np.isfinite(eta_max):
        intercept = (eta_min + eta_max) / 2
    else:
        intercept = -1.5 if np.isfinite(eta_max) else (2.0 if np.isfinite(eta_min) else 0.5)
    raw = {
        "name": f"sample_{row.family}_{row.link}",
        "seed": 1,
        "data": {
            "source": "synthetic",
            "generator": "glm",
            "n_rows": n_rows,
            "n_features": 3,
            "coefficients": [0.1, -0.1, 0.05] if bounded else [0.3, -0.2, 0.1],
            "intercept": intercept,
            "scale": 0.5,
        }
        | data,
        "model": {"family": row.family, "link": row.link} | ({"variance": row.variance} if row.variance else {}),
        "train": {"dtype": dtype},
    }
    raw = config.apply_overrides(raw, list(overrides))
    return config.validate(raw, f"sample config of {row.key}")


def bounded_nnglm(*args, seconds=60, env=None, cwd=ROOT):
    """nnglm in a child process that must end within `seconds` (subprocess.TimeoutExpired fails the test)."""
    done = subprocess.run([sys.executable, "-m", "nnglm", *map(str, args)], cwd=cwd, capture_output=True, timeout=seconds, env=env)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def hand_run(root: Path, name="hand", run_id="20260101-000000-abcdef", **fields) -> Path:
    """A completed run folder written by hand: result.json only, two coefficients."""
    folder = root / name / run_id
    folder.mkdir(parents=True)
    result = {
        "schema": 1,
        "run_id": run_id,
        "name": name,
        "status": "completed",
        "config": {"name": name, "model": {"family": "poisson", "link": "log"}},
        "environment": {"backend": "tensorflow", "device": "CPU:0", "dtype": "float64"},
        "network": {"coefficients": {"const": 1.0, "x1": 2.0}, "epochs_run": 7},
        "glm": {"coefficients": {"const": 1.0, "x1": 2.0}, "bse": {"const": 0.1, "x1": 0.1}},
        "comparison": {"max_abs_diff": 0.0, "equivalent": True},
    } | fields
    (folder / "result.json").write_text(json.dumps(result))
    return folder


def _docs_hooks():
    """docs/hooks.py, the mkdocs hook that writes the generated tables, loaded as a module."""
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _docs_hooks()


# the faults' tests: a config of four rows, terminal escapes, child processes and a listener that never answers

FOUR = "name: t\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 5}\n"
ESC = "\x1b"
CLEAR = "\x1b[2J"  # clears the screen
TITLE = "\x1b]0;pwned\x07"  # sets the terminal window's title


def nnglm_process(*args, **kwargs):
    """nnglm started in a child process in the repository's folder; its stdout and stderr piped as text unless told."""
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    return subprocess.Popen([sys.executable, "-m", "nnglm", *map(str, args)], cwd=ROOT, text=True, **(pipes | kwargs))


def wait_for(predicate, seconds=120):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def listener(answer: bytes | None = None):
    """A TCP listener on a free port that accepts and then says `answer` (None: never a word)."""
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if answer:
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return server, f"tcp://127.0.0.1:{server.getsockname()[1]}"
