"""`make bench`: nnglm's training path against the plain Keras loop, the NumPy floor and
statsmodels' IRLS, measured side by side in one run, on the same data.

Each measurement runs in a fresh worker process (Keras takes one backend per
process, and a process's peak memory is then the measurement's own). Per-step
cost is the slope between a short and a long run of the compiled loop, so
that the one-time compilation is reported apart from it.

    python -m benchmarks.bench [--quick] [--out bench-results]
    python -m benchmarks.bench --large [--rows 1000000]   (only the runs on a million rows: about 10 minutes)
    python -m benchmarks.bench --readers [--rows 1000000] (only the readers of R users' formats against the library alone)
    python -m benchmarks.bench --crossval (only a 5-fold comparison against 5 single runs of the same models)
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.crossval import crossval_cost, crossval_line, worker_crossval
from benchmarks.readers import reader_cost, readers_line
from nnglm.config.schema import TrainConfig

ROOT = Path(__file__).resolve().parent.parent  # the repository: configs/ and the benchmarks package
_ADAM = TrainConfig()
# the plain NumPy loop's Adam: Keras' defaults, as a config without train keys has them
LOGISTIC = dict(lr=_ADAM.rate, beta_1=_ADAM.beta_1, beta_2=_ADAM.beta_2, epsilon=_ADAM.epsilon)
# what a small run may add to the memory of its imports: the data and the fits are kilobytes, so
# what is left is Keras' model, the compiled loop and the plots; the 200-class multinomial's
# largest arrays (the 796 x 796 Hessian, 1000 x 200 probabilities) are a few MB
MEMORY_GOAL_MB = 200
SEED002 = str(ROOT / "configs/seed002_logistic_no_bias.yaml")
SEED002_GOAL = 40  # times faster than the plain model.fit loop, compilation included
# a sweep's points share the data, the GLM fit and the compiled loop (see sweep.py): 32 points
# may cost at most this many times one run, imports included
SWEEP_POINTS, SWEEP_GOAL = 32, 2.5
# in one Python process (a notebook), a second run reuses the first's imports and compiled code: a
# second seed 002 run may cost at most this fraction of one `nnglm run`
API_GOAL = 0.3


def seed002_data(n: int, k: int, dtype: str):
    rng = np.random.default_rng(42)
    X = rng.normal(1.0, 0.5, size=(n, k))
    y = rng.binomial(1, 0.5, size=n).astype(float)
    return X.astype(dtype), y.astype(dtype)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# --- workers: each prints one JSON line ---


def worker_numpy(n, k, steps):
    X, y = seed002_data(n, k, "float64")
    base = rss_mb()
    times = {}
    for s in steps:
        w, m, v = np.zeros(k), np.zeros(k), np.zeros(k)
        start = time.perf_counter()
        for t in range(1, s + 1):
            p = 1.0 / (1.0 + np.exp(-(X @ w)))
            g = X.T @ (p - y) / n
            alpha = LOGISTIC["lr"] * np.sqrt(1 - LOGISTIC["beta_2"] ** t) / (1 - LOGISTIC["beta_1"] ** t)
            m += (g - m) * (1 - LOGISTIC["beta_1"])
            v += (g * g - v) * (1 - LOGISTIC["beta_2"])
            w -= alpha * m / (np.sqrt(v) + LOGISTIC["epsilon"])
        times[s] = time.perf_counter() - start
    return {"times": times, "total": times[steps[0]], "weights": w.tolist(), "baseline_mb": base, "peak_mb": peak_mb()}


def worker_statsmodels(n, k, steps):
    import statsmodels.api as sm

    X, y = seed002_data(n, k, "float64")
    base = rss_mb()
    start = time.perf_counter()
    result = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-10)
    seconds = time.perf_counter() - start
    return {
        "times": {},
        "total": seconds,
        "weights": result.params.tolist(),
        "baseline_mb": base,
        "peak_mb": peak_mb(),
        "iterations": int(result.fit_history["iteration"]),
    }


def _model(keras, k, dtype):
    keras.utils.set_random_seed(0)
    keras.config.set_floatx(dtype)
    model = keras.Sequential(
        [
            keras.Input((k,), dtype=dtype),
            keras.layers.Dense(1, activation="sigmoid", use_bias=False, kernel_initializer="zeros", dtype=dtype),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy")
    return model


def worker_nnglm(n, k, steps, backend, dtype="float32"):
    from nnglm.train import backends

    engine = backends.load(backend, dtype)
    keras = engine.keras
    X, y = seed002_data(n, k, dtype)
    base = rss_mb()
    short, long = steps

    def fresh():
        model = _model(keras, k, dtype)
        return model, engine.step_runner(model, (keras.ops.convert_to_tensor(X), keras.ops.convert_to_tensor(y[:, None])))

    def timed(run, count) -> float:
        start = time.perf_counter()
        run(count)
        _ = model.get_weights()  # waits for the device
        return time.perf_counter() - start

    # end to end from zero, compilation included: the figure to set beside plain fit
    model, run = fresh()
    total = timed(run, short)
    weights = np.asarray(model.get_weights()[0]).ravel().tolist()
    # per step: the same compiled loop, warm, timed for two step counts
    model, run = fresh()
    compile_seconds = timed(run, 1) + timed(run, 2)
    times = {short: timed(run, short), long: timed(run, long)}
    return {
        "times": times,
        "total": total,
        "compile_seconds": compile_seconds,
        "weights": weights,
        "baseline_mb": base,
        "peak_mb": peak_mb(),
    }


def worker_plain_fit(n, k, steps, backend, dtype="float32"):
    from nnglm.train import backends

    keras = backends.load(backend, dtype).keras
    X, y = seed002_data(n, k, dtype)
    base = rss_mb()
    model = _model(keras, k, dtype)
    start = time.perf_counter()
    model.fit(X, y, epochs=steps[0], batch_size=n, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    weights = np.asarray(model.get_weights()[0]).ravel().tolist()
    return {"times": {steps[0]: seconds}, "total": seconds, "weights": weights, "baseline_mb": base, "peak_mb": peak_mb()}


def worker_run(config, overrides):
    """One `nnglm run` in this process: peak memory over the baseline of the imports every run pays,
    the seconds and peak memory of each of its phases, and what the network reported."""
    import contextlib
    import tempfile
    import threading

    start = time.perf_counter()
    import keras  # noqa: F401
    import statsmodels.api  # noqa: F401
    import tensorflow  # noqa: F401

    from nnglm import config as config_module
    from nnglm.experiment import runner
    from nnglm.show import progress

    imports = time.perf_counter() - start
    cfg = config_module.load(config, overrides)
    base = peak_mb()
    # each phase's peak resident memory, sampled every 5 ms (ru_maxrss has only the process's peak)
    phase, peaks, done = ["before"], dict[str, float](), threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peaks[phase[0]] = max(peaks.get(phase[0], 0.0), rss_mb())

    named = progress.Phases.__call__

    @contextlib.contextmanager
    def timed(self, key: str, announce: bool = True):
        phase[0] = key
        with named(self, key, announce):
            yield
        phase[0] = "between phases"

    # a patch of the class, process-wide: this worker process runs this one run only, and ends with it
    progress.Phases.__call__ = timed  # type: ignore[method-assign,assignment]
    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = runner.run(cfg, Path(out), quiet=True).result
    total = time.perf_counter() - start
    done.set()
    network, reference = result.get("network") or {}, result.get("reference") or {}
    return {
        "times": {},
        "total": total,
        "imports": imports,
        "baseline_mb": base,
        "peak_mb": peak_mb(),
        "phase_peak_mb": {k: v - base for k, v in peaks.items()},
        "status": result["status"],
        "timings": result.get("timings") or {},
        "steps": network.get("epochs_run"),
        "stopped": network.get("stopped"),
        "train_seconds": network.get("train_seconds"),
        "reference_seconds": reference.get("seconds"),
        "reference_skipped": reference.get("skipped"),
        "outcome": (result.get("comparison") or {}).get("outcome"),
        "max_rel_diff": (result.get("comparison") or {}).get("max_rel_diff"),
        "n_rows": result["data"]["n_rows"],
        "n_features": result["data"]["n_features"],
    }


def worker_aliasing(n, levels):
    """The rank-deficiency check on a categorical column with many levels (one QR, not a rank per column)."""
    import scipy.linalg  # noqa: F401  (imported before the clock starts)

    from nnglm.model.glm import aliased_columns

    rng = np.random.default_rng(0)
    codes = rng.integers(0, levels, size=n)
    dummies = (codes[:, None] == np.arange(1, levels)[None, :]).astype(float)
    X = np.column_stack([np.ones(n), rng.normal(size=n), dummies, dummies[:, :3].sum(axis=1)])
    base = peak_mb()
    start = time.perf_counter()
    aliased = aliased_columns(X, [str(j) for j in range(X.shape[1])])
    return {"times": {}, "total": time.perf_counter() - start, "baseline_mb": base, "peak_mb": peak_mb(), "aliased": len(aliased)}


WORKERS: dict[str, Callable[..., dict]] = {
    "run": worker_run,
    "aliasing": worker_aliasing,
    "numpy": worker_numpy,
    "statsmodels": worker_statsmodels,
    "nnglm": worker_nnglm,
    "plain_fit": worker_plain_fit,
}


def measure(kind: str, **spec) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--worker", kind, json.dumps(spec)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench worker {kind} {spec} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["times"] = {int(k): v for k, v in result["times"].items()}
    return result


def command_seconds(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, check=True)
    return time.perf_counter() - start


def sweep_cost() -> dict:
    """One `nnglm run` of seed 002 and a sweep of SWEEP_POINTS learning rates of it, one after the other."""
    command = [sys.executable, "-m", "nnglm", "run", SEED002, "--quiet", "--out", "bench-results/runs"]
    rates = ",".join(f"{0.0005 * (i + 1):g}" for i in range(SWEEP_POINTS))
    one = command_seconds(command)
    sweep = command_seconds([*command, "--set", f"train.learning_rate=sweep:{rates}"])
    cost = {"points": SWEEP_POINTS, "one_run": one, "sweep": sweep, "ratio": sweep / one, "marginal": (sweep - one) / (SWEEP_POINTS - 1)}
    return cost | {"cluster": cluster_sweep(rates)}


def cluster_sweep(rates: str) -> dict:
    """The same sweep on a Dask cluster on loopback (two worker processes); every run folder must come back here."""
    import tempfile

    from distributed import LocalCluster

    with (
        tempfile.TemporaryDirectory() as out,
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster,
    ):
        command = [sys.executable, "-m", "nnglm", "run", SEED002, "--quiet", "--out", out, "--cluster", cluster.scheduler_address]
        seconds = command_seconds([*command, "--set", f"train.learning_rate=sweep:{rates}"])
        results = [json.loads(p.read_text()) for p in Path(out).glob("*/*/result.json")]
        written = sum(r.get("status") == "completed" for r in results)
    return {"seconds": seconds, "completed_folders": written}


def worker_api(config: str) -> dict:
    """Two runs of one config through the Python API in this process, each timed."""
    import tempfile

    import nnglm

    seconds = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(2):
            start = time.perf_counter()
            run = nnglm.run(config, out=out)
            seconds.append(time.perf_counter() - start)
            assert isinstance(run, nnglm.Run)  # one config, no sweep: one run
            status = run.status
    return {"times": {}, "first": seconds[0], "second": seconds[1], "status": status}


WORKERS["api"] = worker_api
WORKERS["crossval"] = worker_crossval


def crossval_runs() -> dict:
    """The K-fold comparison against K single runs, each config in a fresh worker process."""
    return crossval_cost(measure)


def api_cost() -> dict:
    """A second seed 002 run in one Python process (nnglm.run) against one `nnglm run` of it, start-up included."""
    one = command_seconds([sys.executable, "-m", "nnglm", "run", SEED002, "--quiet", "--out", "bench-results/runs"])
    api = measure("api", config=SEED002)
    return {"command": one, "first": api["first"], "second": api["second"], "ratio": api["second"] / one, "status": api["status"]}


def api_line(cost: dict) -> str:
    verdict = "met" if cost["ratio"] <= API_GOAL else "MISSED"
    return (
        f"Python API, seed002: a second nnglm.run in the same process {cost['second']:.2f} s (the first {cost['first']:.1f} s, "
        f"imports included) against {cost['command']:.1f} s for one `nnglm run`: {cost['ratio']:.2f}x (goal: at most {API_GOAL}x: {verdict})"
    )


def sweep_line(cost: dict) -> str:
    verdict = "met" if cost["ratio"] <= SWEEP_GOAL else "MISSED"
    return (
        f"sweep of {cost['points']} learning rates of seed002 (one process, --jobs 1): {cost['sweep']:.1f} s against "
        f"{cost['one_run']:.1f} s for one run: {cost['ratio']:.2f}x (goal: at most {SWEEP_GOAL}x: {verdict}); "
        f"a point beyond the first {cost['marginal']:.2f} s; on a loopback Dask cluster (2 workers) "
        f"{cost['cluster']['seconds']:.1f} s, {cost['cluster']['completed_folders']} of {cost['points']} run folders written here, completed"
    )


# --- the table ---


def bench(quick: bool) -> dict:
    rows = []
    # seed 002: N=1000, K=10, 1000 steps; the plain fit loop only here (it is the slow one)
    short, long = (200, 1000) if quick else (1000, 10000)
    plain = measure("plain_fit", n=1000, k=10, steps=[short], backend="tensorflow")
    tf = measure("nnglm", n=1000, k=10, steps=[short, long], backend="tensorflow")
    jx = measure("nnglm", n=1000, k=10, steps=[short, long], backend="jax")
    npy = measure("numpy", n=1000, k=10, steps=[short, long])
    sm = measure("statsmodels", n=1000, k=10, steps=[])
    rows.append(
        (
            "seed002 N=1000 K=10",
            1000,
            10,
            short,
            long,
            {"plain fit (TF)": plain, "nnglm TF": tf, "nnglm JAX": jx, "NumPy": npy, "statsmodels IRLS": sm},
        )
    )

    sizes = [(1000, (1000, 10000)), (10_000, (1000, 10000)), (100_000, (200, 2000)), (1_000_000, (20, 200))]
    if quick:
        sizes = [(1000, (100, 1000)), (10_000, (100, 1000))]
    for n, (a, b) in sizes:
        cases = {
            "nnglm TF": measure("nnglm", n=n, k=20, steps=[a, b], backend="tensorflow"),
            "nnglm JAX": measure("nnglm", n=n, k=20, steps=[a, b], backend="jax"),
            "NumPy": measure("numpy", n=n, k=20, steps=[a, b]),
            "statsmodels IRLS": measure("statsmodels", n=n, k=20, steps=[]),
        }
        rows.append((f"N={n:.0e} K=20", n, 20, a, b, cases))

    memory = {
        "200-row run (seed002, 1000 steps)": measure("run", config=SEED002, overrides=["data.n_rows=200"]),
        "200-class multinomial (1000 rows, 3 features, 200 steps, 25 Newton steps)": measure(
            "run",
            config=str(ROOT / "configs/seed001_softmax.yaml"),
            overrides=[
                "data.n_rows=1000",
                "data.n_features=3",
                "data.n_classes=200",
                "train.epochs=200",
                "train.grad_tol=null",
                "glm.maxiter=25",
            ],
        ),
    }
    aliasing = measure("aliasing", n=4000, levels=400)
    seed_run = measure("run", config=SEED002, overrides=[])
    return {"rows": rows, **commands(), "memory": memory, "aliasing": aliasing, "seed002_run": seed_run}


def commands() -> dict:
    """Whole `nnglm` commands, start-up included."""
    nnglm = [sys.executable, "-m", "nnglm"]
    return {
        "imports": command_seconds([sys.executable, "-c", "import tensorflow, keras, statsmodels.api"]),
        "experiment": command_seconds([*nnglm, "run", SEED002, "--quiet", "--out", "bench-results/runs"]),
        "sweep_cost": sweep_cost(),
        "api_cost": api_cost(),
        "validate": command_seconds([*nnglm, "validate", SEED002]),
        "runs": command_seconds([*nnglm, "runs", "bench-results/runs"]),
    }


def steps_table(rows: list) -> tuple:
    """The per-method timings as a rich table, and the same as records for bench.csv / bench.json."""
    from rich.table import Table

    records = []
    table = Table(title="nnglm bench (wall seconds; per step = slope between the two step counts)", title_justify="left")
    for col in (
        "case",
        "method",
        "steps",
        "seconds (from zero)",
        "per step µs",
        "compile s",
        "× vs nnglm TF",
        "peak MB",
        "over baseline MB",
        "design f64 MB",
    ):
        table.add_column(col, justify="left" if col in ("case", "method") else "right")
    for case, n, k, short, long, methods in rows:
        design_mb = n * k * 8 / 2**20
        for method, r in methods.items():
            t = r["times"]
            steps = short if t else 0
            seconds = r["total"]
            per_step = (t[long] - t[short]) / (long - short) * 1e6 if short in t and long in t else None
            ratio = seconds / methods["nnglm TF"]["total"] if method != "nnglm TF" and steps else None
            record = {
                "case": case,
                "method": method,
                "steps": steps,
                "seconds": seconds,
                "per_step_us": per_step,
                "compile_seconds": r.get("compile_seconds"),
                "ratio_to_nnglm_tf": ratio,
                "peak_mb": r["peak_mb"],
                "over_baseline_mb": r["peak_mb"] - r["baseline_mb"],
                "design_f64_mb": design_mb,
            }
            records.append(record)
            table.add_row(
                case,
                method,
                str(steps) if steps else "IRLS",
                f"{seconds:.3f}",
                "" if per_step is None else f"{per_step:.1f}",
                "" if r.get("compile_seconds") is None else f"{r['compile_seconds']:.2f}",
                "" if ratio is None else f"{ratio:.2f}",
                f"{r['peak_mb']:.0f}",
                f"{r['peak_mb'] - r['baseline_mb']:.0f}",
                f"{design_mb:.1f}",
            )
    return table, records


def summary_lines(results: dict) -> list[str]:
    """The sentences under the table: ratios measured side by side, and the goals."""
    _, _, _, short, long, seed = results["rows"][0]
    speedup = seed["plain fit (TF)"]["total"] / seed["nnglm TF"]["total"]
    same = float(np.max(np.abs(np.array(seed["plain fit (TF)"]["weights"]) - np.array(seed["nnglm TF"]["weights"]))))
    slope = {m: (seed[m]["times"][long] - seed[m]["times"][short]) / (long - short) * 1e6 for m in ("nnglm TF", "nnglm JAX", "NumPy")}
    tf = seed["nnglm TF"]
    run = results["seed002_run"]
    t = run["timings"]
    plain = seed["plain fit (TF)"]["total"]
    lines = [
        f"seed002, {short} steps: nnglm (TF) is {speedup:.0f}x faster than the plain fit loop, compilation included "
        f"(goal: at least {SEED002_GOAL}x: {_verdict(speedup >= SEED002_GOAL)}); weights differ by {same:.2g}; "
        f"XLA's compilation of the loop {tf['compile_seconds']:.2f} s, the {short} steps alone {tf['times'][short]:.3f} s "
        f"({plain / tf['times'][short]:.0f}x)",
        f"seed002 `nnglm run`: train_seconds {run['train_seconds']:.2f} (build {t.get('training_build', 0):.2f} s, first call with "
        f"XLA's compilation {t.get('training_first_call', 0):.2f} s, all steps {t.get('training_steps', 0):.2f} s, reads "
        f"{t.get('training_reads', 0):.2f} s, convergence looks {t.get('training_looks', 0):.2f} s): the plain fit loop "
        f"takes {plain / run['train_seconds']:.0f}x that (goal: at least {SEED002_GOAL}x: {_verdict(plain >= SEED002_GOAL * run['train_seconds'])})",
        f"per step: NumPy {slope['NumPy']:.1f} µs, nnglm JAX {slope['nnglm JAX']:.1f} µs ({slope['nnglm JAX'] / slope['NumPy']:.2f}x NumPy), "
        f"nnglm TF {slope['nnglm TF']:.1f} µs ({slope['nnglm TF'] / slope['NumPy']:.2f}x NumPy)",
        f"end to end: `nnglm run` seed002 {results['experiment']:.1f} s against {results['imports']:.1f} s to import tensorflow, keras, statsmodels "
        f"({results['experiment'] / results['imports']:.2f}x)",
        f"start-up: `nnglm validate` {results['validate']:.2f} s, `nnglm runs` {results['runs']:.2f} s",
        sweep_line(results["sweep_cost"]),
        api_line(results["api_cost"]),
    ]
    # goals: a run may add at most MEMORY_GOAL_MB to what importing TensorFlow, Keras and statsmodels takes
    for case, r in results["memory"].items():
        over = r["peak_mb"] - r["baseline_mb"]
        verdict = "met" if over <= MEMORY_GOAL_MB else "MISSED"
        lines.append(
            f"peak memory, {case}: {r['peak_mb']:.0f} MB, {over:.0f} MB over the {r['baseline_mb']:.0f} MB of the imports "
            f"(goal: at most {MEMORY_GOAL_MB} MB over: {verdict}); {r['total']:.1f} s"
        )
    a = results["aliasing"]
    lines.append(
        f"aliasing check, 4000 rows x 402 columns (a 400-level categorical): {a['total']:.2f} s, {a['aliased']} aliased column found"
    )
    return lines


def report(results: dict, out: Path) -> None:
    from rich.console import Console

    console = Console(width=220)
    table, records = steps_table(results["rows"])
    console.print(table)
    lines = summary_lines(results)
    for line in lines:
        console.print(line)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(
        json.dumps(
            {
                "records": records,
                "summary": lines,
                **{
                    k: results[k]
                    for k in ("imports", "experiment", "validate", "runs", "sweep_cost", "memory", "aliasing", "seed002_run", "api_cost")
                },
            },
            indent=2,
        )
    )
    import csv

    with open(out / "bench.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    console.print(f"written: {out / 'bench.csv'}, {out / 'bench.json'}")


# --- a million rows: every phase of a run, at defaults ---

LARGE_GOALS = {"f32_steps": 1.2, "memory": 8.0, "end_to_end": 1.5, "moonshot_s": 30.0}


def large_config(n_rows: int, family: str, dtype: str) -> dict:
    """A sample of n_rows from a known GLM with 20 features, nothing tuned (train.epochs: auto)."""
    link = {"binomial": "logit", "poisson": "log"}[family]
    coefficients = [round(0.3 * (-1) ** i / (1 + i % 5), 3) for i in range(20)]
    return {
        "name": f"large_{family}_{dtype}",
        "seed": 1,
        "data": {
            "source": "synthetic",
            "generator": "glm",
            "n_rows": n_rows,
            "n_features": 20,
            "coefficients": coefficients,
            "intercept": 0.2,
        },
        "model": {"family": family, "link": link},
        "train": {"dtype": dtype},
    }


def large(n_rows: int, cases: list[tuple[str, str]]) -> list[dict]:
    import tempfile

    import yaml

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for family, dtype in cases:
            path = Path(folder) / f"{family}_{dtype}.yaml"
            path.write_text(yaml.safe_dump(large_config(n_rows, family, dtype), sort_keys=False))
            rows.append({"family": family, "dtype": dtype, **measure("run", config=str(path), overrides=[])})
    return rows


LARGE_PHASES = (
    "data",
    "condition_number",
    "glm",
    "training",
    "training_build",
    "training_first_call",
    "training_steps",
    "training_reads",
    "training_looks",
    "standard_errors",
    "reference",
    "writing",
    "plots",
)


def large_report(rows: list[dict]) -> tuple[list[str], list[dict]]:
    """The phase table of the large runs and the goals, as sentences and records."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="a run on a sample from a known GLM, 20 features, defaults (seconds by phase; MB over the imports)", title_justify="left"
    )
    for col in ("case", "steps", "stopped", "outcome", *LARGE_PHASES, "end to end", "peak MB over", "× design"):
        table.add_column(col, justify="left" if col in ("case", "stopped", "outcome") else "right")
    records, lines = [], []
    for r in rows:
        design = r["n_rows"] * (r["n_features"] + 1) * 8 / 2**20
        over = r["peak_mb"] - r["baseline_mb"]
        case = f"{r['n_rows']:.0e} {r['family']} {r['dtype']}"
        t = r["timings"]
        table.add_row(
            case,
            str(r["steps"]),
            str(r["stopped"]),
            str(r["outcome"]),
            *[f"{t[p]:.1f}" if p in t else "" for p in LARGE_PHASES],
            f"{r['total']:.1f}",
            f"{over:.0f}",
            f"{over / design:.1f}",
        )
        records.append({"case": case, "design_mb": design, "over_baseline_mb": over, **r})
        core = r["imports"] + t.get("glm", 0) + t.get("training", 0) + t.get("reference", 0)
        end_to_end = r["imports"] + r["total"]
        reference, training = t.get("reference", 0.0), t.get("training", 0.0)
        judged = (
            f"reference {reference:.1f} s against training {training:.1f} s ({reference / training:.2f}x; goal: at most 1x: "
            f"{_verdict(reference <= training)})"
            if r.get("reference_seconds") is not None
            else f"reference {r.get('reference_skipped')}"
        )
        lines.append(
            f"{case}: {r['steps']} steps ({r['stopped']}), {r['outcome']}; end to end {end_to_end:.1f} s (imports {r['imports']:.1f} s), "
            f"{end_to_end / core:.2f}x the sum of imports, GLM, training and reference (goal: at most {LARGE_GOALS['end_to_end']}x: "
            f"{_verdict(end_to_end <= LARGE_GOALS['end_to_end'] * core)}); {judged}; peak memory {over:.0f} MB over the imports, "
            f"{over / design:.1f}x the float64 design of {design:.0f} MB (goal: at most {LARGE_GOALS['memory']:g}x: "
            f"{_verdict(over <= LARGE_GOALS['memory'] * design)}); the largest phase: {_largest_phase(r)}; "
            f"moonshot, end to end under {LARGE_GOALS['moonshot_s']:g} s: {end_to_end:.1f} s"
        )
    for family in sorted({r["family"] for r in rows}):
        steps = {r["dtype"]: r["steps"] for r in rows if r["family"] == family}
        if {"float32", "float64"} <= set(steps):
            ratio = steps["float32"] / steps["float64"]
            lines.append(
                f"{family}: float32 {steps['float32']} steps against float64's {steps['float64']} ({ratio:.2f}x; goal: at most "
                f"{LARGE_GOALS['f32_steps']}x: {_verdict(ratio <= LARGE_GOALS['f32_steps'])})"
            )
    console = Console(width=260)
    console.print(table)
    for line in lines:
        console.print(line)
    return lines, records


