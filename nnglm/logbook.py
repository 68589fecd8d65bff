"""Reading the run log: list the logged runs, compare runs side by side.

Nothing here imports TensorFlow or Keras: listing hundreds of runs reads JSON
only, and a broken or half-written folder is listed as such, never a crash.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnglm.errors import UserError
from nnglm.summary import wide_console


@dataclass
class LoggedRun:
    folder: Path
    result: dict | None  # None: result.json missing or unreadable
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.folder.parent.name

    @property
    def run_id(self) -> str:
        return self.folder.name

    @property
    def status(self) -> str:
        return self.result.get("status", "unknown") if self.result else "broken"

    @property
    def when(self) -> str:
        # run ids start with the start time: 20261123-124158-...
        stamp = self.run_id[:15]
        if len(stamp) == 15 and stamp[8] == "-" and (stamp[:8] + stamp[9:]).isdigit():
            return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"
        return "?"


def read(folder: Path) -> LoggedRun:
    path = folder / "result.json"
    try:
        result = json.loads(path.read_text())
    except FileNotFoundError:
        return LoggedRun(folder, None, "no result.json")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return LoggedRun(folder, None, f"unreadable result.json ({type(e).__name__})")
    if not isinstance(result, dict):
        return LoggedRun(folder, None, "result.json is not an object")
    return LoggedRun(folder, result)


def scan(root: Path, name: str | None = None, status: str | None = None) -> list[LoggedRun]:
    """Every run folder under root (root/<name>/<run_id>/), newest first."""
    if not root.is_dir():
        raise UserError(f"no run log at {root}: the folder does not exist")
    runs = [read(folder) for folder in root.glob("*/*") if folder.is_dir() and not folder.name.startswith(".")]
    if name:
        runs = [r for r in runs if name in r.name]
    if status:
        runs = [r for r in runs if r.status == status]
    return sorted(runs, key=lambda r: (r.when, r.run_id), reverse=True)


def _get(d: dict | None, *keys, default=None):
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def row(run: LoggedRun) -> list[str]:
    r = run.result
    if r is None:
        return [run.name, run.when, "broken", "", "", "", "", "", "", run.problem or ""]
    diff = _get(r, "comparison", "max_abs_diff")
    equivalent = _get(r, "comparison", "equivalent")
    model = _get(r, "config", "model", default={}) or {}
    return [
        run.name,
        run.when,
        run.status,
        f"{model.get('family', '?')}/{model.get('link', '?')}",
        str(_get(r, "environment", "dtype", default="")),
        str(_get(r, "environment", "backend", default="")),
        str(_get(r, "environment", "device", default="")),
        str(_get(r, "network", "epochs_run", default="")),
        "" if diff is None else f"{diff:.3g}",
        {True: "equivalent", False: "not equivalent", None: ""}[equivalent] if isinstance(equivalent, (bool, type(None))) else "",
    ]


RUNS_COLUMNS = ["name", "when", "status", "family", "dtype", "backend", "device", "steps", "max abs diff", "verdict"]


# --- comparing runs ---


def flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for key, value in d.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def flat(coefficients: dict) -> dict[str, float]:
    """Multinomial fits nest coefficients by class; here they are '<class>:<term>', as in coefficients.csv."""
    out = {}
    for key, value in coefficients.items():
        if isinstance(value, dict):
            out.update({f"{key}:{term}": v for term, v in value.items()})
        else:
            out[key] = value
    return out


def differing(dicts: list[dict]) -> dict[str, list]:
    """The dotted keys whose values are not the same in every dict, with each dict's value."""
    flat = [flatten(d or {}) for d in dicts]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return {k: [f.get(k, "–") for f in flat] for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flat}) > 1}


def default_tolerance(dtypes: list[str]) -> float:
    # float32 round-off differs between backends and devices at about 1e-7 relative; float64 at about 1e-15
    return 1e-10 if all(d == "float64" for d in dtypes) else 1e-6


@dataclass
class RunComparison:
    runs: list[LoggedRun]
    config_diff: dict[str, list]
    environment_diff: dict[str, list]
    terms: list[str]
    network: np.ndarray  # (runs, terms)
    glm: np.ndarray
    max_weight_diff: float  # the largest |w_run - w_first| over runs and terms
    tolerance: float
    same: bool
    validation: dict[str, list]  # '<fit>.<loss>' -> each run's value, for runs with held-out rows


