"""Pictures of a run: the loss, each weight's way to its GLM value, and seed 000's separating lines."""

import io
from pathlib import Path

import numpy as np

from nnglm.runlog import write_atomic

MAX_LINES = 12  # distance plots with more coefficients show the max and the first few


def _figure():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt, plt.subplots(figsize=(7, 4.2), layout="constrained")


def _save(plt, fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_atomic(path, buf.getvalue())


def loss_curve(history: list[tuple[int, float, float]], loss_name: str, path: Path) -> None:
    plt, (fig, ax) = _figure()
    steps = [h[0] for h in history]
    losses = [h[1] for h in history]
    ax.plot(steps, losses, color="tab:blue")
    ax.set_xlabel("full-batch step")
    ax.set_ylabel(f"training loss ({loss_name})")
    ax.set_title("Loss of the network")
    ax.grid(alpha=0.3)
    _save(plt, fig, path)


def distances(
    steps: list[int], trajectory: list[np.ndarray], glm: np.ndarray, bse: np.ndarray, terms: list[str], tolerance, path: Path
) -> None:
    """Each weight's gap to its GLM coefficient over the steps, in the verdict's own measure."""
    plt, (fig, ax) = _figure()
    limit = tolerance.max_abs if tolerance.max_abs is not None else tolerance.rtol
    gaps = np.array([tolerance.gaps(w, glm, bse) * limit for w in trajectory])  # (logged steps, coefficients)
    floor = np.finfo(float).tiny
    shown = range(min(len(terms), MAX_LINES))
    for j in shown:
        ax.plot(steps, np.maximum(gaps[:, j], floor), lw=1.2, label=terms[j])
    if len(terms) > MAX_LINES:
        ax.plot(steps, np.maximum(gaps.max(axis=1), floor), color="black", lw=2, label=f"max over all {len(terms)}")
    ax.axhline(limit, color="grey", ls="--", lw=1, label=f"tolerance {limit:g}")
    ax.set_yscale("log")
    ax.set_xlabel("full-batch step")
    if tolerance.max_abs is not None:
        ax.set_ylabel("|network weight − GLM coefficient|")
    else:
        ax.set_ylabel("|weight − coefficient| / max(|coefficient|, std err)")
    ax.set_title("Distance of each weight to its GLM coefficient")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2 if len(shown) > 6 else 1)
    _save(plt, fig, path)


def separating_lines(
    X: np.ndarray, y: np.ndarray, names: list[str], network: np.ndarray, glm: np.ndarray, use_bias: bool, path: Path
) -> None:
    """Two features, binary target: the points by class, and the line eta = 0 of each fit."""
    plt, (fig, ax) = _figure()
    for cls, colour in [(0, "tab:red"), (1, "tab:green")]:
        rows = y == cls
        ax.scatter(X[rows, 0], X[rows, 1], color=colour, s=40 if len(y) < 50 else 8, label=f"y = {cls}", zorder=3)
    pad = 0.5 * max(np.ptp(X[:, 0]), np.ptp(X[:, 1]), 1e-9)
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 200)
    for coefs, label, style, colour, width in [(glm, "GLM", "-", "black", 3), (network, "network", "--", "tab:orange", 2)]:
        b0, (b1, b2) = (coefs[0], coefs[1:]) if use_bias else (0.0, coefs)
        if abs(b2) > 1e-12 * max(abs(b1), 1e-300):
            ax.plot(xs, -(b0 + b1 * xs) / b2, ls=style, color=colour, lw=width, label=f"{label}: η = 0")
        else:  # a vertical line
            ax.axvline(-b0 / b1, ls=style, color=colour, lw=width, label=f"{label}: η = 0")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(X[:, 1].min() - pad, X[:, 1].max() + pad)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title("Separating lines of the two fits")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(plt, fig, path)


PICTURES = {
    "loss.png": "Training loss over full-batch steps",
    "distance.png": "Each weight's distance to its GLM coefficient, as the verdict measures it (log scale)",
    "lines.png": "The points by class, with the GLM's and the network's separating lines",
}


