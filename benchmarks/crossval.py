"""A K-fold comparison (data.folds) against K single runs of the same models on all rows, side by side in one
process: per fold the GLM and the two hidden-layer networks (from scratch, and started at the GLM), against K
times the GLM on all rows and the same two networks trained the same steps. The goal: the K-fold comparison
costs no more than about K single runs (at most GOAL times).

    python -m benchmarks.bench --crossval
"""

import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("configs/cv_mcycle_hidden.yaml", "configs/cv_glm_drawn.yaml")
GOAL = 1.2  # the K-fold comparison over K single runs


def worker_crossval(config: str) -> dict:
    """One config: a warm-up single run (untimed: the imports' and the first trace's cost), then the K-fold
    comparison and K single runs, each timed."""
    from nnglm import config as config_module
    from nnglm.data import folds, table
    from nnglm.experiment import crossval
    from nnglm.model import glm
    from nnglm.train import backends, hidden
    from nnglm.train.network import NetworkSpec

    cfg = config_module.load(config)
    dataset = table.load(table.DataSpec.of(cfg))
    engine = backends.load(cfg.train.backend, cfg.train.dtype)
    device = engine.device(cfg.train.device)
    k = int(cfg.data.folds or 0)
    single_run(cfg, dataset, engine, device)
    steps: dict[str, list[int | None]] = {"scratch": [], "at_glm": []}
    train = hidden.train

    def counted(*args, **kwargs):
        fit = train(*args, **kwargs)
        steps["at_glm" if kwargs.get("glm_start") is not None else "scratch"].append(fit.epochs_run)
        return fit

    # crossval calls hidden.train through the module: the steps each fold's networks took (early stopping)
    hidden.train = counted  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        split = folds.assign(dataset, k, cfg.seed, cfg.family, cfg.model.use_bias)
        section = crossval.run(cfg, dataset, split, engine, device, NetworkSpec.of(cfg), glm.GlmOptions.of(cfg))
        folds_seconds = time.perf_counter() - start
    finally:
        hidden.train = train  # type: ignore[assignment]
    singles, start = [], time.perf_counter()
    for _ in range(k):
        singles.append(single_run(cfg, dataset, engine, device))
    singles_seconds = time.perf_counter() - start
    return {
        "times": {},
        "config": Path(config).stem,
        "folds": k,
        "rows": dataset.n_rows,
        "folds_seconds": folds_seconds,
        "singles_seconds": singles_seconds,
        "ratio": folds_seconds / singles_seconds,
        "fold_steps": steps,
        "single_steps": singles[0],
        "verdict": section.verdict,
    }


def single_run(cfg, dataset, engine, device) -> dict[str, int | None]:
    """The GLM on all rows and the two hidden-layer networks, each trained its full steps (no early stopping)."""
    from nnglm.model import glm
    from nnglm.train import hidden
    from nnglm.train.network import NetworkSpec

    fit = glm.fit(dataset, cfg.family, glm.GlmOptions.of(cfg))
    coefficients = np.array(list(fit.coefficients.values()), dtype=float)
    spec = NetworkSpec.of(cfg)
    scratch = hidden.train(engine, dataset, spec, device)
    at_glm = hidden.train(engine, dataset, spec, device, glm_start=hidden.GlmStart(coefficients, fixed=cfg.model.hidden_skip == "fixed"))
    return {"scratch": scratch.epochs_run, "at_glm": at_glm.epochs_run}


def crossval_cost(measure) -> dict:
    """Each config in a fresh worker process (`measure`: bench.measure)."""
    return {"rows": [measure("crossval", config=str(ROOT / c)) for c in CONFIGS]}


def crossval_line(cost: dict) -> str:
    """A small table (config, seconds, ratio, steps) and whether the goal is met."""
    lines = [
        f"{'config':<20} {'rows':>5} {'K':>2} {'K-fold s':>9} {'K single s':>10} {'ratio':>6}  steps: K-fold networks (scratch; at GLM), a single run's"
    ]
    for r in cost["rows"]:
        steps, single = r["fold_steps"], r["single_steps"]
        lines.append(
            f"{r['config']:<20} {r['rows']:>5} {r['folds']:>2} {r['folds_seconds']:>9.1f} {r['singles_seconds']:>10.1f} "
            f"{r['ratio']:>6.2f}  {'/'.join(map(str, steps['scratch']))}; {'/'.join(map(str, steps['at_glm']))}, "
            f"{single['scratch']} and {single['at_glm']}"
        )
    worst = max(r["ratio"] for r in cost["rows"])
    met = "met" if worst <= GOAL else "MISSED"
    lines.append(f"K-fold comparison: at most {worst:.2f}x K single runs (goal: about K single runs, at most {GOAL}x: {met})")
    return "\n".join(lines)
