"""A sweep: one run per point of a grid over config keys, then one table and one picture of all points.

Points run one after another, in N worker processes (`--jobs N`), or on a Dask
cluster's workers (`--cluster ADDRESS`, cluster.py); each run gets its own
folder, so parallel points never share a file.
"""

import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from nnglm.config import Config, describe_point
from nnglm.experiment import cluster
from nnglm.experiment.cache import RunCache
from nnglm.experiment.point import PointOutcome, PointStatus, run_point
from nnglm.foundation.errors import bounded
from nnglm.foundation.safe import cell, one_line_warning
from nnglm.log import logbook
from nnglm.log.logbook import not_equivalent
from nnglm.show.summary import wide_console

if TYPE_CHECKING:
    from distributed import Client


def run(
    points: list[tuple[dict, Config]],
    out: Path,
    jobs: int = 1,
    console: Console | None = None,
    client: "Client | None" = None,
    overrides: dict | None = None,
    quiet: bool = False,
    cache: RunCache | None = None,
) -> list[PointOutcome]:
    """Every point: one after another, in `jobs` processes, or on the Dask cluster of `client` (see cluster.py).
    `overrides`: the plain `--set` keys, recorded in each point's result.json; `quiet`: nothing printed;
    `cache`: what the points run in this process share (a new one where none is given; each worker
    process has its own)."""
    console = console or wide_console()
    console.quiet = quiet
    where = f" in {jobs} processes" if jobs > 1 else ""
    if client is not None:
        address = client.scheduler.address if client.scheduler is not None else "?"
        where = f" on the Dask cluster at {address} ({len(client.scheduler_info()['workers'])} workers)"
    console.print(cell(f"sweep of {len(points)} point{'s' if len(points) != 1 else ''}{where}"))
    outcomes: dict[int, PointOutcome] = {}

    def report(i: int, outcome: PointOutcome) -> None:
        outcomes[i] = outcome
        verdict = _verdict(outcome)
        console.print(
            cell(
                f"  point {len(outcomes)}/{len(points)} done: {describe_point(outcome.point) or 'the config as written'}: {outcome.status}, {verdict}"
            )
        )

    # Keras takes one backend per process: a sweep over backends runs each point in a fresh one
    several_backends = len({config.train.backend for _, config in points}) > 1
    if client is not None:
        cluster.run(client, points, out, report, overrides)
    elif jobs <= 1 and not several_backends:
        cache = cache if cache is not None else RunCache()
        for i, (point, config) in enumerate(points):
            report(i, run_point(point, config, out, cache, overrides))
    else:
        in_processes(points, out, min(jobs, len(points)), several_backends, overrides, report)
    ordered = [outcomes[i] for i in range(len(points))]
    console.print(table(ordered))
    picture(ordered, console)
    return ordered


WATCH_SECONDS = 1.0  # how often the launching process looks for a worker that died


