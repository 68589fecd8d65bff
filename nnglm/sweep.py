"""A sweep: one run per point of a grid over config keys, then one table of all points.

Points run one after another, in N worker processes (`--jobs N`), or on a Dask
cluster's workers (`--cluster ADDRESS`, cluster.py); each run gets its own
folder, so parallel points never share a file.
"""

from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from nnglm.config import Config, describe_point
from nnglm.errors import UserError, bounded
from nnglm.logbook import not_equivalent
from nnglm.summary import wide_console

if TYPE_CHECKING:
    from distributed import Client


@dataclass
class PointOutcome:
    point: dict
    status: str  # completed | failed (a crash) | rejected (bad data for this point, or a run folder that cannot be written)
    run_dir: str | None = None
    steps: int | None = None
    max_abs_diff: float | None = None
    equivalent: bool | None = None
    outcome: str | None = None  # the comparison's: equivalent, not converged, no finite MLE, ...
    error: str | None = None


def run_point(point: dict, config: Config, out: Path, overrides: dict | None = None) -> PointOutcome:
    from nnglm import runner

    try:
        result = runner.run(config, out, quiet=True, point=point, shared=True, overrides=overrides).record
    except UserError as e:
        return PointOutcome(point, "rejected", error=bounded(str(e), 500))
    except Exception as e:  # the run folder says failed; the sweep goes on
        return PointOutcome(point, "failed", error=bounded(f"{type(e).__name__}: {e}", 500))
    network, comparison = result.network, result.comparison
    return PointOutcome(
        point,
        result.status,
        run_dir=str(Path(out) / config.name / (result.run_id or "")),
        steps=network.epochs_run if network else None,
        max_abs_diff=comparison.max_abs_diff if comparison else None,
        equivalent=comparison.equivalent if comparison else None,
        outcome=comparison.outcome if comparison else None,
    )


def run(
    points: list[tuple[dict, Config]],
    out: Path,
    jobs: int = 1,
    console: Console | None = None,
    client: "Client | None" = None,
    overrides: dict | None = None,
) -> list[PointOutcome]:
    """Every point: one after another, in `jobs` processes, or on the Dask cluster of `client` (see cluster.py).
    `overrides`: the plain `--set` keys, recorded in each point's result.json."""
    console = console or wide_console()
    where = f" in {jobs} processes" if jobs > 1 else ""
    if client is not None:
        address = client.scheduler.address if client.scheduler is not None else "?"
        where = f" on the Dask cluster at {address} ({len(client.scheduler_info()['workers'])} workers)"
    console.print(f"sweep of {len(points)} point{'s' if len(points) != 1 else ''}{where}")
    outcomes: dict[int, PointOutcome] = {}

    def report(i: int, outcome: PointOutcome) -> None:
        outcomes[i] = outcome
        verdict = _verdict(outcome)
        console.print(
            Text(
                f"  point {len(outcomes)}/{len(points)} done: {describe_point(outcome.point) or 'the config as written'}: {outcome.status}, {verdict}"
            )
        )

    # Keras takes one backend per process: a sweep over backends runs each point in a fresh one
    several_backends = len({config.train.backend for _, config in points}) > 1
    if client is not None:
        from nnglm import cluster

        cluster.run(client, points, out, report, overrides)
    elif jobs <= 1 and not several_backends:
        for i, (point, config) in enumerate(points):
            report(i, run_point(point, config, out, overrides))
    else:
        # spawn, not fork: TensorFlow does not survive a fork
        fresh = 1 if several_backends else None
        with ProcessPoolExecutor(max_workers=min(jobs, len(points)), mp_context=get_context("spawn"), max_tasks_per_child=fresh) as pool:
            futures = {pool.submit(run_point, point, config, out, overrides): i for i, (point, config) in enumerate(points)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:  # a worker was killed (a signal, the out-of-memory killer)
                    outcome = PointOutcome(points[i][0], "failed", error="its worker process died")
                    stop_workers()
                report(i, outcome)
    ordered = [outcomes[i] for i in range(len(points))]
    console.print(table(ordered))
    return ordered


def stop_workers() -> None:
    """A broken pool fails every point it holds, but the workers still running them would train on, and
    leaving the pool waits for them: stop them."""
    import multiprocessing

    for child in multiprocessing.active_children():
        child.kill()


def _verdict(o: PointOutcome) -> str:
    if o.equivalent is None:
        return o.error or ""
    return "equivalent" if o.equivalent else not_equivalent(o.outcome)


def exit_code(outcomes: list[PointOutcome], strict: bool) -> int:
    """3 if a point failed, else 2 if one was rejected, else 1 under --strict if one is not equivalent, else 0."""
    statuses = {o.status for o in outcomes}
    if "failed" in statuses:
        return 3
    if "rejected" in statuses:
        return 2
    return 1 if strict and not all(o.equivalent for o in outcomes) else 0


def table(outcomes: list[PointOutcome]) -> Table:
    keys = list(outcomes[0].point) if outcomes else []
    t = Table(title=f"Sweep: {len(outcomes)} points (run: the folder under <out>/<name>/)", title_justify="left")
    for key in keys:
        t.add_column(key, justify="right")
    for column in ("status", "steps", "max abs diff", "verdict", "run"):
        t.add_column(column, justify="right" if column in ("steps", "max abs diff") else "left")
    for o in outcomes:
        verdict = _verdict(o)
        cells = [
            *[str(o.point[k]) for k in keys],
            o.status,
            "" if o.steps is None else str(o.steps),
            "" if o.max_abs_diff is None else f"{o.max_abs_diff:.3g}",
            verdict,
            Path(o.run_dir).name if o.run_dir else "",
        ]
        t.add_row(*map(Text, cells))  # values and errors shown as written, never read as markup
    return t
