"""One run, top to bottom: config → data → GLM fit → network fit → comparison → run log."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from nnglm import compare, data, glm, network, runlog, summary
from nnglm.config import Config


@dataclass
class Outcome:
    run_dir: Path
    result: dict


def run(config: Config, out: Path = Path("experiments"), quiet: bool = False) -> Outcome:
    dataset = data.load(config)  # bad data stops here, before any folder exists
    device = network.resolve_device(config)
    run_dir, run_id = runlog.new_run_dir(out, config.name)
    result = {
        "schema": runlog.SCHEMA,
        "run_id": run_id,
        "name": config.name,
        "status": "running",
        "error": None,
        "config": config.to_dict(),
        "environment": runlog.environment(config.train.backend, device, config.train.dtype),
        "data": {
            "n_rows": dataset.n_rows,
            "n_features": dataset.n_features,
            "feature_names": dataset.feature_names,
            "target": dataset.target,
        },
    }
    runlog.write_config(run_dir, result["config"])
    runlog.write_result(run_dir, result)
    try:
        glm_fit = glm.fit(dataset, config)
        target = np.array(list(glm_fit.coefficients.values()))
        with _progress(quiet) as bar:
            task = bar.add_task("training", total=config.train.epochs)
            fit = network.train(
                dataset, config, device, target,
                on_progress=lambda step, loss: bar.update(task, completed=step, description=f"loss {loss:.6g}"),
            )
        network_llf = glm.loglike(config.family, dataset.y, fit.mu, glm_fit.scale)
        comparison = compare.compare(fit, glm_fit, network_llf, config.compare.max_abs)
        result["environment"]["device"] = fit.device
        result["network"] = fit.to_dict()
        result["glm"] = glm_fit.to_dict()
        if dataset.classes:
            for section, key in [("network", "coefficients"), ("glm", "coefficients"), ("glm", "bse")]:
                result[section][key] = by_class(result[section][key])
        result["comparison"] = comparison.to_dict()
        runlog.write_csv(run_dir, "history.csv", ["step", "loss", "max_abs_diff_to_glm"], fit.history)
        runlog.write_csv(
            run_dir,
            "coefficients.csv",
            ["term", "network", "glm", "diff", "glm_bse"],
            [
                (t, w, b, w - b, glm_fit.bse[t])
                for t, w, b in zip(comparison.terms, comparison.network, comparison.glm)
            ],
        )
        result["status"] = "completed"
        runlog.write_result(run_dir, result)  # last: a completed result.json means the folder is whole
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        result["status"] = "interrupted" if interrupted else "failed"
        result["error"] = "interrupted" if interrupted else f"{type(e).__name__}: {e}"
        runlog.write_result(run_dir, result)
        raise
    if not quiet:
        summary.print_run(result, run_dir)
    return Outcome(run_dir, result)


def by_class(flat: dict[str, float]) -> dict[str, dict[str, float]]:
    """{'1:const': a, '1:x1': b} -> {'1': {'const': a, 'x1': b}}, as result.json keeps multinomial fits."""
    nested: dict[str, dict[str, float]] = {}
    for label, value in flat.items():
        cls, _, term = label.partition(":")
        nested.setdefault(cls, {})[term] = value
    return nested


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:>18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=quiet,
    )
