"""One run, top to bottom: config → data → GLM fit → network fit → comparison → run log."""

import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from nnglm.config import Config, DataFrameData
from nnglm.data import frames, table
from nnglm.experiment import holdout, predict, verdict
from nnglm.experiment.cache import Entry, RunCache
from nnglm.foundation import safe
from nnglm.log import runlog
from nnglm.log.result import (
    SCHEMA,
    ComparisonSection,
    DataSection,
    Environment,
    GlmSection,
    HiddenSection,
    InferenceSection,
    NetworkSection,
    ReferenceSection,
    RunResult,
    nest,
    scale,
)
from nnglm.model import anova, glm, precondition
from nnglm.show import plots, report, summary
from nnglm.train import backends, inference, network, reference
from nnglm.train import hidden as hidden_network
from nnglm.train.backends import Engine


@dataclass
class Outcome:
    run_dir: Path
    record: RunResult

    @property
    def result(self) -> dict:
        """result.json's content, as scripts read it."""
        return self.record.to_json()


def run(
    config: Config,
    out: Path = Path("experiments"),
    quiet: bool = False,
    point: dict | None = None,
    overrides: dict | None = None,
    cache: RunCache | None = None,
    draw_plots: bool = True,
) -> Outcome:
    """One run into a new folder under `out`. `point`: the keys a sweep point set; `overrides`: the keys
    `--set` set over the config file. `cache`: the data, the GLM fit and the compiled network taken from,
    and kept for, the other runs of this process with the same identity (a sweep's points, a notebook's
    runs). `draw_plots`: the plots drawn now (a sweep's points leave them to `nnglm report`)."""
    with cache.borrow(config) if cache else contextlib.nullcontext(None) as shared:
        return _run(config, out, quiet, point, overrides, shared, draw_plots)


def _run(
    config: Config, out: Path, quiet: bool, point: dict | None, overrides: dict | None, shared: Entry | None, draw_plots: bool
) -> Outcome:
    safe.private_config_dirs()  # Keras and matplotlib keep their files out of the user's home
    runlog.check_out(out)
    phases = Phases(quiet)
    with phases("data"):  # bad data stops here, before any folder
        load = lambda: table.split(table.load(config), config)  # noqa: E731
        dataset, held_out = shared.rows(load) if shared else load()
        network.check_start(config, dataset)
    with phases("condition_number"):
        condition = precondition.condition_number(dataset.X, config.model.use_bias)
    with phases("imports"):  # apart, so that no phase after it counts a library's import as its own work
        engine = imports(config, draw_plots)
    device = engine.device(config.train.device)
    run_dir, run_id = runlog.new_run_dir(out, config.name)
    determinism = network.determinism(engine, config, device)
    result = header(config, run_id, point, overrides, runlog.environment(config.train.backend, device, config.train.dtype, determinism))
    result.data = data_section(dataset, held_out, condition)
    if isinstance(config.data, DataFrameData):  # the folder records the frame, and keeps a copy for a rerun
        frames.keep(run_dir, config.data, result)
    history, heartbeat = runlog.start(run_dir, result)
    phases.shown()
    try:
        rows = fit_and_log(engine, config, dataset, held_out, device, condition, result, run_dir, history, phases, shared, draw_plots)
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        result.status = "interrupted" if interrupted else "failed"
        result.error = "interrupted" if interrupted else f"{type(e).__name__}: {e}"
        if isinstance(e, network.Interrupted):  # keep what training had reached
            result.network = network_section(e.fit, dataset)
        history.close()
        runlog.record_end(run_dir, result, e.fit.history if isinstance(e, network.Interrupted) else None)
        raise
    finally:
        heartbeat.stop()
    if not quiet:
        summary.print_run(result, rows, run_dir)
    return Outcome(run_dir, result)


COLLECT_FROM = 16 * 2**20  # bytes of design from which the GLM's copies are freed before training


def imports(config: Config, draw_plots: bool) -> Engine:
    """The libraries a run uses, imported before their phases start (once a process: a second run pays
    nothing): statsmodels, the training backend, matplotlib where plots are drawn."""
    import statsmodels.api  # noqa: F401
    import statsmodels.genmod.generalized_linear_model  # noqa: F401

    if draw_plots:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
        import matplotlib.font_manager  # noqa: F401  (reads its font list as it is imported)
    return backends.load(config.train.backend, config.train.dtype)


