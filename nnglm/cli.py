"""The `nnglm` command: run an experiment, or validate its config."""

import argparse
import signal
import sys
from pathlib import Path

from nnglm import config as config_module
from nnglm.errors import UserError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nnglm", description="A neural network with no hidden layer is a GLM: show it, run by run.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the experiment a config describes")
    run.add_argument("config", help="path to a YAML config")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key, e.g. train.epochs=5000")
    run.add_argument("--out", default="experiments", help="root folder of the run log (default: experiments)")
    run.add_argument("--strict", action="store_true", help="exit 1 when the network is not equivalent to the GLM")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    run.add_argument("--jobs", type=int, default=1, metavar="N", help="run a sweep's points in N processes (default 1)")

    validate = commands.add_parser("validate", help="check a config without running it")
    validate.add_argument("config")
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    runs = commands.add_parser("runs", help="list the logged runs, newest first")
    runs.add_argument("dir", nargs="?", default="experiments", help="the run log (default: experiments)")
    runs.add_argument("--name", help="only runs whose name contains this")
    runs.add_argument("--status", choices=["running", "completed", "failed", "interrupted", "broken"])

    compare = commands.add_parser("compare", help="compare runs side by side")
    compare.add_argument("runs", nargs="+", metavar="RUN_DIR")
    compare.add_argument("--tol", type=float, help="largest allowed difference of network weights (default: 1e-10 when all runs are float64, else 1e-6)")

    args = parser.parse_args(argv)
    if args.command in ("runs", "compare"):
        return _logbook(args)
    if args.command == "run":
        signal.signal(signal.SIGTERM, _terminate)  # a polite kill is an interruption, recorded as one
    try:
        points = config_module.expand(args.config, args.set)
        if args.command == "validate":
            cfg = points[0][1]
            sweep = f"; a sweep of {len(points)} points" if len(points) > 1 else ""
            print(f"{args.config}: valid ({cfg.model.family}/{cfg.model.link}, {cfg.train.epochs} steps, {cfg.train.dtype}{sweep})")
            return 0
        if args.jobs < 1:
            raise UserError(f"--jobs: must be 1 or more (got {args.jobs})")
        if len(points) > 1:
            from nnglm import sweep

            outcomes = sweep.run(points, Path(args.out), args.jobs)
            if any(o.status == "rejected" for o in outcomes):
                return 2
            return 1 if args.strict and not all(o.equivalent for o in outcomes) else 0
        from nnglm import runner  # imports numpy, rich; TensorFlow only once training starts

        outcome = runner.run(points[0][1], Path(args.out), quiet=args.quiet)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.strict and not outcome.result["comparison"]["equivalent"]:
        return 1
    return 0


def _logbook(args) -> int:
    from nnglm import logbook  # JSON only: no TensorFlow

    try:
        if args.command == "runs":
            root = Path(args.dir)
            logbook.print_runs(logbook.scan(root, args.name, args.status), root)
            return 0
        if len(args.runs) < 2:
            raise UserError("compare: give two or more run folders")
        comparison = logbook.compare_runs([Path(r) for r in args.runs], args.tol)
        logbook.print_comparison(comparison)
        return 0
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _terminate(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