ENVIRONMENT_IGNORED = {"platform"}  # recorded, but not news when comparing


def compare_runs(folders: list[Path], tolerance: float | None = None) -> RunComparison:
    runs = [read(Path(f)) for f in folders]
    for run in runs:
        if run.result is None:
            raise UserError(f"{run.folder}: cannot compare a broken run ({run.problem})")
        if run.status != "completed":
            raise UserError(f"{run.folder}: status {run.status}; only completed runs have weights to compare")
    results = [r.result for r in runs]
    coefs = [flat(_get(r, "network", "coefficients", default={})) for r in results]
    terms = list(coefs[0])
    for run, c in zip(runs, coefs):
        if list(c) != terms:
            raise UserError(f"{run.folder}: its terms differ from the first run's ({', '.join(terms[:5])} …): not the same model")
    network = np.array([[c[t] for t in terms] for c in coefs], dtype=float)
    glm = np.array([[flat(r["glm"]["coefficients"])[t] for t in terms] for r in results], dtype=float)
    gap = float(np.max(np.abs(network - network[0]))) if len(runs) > 1 else 0.0
    if tolerance is None:
        tolerance = default_tolerance([_get(r, "environment", "dtype", default="float32") for r in results])
    env = differing([{k: v for k, v in (r.get("environment") or {}).items() if k not in ENVIRONMENT_IGNORED} for r in results])
    validation = {}
    for fit in ("glm", "network", "hidden"):
        for loss in ("train_loss", "validation_loss"):
            values = [_get(r, "validation", fit, loss) for r in results]
            if any(v is not None for v in values):
                validation[f"{fit}.{loss}"] = values
    return RunComparison(
        runs=runs,
        config_diff=differing([r.get("config") for r in results]),
        environment_diff=env,
        terms=terms,
        network=network,
        glm=glm,
        max_weight_diff=gap,
        tolerance=tolerance,
        same=gap <= tolerance,
        validation=validation,
    )


# --- on the console ---




def print_runs(runs: list[LoggedRun], root: Path, console=None) -> None:
    from rich.table import Table

    console = console or wide_console()
    table = Table(title=f"{len(runs)} runs in {root}, newest first", title_justify="left")
    for column in RUNS_COLUMNS:
        table.add_column(column, justify="right" if column in ("steps", "max abs diff") else "left")
    for run in runs:
        table.add_row(*row(run), style="red" if run.status in ("broken", "failed") else None)
    console.print(table)


def print_comparison(c: RunComparison, console=None) -> None:
    from rich.table import Table

    console = console or wide_console()
    labels = [f"{r.name}/{r.run_id}" for r in c.runs]
    short = [f"run {i + 1}" for i in range(len(c.runs))]
    for label, s in zip(labels, short):
        console.print(f"{s}: {label}")

    def diff_table(title: str, diff: dict[str, list]) -> None:
        if not diff:
            console.print(f"{title}: the same in every run")
            return
        table = Table(title=title, title_justify="left")
        table.add_column("key")
        for s in short:
            table.add_column(s)
        for key, values in diff.items():
            table.add_row(key, *[str(v) for v in values])
        console.print(table)

    diff_table("Config keys that differ", c.config_diff)
    diff_table("Environment that differs", c.environment_diff)
    table = Table(title="Coefficients (network; GLM)" + (f", the first 40 of {len(c.terms)}" if len(c.terms) > 40 else ""), title_justify="left")
    table.add_column("term")
    for s in short:
        table.add_column(f"{s} network", justify="right")
    table.add_column("GLM (run 1)", justify="right")
    for j, term in enumerate(c.terms[:40]):
        table.add_row(term, *[f"{v:.12g}" for v in c.network[:, j]], f"{c.glm[0, j]:.12g}")
    console.print(table)
    if c.validation:
        table = Table(title="Losses (held-out rows kept out of every fit)", title_justify="left")
        table.add_column("fit.loss")
        for s in short:
            table.add_column(s, justify="right")
        for key, values in c.validation.items():
            table.add_row(key, *["–" if v is None else f"{v:.6g}" for v in values])
        console.print(table)
    verdict = "the same" if c.same else "different"
    colour = "green" if c.same else "red"
    console.print(
        f"[{colour}]largest difference between the runs' network weights: {c.max_weight_diff:.3g} "
        f"(tolerance {c.tolerance:g}): {verdict}[/{colour}]"
    )
