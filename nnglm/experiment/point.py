"""One point of a sweep, run where it is sent (this process, a worker process, a Dask worker), and
what comes back of it."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from nnglm.config import Config
from nnglm.experiment.cache import RunCache
from nnglm.foundation.errors import UserError, bounded
from nnglm.log import logbook
from nnglm.log.result import Status


class PointStatus(StrEnum):
    """What became of a sweep point: its run's end, or rejected before any run began."""

    COMPLETED = Status.COMPLETED.value
    FAILED = Status.FAILED.value  # a crash, or a worker process that died
    INTERRUPTED = Status.INTERRUPTED.value
    REJECTED = "rejected"  # bad data for this point, or a run folder that cannot be written


@dataclass
class PointOutcome:
    point: dict
    status: PointStatus
    run_dir: str | None = None
    steps: int | None = None
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None  # the verdict's relative measure: to max(|GLM coefficient|, std err)
    equivalent: bool | None = None
    outcome: str | None = None  # the comparison's: equivalent, not converged, no finite MLE, ...
    error: str | None = None
    cross_validation: str | None = None  # data.folds: the cv cell of `nnglm runs` ("dev -2.1% p=0.003", "no gain")


def run_point(point: dict, config: Config, out: Path, cache: RunCache, overrides: dict | None = None) -> PointOutcome:
    """The point's run, its data, GLM fit and network taken from `cache` and left in it for the points after it."""
    from nnglm.experiment import runner

    try:
        result = runner.run(config, out, quiet=True, point=point, overrides=overrides, cache=cache, draw_plots=False).record
    except UserError as e:
        return PointOutcome(point, PointStatus.REJECTED, error=bounded(str(e), 500))
    except Exception as e:  # the run folder says failed; the sweep goes on
        return PointOutcome(point, PointStatus.FAILED, error=bounded(f"{type(e).__name__}: {e}", 500))
    network, comparison = result.network, result.comparison
    return PointOutcome(
        point,
        PointStatus(result.status),
        run_dir=str(Path(out) / config.name / (result.run_id or "")),
        steps=network.epochs_run if network else None,
        max_abs_diff=comparison.max_abs_diff if comparison else None,
        max_rel_diff=comparison.max_rel_diff if comparison else None,
        equivalent=comparison.equivalent if comparison else None,
        outcome=comparison.outcome if comparison else None,
        cross_validation=logbook.cross_validated(result) or None,
    )