def _largest_phase(r: dict) -> str:
    peaks = r["phase_peak_mb"]
    name = max(peaks, key=peaks.get)
    return f"{name} ({peaks[name]:.0f} MB)"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report_large(out: Path, n_rows: int, cases: list[tuple[str, str]]) -> None:
    lines, records = large_report(large(n_rows, cases))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench_large_{n_rows:.0e}.json").write_text(json.dumps({"summary": lines, "records": records}, indent=2))


LARGE_CASES = [("binomial", "float32"), ("binomial", "float64"), ("poisson", "float32"), ("poisson", "float64")]


# --- epochs: auto on real data, beside statsmodels' IRLS ---


def worker_auto(configs: list[str]) -> dict:
    """Every auto_*.yaml config with its defaults, in float64 and float32, in one process."""
    import tempfile

    from nnglm import config
    from nnglm.experiment import runner

    out = []
    with tempfile.TemporaryDirectory() as runs:
        for path in configs:
            for dtype in ("float64", "float32"):
                r = runner.run(config.load(path, [f"train.dtype={dtype}"]), Path(runs), quiet=True).result
                out.append(
                    {
                        "config": Path(path).stem,
                        "dtype": dtype,
                        "outcome": r["comparison"]["outcome"],
                        "steps": r["network"]["epochs_run"],
                        "train_seconds": r["network"]["train_seconds"],
                        "irls_seconds": r["glm"]["fit_seconds"],
                        "max_rel_diff": r["comparison"]["max_rel_diff"],
                    }
                )
    return {"rows": out}