def in_processes(points: list[tuple[dict, Config]], out: Path, workers: int, fresh: bool, overrides: dict | None, report) -> None:
    """Every point in a pool of `workers` spawned processes (spawn, not fork: TensorFlow does not survive a
    fork); `fresh`: a new process a point. A worker that dies (a signal, the out-of-memory killer) fails
    the points still waiting: the pool says so, or, should its own watch miss the death, this one does
    (a dead worker's exit code is seen within WATCH_SECONDS), and the other workers are stopped."""
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), max_tasks_per_child=1 if fresh else None, initializer=_worker_start
    )
    futures = {pool.submit(_in_worker, point, config, out, overrides): i for i, (point, config) in enumerate(points)}
    pending, seen, broken = set(futures), {}, False
    try:
        while pending:
            done, pending = wait(pending, timeout=WATCH_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                i = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    outcome, broken = PointOutcome(points[i][0], PointStatus.FAILED, error="its worker process died"), True
                report(i, outcome)
            seen.update({child.pid: child for child in multiprocessing.active_children()})
            broken = broken or any(child.exitcode not in (None, 0) for child in seen.values())
            if broken:  # the points still waiting fail with the pool; the workers still running them would train on
                for future in pending:
                    report(futures[future], PointOutcome(points[futures[future]][0], PointStatus.FAILED, error="its worker process died"))
                stop_workers()
                break
    except BaseException:
        # Ctrl-C reaches the workers too (one process group): the points they run record it; the
        # points not yet started are cancelled, not run one after another before the sweep may stop
        pool.shutdown(wait=False, cancel_futures=True)
        interrupt_workers()
        raise
    pool.shutdown(wait=not broken, cancel_futures=True)  # a broken pool's workers are stopped: nothing to wait for


@dataclass
class _WorkerState:
    running: bool = False  # a point runs now
    interrupted: bool = (
        False  # then the points already queued end at once, unstarted: the pool hands each worker one ahead, which no cancel reaches
    )
    cache: RunCache = field(default_factory=RunCache)  # what the points this worker runs share


# A module global because it is a worker process's own state: the pool's initializer and signal handler
# and each task it runs are plain functions of that process, with nothing else to hold it.
_worker = _WorkerState()


def _worker_start() -> None:
    import warnings

    signal.signal(signal.SIGINT, _worker_interrupt)
    warnings.formatwarning = one_line_warning  # as in the launching process
    sys.unraisablehook = _quiet_lost_interrupt


def _quiet_lost_interrupt(unraisable) -> None:
    """A KeyboardInterrupt raised inside a garbage collector's callback is dropped by Python, which says
    so on stderr; the launching process sends SIGINT again (interrupt_workers), so say nothing."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _worker_interrupt(signum, frame) -> None:
    _worker.interrupted = True
    if _worker.running:  # the point records `interrupted`; between points there is nothing to stop
        raise KeyboardInterrupt


def _in_worker(point: dict, config: Config, out: Path, overrides: dict | None) -> PointOutcome:
    if _worker.interrupted:
        return PointOutcome(point, PointStatus.INTERRUPTED, error="not started: the sweep was interrupted")
    _worker.running = True
    try:
        return run_point(point, config, out, _worker.cache, overrides)
    except KeyboardInterrupt:  # the run folder says interrupted; the exception itself (with its fit) is not sent back
        return PointOutcome(point, PointStatus.INTERRUPTED, error="interrupted")
    finally:
        _worker.running = False


def interrupt_workers(grace: float = 10.0) -> None:
    """The points still running in worker processes end as interrupted: a Ctrl-C at the terminal has
    reached them already; a SIGTERM to this process alone has not, so after `grace` seconds they are
    sent SIGINT (three times, 3 s apart: Python drops a KeyboardInterrupt raised inside a garbage
    collector's callback), and killed if they are still there after that."""

    children = multiprocessing.active_children()

    def join(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        for child in children:
            child.join(max(0.0, deadline - time.monotonic()))

    def send(signal_number: int) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                try:
                    os.kill(child.pid, signal_number)
                except ProcessLookupError:  # it ended in the meantime
                    pass

    join(grace)
    for _ in range(3):
        send(signal.SIGINT)
        join(3.0)
    send(signal.SIGKILL)
    join(grace)


def picture(outcomes: list[PointOutcome], console: Console) -> None:
    """The sweep's picture, into its own folder beside its points' (drawn under --quiet too: the console
    is quiet, the run log the same); a picture that cannot be drawn costs no point."""
    folders = [Path(o.run_dir) for o in outcomes if o.run_dir]
    if len(outcomes) < 2 or not folders:
        return
    console.print(cell(draw_picture(folders, [o.point for o in outcomes if not o.run_dir])))


def draw_picture(folders: list[Path], failed: list[dict] | None = None) -> str:
    """Draws the picture of the sweep whose points are in `folders` (`failed`: those that left none) and
    says where it is, or why it was not drawn; never raises, as the points are logged whatever happens."""
    from nnglm.show import plots  # matplotlib, once the points are done

    try:
        path = plots.draw_sweep(folders, failed)
    except Exception as e:  # the points are logged; only their picture is lost
        return f"sweep picture not drawn: {type(e).__name__}: {bounded(str(e), 300)}"
    return f"sweep picture: {path} (`nnglm report` with its points' folders draws it again)"


def stop_workers() -> None:
    """A broken pool fails every point it holds, but the workers still running them would train on, and
    leaving the pool waits for them: stop them."""

    for child in multiprocessing.active_children():
        child.kill()


def _verdict(o: PointOutcome) -> str:
    if o.equivalent is None:
        return o.error or ""
    return "equivalent" if o.equivalent else not_equivalent(o.outcome)


def exit_code(outcomes: list[PointOutcome], strict: bool) -> int:
    """3 if a point failed, else 2 if one was rejected, else 1 under --strict if one is not equivalent, else 0."""
    statuses = {o.status for o in outcomes}
    if PointStatus.FAILED in statuses:
        return 3
    if PointStatus.REJECTED in statuses:
        return 2
    return 1 if strict and not all(o.equivalent for o in outcomes) else 0


def table(outcomes: list[PointOutcome]) -> Table:
    keys = list(outcomes[0].point) if outcomes else []
    t = Table(title=f"Sweep: {len(outcomes)} points (run: the folder under <out>/<name>/)", title_justify="left")
    for key in keys:
        t.add_column(key, justify="right")
    cv = any(o.cross_validation for o in outcomes)  # a sweep of cross-validated runs: their cv, as `nnglm runs` shows it
    columns = ["status", "steps", "max rel diff", "max abs diff", "verdict"] + ([logbook.CV_COLUMN] if cv else []) + ["run"]
    for column in columns:
        t.add_column(column, justify="right" if column in ("steps", "max rel diff", "max abs diff") else "left")
    for o in outcomes:
        verdict = _verdict(o)
        cells = [
            *[describe_point({k: o.point[k]}).partition("=")[2] for k in keys],
            o.status,
            "" if o.steps is None else str(o.steps),
            "" if o.max_rel_diff is None else f"{o.max_rel_diff:.3g}",
            "" if o.max_abs_diff is None else f"{o.max_abs_diff:.3g}",
            verdict,
            *([o.cross_validation or ""] if cv else []),
            Path(o.run_dir).name if o.run_dir else "",
        ]
        t.add_row(*map(cell, cells))  # values and errors shown as written, never read as markup
    return t
