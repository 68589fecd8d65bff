"""Reading the run log: list the logged runs, compare runs side by side.

Nothing here imports TensorFlow or Keras: listing hundreds of runs reads JSON
only. Every result.json is read through one typed schema (result.py), so a
missing, half-written or malformed file is one `broken` row, never a crash; a
run recorded as `running` whose process is gone is listed as `dead`.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnglm.foundation import safe
from nnglm.foundation.errors import UserError, clip, listing, short
from nnglm.log import result as schema
from nnglm.log import runlog
from nnglm.log.result import ComparisonOutcome, Status
from nnglm.vocabulary import tolerance as measure


@dataclass
class LoggedRun:
    folder: Path
    result: schema.RunResult | None  # None: result.json missing or unreadable
    problem: str | None = None  # why it is broken, or why a `running` run is dead

    @property
    def name(self) -> str:
        return self.folder.parent.name

    @property
    def run_id(self) -> str:
        return self.folder.name

    @property
    def status(self) -> Status:
        """The recorded status; `dead` for a run recorded as running whose process is gone; `broken` without a result."""
        if self.result is None:
            return Status.BROKEN
        return Status.DEAD if self.result.status == Status.RUNNING and self.problem else self.result.status

    @property
    def set_keys(self) -> dict:
        """The config keys the run set over its config file (`--set` and its sweep point); {} for a plain run."""
        return self.result.set_keys if self.result else {}

    @property
    def when(self) -> str:
        # run ids start with the start time: 20261123-124158-...
        stamp = self.run_id[:15]
        if len(stamp) == 15 and stamp[8] == "-" and (stamp[:8] + stamp[9:]).isdigit():
            return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"
        return "?"


def read(folder: Path) -> LoggedRun:
    try:
        result = schema.read(folder / runlog.RESULT_FILE)
    except schema.Unreadable as e:
        return LoggedRun(folder, None, str(e))
    if result.status == Status.RUNNING:
        alive, why = runlog.liveness(result.process, folder)
        if alive is False:
            return LoggedRun(folder, result, why)
    return LoggedRun(folder, result)


def run_folders(root: Path) -> list[Path]:
    """Every run folder under root (root/<name>/<run_id>/); given one run's folder, or one name's
    folder of runs, those."""
    if not root.exists():
        raise UserError(f"no run log at {clip(str(root), 200)}: the folder does not exist")
    if not root.is_dir():
        what = "a file" if root.is_file() else "not a folder"
        raise UserError(f"{clip(str(root), 200)} is {what}; give the run log's folder (default: experiments)")
    if (root / runlog.RESULT_FILE).is_file():
        return [root]
    if any(child.joinpath(runlog.RESULT_FILE).is_file() for child in root.iterdir()):
        return [child for child in root.iterdir() if _run(child)]
    # a link inside the log (to a folder elsewhere) is not followed: the log is what lies under root
    return [f for name in root.iterdir() if _folder(name) for f in name.iterdir() if _run(f)]


def _run(path: Path) -> bool:
    """A run's folder: any folder beside the runs but a sweep's own (its picture, runlog.sweep_folder)."""
    return _folder(path) and not runlog.is_sweep_folder(path)


def _folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not path.name.startswith(".")


def scan(root: Path, name: str | None = None, status: str | None = None) -> list[LoggedRun]:
    """Every run under root (see run_folders), newest first."""
    runs = [read(folder) for folder in run_folders(root)]
    if name:
        runs = [r for r in runs if name in r.name]
    if status:
        runs = [r for r in runs if r.status == status]
    return sorted(runs, key=lambda r: (r.when, r.run_id), reverse=True)


def row(run: LoggedRun, cv: bool = False) -> list[str]:
    """The run's cells under RUNS_COLUMNS; `cv`: and its cv column's (runs_columns)."""
    return _row(run) + ([cross_validated(run.result)] if cv else [])


def _row(run: LoggedRun) -> list[str]:
    r = run.result
    if r is None:
        return [run.name, run.run_id, "", Status.BROKEN, "", "", "", "", "", "", run.problem or ""]
    comparison = r.comparison
    model = r.config.get("model")
    model = model if isinstance(model, dict) else {}
    verdict = ""
    if run.status == Status.DEAD:
        verdict = run.problem or ""
    elif comparison and comparison.equivalent is not None:
        verdict = "equivalent" if comparison.equivalent else not_equivalent(comparison.outcome)
    relative = comparison.max_rel_diff if comparison else None
    steps = r.network.epochs_run if r.network else last_step(run.folder)
    return [
        run.name,
        run.run_id,
        clip(" ".join(f"{key}={value}" for key, value in run.set_keys.items()), 120),
        run.status,
        f"{clip(str(model.get('family', '?')), 20)}/{clip(str(model.get('link', '?')), 20)}",
        clip(r.environment.dtype or ""),
        clip(r.environment.backend or ""),
        clip(r.environment.device or ""),
        "" if steps is None else str(steps),
        "" if relative is None else f"{relative:.3g}",
        verdict,
    ]


def not_equivalent(outcome: str | None) -> str:
    """The verdict column of a run that is not equivalent, with why (not converged, no finite MLE, ...)."""
    return f"not equivalent ({outcome})" if outcome and outcome != ComparisonOutcome.EQUIVALENT else "not equivalent"


def last_step(folder: Path) -> int | None:
    """The last step in history.csv, which grows as training goes: how far a running or dead run got."""
    try:
        with safe.open_file(folder / runlog.HISTORY_FILE, within=folder) as f:
            f.seek(max(0, f.seek(0, 2) - 4096))
            lines = f.read(4096).decode("utf-8", "replace").splitlines()
        return int(lines[-1].split(",")[0][:20]) if len(lines) > 1 else None
    except (OSError, ValueError, IndexError, safe.Refused):
        return None


# the headings of the table `nnglm runs` prints (nnglm.runs()'s DataFrame has its own, api.RUNS_FRAME_COLUMNS);
# "max rel diff": the verdict's own measure, each gap over max(|GLM coefficient|, std err) (`compare` shows the absolute one too)
RUNS_COLUMNS = ["name", "id", "set", "status", "family", "dtype", "backend", "device", "steps", "max rel diff", "verdict"]
NUMERIC_COLUMNS = ("steps", "max rel diff", "max abs diff")
CV_COLUMN = "cv"  # shown only where a listed run cross-validated (data.folds): the best network against the GLM


def runs_columns(runs: list[LoggedRun]) -> list[str]:
    """The headings of `nnglm runs` for these runs: RUNS_COLUMNS, and the cv column where one of them cross-validated."""
    return RUNS_COLUMNS + [CV_COLUMN] if any(r.result and r.result.cross_validation for r in runs) else RUNS_COLUMNS


def cross_validated(result: schema.RunResult | None) -> str:
    """The cv column: the best network's change of the GLM's held-out deviance and its p-value over the folds
    ("dev -2.1% p=0.003"),
    "no gain" where no network lowers the GLM's held-out deviance significantly; empty without data.folds."""
    cv = result.cross_validation if result else None
    if cv is None:
        return ""
    better = [n for n in cv.networks if n.improves and n.relative_pct is not None]
    if not better:
        return "no gain"
    best = max(better, key=lambda n: n.relative_pct or 0.0)
    p = best.p_value_folds
    shown = "" if p is None else " p<0.001" if p < 0.001 else f" p={p:.3f}"
    return f"dev {-(best.relative_pct or 0.0):+.1f}%{shown}"


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