WORKERS["auto"] = worker_auto


def report_auto(out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    configs = [str(p) for p in sorted(Path("configs").glob("auto_*.yaml"))]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", "--worker", "auto", json.dumps({"configs": configs})],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench worker auto failed:\n{done.stderr[-2000:]}")
    rows = json.loads(done.stdout.strip().splitlines()[-1])["rows"]
    table = Table(title="epochs: auto with the defaults, real data (seconds to convergence beside statsmodels' IRLS)", title_justify="left")
    for col in ("config", "dtype", "outcome", "steps", "train s", "IRLS s", "× IRLS", "max rel diff"):
        table.add_column(col, justify="left" if col in ("config", "dtype", "outcome") else "right")
    for r in rows:
        table.add_row(
            r["config"],
            r["dtype"],
            r["outcome"],
            str(r["steps"]),
            f"{r['train_seconds']:.2f}",
            f"{r['irls_seconds']:.4f}",
            f"{r['train_seconds'] / r['irls_seconds']:.0f}",
            f"{r['max_rel_diff']:.2g}",
        )
    Console(width=220).print(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_auto.json").write_text(json.dumps(rows, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("spec", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small sizes only (a minute)")
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--sweep", action="store_true", help="only the sweep against one run (a minute)")
    parser.add_argument("--large", action="store_true", help="only the runs on a million rows, every phase timed (about 10 minutes)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the --large runs")
    parser.add_argument("--case", action="append", help="with --large: FAMILY:DTYPE (default: binomial and poisson, float32 and float64)")
    parser.add_argument("--api", action="store_true", help="only a second run in one Python process against one `nnglm run` (30 s)")
    parser.add_argument(
        "--readers", action="store_true", help="only the readers of R users' formats against the library alone (--rows rows; 5 minutes)"
    )
    parser.add_argument(
        "--crossval", action="store_true", help="only a 5-fold comparison against 5 single runs of the same models, two configs (3 minutes)"
    )
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.spec))))
        return
    # the parts that run alone: (measure, its line, its file)
    alone = {
        "api": (api_cost, api_line, "bench_api.json"),
        "sweep": (sweep_cost, sweep_line, "bench_sweep.json"),
        "readers": (lambda: reader_cost(args.rows), readers_line, "bench_readers.json"),
        "crossval": (crossval_runs, crossval_line, "bench_crossval.json"),
    }
    for flag, (measure, line, name) in alone.items():
        if getattr(args, flag):
            from rich.console import Console

            cost = measure()
            Console(width=220).print(line(cost))
            Path(args.out).mkdir(parents=True, exist_ok=True)
            (Path(args.out) / name).write_text(json.dumps(cost, indent=2))
            return
    cases = [tuple(c.split(":")) for c in args.case] if args.case else LARGE_CASES
    if args.large:
        report_large(Path(args.out), args.rows, cases)  # type: ignore[arg-type]
        return
    report(bench(args.quick), Path(args.out))
    report_auto(Path(args.out))
    if not args.quick:
        from rich.console import Console

        readers = reader_cost(args.rows)
        Console(width=220).print(readers_line(readers))
        (Path(args.out) / "bench_readers.json").write_text(json.dumps(readers, indent=2))
        folds = crossval_runs()
        Console(width=220).print(crossval_line(folds))
        (Path(args.out) / "bench_crossval.json").write_text(json.dumps(folds, indent=2))
        report_large(Path(args.out), args.rows, cases)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