def header(config: Config, run_id: str, point: dict | None, overrides: dict | None, environment: Environment) -> RunResult:
    """The part of result.json known before any fit: written first, so that a killed run says what it was."""
    return RunResult(
        schema=SCHEMA,
        run_id=run_id,
        name=config.name,
        status="running",
        process=runlog.process_record(),  # so that `nnglm runs` can tell a live run from a dead one
        config=config.to_dict(),
        sweep_point=point or None,
        overrides=overrides or None,
        environment=environment,
    )


def data_section(dataset: table.Dataset, held_out: table.Dataset | None, condition: float) -> DataSection:
    return DataSection(
        n_rows=dataset.n_rows,
        n_features=dataset.n_features,
        feature_names=dataset.feature_names,
        target=dataset.target,
        condition_number=condition,
        n_observations=dataset.n_obs,
        rows_dropped=dataset.rows_dropped,
        n_validation_rows=held_out.n_rows if held_out else None,
        read_as=dataset.read_as,
        success=dataset.success,
        classes=dataset.classes,
        notes=dataset.notes,
        rows_sha256=anova.rows_sha256(dataset),  # which rows the deviances sum over: `nnglm anova` compares only the same
        offset_sha256=anova.offset_sha256(dataset),
    )


def fit_and_log(
    engine: Engine,
    config: Config,
    dataset: table.Dataset,
    held_out,
    device: str,
    condition: float,
    result: RunResult,
    run_dir: Path,
    history,
    phases: "Phases",
    shared: Entry | None = None,
    draw_plots: bool = True,
) -> list[dict]:
    """Both fits, the comparison and the run folder's files; result.json last. Returns the coefficient rows."""
    with phases("glm"):
        glm_fit = shared.glm_fit(lambda: glm.fit(dataset, config)) if shared else glm.fit(dataset, config)
        if not shared and dataset.X.nbytes >= COLLECT_FROM:  # a sweep's points share one fit, made once
            # statsmodels' model and results refer to each other: without a collection here their
            # copies of the design (about 8 of its size at 1e6 rows) stay alive through training. A full
            # collection costs about 0.4 s once TensorFlow is imported, whatever the size: a small
            # design's copies are left to the collector's own pace
            gc.collect()
    target = np.array(list(glm_fit.coefficients.values()))
    with phases("training", announce=False):
        fit, hidden = train_networks(engine, config, dataset, device, target, history, phases.quiet, shared)
    weights = np.array(list(fit.coefficients.values()))
    with phases("standard_errors"):
        stats = network_errors(engine, config, dataset, fit, weights)
        sm_model = glm.model(dataset, config)
        network_llf = glm.statistics(sm_model, weights, glm_fit.scale).llf  # at the GLM's scale: the fits' means compared
        # the network's figures at its own dispersion: the family's rule, or inference.scale's
        own_scale = None if config.inference.scale == "family" else stats.dispersion
        network_statistics = glm.statistics(sm_model, weights, own_scale)
        del sm_model
    comparison = verdict.compare(fit, glm_fit, network_llf, stats.bse, config, condition)
    with phases("reference"):
        ref = _reference(dataset, config, fit)
    rows = coefficient_rows(comparison, stats, glm_fit, ref)

    multiclass = bool(dataset.classes)
    result.environment.device = fit.device
    result.network = network_section(fit, dataset, dict(zip(comparison.terms, map(float, stats.bse))), network_statistics)
    result.inference = inference_section(config, dataset, stats, glm_fit)
    result.glm = GlmSection.model_validate(glm_fit, from_attributes=True).model_copy(
        update={
            "coefficients": nest(glm_fit.coefficients, multiclass),
            "bse": nest(glm_fit.bse, multiclass),
            "loss": glm_loss(fit, comparison),
        }
    )
    result.reference = _reference_section(ref, comparison, glm_fit, config, multiclass)
    result.comparison = ComparisonSection.model_validate(comparison, from_attributes=True)
    if held_out:
        fits = {"glm": comparison.glm, "network": comparison.network} | ({"hidden": hidden} if hidden else {})
        result.validation = holdout.section(config, dataset, held_out, fits)
        if hidden:
            result.hidden = hidden_section(config, hidden)

    history.close()
    with phases("writing"):
        runlog.write_history(run_dir, fit.history)
        runlog.write_csv(run_dir, runlog.COEFFICIENTS_FILE, list(rows[0]), [list(r.values()) for r in rows])
        predict.write_covariance(run_dir, comparison.terms, {"network": stats.cov, "glm": glm_fit.cov})
        predict.write_residuals(run_dir, dataset, config, comparison.network, comparison.glm)
    result.status = "completed"
    with phases("plots"):
        _report(run_dir, config, dataset, fit, result, rows, draw_plots)
    result.timings = phases.seconds | {f"training_{k}": v for k, v in fit.timings.items()}
    runlog.write_result(run_dir, result)  # last: a completed result.json means the folder is whole
    return rows


