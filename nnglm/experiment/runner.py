"""One run, top to bottom: config → data → GLM fit → network fit → comparison → run log.

The pipeline alone: each fit returns its own result.json section, the NumPy reference decides for
itself whether it runs (train/reference.py), and the console's phases and progress bar are
show/progress.py's."""

import contextlib
import gc
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from nnglm.config import Config, DataFrameData
from nnglm.data import folds, frames, table
from nnglm.experiment import crossval, holdout, predict, verdict
from nnglm.experiment.cache import Entry, RunCache
from nnglm.foundation import safe
from nnglm.log import runlog
from nnglm.log.result import (
    SCHEMA,
    ComparisonOutcome,
    ComparisonSection,
    DataSection,
    Environment,
    GlmSection,
    HiddenSection,
    InferenceSection,
    RunResult,
    Statistics,
    Status,
    nest,
)
from nnglm.model import anova, glm, precondition
from nnglm.show import plots, progress, report, summary
from nnglm.show.progress import Phases
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


@dataclass
class Context:
    """What every step of one run takes: its config and data, where it trains, where it records."""

    config: Config
    dataset: table.Dataset
    held_out: table.Dataset | None  # data.validation_fraction's rows
    condition: float  # the design's condition number
    engine: Engine
    device: str
    run_dir: Path
    result: RunResult  # result.json, filled as the run goes
    history: runlog.HistoryLog  # history.csv, appended as training goes
    phases: Phases
    shared: Entry | None  # what the runs of this process share with this one (cache.py)
    draw_plots: bool
    folds: folds.Folds | None  # data.folds' folds, the same for every model

    @cached_property
    def network_spec(self) -> network.NetworkSpec:
        """What training reads of the config, made once a run."""
        return network.NetworkSpec.of(self.config)

    @cached_property
    def glm_options(self) -> glm.GlmOptions:
        """What the GLM reads of the config, made once a run."""
        return glm.GlmOptions.of(self.config)


@dataclass
class Fits:
    """What the fits made: the run folder's sections and files are made of these."""

    glm: glm.GlmFit
    network: network.NetworkFit
    hidden: hidden_network.HiddenFit | None
    inference: inference.Inference  # the network's standard errors
    statistics: Statistics  # the network's fit statistics, at its own dispersion
    comparison: verdict.Comparison
    reference: reference.ReferenceFit | str  # or why it did not run


def _run(
    config: Config, out: Path, quiet: bool, point: dict | None, overrides: dict | None, shared: Entry | None, draw_plots: bool
) -> Outcome:
    safe.private_config_dirs()  # Keras and matplotlib keep their files out of the user's home
    runlog.check_out(out)
    phases = Phases(quiet)
    with phases("data"):  # bad data stops here, before any folder
        spec = table.DataSpec.of(config)
        load = lambda: table.split(table.load(spec), spec)  # noqa: E731
        dataset, held_out = shared.rows(load) if shared else load()
        network.check_start(config.family, config.model.use_bias, dataset)
        # data.folds' folds, made here so that folds no fit can use are refused before any folder
        split = folds.assign(dataset, config.data.folds, config.seed, config.family, config.model.use_bias) if config.data.folds else None
    with phases("condition_number"):
        condition = precondition.condition_number(dataset.X, config.model.use_bias)
    with phases("imports"):  # apart, so that no phase after it counts a library's import as its own work
        engine = imports(config, draw_plots)
    device = engine.device(config.train.device)
    run_dir, run_id = runlog.new_run_dir(out, config.name)
    determinism = network.determinism(engine, config.seed, config.train.dtype, device)
    result = header(config, run_id, point, overrides, runlog.environment(config.train.backend, device, config.train.dtype, determinism))
    result.data = data_section(dataset, held_out, condition)
    if isinstance(config.data, DataFrameData):  # the folder records the frame, and keeps a copy for a rerun
        frames.keep(run_dir, config.data, result)
    history, heartbeat = runlog.start(run_dir, result)
    phases.shown()
    ctx = Context(config, dataset, held_out, condition, engine, device, run_dir, result, history, phases, shared, draw_plots, split)
    try:
        rows = fit_and_log(ctx)
    except BaseException as e:
        ended_early(ctx, e)
        raise
    finally:
        heartbeat.stop()
    if not quiet:
        summary.print_run(result, rows, run_dir)
    return Outcome(run_dir, result)