def differing(dicts: list[dict]) -> dict[str, list]:
    """The dotted keys whose values are not the same in every dict, with each dict's value."""
    flat = [flatten(d or {}) for d in dicts]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return {k: [f.get(k, "–") for f in flat] for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flat}) > 1}


def relative_gaps(network: np.ndarray, glm: np.ndarray, first: schema.GlmSection) -> float:
    """The largest |w_run - w_first| over max(|GLM coefficient|, GLM std err) of the first run: the verdict's scale."""

    bse = schema.flat(first.bse or {})
    se = np.array([np.nan if bse.get(t) is None else bse[t] for t in schema.flat(first.coefficients)], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.abs(network - network[0]) / measure.scale(glm, se)
    return float(np.nanmax(gaps, initial=0.0))


@dataclass
class RunComparison:
    runs: list[LoggedRun]
    config_diff: dict[str, list]
    environment_diff: dict[str, list]
    terms: list[str]
    network: np.ndarray  # (runs, terms)
    glm: np.ndarray
    max_weight_diff: float  # the largest |w_run - w_first| over runs and terms
    max_rel_weight_diff: float  # the same, each gap over max(|GLM coefficient|, GLM std err) of the first run (the verdict's scale)
    tolerance: float
    relative: bool  # judged relative (runs in different dtypes, by default), else absolute
    same: bool
    validation: dict[str, list]  # '<fit>.<loss>' -> each run's value, for runs with held-out rows
    statistics: dict[str, list]  # '<fit>.<statistic>' -> each run's value (deviance, AIC, ...)
    errors: list[str] = field(default_factory=list)  # each run's standard errors, in words (inference.described)
    bse: dict[str, list] = field(default_factory=dict)  # '<fit>.<term>' -> each run's standard error
    # '<model>.<figure>' -> each run's value, for runs with data.folds
    cross_validation: dict[str, list] = field(default_factory=dict)


ENVIRONMENT_IGNORED = {"platform"}  # recorded, but not news when comparing


def run_folder(path: Path) -> Path:
    """A run folder from what was typed: the folder, or its result.json."""
    if path.is_file() and path.name == runlog.RESULT_FILE:
        return path.parent
    if not path.exists():
        raise UserError(f"{clip(str(path), 200)}: no such run folder")
    if not path.is_dir():
        raise UserError(f"{clip(str(path), 200)}: a file, not a run folder (<out>/<name>/<run_id>/)")
    return path


def locate(text: str, root: Path) -> Path:
    """A run folder from what was typed: a path (the folder or its result.json), or a run id
    (a folder's name, or the start of one) looked up under root."""
    path = Path(text)
    if path.exists() or "/" in text or os.sep in text:
        return run_folder(path)
    return by_id(text, root)


def by_id(run_id: str, root: Path) -> Path:
    where = clip(str(root), 200)
    if not root.is_dir():
        raise UserError(
            f"run id {short(run_id)}: no run folder of that path, and no run log at {where} to look the id up in (give it with --dir)"
        )
    folders = run_folders(root)
    matches = [f for f in folders if f.name == run_id] or [f for f in folders if f.name.startswith(run_id)]
    if not matches:
        raise UserError(f"run id {short(run_id)}: no run of that id under {where} (`nnglm runs {where}` lists them)")
    if len(matches) > 1:
        names = sorted(f"{f.parent.name}/{f.name}" for f in matches)
        raise UserError(
            f"run id {short(run_id)} is ambiguous under {where}: it matches {listing(names)}; give more of the id, or the run folder's path"
        )
    return matches[0]


def compare_runs(folders: list[Path], tolerance: float | None = None) -> RunComparison:
    runs = [read(run_folder(Path(f))) for f in folders]
    _check_comparable(runs)
    results = [r.result for r in runs if r.result is not None]
    networks = [r.network for r in results if r.network is not None]
    glms = [r.glm for r in results if r.glm is not None]
    coefs = [schema.flat(n.coefficients) for n in networks]
    terms = _same_terms(runs, coefs, glms)

    def values(c: dict) -> list[float]:
        return [np.nan if c[t] is None else c[t] for t in terms]

    network = np.asarray([values(c) for c in coefs], dtype=np.float64)
    glm = np.asarray([values(schema.flat(g.coefficients)) for g in glms], dtype=np.float64)
    gap = float(np.max(np.abs(network - network[0]))) if len(runs) > 1 else 0.0
    relative_gap = relative_gaps(network, glm[0], glms[0])
    tolerance, relative = _judged_by(results, tolerance)
    env = differing([{k: v for k, v in r.environment.model_dump().items() if k not in ENVIRONMENT_IGNORED} for r in results])
    return RunComparison(
        runs=runs,
        config_diff=differing([r.config for r in results]),
        environment_diff=env,
        terms=terms,
        network=network,
        glm=glm,
        max_weight_diff=gap,
        max_rel_weight_diff=relative_gap,
        tolerance=tolerance,
        relative=relative,
        same=bool((relative_gap if relative else gap) <= tolerance),
        validation=_held_out_losses(results),
        cross_validation=_cross_validations(results),
        statistics=_fit_statistics(networks, glms),
        errors=[errors_used(r) for r in results],
        bse=standard_errors(results, terms),
    )


def _check_comparable(runs: list[LoggedRun]) -> None:
    """Each run completed, with both fits' coefficients recorded."""
    for run in runs:
        if run.result is None:
            raise UserError(f"{run.folder}: cannot compare a broken run ({run.problem})")
        if run.status != Status.COMPLETED:
            raise UserError(f"{run.folder}: status {run.status}; only completed runs have weights to compare")
        for section in ("network", "glm"):
            part = getattr(run.result, section)
            if part is None or not part.coefficients:
                raise UserError(f"{run.folder}: result.json has no {section} coefficients to compare")


def _same_terms(runs: list[LoggedRun], coefs: list[dict], glms: list[schema.GlmSection]) -> list[str]:
    """The terms every run's network and GLM have, in the first run's order; refused where they differ."""
    terms = list(coefs[0])
    for run, c in zip(runs, coefs):
        if list(c) != terms:
            raise UserError(
                f"{run.folder}: its terms differ from the first run's ({', '.join(terms[:5])} …): not the same model "
                "(`nnglm anova` compares nested models by their deviances)"
            )
    for run, g in zip(runs, glms):
        if list(schema.flat(g.coefficients)) != terms:
            raise UserError(f"{run.folder}: its GLM's terms differ from its network's: result.json is inconsistent")
    return terms


def _judged_by(results: list[schema.RunResult], tolerance: float | None) -> tuple[float, bool]:
    """The tolerance the weights' largest gap is held to, and whether it is relative (to the GLM's scale)."""
    dtypes = {r.environment.dtype or "float32" for r in results}
    # runs in different dtypes agree only as far as the coarser one reaches the GLM: judge them as the verdict does
    relative = tolerance is None and len(dtypes) > 1
    if relative:
        rtols = [r.comparison.tolerance.rtol or 0.0 for r in results if r.comparison and r.comparison.tolerance]
        tolerance = max(rtols, default=0.0) or None
        relative = tolerance is not None
    if tolerance is None:
        tolerance = measure.across_runs(sorted(dtypes))
    return tolerance, relative


def _held_out_losses(results: list[schema.RunResult]) -> dict[str, list]:
    """'<fit>.<loss>' -> each run's value, for the losses some run recorded."""
    validation = {}
    for fit in ("glm", "network", "hidden"):
        for loss in ("train_loss", "validation_loss"):
            losses = [getattr(getattr(r.validation, fit, None), loss, None) for r in results]
            if any(v is not None for v in losses):
                validation[f"{fit}.{loss}"] = losses
    return validation


def _cross_validations(results: list[schema.RunResult]) -> dict[str, list]:
    """'<model>.<figure>' -> each run's value, for runs that cross-validated: each model's held-out deviance
    per row (the mean over the folds), each network's change of the GLM's in % and its p over the folds."""
    sections = [r.cross_validation for r in results]
    if not any(sections):
        return {}
    out: dict[str, list] = {}
    for model in schema.CV_MODELS:
        out[f"{model}.deviance"] = [_mean_deviance(cv, model) for cv in sections]
    for model in schema.CV_NETWORKS:
        versus = [next((n for n in cv.networks if n.model == model), None) if cv else None for cv in sections]
        out[f"{model}.change %"] = [None if n is None or n.relative_pct is None else -n.relative_pct for n in versus]
        out[f"{model}.p, folds"] = [None if n is None else n.p_value_folds for n in versus]
    return out


def _mean_deviance(cv: schema.CrossValidationSection | None, model: str) -> float | None:
    values = cv.fold_scores(model) if cv else np.array([])
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else None


def _fit_statistics(networks: list[schema.NetworkSection], glms: list[schema.GlmSection]) -> dict[str, list]:
    """'<fit>.<statistic>' -> each run's value, for the statistics some run recorded."""
    statistics = {}
    for fit, sections in (("network", networks), ("glm", glms)):
        for key in ("llf", "deviance", "null_deviance", "aic", "bic", "df_resid", "dispersion"):
            per_run = [getattr(s.statistics, key, None) for s in sections]
            if any(v is not None for v in per_run):
                statistics[f"{fit}.{key}"] = per_run
    return statistics


DEFAULT_ERRORS = "model-based, observed information"  # a run from before the inference section had these


def errors_used(result: schema.RunResult) -> str:
    """Which standard errors both fits of a run report, in words (older runs: the model-based ones, observed information)."""
    described = result.inference.described if result.inference else None
    return described or DEFAULT_ERRORS


def standard_errors(results: list[schema.RunResult], terms: list[str], limit: int = 40) -> dict[str, list]:
    """'<fit>.<term>' -> each run's standard error, the first `limit` terms."""
    out: dict[str, list] = {}
    for fit in ("network", "glm"):
        for term in terms[:limit]:
            values = [schema.flat(getattr(getattr(r, fit), "bse", None) or {}).get(term) for r in results]
            if any(v is not None for v in values):
                out[f"{fit}.{term}"] = values
    return out