def network_errors(
    engine: Engine, config: Config, dataset: table.Dataset, fit: network.NetworkFit, weights: np.ndarray
) -> inference.Inference:
    """The network's standard errors: its Hessian's (the default), or those the inference section names; its
    p-values and intervals by t or z as Config.use_t says."""
    if config.inference.default:
        return fit.curvature.inference(weights, config.use_t)
    return inference.chosen(engine, fit.curvature, weights, config.inference, dataset, config.use_t)


def inference_section(config: Config, dataset: table.Dataset, stats: inference.Inference, glm_fit: glm.GlmFit) -> InferenceSection:
    options = config.inference
    return InferenceSection(
        cov_type=options.cov_type,
        information=options.information,
        scale=options.scale,
        groups=options.groups,
        n_groups=int(dataset.groups.max()) + 1 if dataset.groups is not None else None,
        described=options.describe(),
        network_dispersion=stats.dispersion,
        glm_scale=glm_fit.scale,
        use_t=stats.df is not None,
        df_resid=stats.df,
    )


def glm_loss(fit: network.NetworkFit, comparison: verdict.Comparison) -> float | None:
    """The network's loss at the GLM's coefficients (None where the GLM failed): loss.png's baseline."""
    if comparison.outcome == "GLM failed" or not np.all(np.isfinite(comparison.glm)):
        return None
    value = fit.curvature.loss(comparison.glm)
    return value if np.isfinite(value) else None


def network_section(fit: network.NetworkFit, dataset: table.Dataset, bse: dict | None = None, statistics=None) -> NetworkSection:
    multiclass = bool(dataset.classes)
    section = NetworkSection.model_validate(fit, from_attributes=True)
    return section.model_copy(
        update={
            "coefficients": nest(fit.coefficients, multiclass),
            "bse": nest(bse, multiclass) if bse is not None else None,
            "statistics": statistics,
        }
    )


def train_networks(
    engine: Engine,
    config: Config,
    dataset: table.Dataset,
    device: str,
    target: np.ndarray,
    history,
    quiet: bool,
    shared: Entry | None = None,
) -> tuple[network.NetworkFit, hidden_network.HiddenFit | None]:
    """The one-layer network, and the hidden-layer one where model.hidden asks for it, with a progress bar:
    under `auto`, steps, the network's own distance estimate against the tolerance and the time so far
    (there is no total to show); with a fixed step count, steps of the total and the time left."""
    auto = config.train.auto
    with (_auto_progress if auto else _progress)(quiet) as bar:
        task = bar.add_task("training", total=None if auto else config.train.step_cap, distance="")

        def on_log(row):
            history.append(row)  # on disk as it is made: a killed run keeps the steps it reached
            bar.update(task, completed=row[0], description=f"loss {row[1]:.6g}")

        def on_look(d):
            bar.update(task, distance=f"distance {d.relative:.2g} (stops at {config.stop_rtol:g})", refresh=True)

        trainer = shared.trainer if shared else None
        if shared and trainer is None:
            trainer = shared.trainer = network.prepare(engine, config, dataset, device)
        fit = network.train(engine, dataset, config, device, target, on_log=on_log, on_look=on_look, trainer=trainer)
        if not config.model.hidden:
            return fit, None
        task = bar.add_task("hidden layers", total=hidden_network.steps(config), distance="")
        hidden = hidden_network.train(
            engine, dataset, config, device, on_log=lambda row: bar.update(task, completed=row[0], description=f"hidden: loss {row[1]:.6g}")
        )
        return fit, hidden


def hidden_section(config: Config, hidden: hidden_network.HiddenFit) -> HiddenSection:
    section = HiddenSection.model_validate(hidden, from_attributes=True)
    return section.model_copy(update={"widths": list(config.model.hidden), "activation": config.model.hidden_activation})


# the NumPy reference's default, measured (Benchmarks): at 1e6 x 21 cells it took 0.59 to 0.79 times a float64
# network's training but 1.33 to 1.48 times a float32 network's. Its step is memory-bound (the float64
# design streamed once, in row blocks, as many bytes as a float32 step's two passes) and has no compiled
# loop, so it cannot get under a float32 training: by default it is left out of float32 runs from half that size up
REFERENCE_CELLS = 10_000_000