def ended_early(ctx: Context, e: BaseException) -> None:
    """result.json of a run interrupted or failed, with what training had reached where it was interrupted."""
    interrupted = isinstance(e, KeyboardInterrupt)
    ctx.result.status = Status.INTERRUPTED if interrupted else Status.FAILED
    ctx.result.error = "interrupted" if interrupted else f"{type(e).__name__}: {e}"
    reached = e.fit if isinstance(e, network.Interrupted) else None
    if reached:  # keep what training had reached
        ctx.result.network = reached.section(bool(ctx.dataset.classes))
    ctx.history.close()
    runlog.record_end(ctx.run_dir, ctx.result, reached.history if reached else None)


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
        status=Status.RUNNING,
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


def fit_and_log(ctx: Context) -> list[dict]:
    """Both fits, the comparison and the run folder's files; result.json last. Returns the coefficient rows."""
    phases, result = ctx.phases, ctx.result
    with phases("glm"):
        glm_fit = fit_glm(ctx)
    with phases("training", announce=False):
        fit, hidden = train_networks(ctx, np.array(list(glm_fit.coefficients.values())))
    with phases("standard_errors"):
        stats, network_llf, statistics = network_figures(ctx, fit, glm_fit)
    comparison = verdict.compare(fit, glm_fit, network_llf, stats.bse, ctx.config, ctx.condition)
    with phases("reference"):
        ref = reference.attempt(ctx.dataset, ctx.network_spec, fit, ctx.config.compare.reference)
    fits = Fits(glm_fit, fit, hidden, stats, statistics, comparison, ref)
    rows = coefficient_rows(fits)
    record(ctx, fits)
    if ctx.folds is not None:  # data.folds
        with phases("cross_validation"):
            say = lambda k, n: phases.say(f"cross-validation fold {k}/{n}")  # noqa: E731
            result.cross_validation = crossval.run(
                ctx.config, ctx.dataset, ctx.folds, ctx.engine, ctx.device, ctx.network_spec, ctx.glm_options, on_fold=say
            )
    ctx.history.close()
    with phases("writing"):
        write_files(ctx, fits, rows)
    result.status = Status.COMPLETED
    with phases("plots"):
        _report(ctx.run_dir, ctx.config, ctx.dataset, fit, result, rows, ctx.draw_plots)
    result.timings = phases.seconds | {f"training_{k}": v for k, v in fit.timings.items()}
    runlog.write_result(ctx.run_dir, result)  # last: a completed result.json means the folder is whole
    return rows


def fit_glm(ctx: Context) -> glm.GlmFit:
    """statsmodels' fit, or the one the runs of this process share."""
    config, dataset, shared, glm_options = ctx.config, ctx.dataset, ctx.shared, ctx.glm_options
    glm_fit = (
        shared.glm_fit(lambda: glm.fit(dataset, config.family, glm_options)) if shared else glm.fit(dataset, config.family, glm_options)
    )
    if not shared and dataset.X.nbytes >= COLLECT_FROM:  # a sweep's points share one fit, made once
        # statsmodels' model and results refer to each other: without a collection here their
        # copies of the design (about 8 of its size at 1e6 rows) stay alive through training. A full
        # collection costs about 0.4 s once TensorFlow is imported, whatever the size: a small
        # design's copies are left to the collector's own pace
        gc.collect()
    return glm_fit


def train_networks(ctx: Context, target: np.ndarray) -> tuple[network.NetworkFit, hidden_network.HiddenFit | None]:
    """The one-layer network, and the hidden-layer one where model.hidden asks for it, with a progress bar."""
    config, engine, dataset, device = ctx.config, ctx.engine, ctx.dataset, ctx.device
    with progress.training(config.train.auto, config.train.step_cap, ctx.phases.quiet) as bar:

        def on_log(row):
            ctx.history.append(row)  # on disk as it is made: a killed run keeps the steps it reached
            bar.logged(row)

        def on_look(d):
            bar.looked(d.relative, config.stop_rtol)

        spec = ctx.network_spec
        fit = network.train(engine, dataset, spec, device, target, on_log=on_log, on_look=on_look, trainer=trainer(ctx))
        if not config.model.hidden or config.data.folds:  # with folds, the hidden networks are the folds' own
            return fit, None
        at_glm = hidden_network.GlmStart(target, config.model.hidden_skip == "fixed") if config.model.hidden_start == "glm" else None
        hidden = hidden_network.train(
            engine, dataset, spec, device, on_log=bar.hidden(hidden_network.steps(config.train)), glm_start=at_glm
        )
        return fit, hidden


