"""Pictures: a run's road to the GLM (its loss, each weight's distance), seed 000's separating lines,
a sweep's answer, and runs' coefficients side by side.

Each picture is a matplotlib Figure made without pyplot (no display, no global state): a file gets it
through save(), a notebook shows the same Figure as it is (figures(run_dir)).
"""

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nnglm.log import runlog
from nnglm.log.result import ComparisonOutcome, Status
from nnglm.log.runlog import write_atomic
from nnglm.show import crossval

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from nnglm.config import Config
    from nnglm.log.logbook import RunComparison
    from nnglm.log.result import RunResult
    from nnglm.vocabulary.tolerance import Tolerance

# where the distances are not what the verdict judges, the title says so
OUTCOME_NOTES: dict[str, str] = {
    ComparisonOutcome.NO_FINITE_MLE: "no finite MLE: the verdict compares the fits' directions (their cosine), not these distances",
    ComparisonOutcome.RANK_DEFICIENT: "rank deficient: the coefficients are not identified; the verdict compares the fits' log-likelihoods",
}
NAMED = 5  # distance.png names the worst few terms; the others are drawn faint
OTHERS = "0.72"  # the grey of the terms not named
TOLERANCE: dict = dict(color="tab:red", ls="--", lw=1.2)
LABEL_BOX = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8)  # a cell's text, readable on any colour

PICTURES = {
    runlog.LOSS_PICTURE: "The loss's gap to the GLM's own loss (log scale), and the loss itself",
    runlog.DISTANCE_PICTURE: "Each weight's distance to its GLM coefficient, as the verdict measures it (log scale)",
    runlog.LINES_PICTURE: "The points by class, with the GLM's and the network's separating lines",
    runlog.DIAGNOSTICS_PICTURE: "R's plot(glm) for the GLM (grey circles), the network's points over it (red crosses)",
    runlog.CROSSVAL_PICTURE: crossval.CAPTION,
}


def plain(text: object) -> str:
    """A name from the data as a label, shown as written: never read as mathtext ($...$), never hidden
    from a legend (matplotlib leaves out labels that start with an underscore)."""
    out = str(text).replace("$", r"\$")
    return " " + out if out.startswith("_") else out