def _reference(dataset: table.Dataset, config: Config, fit: network.NetworkFit) -> reference.ReferenceFit | str:
    """Adam from scratch, or why it did not run."""
    if config.compare.reference is False:
        return "compare.reference is false"
    cells = dataset.n_rows * (dataset.n_features + config.model.use_bias)
    if config.compare.reference is None and config.train.dtype == "float32" and cells > REFERENCE_CELLS:
        return (
            f"off by default for a float32 run of more than {REFERENCE_CELLS:,} design cells ({cells:,} here), where its float64 "
            "NumPy steps cost more than the network's training; compare.reference: true runs it"
        )
    if not network.full_batch(config, dataset.n_rows):
        return "the reference runs full-batch training only"
    if config.model.kernel_initializer != "zeros" or network.starts_inside(config):
        return "the reference starts from zeros only"
    if fit.diverged:
        return "the network diverged"
    if config.family.estimated:
        return "the reference learns the coefficients only, not model.alpha: estimate"
    return reference.adam(dataset, config, fit)


def _reference_section(ref, comparison: verdict.Comparison, glm_fit: glm.GlmFit, config: Config, multiclass: bool) -> ReferenceSection:
    if isinstance(ref, str):
        return ReferenceSection(skipped=ref)
    bse = np.array([glm_fit.bse[t] for t in comparison.terms])
    gap = np.abs(ref.coefficients - comparison.network)
    relative = float(np.max(gap / scale(comparison.network, bse), initial=0.0))
    return ReferenceSection(
        coefficients=nest(dict(zip(comparison.terms, map(float, ref.coefficients))), multiclass),
        max_abs_diff_to_network=float(np.max(gap, initial=0.0)),
        max_rel_diff_to_network=relative,
        steps=ref.steps,
        seconds=ref.seconds,
        dtype="float64",
        agreement=agreement(relative, config.train.dtype),
    )


def agreement(relative: float, dtype: str) -> str:
    """One sentence on how close the NumPy reference came to the network, each gap measured
    against the larger of the weight's size and its standard error."""
    # a different update rule parts at the scale of the learning rate; round-off, over thousands of
    # steps, stays below the square root of the dtype's eps (3e-4 in float32, 1.5e-8 in float64)
    round_off = float(np.sqrt(np.finfo(dtype).eps))
    if relative <= round_off:
        return (
            f"Adam written from scratch in NumPy (float64) reaches the network's weights within {relative:.2g} "
            f"(relative), below √eps of {dtype} ({round_off:.2g}): round-off, the same update rule"
        )
    return (
        f"Adam written from scratch in NumPy differs from the network by {relative:.2g} (relative), "
        f"more than {dtype} round-off ({round_off:.2g}): not the same update rule"
    )


def coefficient_rows(comparison: verdict.Comparison, stats: inference.Inference, glm_fit: glm.GlmFit, ref) -> list[dict]:
    rows = []
    for j, term in enumerate(comparison.terms):
        row = {
            "term": term,
            "network": comparison.network[j],
            "network_bse": stats.bse[j],
            "z": stats.z[j],
            "p": stats.p_values[j],
            "ci_low": stats.ci_low[j],
            "ci_high": stats.ci_high[j],
            "glm": comparison.glm[j],
            "glm_bse": glm_fit.bse[term],
            "diff": comparison.network[j] - comparison.glm[j],
            "reference": None if isinstance(ref, str) else ref.coefficients[j],
        }
        rows.append({k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()})
    return rows


def _report(
    run_dir: Path, config: Config, dataset: table.Dataset, fit: network.NetworkFit, result: RunResult, rows: list[dict], draw_plots: bool
) -> None:
    """trajectory.csv (each logged step's weights, for the pictures drawn again later), the plots, and
    report.md and report.html; a sweep's point leaves its plots to `nnglm report`."""
    terms = [r["term"] for r in rows]
    runlog.write_csv(
        run_dir, runlog.TRAJECTORY_FILE, ["step", *terms], [[h[0], *map(float, w)] for h, w in zip(fit.history, fit.trajectory)]
    )
    pictures = plots.draw(run_dir, result, config, rows, fit.history, fit.trajectory, dataset) if draw_plots else {}
    report.write(run_dir, result, rows, pictures, later=not draw_plots)


def _console() -> Console:
    """Where progress goes: stderr, so that stdout carries the summary (or, with --quiet, the folder) only."""
    return Console(stderr=True)


# each phase by its key in result.json's timings, and as the console names it
PHASES = {
    "data": "data",
    "condition_number": "condition number",
    "imports": "imports (statsmodels, the training backend, matplotlib)",
    "glm": "GLM (statsmodels)",
    "training": "training",
    "standard_errors": "standard errors",
    "reference": "NumPy reference",
    "writing": "writing",
    "plots": "plots and report",
}


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