def trainer(ctx: Context) -> network.Trainer | None:
    """The compiled network the runs of this process share, made by the first of them; None: train builds its own."""
    shared = ctx.shared
    if shared and shared.trainer is None:
        shared.trainer = network.prepare(ctx.engine, ctx.network_spec, ctx.dataset, ctx.device)
    return shared.trainer if shared else None


def network_figures(ctx: Context, fit: network.NetworkFit, glm_fit: glm.GlmFit) -> tuple[inference.Inference, float, Statistics]:
    """The network's standard errors, its log-likelihood at the GLM's scale (the fits' means compared), and its
    fit statistics at its own dispersion: the family's rule, or inference.scale's."""
    config, dataset = ctx.config, ctx.dataset
    weights = np.array(list(fit.coefficients.values()))
    stats = network_errors(ctx.engine, config, dataset, fit, weights)
    sm_model = glm.model(dataset, config.family, ctx.glm_options)
    network_llf = glm.statistics(sm_model, weights, glm_fit.scale).llf
    own_scale = None if config.inference.scale == "family" else stats.dispersion
    return stats, network_llf, glm.statistics(sm_model, weights, own_scale)


def network_errors(
    engine: Engine, config: Config, dataset: table.Dataset, fit: network.NetworkFit, weights: np.ndarray
) -> inference.Inference:
    """The network's standard errors: its Hessian's (the default), or those the inference section names; its
    p-values and intervals by t or z as Config.use_t says."""
    if config.inference.default:
        return fit.curvature.inference(weights, config.use_t)
    return inference.chosen(engine, fit.curvature, weights, config.inference, dataset, config.use_t)


def record(ctx: Context, fits: Fits) -> None:
    """The fits' sections of result.json, each the fit's own figures (coefficients nested by class for a multinomial fit)."""
    result, config, dataset = ctx.result, ctx.config, ctx.dataset
    multiclass = bool(dataset.classes)
    fit, glm_fit, comparison = fits.network, fits.glm, fits.comparison
    result.environment.device = fit.device
    result.network = fit.section(multiclass, dict(zip(comparison.terms, map(float, fits.inference.bse))), fits.statistics)
    result.inference = inference_section(config, dataset, fits.inference, glm_fit)
    result.glm = GlmSection.model_validate(glm_fit, from_attributes=True).model_copy(
        update={
            "coefficients": nest(glm_fit.coefficients, multiclass),
            "bse": nest(glm_fit.bse, multiclass),
            "loss": glm_loss(fit, comparison),
        }
    )
    glm_bse = np.array([glm_fit.bse[t] for t in comparison.terms])
    result.reference = reference.section(fits.reference, comparison.terms, comparison.network, glm_bse, config.train.dtype, multiclass)
    result.comparison = ComparisonSection.model_validate(comparison.model_dump())
    if ctx.held_out:
        linear = {"glm": comparison.glm, "network": comparison.network}
        result.validation = holdout.section(config, dataset, ctx.held_out, linear | ({"hidden": fits.hidden} if fits.hidden else {}))
        if fits.hidden:
            result.hidden = HiddenSection.model_validate(fits.hidden.model_dump())


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
    if comparison.outcome == ComparisonOutcome.GLM_FAILED or not np.all(np.isfinite(comparison.glm)):
        return None
    value = fit.curvature.loss(comparison.glm)
    return value if np.isfinite(value) else None


def coefficient_rows(fits: Fits) -> list[dict]:
    """coefficients.csv's rows: each term's weight with its standard error and test, the GLM's, the reference's."""
    comparison, stats, glm_fit, ref = fits.comparison, fits.inference, fits.glm, fits.reference
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


def write_files(ctx: Context, fits: Fits, rows: list[dict]) -> None:
    """history.csv whole, coefficients.csv, covariance.csv and residuals.csv."""
    run_dir, comparison = ctx.run_dir, fits.comparison
    runlog.write_history(run_dir, fits.network.history)
    runlog.write_csv(run_dir, runlog.COEFFICIENTS_FILE, list(rows[0]), [list(r.values()) for r in rows])
    predict.write_covariance(run_dir, comparison.terms, {"network": fits.inference.cov, "glm": fits.glm.cov})
    predict.write_residuals(run_dir, ctx.dataset, ctx.config, comparison.network, comparison.glm)


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
