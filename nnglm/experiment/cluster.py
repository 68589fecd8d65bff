"""A sweep's points on an existing Dask distributed cluster (`nnglm run --cluster tcp://HOST:8786`).

No file system is shared with the workers: a worker runs its point into a
temporary folder of its own and returns the run folder's files as bytes; the
machine that launched the sweep writes them under its --out folder, with the
run id and layout the run was given there, result.json last.

Keras reads its backend once per process: a worker runs a point in its own
process while Keras is not loaded there or is loaded with the point's backend,
and in a fresh child process otherwise (Dask's worker processes are daemons,
which multiprocessing does not let have children, hence a plain subprocess).
"""

import os
import pickle
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from nnglm.config import Config
from nnglm.experiment.cache import RunCache
from nnglm.experiment.point import PointOutcome, PointStatus, run_point
from nnglm.foundation.errors import UserError, clip, short
from nnglm.log import runlog

if TYPE_CHECKING:
    from distributed import Client

CONNECT_SECONDS = 10.0  # for the scheduler to answer, and for it to have one worker
POLL_SECONDS = 2.0  # how often a waiting sweep asks the scheduler whether it still has workers
WORKERLESS_SECONDS = 60.0
MAX_HANDSHAKE_FRAMES = 1000  # a scheduler's greeting is a few frames; b"HTTP/1.1" read as a count is 3.5e18  # without a worker this long, the points still waiting fail

RunFiles = dict[str, bytes]  # '<name>/<run_id>/<file>' -> its content


# --- on the machine that launches the sweep ---


def connect(address: str) -> "Client":
    """A client of the scheduler at address, with at least one worker; a UserError otherwise."""
    try:
        from distributed import Client
        from distributed.comm import get_address_host_port
    except ImportError:
        raise UserError("--cluster: Dask distributed is not installed here; install it with pip install 'dask[distributed]'") from None

    try:
        host, port = get_address_host_port(address)
    except ValueError as e:
        raise UserError(
            f"--cluster: {short(address)} is not a Dask scheduler address ({e}); give one as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
        ) from None
    scheme = address.partition("://")[0] if "://" in address else "tcp"
    if scheme != "tcp":
        raise UserError(
            f"--cluster: {short(address)}: nnglm speaks to a scheduler over tcp:// only ({scheme}:// needs certificates "
            "or transports it does not set up); give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
        )
    if not 0 < port < 65536:
        raise UserError(f"--cluster: {short(address)}: port {port} is not a TCP port (1 to 65535); Dask's default is 8786")
    no_answer = (
        f"--cluster: no Dask scheduler answered at {clip(address)} within {CONNECT_SECONDS:g} s"
        " ({why}); start one with `dask scheduler`, or check the address"
    )
    probe(host, port, address, no_answer)
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise UserError(no_answer.format(why=e)) from None
    except (MemoryError, Exception) as e:  # something answered, but not as a scheduler does
        raise UserError(
            f"--cluster: {clip(address)} answered, but not as a Dask scheduler ({clip(f'{type(e).__name__}: {e}', 200)})"
        ) from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError):
        client.close()
        raise UserError(
            f"--cluster: the scheduler at {clip(address)} has no workers; start some with `dask worker {clip(address)} --nthreads 1`"
        ) from None
    return client


def probe(host: str, port: int, address: str, no_answer: str) -> None:
    """A scheduler greets a new connection first, with its handshake (a count of frames, then the frames):
    read its first 8 bytes within CONNECT_SECONDS. Dask's client waits for that greeting without a time
    limit, so a listener that never answers would hold it for ever."""
    try:
        conn = socket.create_connection((host, port), timeout=CONNECT_SECONDS)
    except TimeoutError:
        raise UserError(no_answer.format(why="no connection")) from None
    except OSError as e:
        raise UserError(
            f"--cluster: no Dask scheduler at {clip(address)} ({e.strerror or type(e).__name__}); "
            "start one with `dask scheduler`, or check the address"
        ) from None
    greeting = b""
    try:
        with conn:
            while len(greeting) < 8:
                part = conn.recv(8 - len(greeting))
                if not part:
                    raise UserError(f"--cluster: {clip(address)} closed the connection without a word: not a Dask scheduler")
                greeting += part
    except TimeoutError:
        raise UserError(no_answer.format(why="the connection opened, but nothing was said on it")) from None
    except OSError as e:
        raise UserError(no_answer.format(why=e.strerror or type(e).__name__)) from None
    frames = struct.unpack("<Q", greeting)[0]
    if not 0 < frames <= MAX_HANDSHAKE_FRAMES:
        raise UserError(f"--cluster: {clip(address)} answered, but not as a Dask scheduler (it began with {greeting!r})")