def draw(run_dir: Path, config, rows: list[dict], history: list, trajectory: list[np.ndarray], dataset=None) -> dict[str, str]:
    """The plots of a run, from its coefficient rows, history and trajectory: {file name: caption}.
    `dataset`: the training data, or a function that loads it, for seed 000's separating lines."""
    from nnglm.compare import Tolerance

    terms = [r["term"] for r in rows]
    network, glm, bse = (np.array([r[k] for r in rows], dtype=float) for k in ("network", "glm", "glm_bse"))
    loss_curve(history, config.family.loss_name, run_dir / "loss.png")
    tolerance = Tolerance(config.compare_rtol, config.compare.max_abs)
    distances([h[0] for h in history], trajectory, glm, bse, terms, tolerance, run_dir / "distance.png")
    drawn = ["loss.png", "distance.png"]
    if config.family.takes_trials and len(terms) - int(config.model.use_bias) == 2:
        dataset = dataset() if callable(dataset) else dataset
        if dataset is not None and dataset.n_features == 2 and dataset.weights is None:
            separating_lines(dataset.X, dataset.y, dataset.feature_names, network, glm, config.model.use_bias, run_dir / "lines.png")
            drawn.append("lines.png")
    return {name: PICTURES[name] for name in drawn}


MAX_CSV_BYTES = 256 * 2**20  # a run folder's CSVs are a few MB


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    import csv

    from nnglm import safe

    try:
        content = safe.read_bytes(path, MAX_CSV_BYTES, within=path.parent)  # no FIFO, no link out of the folder
    except (OSError, safe.Refused) as e:
        raise ValueError(str(e)) from None
    if len(content) > MAX_CSV_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_CSV_BYTES // 2**20} MB")
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    return header, rows


def drawn(run_dir: Path) -> bool:
    """A run that drew its plots as it ran: it has them, and no trajectory.csv (which only sweep points write)."""
    return (run_dir / "loss.png").is_file() and not (run_dir / "trajectory.csv").is_file()


def redraw(run_dir: Path) -> dict[str, str]:
    """`nnglm report RUN`: draw a run folder's plots from its files (as a sweep point leaves it, or any
    completed run) and write report.md again with them."""
    from nnglm import config as config_module
    from nnglm import data, report, runlog
    from nnglm import result as schema
    from nnglm.errors import UserError

    files = [run_dir / name for name in ("result.json", "config.yaml", "coefficients.csv", "history.csv", "trajectory.csv")]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise UserError(f"{run_dir}: not a completed sweep point's run folder (no {', '.join(missing)}); `nnglm report` draws from those")
    try:
        result = schema.read(files[0])
    except schema.Unreadable as e:
        raise UserError(f"{run_dir}: {e}") from None
    if result.status != "completed":
        raise UserError(f"{run_dir}: status {result.status}; `nnglm report` draws the plots of completed runs")
    config = config_module.load(files[1])
    try:  # all read, and checked, before anything is drawn
        header, cells = _read_csv(files[2])
        rows = [{k: v if k == "term" else float(v) if v else None for k, v in zip(header, r)} for r in cells]
        history = [(int(r[0]), float(r[1]), float(r[2])) for r in _read_csv(files[3])[1]]
        trajectory = [np.array(r[1:], dtype=float) for r in _read_csv(files[4])[1]]
        if not rows or not history or len(trajectory) != len(history) or any(len(t) != len(rows) for t in trajectory):
            raise ValueError("coefficients.csv, history.csv and trajectory.csv do not agree in their rows")
        report.markdown(result, rows, {})
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as e:
        raise UserError(f"{run_dir}: its files are damaged ({type(e).__name__}: {e}); `nnglm report` cannot draw from them") from None
    pictures = draw(run_dir, config, rows, history, trajectory, lambda: data.split(data.load(config), config)[0])
    runlog.write_atomic(run_dir / "report.md", report.markdown(result, rows, pictures))
    return pictures
