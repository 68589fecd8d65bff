"""The `nnglm` command: run an experiment, validate its config, read the run log.

A thin layer over the functions the Python API (api.py) calls: api.expand, runner.run, sweep.run and
logbook's scan and compare_runs; what it adds is the printing, the exit codes and the signals.

Exit codes: 0 done; 1 done, --strict, and not equivalent; 2 bad config, bad
data, bad arguments or a run folder that cannot be written (one message, no
traceback); 3 a run or a sweep point failed (a crash: its result.json says
failed, with the error); 130 interrupted (Ctrl-C, SIGTERM, SIGHUP).
"""

import argparse
import contextlib
import math
import multiprocessing
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path

from nnglm import config as config_module
from nnglm.foundation import safe
from nnglm.foundation.errors import UserError, bounded, from_path
from nnglm.log.result import Status

FAILED = 3
MAX_JOBS_PER_CPU = 4
INTERRUPTED = 130


CLOSED_PIPE = 128 + signal.SIGPIPE  # as a program killed by SIGPIPE (`git log | head -1`)


def main(argv: list[str] | None = None) -> int:
    safe.private_config_dirs()  # before Keras or matplotlib is imported: the user's home stays untouched
    warnings.formatwarning = safe.one_line_warning
    sys.excepthook = escaped_traceback
    # the reader went away (`nnglm runs | head -1`): say nothing more
    try:
        return _main(argv)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    except SystemExit as e:
        if e.code == 1 and _stdout_is_devnull():  # rich's own answer to a closed pipe: stdout sent to devnull, exit 1
            return CLOSED_PIPE
        raise


def escaped_traceback(kind, value, tb) -> None:
    """A bug's traceback, as Python prints it, with the control characters of what it quotes escaped."""
    sys.stderr.write(safe.terminal("".join(traceback.format_exception(kind, value, tb)), lines=True))


def say(text: object, file=None) -> None:
    """One line for the terminal, its control characters escaped (paths and names may come from elsewhere)."""
    print(safe.terminal(str(text), lines=True), file=file)


def _stdout_is_devnull() -> bool:
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (OSError, ValueError, AttributeError):
        return False


SET_HELP = "override a config key, e.g. train.epochs=5000; sweep a key with KEY=sweep:V1,V2 (a literal comma in a swept value: \\,)"
RUN_HELP = "a run folder, or a run id as `nnglm runs` lists it (or the start of one)"
DIR_HELP = "the run log in which run ids are looked up (default: experiments)"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnglm", description="A neural network with no hidden layer is a GLM: show it, run by run.")
    commands = parser.add_subparsers(dest="command", required=True)
    for arguments in (
        _run_arguments,
        _validate_arguments,
        _predict_arguments,
        _runs_arguments,
        _compare_arguments,
        _anova_arguments,
        _report_arguments,
        _export_arguments,
    ):
        arguments(commands)  # each adds its command and the command's arguments
    return parser


def _set(command: argparse.ArgumentParser, text: str = SET_HELP) -> None:
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=text)


def _dir(command: argparse.ArgumentParser) -> None:
    command.add_argument("--dir", default="experiments", help=DIR_HELP)


def _run_arguments(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run the experiment a config describes")
    run.add_argument("config", help="path to a YAML config")
    _set(run)
    run.add_argument("--out", default="experiments", help="root folder of the run log (default: experiments)")
    run.add_argument("--strict", action="store_true", help="exit 1 when the network is not equivalent to the GLM")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no summary: only the run folder is printed")
    run.add_argument("--jobs", type=int, metavar="N", help="run a sweep's points in N processes on this machine (default 1)")
    run.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run a sweep's points on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786); run folders are written here",
    )


def _validate_arguments(commands: argparse._SubParsersAction) -> None:
    validate = commands.add_parser("validate", help="check a config and its data without training")
    validate.add_argument("config")
    _set(validate)