def run(
    client: "Client",
    points: list[tuple[dict, Config]],
    out: Path,
    report: Callable[[int, PointOutcome], None],
    overrides: dict | None = None,
) -> None:
    """Every point on the cluster; each outcome is reported once its run folder is written under out.
    A cluster left with no workers for WORKERLESS_SECONDS fails the points still waiting, instead of
    waiting for ever."""
    futures = {client.submit(run_remote, point, config, overrides, pure=False): i for i, (point, config) in enumerate(points)}
    pending, seen_workers = set(futures), time.monotonic()
    asked = seen_workers
    try:
        while pending:
            done = {future for future in pending if future.done()}
            for future in done:
                i = futures[future]
                report(i, store(*_outcome(future, points[i][0]), out))
            pending -= done
            if done:
                continue
            time.sleep(0.05)
            if time.monotonic() - asked > POLL_SECONDS:
                asked = time.monotonic()
                if client.scheduler_info(n_workers=1)["workers"]:
                    seen_workers = asked
            if time.monotonic() - seen_workers > WORKERLESS_SECONDS:
                why = f"the cluster has had no workers for {WORKERLESS_SECONDS:g} s (they died or were stopped)"
                for future in pending:
                    report(futures[future], PointOutcome(points[futures[future]][0], PointStatus.FAILED, error=why))
                return
    finally:
        client.cancel(list(futures))


def _outcome(future, point: dict) -> tuple[PointOutcome, RunFiles]:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:  # the scheduler retried it on other workers, and they died too
        return PointOutcome(point, PointStatus.FAILED, error="its worker process died"), {}
    except Exception as e:  # the task could not run there (nnglm missing on the worker, say)
        return PointOutcome(point, PointStatus.FAILED, error=clip(f"on the cluster: {type(e).__name__}: {e}", 500)), {}


def store(outcome: PointOutcome, files: RunFiles, out: Path) -> PointOutcome:
    """Write a point's run folder under out; a folder that cannot be written rejects the point, as in a local run."""
    if not files:
        return outcome
    try:
        outcome.run_dir = str(write_folder(Path(out), files))
    except UserError as e:
        return PointOutcome(outcome.point, PointStatus.REJECTED, error=clip(str(e), 500))
    return outcome


def write_folder(out: Path, files: RunFiles) -> Path:
    """out/<name>/<run_id>/ with the files a worker returned, made exclusively, result.json written last."""
    paths = {key: PurePosixPath(key).parts for key in files}
    name_and_id = next(iter(paths.values()))[:2]
    for key, parts in paths.items():
        if len(parts) != 3 or parts[:2] != name_and_id or any(part in (".", "..") for part in parts):
            raise runlog.RunFolderError(f"--out: a worker returned {short(key)}, not a file of one run folder <name>/<run_id>/<file>")
    folder = out.joinpath(*name_and_id)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()  # exclusively: the run id is the worker's, and must not meet a folder already here
    except FileExistsError:
        raise runlog.RunFolderError(f"--out: cannot make the run folder {clip(str(folder), 200)}: it exists already") from None
    except OSError as e:
        raise runlog.folder_error(folder, e) from None
    # result.json last: a completed result.json means the folder is whole, as in a local run
    for key in sorted(files, key=lambda k: paths[k][2] == runlog.RESULT_FILE):
        runlog.write_atomic(folder / paths[key][2], files[key])
    return folder


# --- on a worker ---

_one_at_a_time = threading.Lock()  # a worker with several threads: Keras' seeds and settings are per process
# Module globals because they are the Dask worker process's own state: each point arrives as a plain
# function call in that process (run_remote), and the points it runs one after another share this cache.
_worker_cache = RunCache()


def run_remote(point: dict, config: Config, overrides: dict | None = None) -> tuple[PointOutcome, RunFiles]:
    """Run one point into a temporary folder here; the outcome and the run folder's files."""
    with _one_at_a_time, tempfile.TemporaryDirectory(prefix="nnglm-point-") as tmp:
        runs = Path(tmp) / "runs"
        if keras_fits(config.train.backend):
            outcome = run_point(point, config, runs, _worker_cache, overrides)
        else:
            outcome = in_fresh_process(point, config, runs, overrides, Path(tmp) / "outcome.pickle")
        files = {f.relative_to(runs).as_posix(): f.read_bytes() for f in sorted(runs.glob(runlog.FILES_GLOB)) if f.is_file()}
    if outcome.status != PointStatus.COMPLETED:
        outcome.error = f"on {where()}: {outcome.error}"  # a CSV path, say, may hold on one machine and not on another
    return outcome, files


def keras_fits(backend: str) -> bool:
    keras = sys.modules.get("keras")
    return keras is None or keras.config.backend() == backend


def in_fresh_process(point: dict, config: Config, runs: Path, overrides: dict | None, answer: Path) -> PointOutcome:
    source = str(Path(__file__).resolve().parent.parent)  # so that the child imports this very nnglm
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "nnglm.experiment.cluster", str(answer)],
        input=pickle.dumps((point, config, runs, overrides)),
        env=env,
        capture_output=True,
    )
    if answer.is_file():
        return pickle.loads(answer.read_bytes())
    last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    return PointOutcome(point, PointStatus.FAILED, error=clip(f"its process died (exit {done.returncode}) {last[0]}".strip(), 500))


def where() -> str:
    try:
        from distributed import get_worker

        return f"worker {get_worker().address}"
    except (ImportError, ValueError):
        import socket

        return socket.gethostname()


def _child(answer: Path) -> None:
    point, config, runs, overrides = pickle.loads(sys.stdin.buffer.read())
    runlog.write_atomic(answer, pickle.dumps(run_point(point, config, runs, RunCache(), overrides)))


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
