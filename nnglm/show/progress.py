"""A run's progress on the console (stderr): each phase as it starts and ends, and training's progress bar."""

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

# each phase by its key in result.json's timings, and as the console names it
PHASES = {
    "data": "data",
    "condition_number": "condition number",
    "imports": "imports (statsmodels, the training backend, matplotlib)",
    "glm": "GLM (statsmodels)",
    "training": "training",
    "standard_errors": "standard errors",
    "reference": "NumPy reference",
    "cross_validation": "cross-validation (data.folds)",
    "writing": "writing",
    "plots": "plots and report",
}

Row = tuple[int, float, float]  # a history row: step, loss, max |w - target|


def _console() -> Console:
    """Where progress goes: stderr, so that stdout carries the summary (or, with --quiet, the folder) only."""
    return Console(stderr=True)


@dataclass
class Phases:
    """Each phase of a run timed, and said on the console (stderr) as it starts and ends, unless quiet.
    Until the run has its folder (`shown`), the lines wait: a config or data error before it is then the
    only thing on stderr, and the phases it passed are told once the run is under way."""

    quiet: bool
    seconds: dict[str, float] = field(default_factory=dict)
    console: Console = field(default_factory=lambda: _console())
    waiting: list[str] | None = field(default_factory=list)  # lines held until the run folder exists

    @contextlib.contextmanager
    def __call__(self, key: str, announce: bool = True) -> Iterator[None]:
        """`announce`: say that the phase started (training has its own bar instead)."""
        name = PHASES[key]
        start = time.perf_counter()
        shown: contextlib.AbstractContextManager = contextlib.nullcontext()
        if not self.quiet and announce:
            if self.console.is_terminal:
                shown = self.console.status(f"{name} …")  # a spinner, gone when the phase ends
            else:
                self._say(f"{name} …")
        with shown:
            yield
        self.seconds[key] = time.perf_counter() - start
        self._say(f"{name}: {duration(self.seconds[key])}")

    def shown(self) -> None:
        """The run has its folder: say the lines held so far, and the later ones as they come."""
        lines, self.waiting = self.waiting or [], None
        for line in lines:
            self._say(line)

    def say(self, line: str) -> None:
        """A line within a phase (cross-validation's folds as they start)."""
        self._say(line)

    def _say(self, line: str) -> None:
        if self.quiet:
            return
        if self.waiting is not None:
            self.waiting.append(line)
        else:
            self.console.print(line, highlight=False)


def duration(seconds: float) -> str:
    """A phase's time as the console says it: milliseconds below a tenth of a second (a 9-row GLM takes 3 ms, not 0.0 s)."""
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 1 else f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms" if ms < 100 else f"{seconds:.1f} s"


@dataclass
class TrainingBar:
    """Training's progress bar: under `auto`, steps, the network's own distance estimate against the
    tolerance and the time so far (there is no total to show); with a fixed step count, steps of the
    total and the time left."""

    bar: Progress
    task: TaskID

    def logged(self, row: Row) -> None:
        self.bar.update(self.task, completed=row[0], description=f"loss {row[1]:.6g}")

    def looked(self, relative: float, stop_rtol: float) -> None:
        self.bar.update(self.task, distance=f"distance {relative:.2g} (stops at {stop_rtol:g})", refresh=True)

    def hidden(self, steps: int) -> Callable[[Row], None]:
        """A second bar, for the hidden-layer network's `steps`: what to tell of each of its history rows."""
        task = self.bar.add_task("hidden layers", total=steps, distance="")
        return lambda row: self.bar.update(task, completed=row[0], description=f"hidden: loss {row[1]:.6g}")


@contextlib.contextmanager
def training(auto: bool, steps: int | None, quiet: bool) -> Iterator[TrainingBar]:
    """The bar for training `steps` steps, or, under `auto`, as many as it takes; gone once training ends."""
    with (_auto_progress if auto else _progress)(quiet) as bar:
        yield TrainingBar(bar, bar.add_task("training", total=None if auto else steps, distance=""))


def _auto_progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:>18}"),
        TextColumn("{task.completed} steps"),
        TextColumn("{task.fields[distance]}"),
        TimeElapsedColumn(),
        console=_console(),
        transient=True,
        disable=quiet,
    )


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:>18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeRemainingColumn(),
        console=_console(),
        transient=True,
        disable=quiet,
    )