def figure(width: float = 7.0, height: float = 4.2, ncols: int = 1) -> tuple["Figure", list["Axes"]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def save(fig: "Figure", path: Path) -> None:
    """The figure into a file, whole or not at all; the format from the name's ending (png, svg, pdf)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".").lower() or "png", dpi=110)
    write_atomic(path, buf.getvalue())


# --- one run ---


@dataclass
class RunPicture:
    """What a run's pictures are drawn from: its coefficient rows, history and trajectory, its verdict."""

    terms: list[str]
    network: np.ndarray
    glm: np.ndarray
    bse: np.ndarray  # the GLM's standard errors
    tolerance: "Tolerance"
    history: list[tuple[int, float, float]]  # step, loss, max |w - GLM|
    trajectory: list[np.ndarray]  # the weights at each history step
    loss_name: str
    loss_unit: str
    dtype: str
    glm_loss: float | None = None  # the network's loss at the GLM's coefficients
    outcome: str | None = None  # the verdict's: equivalent, not converged, no finite MLE, GLM failed, ...
    glm_trouble: list[str] = field(default_factory=list)  # why the GLM failed, and its warnings
    network_distance: float | None = None  # the network's own estimate of its distance to the optimum, relative
    step_label: str = "full-batch step"  # what one step is (an epoch of mini-batches under train.batch_size)

    @property
    def steps(self) -> np.ndarray:
        return np.array([h[0] for h in self.history], dtype=float)

    @property
    def glm_failed(self) -> bool:
        return self.outcome == ComparisonOutcome.GLM_FAILED or not np.all(np.isfinite(self.glm))

    @property
    def limit(self) -> float:
        return self.tolerance.limit

    @property
    def measure(self) -> str:
        if self.tolerance.max_abs is not None:
            return "|network weight − GLM coefficient|"
        return "|weight − coefficient| / max(|coefficient|, std err)"

    def gaps(self) -> np.ndarray:
        """(logged steps, terms): each weight's distance to its GLM coefficient, in the verdict's measure."""
        return np.array([self.tolerance.gaps(w, self.glm, self.bse) * self.limit for w in self.trajectory]).reshape(
            len(self.trajectory), len(self.terms)
        )


def loss_unit(family, weighted: bool, penalized: bool) -> str:
    """What the loss is, in words: its unit, and the constant it leaves out."""
    if family.nll_factor == 2.0:
        text = "mean squared error: 2 × the mean negative log-likelihood at unit variance, up to a constant"
    else:
        text = "mean negative log-likelihood per row, up to a term in y alone (the constant statsmodels' deviance drops)"
    if weighted:
        text = "weighted " + text
    return text + ("; plus the penalty" if penalized else "")


def loss_figure(run: RunPicture) -> "Figure":
    """The gap to the GLM's loss on a log scale (the road to the optimum), and the loss itself beside it."""
    steps = run.steps
    losses = np.array([h[1] for h in run.history], dtype=float)
    unit = run.loss_unit + ("; below zero because that term is left out" if np.nanmin(losses, initial=0.0) < 0 else "")
    if run.glm_loss is None:
        fig, (ax,) = figure()
        _plain_loss(ax, steps, losses, run, None)
        ax.set_title("Loss of the network (no GLM loss to measure it against)\n" + _wrap(unit, 80), fontsize=9)
        return fig
    fig, (gap_ax, ax) = figure(11.0, 4.4, 2)
    gap = losses - run.glm_loss
    # float round-off of the loss itself: below it the gap is noise
    last = abs(float(losses[-1])) if len(losses) and np.isfinite(losses[-1]) else 0.0
    round_off = float(np.finfo(run.dtype).eps) * max(abs(run.glm_loss), last, 1e-300)
    floor = round_off / 10
    # a log scale has no place for a gap at or below 0 (the network's loss equal to the GLM's, or below it
    # by round-off): such steps are marked on the floor, apart from the line, and the legend says so
    below = np.isfinite(gap) & (gap <= floor)
    gap_ax.plot(steps, np.where(np.isfinite(gap) & ~below, gap, np.nan), color="tab:blue", lw=1.6, label="loss − the GLM's loss")
    if below.any():
        gap_ax.plot(
            steps[below],
            np.full(int(below.sum()), floor),
            "v",
            color="tab:blue",
            ms=4,
            label=f"{int(below.sum())} steps with a gap ≤ {floor:.1g}, 0 or below\n(equal to the GLM's loss at round-off): marked here",
        )
    gap_ax.axhline(round_off, color="0.5", ls=":", lw=1.2, label=f"{run.dtype} round-off of the loss ({round_off:.1g})")
    gap_ax.axhspan(floor * 0.5, round_off, color="0.9", zorder=0, label="below round-off: a gap here is noise")
    gap_ax.set_yscale("log")
    gap_ax.set_ylim(bottom=floor * 0.5)
    gap_ax.set_xlabel(run.step_label)
    gap_ax.set_ylabel("loss − loss at the GLM's coefficients")
    final = gap[-1] if len(gap) else math.nan
    end = "at round-off" if final <= round_off else f"{final:.2g}"
    gap_ax.set_title(f"Gap to the GLM's loss (log scale): {end} at the last step", fontsize=10)
    gap_ax.grid(alpha=0.3)
    gap_ax.legend(fontsize=7, loc="upper right")
    _plain_loss(ax, steps, losses, run, run.glm_loss)
    ax.set_title("The loss itself\n" + _wrap(unit, 80), fontsize=8)
    return fig


def _plain_loss(ax: "Axes", steps: np.ndarray, losses: np.ndarray, run: RunPicture, glm_loss: float | None) -> None:
    ax.plot(steps, losses, color="tab:blue", lw=1.6, label="network")
    if glm_loss is not None:
        ax.axhline(glm_loss, color="black", ls="--", lw=1, label=f"at the GLM's coefficients: {glm_loss:.6g}")
        _legend(ax)
    ax.set_xlabel(run.step_label)
    ax.set_ylabel(f"loss ({run.loss_name})")
    ax.grid(alpha=0.3)


def distance_figure(run: RunPicture) -> "Figure":
    """The largest distance over all terms against the tolerance; the worst few terms named, the rest faint."""
    if run.glm_failed:
        return _glm_failed_figure(run)
    fig, (ax,) = figure(7.5, 4.6)
    steps, gaps = run.steps, run.gaps()
    with np.errstate(invalid="ignore"):
        gaps = np.where(gaps > 0, gaps, np.nan)  # a log scale cannot show an exact 0
    n = len(run.terms)
    named = _worst(gaps[-1] if len(gaps) else np.zeros(n), NAMED if n > NAMED + 1 else n)
    others = [j for j in range(n) if j not in named]
    largest = np.nanmax(np.where(np.isnan(gaps), -np.inf, gaps), axis=1, initial=-np.inf) if n else np.zeros(len(steps))
    largest = np.where(np.isfinite(largest), largest, np.nan)
    ax.plot(steps, largest, color="black", lw=3.2, label=f"largest of all {n}")
    for k, j in enumerate(others):
        ax.plot(steps, gaps[:, j], color=OTHERS, lw=0.7, alpha=0.8, label=f"the other {len(others)} terms" if k == 0 else None)
    for k, j in enumerate(named):
        ax.plot(steps, gaps[:, j], color=f"C{k}", lw=1.3, label=plain(run.terms[j]))
    ax.axhline(run.limit, label=f"tolerance {run.limit:g}", **TOLERANCE)
    within = np.flatnonzero(np.nan_to_num(largest, nan=0.0) <= run.limit)
    if len(within) and run.outcome not in (ComparisonOutcome.NO_FINITE_MLE, ComparisonOutcome.RANK_DEFICIENT):
        ax.axvline(steps[within[0]], color="tab:green", ls=":", lw=1.2, label=f"within tolerance from step {int(steps[within[0]])}")
    ax.set_yscale("log")
    ax.set_xlabel(run.step_label)
    ax.set_ylabel(run.measure)
    title = "Distance of each weight to its GLM coefficient"
    if run.outcome and run.outcome != ComparisonOutcome.EQUIVALENT:
        title += "\n" + OUTCOME_NOTES.get(run.outcome, f"verdict: not equivalent ({run.outcome})")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    shown = f"all {n} terms" if not others else f"{len(named)} of {n} terms named (the worst at the end), {len(others)} in grey"
    ax.legend(fontsize=7, title=shown, title_fontsize=7, loc="best")
    return fig


def _worst(final: np.ndarray, k: int) -> list[int]:
    """The k terms farthest from the GLM at the end, worst first."""
    order = np.argsort(-np.nan_to_num(final, nan=np.inf), kind="stable")
    return [int(j) for j in order[:k]]


def _glm_failed_figure(run: RunPicture) -> "Figure":
    """No GLM coefficients to measure against: the network's weights over the steps, and why."""
    fig, (ax,) = figure(7.5, 4.6)
    steps = run.steps
    weights = np.array(run.trajectory, dtype=float).reshape(len(run.trajectory), len(run.terms))
    n = len(run.terms)
    named = _worst(np.abs(weights[-1]) if len(weights) else np.zeros(n), NAMED if n > NAMED + 1 else n)
    others = [j for j in range(n) if j not in named]
    for k, j in enumerate(others):
        ax.plot(steps, weights[:, j], color=OTHERS, lw=0.7, label=f"the other {len(others)} terms" if k == 0 else None)
    for k, j in enumerate(named):
        ax.plot(steps, weights[:, j], color=f"C{k}", lw=1.3, label=plain(run.terms[j]))
    why = run.glm_trouble[0] if run.glm_trouble else "its coefficients are not finite"
    own = (
        "\n" + _wrap(f"The network on its own: {run.network_distance:.2g} (relative) from its optimum, by its own estimate.", 60, 2)
        if run.network_distance is not None
        else ""
    )
    ax.text(
        0.5,
        0.5,
        "The GLM failed: there is no coefficient\nto measure the network's weights against.\n" + plain(_wrap(why, 60, 3)) + own,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9,
        bbox=dict(boxstyle="round", facecolor="white", edgecolor="tab:red", alpha=0.9),
    )
    ax.set_xlabel(run.step_label)
    ax.set_ylabel("network weight")
    ax.set_title("The GLM failed: the network's weights on their own", fontsize=10)
    ax.grid(alpha=0.3)
    shown = f"all {n} terms" if not others else f"{len(named)} of {n} terms named (the largest), {len(others)} in grey"
    ax.legend(fontsize=7, title=shown, title_fontsize=7, loc="upper left")
    return fig


def _wrap(text: str, width: int, lines: int = 3) -> str:
    import textwrap

    return textwrap.fill(text, width, max_lines=lines, placeholder=" …")


def lines_figure(X: np.ndarray, y: np.ndarray, names: list[str], network: np.ndarray, glm: np.ndarray, use_bias: bool) -> "Figure":
    """Two features, binary target: the points by class, and the line eta = 0 of each fit, framed on the data."""
    fig, (ax,) = figure()
    for cls, colour in [(0, "tab:red"), (1, "tab:green")]:
        rows = y == cls
        ax.scatter(X[rows, 0], X[rows, 1], color=colour, s=40 if len(y) < 50 else 8, label=f"y = {cls}", zorder=3)
    (x0, x1), (y0, y1) = (_frame(X[:, 0]), _frame(X[:, 1]))
    xs = np.linspace(x0, x1, 400)
    for coefs, label, style, colour, width in [(glm, "GLM", "-", "black", 3), (network, "network", "--", "tab:orange", 2)]:
        b0, (b1, b2) = (coefs[0], coefs[1:]) if use_bias else (0.0, coefs)
        if abs(b2) > 1e-12 * max(abs(b1), 1e-300):
            line = -(b0 + b1 * xs) / b2
            inside = bool(min(line[0], line[-1]) <= y1 and max(line[0], line[-1]) >= y0)  # a straight line meets the frame
            ax.plot(xs, line, ls=style, color=colour, lw=width, label=f"{label}: η = 0" + ("" if inside else " (outside the frame)"))
        else:  # a vertical line
            at = -b0 / b1 if b1 else math.nan
            inside = x0 <= at <= x1
            ax.axvline(at, ls=style, color=colour, lw=width, label=f"{label}: η = 0" + ("" if inside else " (outside the frame)"))
    ax.set_xlim(x0, x1)  # the data's frame: a line that leaves it is cut at its edge
    ax.set_ylim(y0, y1)
    ax.set_xlabel(plain(names[0]))
    ax.set_ylabel(plain(names[1]))
    ax.set_title("Separating lines of the two fits", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _frame(values: np.ndarray) -> tuple[float, float]:
    """The data's range with a margin of a tenth of it on each side (half a unit for a constant)."""
    low, high = float(np.min(values)), float(np.max(values))
    pad = 0.1 * (high - low) if high > low else 0.5
    return low - pad, high + pad


def run_figures(run: RunPicture, lines: Callable[[], "Figure | None"] | None = None) -> dict[str, "Figure"]:
    out = {runlog.LOSS_PICTURE: loss_figure(run), runlog.DISTANCE_PICTURE: distance_figure(run)}
    drawn = lines() if lines else None
    if drawn is not None:
        out[runlog.LINES_PICTURE] = drawn
    return out


def _lines(config, terms: list[str], network: np.ndarray, glm: np.ndarray, dataset) -> Callable[[], "Figure | None"]:
    """Seed 000's picture, where it applies: two features, a binary target, no weights."""

    def draw():
        if not config.family.takes_trials or len(terms) - int(config.model.use_bias) != 2 or not np.all(np.isfinite(glm)):
            return None
        ds = dataset() if callable(dataset) else dataset
        if ds is None or ds.n_features != 2 or ds.weights is not None:
            return None
        return lines_figure(ds.X, ds.y, ds.feature_names, network, glm, config.model.use_bias)

    return draw


def picture_of(result: "RunResult", config, rows: list[dict], history: list, trajectory: list[np.ndarray]) -> RunPicture:
    from nnglm.vocabulary.tolerance import Tolerance

    terms = [r["term"] for r in rows]
    network, glm, bse = (np.array([np.nan if r[k] is None else r[k] for r in rows], dtype=float) for k in ("network", "glm", "glm_bse"))
    penalized = config.model.penalty is not None
    weighted = any(getattr(config.data, key, None) is not None for key in ("weights", "trials"))
    return RunPicture(
        terms=terms,
        network=network,
        glm=glm,
        bse=bse,
        tolerance=Tolerance.of(config.compare_rtol, config.compare.max_abs),
        history=history,
        trajectory=trajectory,
        loss_name=config.family.loss_name,
        loss_unit=loss_unit(config.family, weighted, penalized),
        dtype=config.train.dtype,
        glm_loss=result.glm.loss if result.glm and result.glm.loss is not None and math.isfinite(result.glm.loss) else None,
        outcome=result.comparison.outcome if result.comparison else None,
        glm_trouble=([result.glm.failed] if result.glm.failed else []) + list(result.glm.warnings) if result.glm else [],
        network_distance=result.network.distance if result.network and result.network.distance is not None else None,
        step_label="full-batch step" if config.train.batch_size == "full" else f"epoch (mini-batches of {config.train.batch_size} rows)",
    )


def draw(
    run_dir: Path, result: "RunResult", config, rows: list[dict], history: list, trajectory: list[np.ndarray], dataset=None
) -> dict[str, str]:
    """The plots of a run into its folder: {file name: caption}. `dataset`: the training data, or a
    function that loads it, for seed 000's separating lines."""
    run = picture_of(result, config, rows, history, trajectory)
    drawn = run_figures(run, _lines(config, run.terms, run.network, run.glm, dataset))
    try:
        drawn.update(diagnostics_of(run_dir, result, config))
    except Exception as e:  # noqa: BLE001 - a picture is not the run: one that cannot be drawn is left out, and said
        warnings.warn(f"diagnostics.png left out: {type(e).__name__}: {e}", RuntimeWarning, stacklevel=1)
    drawn.update(crossval_of(result))
    for name, fig in drawn.items():
        save(fig, run_dir / name)
    return {name: PICTURES[name] for name in drawn}


# --- reading a run folder back ---

MAX_CSV_BYTES = 256 * 2**20  # a run folder's CSVs are a few MB


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    import csv

    header, *rows = list(csv.reader(io.StringIO(safe_bytes(path).decode("utf-8"), newline="")))
    return header, rows


def safe_bytes(path: Path) -> bytes:
    """A CSV of the run folder: a plain file inside it (no FIFO, no link out), at most MAX_CSV_BYTES."""
    from nnglm.foundation import safe

    try:
        content = safe.read_bytes(path, MAX_CSV_BYTES, within=path.parent)
    except (OSError, safe.Refused) as e:
        raise ValueError(str(e)) from None
    if len(content) > MAX_CSV_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_CSV_BYTES // 2**20} MB")
    return content


def _numbers(path: Path) -> np.ndarray:
    """A numeric CSV of the run folder (history.csv, trajectory.csv) as one float array, its header left
    out: parsed by pandas' C reader, so that memory stays near the file's size (Python lists of its
    cells took 20 times that)."""
    import pandas as pd

    try:
        content = safe_bytes(path)
        return pd.read_csv(io.BytesIO(content), dtype=float, engine="c").to_numpy()
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ValueError(f"{path.name}: {e}") from None


@dataclass
class Folder:
    """A completed run folder's files, read and checked."""

    result: "RunResult"
    config: "Config"
    rows: list[dict]
    history: list[tuple[int, float, float]]
    trajectory: list[np.ndarray]


RUN_FILES = (runlog.RESULT_FILE, runlog.CONFIG_FILE, runlog.COEFFICIENTS_FILE, runlog.HISTORY_FILE, runlog.TRAJECTORY_FILE)


def read_folder(run_dir: Path) -> Folder:
    """Everything a run's pictures are drawn from, read and checked before anything is drawn."""
    from nnglm import config as config_module
    from nnglm.foundation.errors import UserError
    from nnglm.log import result as schema

    files = [run_dir / name for name in RUN_FILES]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise UserError(f"{run_dir}: not a completed sweep point's run folder (no {', '.join(missing)}); `nnglm report` draws from those")
    try:
        result = schema.read(files[0])
    except schema.Unreadable as e:
        raise UserError(f"{run_dir}: {e}") from None
    if result.status != Status.COMPLETED:
        raise UserError(f"{run_dir}: status {result.status}; `nnglm report` draws the plots of completed runs")
    config = config_module.validate(config_module.read_yaml(files[1], within=run_dir), config_module.shown(files[1]))
    try:
        header, cells = _read_csv(files[2])
        rows = [{k: v if k == "term" else float(v) if v else None for k, v in zip(header, r)} for r in cells]
        steps, trajectory_steps = _numbers(files[3]), _numbers(files[4])
        if len(steps) != len(trajectory_steps):
            raise ValueError("history.csv and trajectory.csv do not agree in their rows")
        drawn = runlog.thinned(len(steps))
        history = [(int(r[0]), float(r[1]), float(r[2])) for r in steps[drawn]]
        trajectory = list(trajectory_steps[drawn, 1:])
        if not rows or not history or len(trajectory) != len(history) or any(len(t) != len(rows) for t in trajectory):
            raise ValueError("coefficients.csv, history.csv and trajectory.csv do not agree in their rows")
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as e:
        raise UserError(f"{run_dir}: its files are damaged ({type(e).__name__}: {e}); `nnglm report` cannot draw from them") from None
    return Folder(result, config, rows, history, trajectory)


def figures(run_dir: Path) -> dict[str, "Figure"]:
    """A run folder's pictures as Figures, drawn from its files ({file name: Figure}), for a notebook."""
    f = read_folder(run_dir)
    run = picture_of(f.result, f.config, f.rows, f.history, f.trajectory)
    out = run_figures(run, _lines(f.config, run.terms, run.network, run.glm, lambda: training_rows(f.config, run_dir)))
    return out | diagnostics_of(run_dir, f.result, f.config) | crossval_of(f.result)


def crossval_of(result: "RunResult") -> dict[str, "Figure"]:
    """crossval.png (show/crossval.py), for a run that cross-validated (data.folds); nothing otherwise."""
    cv = result.cross_validation
    if cv is None or not cv.per_fold:
        return {}
    return {runlog.CROSSVAL_PICTURE: crossval.figure(cv)}


def diagnostics_of(run_dir: Path, result: "RunResult", config) -> dict[str, "Figure"]:
    """diagnostics.png (show/diagnostics.py), drawn from residuals.csv where the run has one (single-output
    runs of up to 100 000 rows); nothing where it has none or it cannot be read."""
    import pandas as pd

    from nnglm.log.result import flat
    from nnglm.show import diagnostics

    path = run_dir / runlog.RESIDUALS_FILE
    if config.family.multiclass or not path.is_file() or not (result.glm and result.network):
        return {}
    if result.comparison and result.comparison.outcome in (ComparisonOutcome.NO_FINITE_MLE, ComparisonOutcome.GLM_FAILED):
        return {}  # no fit to diagnose: the coefficients run off to infinity, or there are none
    try:
        header, cells = _read_csv(path)
        table = pd.DataFrame(cells, columns=header)[diagnostics.NEEDED].astype(float)
    except (ValueError, KeyError, UnicodeDecodeError):
        return {}
    if not diagnostics.drawable(table):
        return {}
    dispersion = {}
    for fit in ("network", "glm"):
        stats = getattr(result, fit).statistics
        dispersion[fit] = stats.dispersion if stats and math.isfinite(stats.dispersion) and stats.dispersion > 0 else 1.0
    n_params = len(flat(result.glm.coefficients))
    return {runlog.DIAGNOSTICS_PICTURE: diagnostics.figure(table, config.family.sm_family().link, dispersion, n_params)}


def training_rows(config, run_dir: Path):
    """A run folder's training rows, read only from inside the folder (config.received); None where its
    config names data outside it, whose pictures are then left out."""
    from nnglm.config import received
    from nnglm.data import table
    from nnglm.foundation.errors import UserError

    try:
        config = received.confine(config, run_dir)
    except UserError:
        return None
    spec = table.DataSpec.of(config)
    return table.split(table.load(spec), spec)[0]


def drawn(run_dir: Path) -> bool:
    """The run has its pictures and its self-contained report (or, run before report.html was written, no
    trajectory.csv to draw them again from)."""
    has = lambda name: (run_dir / name).is_file()  # noqa: E731
    return has(runlog.LOSS_PICTURE) and (has(runlog.REPORT_HTML) or not has(runlog.TRAJECTORY_FILE))


# --- a sweep ---


@dataclass
class SweepPoint:
    point: dict
    status: str
    steps_to_match: int | None = None  # the first logged step within the tolerance
    steps_run: int | None = None
    final_gap: float | None = None  # in the verdict's measure
    limit: float | None = None
    measure: str = ""
    road: tuple[np.ndarray, np.ndarray] | None = None  # steps, the largest distance at each
    outcome: str | None = None  # the comparison's (diverged: completed, with no gap to show)

    @property
    def shown(self) -> bool:
        """Completed with a gap to the GLM: drawn as a point and a road."""
        return self.status == Status.COMPLETED and self.final_gap is not None and self.outcome != ComparisonOutcome.DIVERGED

    @property
    def diverged(self) -> bool:
        """Completed, but its weights ran off to NaN or infinity: marked at its last step, no gap."""
        return self.status == Status.COMPLETED and not self.shown


def sweep_point(run_dir: Path) -> SweepPoint:
    """A sweep point's figures from its folder; a point that failed (or cannot be read) keeps only its status."""
    from nnglm.foundation.errors import UserError
    from nnglm.log import logbook

    logged = logbook.read(run_dir)
    r = logged.result
    point = r.sweep_point or {} if r else {}
    if r is None or r.status != Status.COMPLETED or r.comparison is None:
        return SweepPoint(point, logged.status)
    try:
        f = read_folder(run_dir)
    except UserError:
        return SweepPoint(point, Status.BROKEN)
    run = picture_of(f.result, f.config, f.rows, f.history, f.trajectory)
    c = r.comparison
    gap = c.max_abs_diff if run.tolerance.max_abs is not None else c.max_rel_diff
    gaps = run.gaps() if not run.glm_failed else None
    # a step whose weights are all NaN (a run that diverged) has no largest distance: NaN, said without a warning
    largest = None if gaps is None else np.max(np.where(np.isnan(gaps), -np.inf, gaps), axis=1, initial=-np.inf)
    if largest is not None:
        largest = np.where(np.isfinite(largest), largest, np.nan)
    return SweepPoint(
        point=point,
        status=r.status,
        steps_to_match=c.epochs_to_match,
        steps_run=r.network.epochs_run if r.network else None,
        final_gap=gap,
        limit=run.limit,
        measure=run.measure,
        road=(run.steps, largest) if largest is not None else None,
        outcome=c.outcome,
    )


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _sorted(values: list) -> list:
    """A swept key's values in order: numbers by size, anything else by its text."""
    return sorted(values) if _numeric(values) else sorted(values, key=str)


def _positions(values: list) -> tuple[np.ndarray, list[str] | None, bool]:
    """x positions of a swept key's values: the numbers themselves (log-spaced where they span a
    factor of 20 or more), or 0, 1, 2, ... with the values as labels."""
    distinct = list(dict.fromkeys(values))
    if _numeric(distinct):
        x = np.array(values, dtype=float)
        log = bool(np.all(x > 0) and x.max() / x.min() >= 20)
        return x, None, log
    labels = [str(v) for v in _sorted(distinct)]
    return np.array([labels.index(str(v)) for v in values], dtype=float), labels, False


def sweep_figure(points: list[SweepPoint]) -> "Figure":
    """Each swept value against the steps to equivalence and the final gap, each run's road to the GLM
    one line; two swept keys: a grid. A run that diverged is marked at its last step; the title counts
    the points not shown by what happened to them."""
    keys = list(dict.fromkeys(k for p in points for k in p.point))
    done = [p for p in points if p.shown]
    diverged = [p for p in points if p.diverged]
    if len(keys) == 2:
        fig = _sweep_grid(done, diverged, keys)
    else:
        fig = _sweep_lines(done, diverged, keys)
    fig.suptitle(f"Sweep of {len(points)} points over {', '.join(keys) or 'nothing'}{_missing(points)}", fontsize=11)
    return fig


STATUS_WORDS: dict[str, str] = {Status.BROKEN: "unreadable", Status.DEAD: "died", Status.RUNNING: "still running"}


def _missing(points: list[SweepPoint]) -> str:
    """' (2 diverged: marked at their last step; 1 failed, 1 unreadable: not shown)', or nothing."""
    diverged = sum(p.diverged for p in points)
    counts: dict[str, int] = {}
    for p in points:
        if p.status != Status.COMPLETED:
            word = STATUS_WORDS.get(p.status, p.status)
            counts[word] = counts.get(word, 0) + 1
    parts = [f"{diverged} diverged: marked at their last step"] if diverged else []
    if counts:
        parts.append(", ".join(f"{n} {word}" for word, n in counts.items()) + ": not shown")
    return f" ({'; '.join(parts)})" if parts else ""


def _legend(ax: "Axes") -> None:
    """A legend where there is something to name (a sweep whose every point failed has nothing)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def _label(p: SweepPoint, keys: list[str]) -> str:
    return ", ".join(f"{p.point.get(k)}" for k in keys)


def _sweep_lines(done: list[SweepPoint], diverged: list[SweepPoint], keys: list[str]) -> "Figure":
    """One swept key (or several, each point a label): each run's road, its steps to equivalence, its final gap."""
    fig, (road_ax, steps_ax, gap_ax) = figure(15.0, 4.6, 3)
    key = keys[0] if len(keys) == 1 else "point"
    every = done + diverged  # one axis for both: a diverged point sits at its own value
    values = [p.point.get(keys[0]) if len(keys) == 1 else _label(p, keys) for p in every]
    x_all, labels, log = _positions(values) if every else (np.zeros(0), None, False)
    x, x_diverged = x_all[: len(done)], x_all[len(done) :]
    limit = next((p.limit for p in done if p.limit is not None), None)
    measure = next((p.measure for p in done if p.measure), "distance to the GLM")
    _roads(road_ax, done, x_all, log, limit, measure)
    if limit is not None:
        gap_ax.axhline(limit, label=f"tolerance {limit:g}", **TOLERANCE)
    road_ax.set_title(f"Each run's road to the GLM ({len([p for p in done if p.road is not None])} lines)", fontsize=10)
    road_ax.grid(alpha=0.3, which="both")
    _colour_scale(fig, road_ax, x, x_all, log, labels, key)
    _legend(road_ax)
    order = np.argsort(x, kind="stable")
    _steps_to_equivalence(steps_ax, gap_ax, done, diverged, x, x_diverged, order)
    gaps = np.array([p.final_gap for p in done], dtype=float)
    if len(done):
        gap_ax.plot(x[order], np.where(gaps[order] > 0, gaps[order], np.nan), "o-", color="black", ms=4, label="at the last step")
    gap_ax.set_yscale("log")
    gap_ax.set_ylabel(measure, fontsize=8)
    gap_ax.set_title("Final gap to the GLM (the verdict's measure)", fontsize=10)
    for ax in (steps_ax, gap_ax):
        _value_axis(ax, key, log, labels, several=len(keys) > 1)
    return fig


def _road_colours(x_all: np.ndarray, log: bool):
    """Each swept value's colour on the roads' scale."""
    from matplotlib import colors

    if log:
        return colors.LogNorm(x_all.min(), x_all.max())
    return colors.Normalize(x_all.min() if len(x_all) else 0, x_all.max() if len(x_all) else 1)


def _roads(road_ax: "Axes", done: list[SweepPoint], x_all: np.ndarray, log: bool, limit: float | None, measure: str) -> None:
    """Each run's road to the GLM, coloured by its value, and the tolerance."""
    from matplotlib import cm

    norm = _road_colours(x_all, log)
    for p, xi in zip(done, x_all[: len(done)]):
        if p.road is not None:
            road_ax.plot(p.road[0], np.where(p.road[1] > 0, p.road[1], np.nan), color=cm.viridis(norm(xi)), lw=1.0, alpha=0.9)
    if limit is not None:
        road_ax.axhline(limit, label=f"tolerance {limit:g}", **TOLERANCE)
    road_ax.set_yscale("log")
    road_ax.set_xlabel("full-batch step")
    road_ax.set_ylabel("largest " + measure, fontsize=8)


def _colour_scale(fig: "Figure", road_ax: "Axes", x: np.ndarray, x_all: np.ndarray, log: bool, labels: list | None, key: str) -> None:
    """The roads' colour scale, only where the lines' values differ."""
    from matplotlib import cm

    if len(x) and x.max() > x.min():
        bar = fig.colorbar(cm.ScalarMappable(norm=_road_colours(x_all, log), cmap=cm.viridis), ax=road_ax)
        bar.set_label(key)
        if labels:
            bar.set_ticks(range(len(labels)), labels=[plain(t) for t in labels])


def _steps_to_equivalence(
    steps_ax: "Axes",
    gap_ax: "Axes",
    done: list[SweepPoint],
    diverged: list[SweepPoint],
    x: np.ndarray,
    x_diverged: np.ndarray,
    order: np.ndarray,
) -> None:
    """Each run's first step within the tolerance (or its last step, marked), and the diverged runs on both panels."""
    from matplotlib.transforms import blended_transform_factory

    matched = np.array([p.steps_to_match is not None for p in done], dtype=bool)
    steps = np.array([p.steps_to_match if p.steps_to_match is not None else np.nan for p in done], dtype=float)
    ran = np.array([p.steps_run if p.steps_run is not None else np.nan for p in done], dtype=float)
    if matched.any():
        steps_ax.plot(x[order], steps[order], "o-", color="tab:blue", ms=4, label="first step within the tolerance")
    if np.any(~matched):
        steps_ax.plot(x[~matched], ran[~matched], "x", color="tab:red", ms=7, mew=2, label="never within it (its last step)")
    if diverged:
        last = np.array([np.nan if p.steps_run is None else p.steps_run for p in diverged], dtype=float)
        steps_ax.plot(x_diverged, last, "*", color="tab:purple", ms=9, label="diverged (its last step)")
        on_top = blended_transform_factory(gap_ax.transData, gap_ax.transAxes)  # no gap to draw: marked along the top
        gap_ax.plot(x_diverged, np.full(len(diverged), 0.95), "*", color="tab:purple", ms=9, transform=on_top, label="diverged: no gap")
    steps_ax.set_ylabel("full-batch steps")
    none = "" if matched.any() else ": no run got within the tolerance"
    steps_ax.set_title("Steps to equivalence" + none, fontsize=10)


def _value_axis(ax: "Axes", key: str, log: bool, labels: list | None, several: bool) -> None:
    """The swept key along x: its values, log-scaled where they span decades, or the points' labels."""
    ax.set_xlabel(key)
    if log:
        ax.set_xscale("log")
    if labels:
        ax.set_xticks(range(len(labels)), labels=[plain(t) for t in labels], rotation=30 if several else 0, fontsize=7 if several else 9)
    ax.grid(alpha=0.3, which="both")
    _legend(ax)


def _sweep_grid(done: list[SweepPoint], diverged: list[SweepPoint], keys: list[str]) -> "Figure":
    """Two swept keys: the steps to equivalence and the final gap, one cell a run."""
    from matplotlib import colormaps

    fig, (steps_ax, gap_ax) = figure(12.0, 5.0, 2)
    every = done + diverged
    columns = _sorted(list(dict.fromkeys(p.point.get(keys[0]) for p in every)))
    rows = _sorted(list(dict.fromkeys(p.point.get(keys[1]) for p in every)))
    limit = next((p.limit for p in done if p.limit is not None), None)
    steps, gaps, cell_text, gap_text = _grid_cells(every, rows, columns, keys, limit)
    grey_when_never = colormaps["viridis"].with_extremes(bad="0.85")
    image = steps_ax.imshow(steps, cmap=grey_when_never, aspect="auto", origin="lower")
    if np.isfinite(steps).any():  # a colour scale only where some run got within the tolerance
        fig.colorbar(image, ax=steps_ax, label="first step within the tolerance")
    _gap_image(fig, gap_ax, gaps, limit)
    for i in range(len(rows)):
        for j in range(len(columns)):
            if cell_text[i, j]:
                steps_ax.text(j, i, cell_text[i, j], ha="center", va="center", fontsize=7, bbox=LABEL_BOX)
            if gap_text[i, j]:
                gap_ax.text(j, i, gap_text[i, j], ha="center", va="center", fontsize=7, bbox=LABEL_BOX)
    none = "no run got within the tolerance" if not np.isfinite(steps).any() else "'never': not within the tolerance"
    for ax, title in (
        (steps_ax, f"Steps to equivalence ({none})"),
        (gap_ax, f"Final gap; ✗ above the tolerance {limit:g}" if limit is not None else "Final gap"),
    ):
        ax.set_xticks(range(len(columns)), labels=[plain(c) for c in columns], fontsize=8)
        ax.set_yticks(range(len(rows)), labels=[plain(r) for r in rows], fontsize=8)
        ax.set_xlabel(keys[0])
        ax.set_ylabel(keys[1])
        ax.set_title(title, fontsize=10)
    return fig


def _grid_cells(every: list[SweepPoint], rows: list, columns: list, keys: list[str], limit: float | None) -> tuple:
    """Each cell's steps to equivalence and final gap (NaN where none), and the text written in it."""
    steps = np.full((len(rows), len(columns)), np.nan)
    gaps = np.full((len(rows), len(columns)), np.nan)
    cell_text = np.full((len(rows), len(columns)), "", dtype=object)
    gap_text = np.full((len(rows), len(columns)), "", dtype=object)
    for p in every:
        i, j = rows.index(p.point.get(keys[1])), columns.index(p.point.get(keys[0]))
        last = "" if p.steps_run is None else f"\n(step {p.steps_run})"
        if p.diverged:
            cell_text[i, j], gap_text[i, j] = "diverged" + last, "diverged"
            continue
        gaps[i, j] = p.final_gap if p.final_gap is not None else np.nan
        if p.steps_to_match is not None:
            steps[i, j] = p.steps_to_match
            cell_text[i, j] = f"{p.steps_to_match}"
        else:
            cell_text[i, j] = "never" + last
        if np.isfinite(gaps[i, j]):
            over = limit is not None and gaps[i, j] > limit
            gap_text[i, j] = f"{gaps[i, j]:.2g}" + (" ✗" if over else "")
    return steps, gaps, cell_text, gap_text


def _gap_image(fig: "Figure", gap_ax: "Axes", gaps: np.ndarray, limit: float | None) -> None:
    """The final gaps, on a log scale that holds the tolerance, marked on the colour bar."""
    from matplotlib import colormaps, colors

    positive = gaps[np.isfinite(gaps) & (gaps > 0)]
    norm = None
    if positive.size:
        # the tolerance inside the scale, so that a colour says how far from it a gap is, not how the gaps differ
        low, high = positive.min(), positive.max()
        if limit is not None and limit > 0:
            low, high = min(low, limit / 10), max(high, limit * 10)
        norm = colors.LogNorm(low, high) if high > low else None
    gap_image = gap_ax.imshow(
        np.where(gaps > 0, gaps, np.nan), cmap=colormaps["magma_r"].with_extremes(bad="0.85"), norm=norm, aspect="auto", origin="lower"
    )
    if positive.size:
        bar = fig.colorbar(gap_image, ax=gap_ax, label="final gap (the verdict's measure)")
        if limit is not None and norm is not None and norm.vmin is not None and norm.vmax is not None and norm.vmin <= limit <= norm.vmax:
            bar.ax.axhline(limit, color="tab:red", lw=2)


def sweep_picture_path(run_dirs: list[Path]) -> Path:
    """Where a sweep's picture goes: the sweep's own folder beside its points' (runlog.sweep_folder), as
    it belongs to the sweep, not to any one point."""
    return runlog.sweep_folder(run_dirs) / runlog.SWEEP_PICTURE


def draw_sweep(run_dirs: list[Path], failed: list[dict] | None = None) -> Path:
    """The picture of a sweep, from its points' folders (and the points that left none); returns its path."""
    from nnglm.foundation.errors import UserError

    fig = sweep_figure([sweep_point(d) for d in run_dirs] + [SweepPoint(p, Status.FAILED) for p in failed or []])
    path = sweep_picture_path(run_dirs)
    if path.parent.is_symlink() or path.is_symlink():  # the run log's own folder: never written through a link
        raise UserError(f"{path.parent}: a link, not the sweep's folder; the picture is not drawn through it")
    path.parent.mkdir(exist_ok=True)
    save(fig, path)
    return path


# --- runs compared ---


WORDS_ABOUT_A_RUN = ("name", "description")  # config keys that say what a run is, not how it was run


def run_labels(c: "RunComparison", most: int = 2) -> list[str]:
    """Each run named by what differs between the runs (the config's keys first, then the environment's
    not already said: train.dtype=float32), or by its id where nothing does; its outcome where it is
    not equivalent."""
    from nnglm.foundation import errors

    differs = dict(c.config_diff)
    said = {key.rsplit(".", 1)[-1] for key in differs}
    differs |= {key: values for key, values in c.environment_diff.items() if key.rsplit(".", 1)[-1] not in said}
    # the settings that differ name a run; its name and description only where nothing else differs
    settings = [key for key in differs if key not in WORDS_ABOUT_A_RUN]
    keys = settings or [key for key in differs if key == "name"]
    labels = []
    for i, run in enumerate(c.runs):
        parts = [f"{key}={errors.clip(str(differs[key][i]), 30)}" for key in keys[:most]]
        parts += [f"+{len(keys) - most} more"] if len(keys) > most else []
        label = ", ".join(parts) if parts else f"run {i + 1} ({run.run_id})"
        outcome = run.result.comparison.outcome if run.result and run.result.comparison else None
        labels.append(plain(label + (f" ({outcome})" if outcome and outcome != ComparisonOutcome.EQUIVALENT else "")))
    return labels


def compare_figure(c: "RunComparison", limit: int = 40) -> "Figure":
    """Each run's weights against its own GLM, term by term: on the left the signed difference in GLM
    standard errors (every term on one scale, the GLM's 95% interval shaded), on the right its size in
    the verdict's measure (relative to max(|GLM coefficient|, std err), log scale), the largest first."""
    from nnglm.log import result as schema
    from nnglm.vocabulary import tolerance as measure

    n_runs = len(c.runs)
    se = np.full((n_runs, len(c.terms)), np.nan)
    for i, run in enumerate(c.runs):
        bse = schema.flat(run.result.glm.bse or {}) if run.result and run.result.glm else {}
        se[i] = [np.nan if bse.get(t) is None else bse[t] for t in c.terms]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(c.network - c.glm) / measure.scale(c.glm, se)  # (runs, terms), each run against its own GLM
        usable = np.isfinite(se) & (se > 0)
        # in standard errors where there is one; else (separation, a failed GLM) relative to max(|coefficient|, 0)
        signed = (c.network - c.glm) / np.where(usable, se, np.abs(c.glm))
    worst = np.max(np.where(np.isnan(relative), -np.inf, relative), axis=0, initial=-np.inf)
    order = [int(j) for j in np.argsort(-worst, kind="stable")[:limit]]
    shown = len(order)
    fig, (value_ax, gap_ax) = figure(12.0, max(3.0, 0.28 * shown + 1.8), 2)
    ys = np.arange(shown)[::-1]
    offsets = (np.arange(n_runs) - (n_runs - 1) / 2) * min(0.7 / max(n_runs, 1), 0.2)
    markers = "osD^v<>p*h"
    labels = run_labels(c)
    value_ax.axvspan(-1.96, 1.96, color="0.9", zorder=0, label="the GLM's 95% interval (± 1.96 std err)")
    value_ax.axvline(0, color="black", lw=1, label="the GLM's coefficient")
    for i in range(n_runs):
        style: dict[str, Any] = dict(color=f"C{i}", ms=5, ls="none", label=labels[i])
        value_ax.plot(signed[i, order], ys + offsets[i], markers[i % len(markers)], **style)
        gap_ax.plot(np.where(relative[i, order] > 0, relative[i, order], np.nan), ys + offsets[i], markers[i % len(markers)], **style)
    far = np.nanmax(np.abs(signed[:, order]), initial=0.0) if shown else 0.0
    reach = max(2.5, 1.1 * far) if np.isfinite(far) else 2.5
    value_ax.set_xlim(-reach, reach)
    tolerances = _tolerances(c)
    if len(set(tolerances)) == 1:
        if tolerances[0] is not None:
            gap_ax.axvline(tolerances[0], label=f"relative tolerance (rtol) {tolerances[0]:g}", **TOLERANCE)
    else:  # each run judged by its own (float32's is wider than float64's)
        for i, rtol in enumerate(tolerances):
            if rtol is not None:
                gap_ax.axvline(rtol, color=f"C{i}", ls="--", lw=1.2, label=f"tolerance of {labels[i]}: {rtol:g}")
    gap_ax.set_xscale("log")
    for ax in (value_ax, gap_ax):
        ax.set_yticks(ys, labels=[plain(c.terms[j]) + ("" if usable[:, j].all() else " †") for j in order], fontsize=7)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    gap_ax.set_yticklabels([])
    note = "" if usable[:, order].all() else "\n†: no GLM std err: relative to |GLM coefficient| instead"
    value_ax.set_xlabel("(network weight − GLM coefficient) / GLM std err" + note)
    gap_ax.set_xlabel("|network weight − GLM coefficient| / max(|coefficient|, std err)")
    cut = f", the {shown} farthest of {len(c.terms)} terms" if shown < len(c.terms) else ""
    value_ax.set_title(f"{n_runs} runs' weights against each one's GLM{cut}", fontsize=10)
    gap_ax.set_title("Each run's gap to its GLM, relative (the verdict's measure)", fontsize=10)
    return fig


def _tolerances(c: "RunComparison") -> list[float | None]:
    """Each run's relative tolerance (None where it judged absolute differences, compare.max_abs)."""
    out: list[float | None] = []
    for run in c.runs:
        tolerance = run.result.comparison.tolerance if run.result and run.result.comparison else None
        out.append(tolerance.rtol if tolerance is not None and tolerance.max_abs is None else None)
    return out