def _predict_arguments(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser(
        "predict", help="both fits' predictions for new rows (R's predict.glm), as CSV: network, glm (and network_se, glm_se)"
    )
    predict.add_argument("run", metavar="RUN", help=RUN_HELP)
    predict.add_argument(
        "--data", required=True, metavar="FILE", help="the new rows: a data file, read as data.path is (CSV, Parquet, ...)"
    )
    predict.add_argument("--out", metavar="FILE", help="write the CSV into FILE (default: standard output)")
    predict.add_argument("--type", choices=["response", "link"], default="response", help="the mean (default) or the linear predictor")
    predict.add_argument("--se", action="store_true", help="add each fit's standard errors (the delta method from its own covariance)")
    _set(predict, "name the run's training data where its folder does not hold it, e.g. data.path=FILE")
    _dir(predict)


def _runs_arguments(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser("runs", help="list the logged runs, newest first")
    runs.add_argument("dir", nargs="?", default="experiments", help="the run log (default: experiments)")
    runs.add_argument("--name", help="only runs whose name contains this")
    runs.add_argument("--status", choices=list(Status))


def _compare_arguments(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser("compare", help="compare runs side by side")
    compare.add_argument("runs", nargs="+", metavar="RUN", help=RUN_HELP)
    _dir(compare)
    compare.add_argument(
        "--tol",
        type=float,
        help="largest allowed absolute difference of network weights (default: 1e-10 when all runs are float64, 1e-6 when all "
        "are float32; runs in different dtypes are judged relative to the GLM's scale, at the verdict's rtol)",
    )
    compare.add_argument(
        "--plot",
        metavar="FILE",
        help="also draw the runs' coefficients side by side, and each run's gap to its GLM, into FILE (.png, .svg, .pdf)",
    )


def _anova_arguments(commands: argparse._SubParsersAction) -> None:
    anova = commands.add_parser(
        "anova", help="analysis of deviance of runs of nested models (R's anova(m0, m1)), from the networks and from the GLMs"
    )
    anova.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help=f"{RUN_HELP}; the smallest model first; one run: its sequential table (R's anova(fit)), its terms added in turn",
    )
    anova.add_argument(
        "--test",
        choices=["Chisq", "F"],
        help="Chisq (deviance over the dispersion against chi-square) or F (the dispersion estimated by the largest model); "
        "default, as R: Chisq where the family's dispersion is known, F where it is estimated",
    )
    _set(anova, "one run's sequential table: name the run's data where its folder does not hold it, e.g. data.path=FILE")
    _dir(anova)


def _report_arguments(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="draw the plots of run folders a sweep left without them, add them to report.md and report.html, "
        "and draw the picture of the sweep their points make",
    )
    report.add_argument("runs", nargs="+", metavar="RUN", help=RUN_HELP)
    _dir(report)


def _export_arguments(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export", help="log runs to MLflow: the config as params, figures and the loss by step as metrics, report and plots as artifacts"
    )
    export.add_argument("runs", nargs="+", metavar="RUN", help=RUN_HELP)
    export.add_argument("--mlflow", required=True, metavar="URI", help="MLflow's tracking URI, e.g. sqlite:///mlflow.db")
    export.add_argument("--experiment", default="nnglm", help="the MLflow experiment, made if new (default: nnglm)")
    _dir(export)


def _main(argv: list[str] | None) -> int:
    if argv is not None and any("\x00" in str(a) for a in argv):  # the Python API; a shell cannot pass a NUL
        print("error: an argument holds a NUL byte, which no path or value can", file=sys.stderr)
        return 2
    args = parser().parse_args(argv)
    for name in ("SIGTERM", "SIGHUP"):  # a polite kill, or the terminal closing, is an interruption, as Ctrl-C is, in every command
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    try:
        if args.command in ("runs", "compare"):
            return _logbook(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "validate":
            return _validate(args)
        if args.command == "anova":
            return _anova(args)
        if args.command == "report":
            return _report(args)
        if args.command == "export":
            return _export(args)
        return _run(args)
    except UserError as e:
        say(f"error: {bounded(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:
        if (error := from_path(e)) is None:
            raise
        say(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


def _report(args) -> int:
    from nnglm.log import logbook  # matplotlib; no TensorFlow
    from nnglm.show import report

    for line in report.command([logbook.locate(r, Path(args.dir)) for r in args.runs]):
        say(line)
    return 0


def _export(args) -> int:
    from nnglm.log import export, logbook  # MLflow, an optional extra, only inside export

    for line in export.export([logbook.locate(r, Path(args.dir)) for r in args.runs], args.mlflow, args.experiment):
        say(line)
    return 0


def _predict(args) -> int:
    from nnglm import api  # numpy, pandas, statsmodels; no TensorFlow
    from nnglm.data import files
    from nnglm.experiment import predict

    # a link, a folder, a FIFO or device, the --data file itself, or a name not .csv: refused before any work
    out = predict.out_path(args.out, args.data) if args.out is not None else None
    run = api.load(args.run, args.dir)
    try:
        new = files.read(args.data).frame
    except UserError as e:  # the reader names data.path, the config's key; here the file is --data's
        raise UserError("--data:" + str(e).removeprefix("data.path:")) from None
    if len(new) == 0:  # as Run.predict refuses an empty frame
        raise UserError(f"--data: {bounded(args.data, 200)} has no rows; give at least one row to predict")
    with api.config_errors():
        frame = run.predict(new, type=args.type, se=args.se, overrides=dict(item.partition("=")[::2] for item in args.set))
    text = frame.to_csv(index_label="row", lineterminator="\n")
    if out is None:
        sys.stdout.write(text)
    else:
        predict.write_out(out, text)  # whole or not at all
        say(f"{len(frame)} predictions written into {out}", file=sys.stderr)
    return 0


def _validate(args) -> int:
    """The config, every sweep point, and the data each point reads: all that `run` checks before training."""
    from nnglm import api  # numpy and pandas; no TensorFlow
    from nnglm.data import folds, table
    from nnglm.experiment.cache import identity
    from nnglm.train import backends, network  # Keras and its backend only where a GPU is asked for

    points = api.expand(args.config, args.set)
    seen = {}
    for point, cfg in points:
        key = identity(cfg)
        if key not in seen:
            try:
                backends.check_here(cfg.train.backend, cfg.train.device, cfg.train.dtype)
                spec = table.DataSpec.of(cfg)
                seen[key] = table.split(table.load(spec), spec)[0]
                network.check_start(cfg.family, cfg.model.use_bias, seen[key])
                if cfg.data.folds:
                    folds.assign(seen[key], cfg.data.folds, cfg.seed, cfg.family, cfg.model.use_bias)
            except UserError as e:
                at = f"sweep point {config_module.describe_point(point)}: " if point else ""
                raise UserError(f"{config_module.shown(args.config)}: {at}{e}") from None
    cfg = points[0][1]
    dataset = next(iter(seen.values()))
    sweep = f"; a sweep of {len(points)} points" if len(points) > 1 else ""
    say(
        f"{config_module.shown(args.config)}: valid ({cfg.model.family}/{cfg.model.link}, {cfg.train.epochs} steps, {cfg.train.dtype}; "
        f"{dataset.n_rows} rows, {dataset.n_features} features{sweep})"
    )
    say(f"  features: {dataset.feature_list()}")
    for note in dataset.notes:
        say(f"  note: {note}")
    return 0


def _run(args) -> int:
    from nnglm import api
    from nnglm.log import runlog

    if not args.out.strip():
        raise UserError("--out: empty; give a folder, e.g. --out experiments")
    if args.cluster is not None and args.jobs is not None:
        raise UserError(
            "--cluster and --jobs: give one; --jobs N runs a sweep's points in N processes on this machine, "
            "--cluster ADDRESS on a Dask cluster's workers"
        )
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs: must be 1 or more (got {args.jobs})")
    most = MAX_JOBS_PER_CPU * (os.cpu_count() or 1)
    if args.jobs is not None and args.jobs > most:
        raise UserError(
            f"--jobs: {args.jobs} processes on a machine of {os.cpu_count()} CPUs; at most {most} "
            "(each point's process loads TensorFlow, about 1 GB; more processes than cores only wait for them)"
        )
    points = api.expand(args.config, args.set)  # as nnglm.run resolves a config
    overrides = config_module.plain_overrides(args.set)
    out = Path(args.out)
    runlog.check_out(out)
    if args.cluster is not None:
        return _on_cluster(args, points, out, overrides)
    if len(points) > 1:
        from nnglm.experiment import sweep
        from nnglm.experiment.cache import RunCache

        # the points run in this process share one cache (a worker process makes its own)
        return _swept(args, sweep.run(points, out, args.jobs or 1, overrides=overrides, quiet=args.quiet, cache=RunCache()))
    from nnglm.experiment import runner  # imports numpy, rich; TensorFlow only once training starts

    try:
        outcome = runner.run(points[0][1], out, quiet=args.quiet, overrides=overrides)
    except (UserError, KeyboardInterrupt):
        raise
    except Exception as e:  # a bug, or a fault outside the config: the run folder says failed
        sys.stderr.write(safe.terminal(traceback.format_exc(), lines=True))
        say(f"error: the run failed: {bounded(f'{type(e).__name__}: {e}', 500)}", file=sys.stderr)
        return FAILED
    if args.quiet:
        say(outcome.run_dir)  # for scripts: where the run landed
    if args.strict and not (outcome.record.comparison and outcome.record.comparison.equivalent):
        return 1
    return 0


def _swept(args, outcomes: list) -> int:
    """A sweep's exit code; with --quiet, its run folders (one a line, for scripts) and, on stderr, the
    points that did not complete."""
    from nnglm.experiment import sweep
    from nnglm.experiment.point import PointStatus

    if args.quiet:
        for outcome in outcomes:
            if outcome.run_dir:
                say(outcome.run_dir)
            if outcome.status != PointStatus.COMPLETED:  # a point that went wrong is still told, on stderr
                point = config_module.describe_point(outcome.point) or "the config as written"
                say(f"sweep point {point}: {outcome.status}, {outcome.error}", file=sys.stderr)
    return sweep.exit_code(outcomes, args.strict)


def _on_cluster(args, points: list, out: Path, overrides: dict) -> int:
    """A sweep, or a single run as a sweep of one point, on a Dask cluster."""
    from nnglm.experiment import cluster, sweep

    client = cluster.connect(args.cluster)
    try:
        return _swept(args, sweep.run(points, out, client=client, overrides=overrides, quiet=args.quiet))
    finally:
        client.close()


def _logbook(args) -> int:
    from nnglm.log import logbook  # JSON only: no TensorFlow
    from nnglm.show import tables

    if args.command == "runs":
        root = Path(args.dir)
        tables.print_runs(logbook.scan(root, args.name, args.status), root)
        return 0
    if len(args.runs) < 2:
        raise UserError("compare: give two or more runs (run folders or run ids)")
    if args.tol is not None and not (math.isfinite(args.tol) and args.tol >= 0):
        raise UserError(f"--tol: {args.tol}; give a finite number, 0 or more (the largest allowed difference of network weights)")
    picture = _picture_file(args.plot)
    comparison = logbook.compare_runs([logbook.locate(r, Path(args.dir)) for r in args.runs], args.tol)
    tables.print_comparison(comparison)
    if picture is not None:
        from nnglm.show import plots  # matplotlib, only when asked

        plots.save(plots.compare_figure(comparison), picture)
        say(f"coefficients drawn into {picture}")
    return 0


def _anova(args) -> int:
    from nnglm.log import logbook  # JSON and scipy: no TensorFlow
    from nnglm.model import anova
    from nnglm.show.anova import print_anova

    folders = [logbook.locate(r, Path(args.dir)) for r in args.runs]
    if len(folders) == 1:
        from nnglm.experiment import sequential  # trains the sub-models: TensorFlow

        print_anova(sequential.compute(folders[0], args.test, args.set))
        return 0
    if args.set:
        raise UserError("--set: only for one run's sequential table (it names the run's data); nested runs are read from their folders")
    print_anova(anova.compute(folders, args.test))
    return 0


def _picture_file(text: str | None) -> Path | None:
    """--plot FILE: checked before anything is read or drawn."""
    if text is None:
        return None
    path = Path(text)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UserError(f"--plot: {bounded(text, 200)}: give a file ending in .png, .svg or .pdf")
    if not path.parent.is_dir():
        raise UserError(f"--plot: {bounded(text, 200)}: the folder {bounded(str(path.parent), 200)} does not exist")
    return path


def _terminate(signum, frame):
    # a SIGTERM or SIGHUP reaches this process alone, where a Ctrl-C reaches its whole process group:
    # a sweep's worker processes are told at once, so that no point queued for them starts
    for child in multiprocessing.active_children():
        if child.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGINT)
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
