"""What a run says: its tables and sentences, built once and shown on the console
(rich) or written into the run's report (markdown, see report.py)."""

import math
from dataclasses import dataclass

from rich.console import Console

from nnglm.foundation.errors import listing
from nnglm.foundation.safe import cell
from nnglm.log.logbook import errors_used
from nnglm.log.result import ComparisonSection, GlmSection, NetworkSection, RunResult, Statistics
from nnglm.show import crossval, layout
from nnglm.vocabulary import families

MAX_ROWS = 40  # longer coefficient tables are cut here; coefficients.csv has them all


@dataclass
class Block:
    title: str
    headers: list[str]
    rows: list[list[str]]


def wide_console() -> Console:
    console = Console()
    # piped into a file or another program: do not squeeze wide tables into 80 characters
    return console if console.is_terminal else Console(width=200)


def _num(value, digits: int = 10) -> str:
    return "–" if value is None or value != value else f"{value:.{digits}g}"  # None or NaN: undefined


def _text(value) -> str:
    return "–" if value is None else str(value)


def _yes(value: bool | None) -> str:
    return "–" if value is None else "yes" if value else "no"


def _seconds(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def _p(value) -> str:
    return "–" if value is None else ("<0.001" if value < 0.001 else f"{value:.3f}")


def headline(result: RunResult) -> str:
    env, data, model = result.environment, result.data, result.config["model"]
    assert data is not None  # written before any fit
    return (
        f"{result.name}: {data.n_rows} rows × {data.n_features} features, target {data.target!r}; "
        f"{model['family']}/{model['link']}{', alpha estimated' if model.get('alpha') == families.ESTIMATED else ''}; "
        f"{env.backend} on {env.device}, {env.dtype}"
    )


def fits(result: RunResult) -> tuple[NetworkSection, GlmSection, ComparisonSection]:
    """The sections a completed run has, for the tables and sentences."""
    n, g, c = result.network, result.glm, result.comparison
    if n is None or g is None or c is None:
        raise ValueError(f"run {result.run_id} has no network, glm or comparison section: only a completed run is summarized")
    return n, g, c


def blocks(result: RunResult, rows: list[dict]) -> list[Block]:
    cut = f" (the first {MAX_ROWS} of {len(rows)}; all in coefficients.csv)" if len(rows) > MAX_ROWS else ""
    shown = rows[:MAX_ROWS]
    with_reference = result.reference is not None and result.reference.coefficients is not None
    beside = Block(
        "Network weights beside GLM coefficients" + cut,
        ["term", "network", "GLM", "network − GLM"] + (["NumPy Adam"] if with_reference else []),
        [
            [r["term"], _num(r["network"]), _num(r["glm"]), _num(r["diff"], 3)] + ([_num(r["reference"])] if with_reference else [])
            for r in shown
        ],
    )
    n, g, _ = fits(result)
    caution = (
        ""
        if n.converged is not False
        else (
            f" — CAUTION: the network has not converged (its own estimate: {_num(n.distance, 2)} from the optimum, "
            "relative), so these are not yet a GLM's estimates"
        )
    )
    test, tested = tests(result)
    as_glm = Block(
        f"The network read as a GLM (standard errors: {errors_used(result)}, from its own weights; {tested})" + cut + caution,
        ["term", "coef", "std err", f"{test} value", f"P>|{test}|", "[0.025", "0.975]", "GLM std err"],
        [
            [
                r["term"],
                _num(r["network"], 6),
                _num(r["network_bse"], 4),
                _num(r["z"], 4),
                _p(r["p"]),
                _num(r["ci_low"], 4),
                _num(r["ci_high"], 4),
                _num(r["glm_bse"], 4),
            ]
            for r in shown
        ],
    )
    out = [beside, as_glm, fit_block(result)]
    if n.statistics and g.statistics:
        out.append(statistics_block(n.statistics, g.statistics))
    if result.validation:
        out.append(holdout_block(result))
    if result.cross_validation:
        out.append(crossval_block(result))
    return out


def tests(result: RunResult) -> tuple[str, str]:
    """("t" or "z", the test in words): t on the residual df where the run tested with t (inference.use_t)."""
    inference = result.inference
    if inference is None or not inference.use_t:
        return "z", "z tests"
    return "t", f"t tests on {_num(inference.df_resid)} residual df, as R's summary.glm where the dispersion is estimated"


def dispersion_note(result: RunResult) -> list[str]:
    """R's line under its coefficients, with each fit's figure."""
    inference, model = result.inference, result.config.get("model", {})
    if inference is None or inference.network_dispersion is None or not isinstance(model, dict) or "family" not in model:
        return []
    alpha = model.get("alpha")
    try:
        family = families.lookup(
            model["family"], model.get("link"), variance=model.get("variance"), alpha=alpha if isinstance(alpha, (int, float)) else None
        )
    except (KeyError, ValueError):
        return []
    return [
        f"(Dispersion parameter for {family.r_family} family taken to be {_num(inference.network_dispersion, 7)} by the network, "
        f"{_num(inference.glm_scale, 7)} by the GLM)"
    ]


def fit_block(result: RunResult) -> Block:
    n, g, c = fits(result)
    tol = c.tolerance
    judged = "–" if tol is None else f"max abs {tol.max_abs:g}" if tol.max_abs else f"rtol {_num(tol.rtol, 3)}"
    rates = n.learning_rates
    lr = f"{rates[0][1]:.3g}" + (f" → {rates[-1][1]:.3g} ({len(rates) - 1} changes)" if len(rates) > 1 else "") if rates else "–"
    return Block(
        "Fit",
        ["", ""],
        [
            ["max relative diff (to the larger of |coef| and std err)", _num(c.max_rel_diff, 3) + f"  (tolerance: {judged})"],
            ["max abs diff", _num(c.max_abs_diff, 3)],
            ["MAPE %", _relative(c.mape_pct, c)],
            ["relative L2", _relative(c.rel_l2, c)],
            ["cosine of coefficient vectors", _num(c.direction_cosine, 8)],
            ["first step within tolerance", _num(c.epochs_to_match)],
            ["std err: largest relative difference", _num(c.bse_max_rel_diff, 3)],
            ["log-likelihood: network / GLM", f"{_num(c.network_llf, 10)} / {_num(c.glm_llf, 10)}"],
            ["network: steps, seconds, final loss", f"{_text(n.epochs_run)}, {_seconds(n.train_seconds)}, {_num(n.final_loss, 6)}"],
            ["loss: network / at the GLM's coefficients", f"{_num(n.final_loss, 12)} / {_num(g.loss, 12)}"],
            ["network: stopped because", f"{_text(n.stopped)}; own distance estimate {_num(n.distance, 2)} (relative)"],
            ["network: inputs, Adam's learning rate", f"{_text(n.precondition)}; {lr}"],
            ["network: max |gradient| at the end", _num(n.max_abs_grad, 3)],
            ["GLM: iterations, converged", f"{_text(g.iterations)}, {_yes(g.converged)}" + ("; FAILED" if g.failed else "")],
            ["GLM: fitted by", _text(g.method)],
        ],
    )


def _relative(value, c: ComparisonSection) -> str:
    """A measure relative to |GLM coefficient|: 'undefined' where one is zero within round-off (the
    sentence under the tables says which), never a figure such as 4.8e+09 from dividing by 1e-16."""
    return "undefined (see below)" if value is None and c.undefined else _num(value, 3)


def holdout_block(result: RunResult) -> Block:
    validation, data = result.validation, result.data
    assert validation is not None and data is not None
    widths = result.hidden.widths if result.hidden else ""
    labels = {"glm": "GLM", "network": "network (no hidden layer)", "hidden": f"hidden layers {widths}"}
    model = result.config["model"]
    loss = families.lookup(model["family"], model.get("link")).loss_name
    losses = {k: getattr(validation, k) for k in labels if getattr(validation, k) is not None}
    return Block(
        f"Held-out fit ({_text(data.n_validation_rows)} rows held out of both fits; the family's own loss, {loss})",
        ["fit", "training loss", "held-out loss"],
        [[labels[k], _num(v.train_loss, 6), _num(v.validation_loss, 6)] for k, v in losses.items()],
    )


def _pct(value) -> str:
    return "–" if value is None or value != value else f"{value:+.3g} %"


def _plus_minus(mean: float | None, se: float | None, unit: str = "") -> str:
    """A mean and its standard error, the mean to the se's last digit (2196 ± 390, 1.144 ± 0.028) where the se
    reads plainly in decimals; else each to its significant digits."""
    if mean is None or se is None or mean != mean or se != se or not 1e-3 <= abs(se) < 1e5:
        digits = 2 if se is not None and se == se and abs(se) < 1e-3 else 6  # a difference at round-off: 2 digits
        return f"{_num(mean, digits)}{unit} ± {_num(se, 2)}{unit}"
    decimals = max(0, 1 - math.floor(math.log10(abs(se))))
    return f"{mean:.{decimals}f}{unit} ± {se:.{decimals}f}{unit}"


def crossval_block(result: RunResult) -> Block:
    """The cross-validation (data.folds): each model's mean held-out deviance per row over the folds, ± its
    standard error; each network's change of the GLM's, in % (negative: lower), with the paired tests' one-sided p-values."""
    cv = result.cross_validation
    assert cv is not None
    against = {n.model: n for n in cv.networks}
    by_model = crossval.scores(cv)
    rows = []
    for model, values in by_model.items():
        mean, se = crossval.mean_se(values)
        n = against.get(model)
        # the change of the GLM's deviance, as the verdict says it: -2.1 % where the network lowers it
        change = "–" if n is None or n.relative_pct is None else _plus_minus(-n.relative_pct, n.relative_se_pct, " %")
        change = "+" + change if n is not None and (n.relative_pct or 0) < 0 else change
        rows.append(
            [
                crossval.label(model),
                _plus_minus(mean, se),
                change,
                _p(n.p_value_folds) if n else "–",
                _p(n.p_value_rows) if n else "–",
            ]
        )
    folds = cv.folds if cv.folds is not None else len(cv.per_fold)
    stratified = ", stratified by class" if cv.stratified else ""
    return Block(
        f"Cross-validation ({folds} folds{stratified}; held-out {cv.measure or 'deviance'} per row, the mean over the folds ± its standard error)",
        ["model", "held-out deviance per row", "against the GLM's", "p, paired over folds", "p, paired over rows"],
        rows,
    )


def fold_block(result: RunResult) -> Block:
    """The cross-validation fold by fold: its rows and each model's held-out deviance per row."""
    cv = result.cross_validation
    assert cv is not None
    by_model = crossval.scores(cv)
    return Block(
        "Cross-validation by fold (held-out deviance per row)",
        ["fold", "training rows", "held-out rows", *map(crossval.label, by_model)],
        [
            [str(f.fold), _text(f.n_train), _text(f.n_held_out), *(_num(values[i], 6) for values in by_model.values())]
            for i, f in enumerate(cv.per_fold)
        ],
    )


STATISTICS = [
    ("log-likelihood", "llf"),
    ("deviance", "deviance"),
    ("null deviance", "null_deviance"),
    ("null deviance's degrees of freedom", "df_null"),
    ("AIC", "aic"),
    ("BIC (from the log-likelihood)", "bic"),
    ("residual degrees of freedom", "df_resid"),
    ("dispersion", "dispersion"),
    ("Pearson chi²", "pearson_chi2"),
    ("pseudo R² (McFadden)", "pseudo_r2_mcfadden"),
    ("pseudo R² (Cox-Snell)", "pseudo_r2_cox_snell"),
]
# R's summary.glm's "Deviance Residuals" line, as rows
QUANTILES = [("Min", "min"), ("1Q", "q1"), ("Median", "median"), ("3Q", "q3"), ("Max", "max")]


def statistics_block(network: Statistics, glm: Statistics) -> Block:
    """Each fit's figures as statsmodels computes them, at that fit's own coefficients."""
    return Block(
        "Fit statistics (statsmodels' formulas, each at its own fit's coefficients)",
        ["", "network", "GLM"],
        [[label, _num(getattr(network, key), 10), _num(getattr(glm, key), 10)] for label, key in STATISTICS]
        + [
            [
                f"deviance residuals: {label}",
                _num(getattr(network.deviance_residuals, key), 6),
                _num(getattr(glm.deviance_residuals, key), 6),
            ]
            for label, key in QUANTILES
        ],
    )


def notes(result: RunResult) -> list[str]:
    """The sentences under the tables: trouble first, the verdict last."""
    n, g, c = fits(result)
    out = []
    caveat = result.environment.determinism.get("caveat")
    if caveat:
        out.append(f"backend: {caveat}")
    if n.note:
        out.append(f"network: {n.note}")
    out += [f"GLM warning: {w}" for w in g.warnings]
    if result.data is not None:
        names = result.data.feature_names
        out.append(f"data: {len(names)} features used: {listing(names) if names else 'none (the intercept only)'}")
        out += [f"data: {note}" for note in result.data.notes]
    dropped = result.data.rows_dropped if result.data else None
    if dropped:
        out.append(f"data.missing: drop left out {dropped} rows with a missing value in a column the model uses")
    if result.hidden:
        out.append(
            "the hidden-layer network has no coefficients to set beside the GLM's: no equivalence to check, "
            "so it is compared by its fit on held-out rows"
        )
        if result.hidden.note:
            out.append(f"hidden-layer network: {result.hidden.note}")
    if result.validation and result.validation.verdict:
        out.append(result.validation.verdict)
    cv = result.cross_validation
    if cv and cv.fallback:
        out.append(f"cross-validation: {cv.fallback}")
    if cv and cv.verdict:
        out.append(f"cross-validation: {cv.verdict}")
    ref = result.reference
    if ref is not None and ref.coefficients is not None and ref.agreement:
        out.append(ref.agreement)
    elif ref is not None and ref.skipped:
        out.append(f"NumPy reference not run: {ref.skipped}")
    out += errors_notes(result)
    out += dispersion_note(result)
    if c.undefined:
        out.append(c.undefined)
    out.append(c.verdict or "")
    return out


def errors_notes(result: RunResult) -> list[str]:
    """Where the two fits' standard errors are not the same estimator, and why."""
    model = result.config["model"]
    options = result.config.get("inference")
    options = options if isinstance(options, dict) else {}
    cov_type, information = options.get("cov_type", "nonrobust"), options.get("information", "observed")
    out = []
    if cov_type in ("HC1", "HC2", "HC3"):
        out.append(
            f"std err: statsmodels' GLM computes {cov_type} as HC0's sandwich (its leverage and degrees-of-freedom "
            "corrections are for OLS), and the network's errors follow it"
        )
    if model.get("alpha") == families.ESTIMATED:
        out.append(
            "std err: both fits' come from the observed information over the coefficients and alpha: statsmodels' "
            "NegativeBinomial's Hessian, the network's own over its weights and log(alpha), mapped to alpha by the delta method"
        )
        return out
    if families.lookup(model["family"], model.get("link")).canonical:
        return out
    if cov_type == "nonrobust" and information == "observed":
        out.append(
            "std err: the network's come from the observed information (its Hessian), statsmodels' IRLS "
            f"reports the expected information; the two differ for a non-canonical link such as {model['link']} "
            "(inference.information: expected gives the network IRLS's)"
        )
    elif cov_type != "nonrobust" and information == "expected":
        out.append(
            "std err: the network's sandwich has the expected information as its bread, statsmodels' the observed "
            f"information (its Hessian); the two differ for a non-canonical link such as {model['link']}"
        )
    return out


def print_run(result: RunResult, rows: list[dict], run_dir, console: Console | None = None) -> None:
    """The run's tables and sentences; every text from the data (column names, terms, warnings) escaped
    of control characters and never read as markup (see safe.cell)."""
    console = console or wide_console()
    console.print(cell(headline(result)), style="bold")
    for block in blocks(result, rows):
        layout.print_table(console, block.title, block.headers, block.rows, show_header=any(block.headers))
    sentences = notes(result)
    for sentence in sentences[:-1]:
        console.print(cell(sentence))
    colour = "green" if result.comparison and result.comparison.equivalent else "red"
    console.print(cell(sentences[-1]), style=colour)
    console.print(cell(f"run logged in {run_dir} (report.md has the tables and plots)"))
