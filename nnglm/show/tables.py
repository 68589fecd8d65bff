"""The tables `nnglm runs` and `nnglm compare` print: the logged runs, newest first, and runs side by
side (what differs, each against its GLM, coefficients, errors, the verdict of the comparison)."""

from pathlib import Path

from nnglm.foundation import safe
from nnglm.log.logbook import NUMERIC_COLUMNS, RUNS_COLUMNS, LoggedRun, RunComparison, row, runs_columns
from nnglm.log.result import Status
from nnglm.show import layout
from nnglm.show.summary import wide_console


def plain(value: object, limit: int = 200):
    """A table cell shown as written: text from a result.json is never read as rich markup, and its
    control characters are escaped."""
    return safe.cell(value, limit)


def print_runs(runs: list[LoggedRun], root: Path, console=None) -> None:
    console = console or wide_console()
    columns = runs_columns(runs)
    # the name and the id (what `nnglm compare` takes) lead every part of a table too wide to show at once
    layout.print_table(
        console,
        plain(f"{len(runs)} runs in {root}, newest first").plain,
        columns,
        [list(map(plain, row(run, cv=columns != RUNS_COLUMNS))) for run in runs],
        right=[column in NUMERIC_COLUMNS for column in columns],
        styles=["red" if run.status in (Status.BROKEN, Status.FAILED, Status.DEAD) else None for run in runs],
        keys=2,
    )


def per_run_rows(rows: dict[str, list], digits: int) -> list[list]:
    """One row per key, one column per run, '–' where a run has no value."""
    # a key may hold a term, named by the data: never read as markup
    return [[plain(key), *["–" if v is None or v != v else f"{v:.{digits}g}" for v in values]] for key, values in rows.items()]


def print_comparison(c: RunComparison, console=None) -> None:
    console = console or wide_console()
    labels = [f"{r.name}/{r.run_id}" for r in c.runs]
    short = [f"run {i + 1}" for i in range(len(c.runs))]
    for label, s in zip(labels, short):
        console.print(plain(f"{s}: {label}", 400))

    def diff_table(title: str, diff: dict[str, list]) -> None:
        if not diff:
            console.print(f"{title}: the same in every run")
            return
        layout.print_table(console, title, ["key", *short], [[plain(key), *map(plain, values)] for key, values in diff.items()], right=None)

    def per_run(title: str, first: str, rows: dict[str, list], digits: int) -> None:
        layout.print_table(console, title, [first, *short], per_run_rows(rows, digits))

    diff_table("Config keys that differ", c.config_diff)
    diff_table("Environment that differs", c.environment_diff)
    print_verdicts(c, short, console)
    layout.print_table(
        console,
        "Coefficients (network; GLM)" + (f", the first 40 of {len(c.terms)}" if len(c.terms) > 40 else ""),
        ["term", *[f"{s} network" for s in short], "GLM (run 1)"],
        [[plain(term), *[f"{v:.12g}" for v in c.network[:, j]], f"{c.glm[0, j]:.12g}"] for j, term in enumerate(c.terms[:40])],
    )
    if c.statistics:
        per_run("Fit statistics (statsmodels' formulas at each fit's coefficients)", "fit.statistic", c.statistics, 10)
    errors = {"standard errors": c.errors}
    if len(set(c.errors)) > 1:
        diff_table("Standard errors used", errors)
    else:
        console.print(plain(f"standard errors: {c.errors[0]}, in every run"))
    if c.bse:
        per_run("Standard errors (each run's own)", "fit.term", c.bse, 8)
    if c.validation:
        per_run("Losses (held-out rows kept out of every fit)", "fit.loss", c.validation, 6)
    if c.cross_validation:
        title = "Cross-validation (held-out deviance per row, the mean over the folds; each network's change of the GLM's)"
        per_run(title, "model.figure", c.cross_validation, 6)
    colour = "green" if c.same else "red"
    console.print(f"[{colour}]{verdict(c)}[/{colour}]")


def verdict(c: RunComparison) -> str:
    """The comparison's last line: the largest difference of the runs' weights, and whether they are the same."""
    judged = (
        f"judged relative: runs in different dtypes are judged as the verdict judges them, tolerance {c.tolerance:g}"
        if c.relative
        else f"judged absolute, tolerance {c.tolerance:g}"
    )
    return (
        f"largest difference between the runs' network weights: relative {c.max_rel_weight_diff:.3g} "
        f"(to max(|GLM coefficient|, std err)), absolute {c.max_weight_diff:.3g} ({judged}): {'the same' if c.same else 'different'}"
    )


def print_verdicts(c: RunComparison, labels: list[str], console) -> None:
    """Each run against its own GLM, as its verdict measured it: the relative measure first."""
    columns = ["run", "max rel diff", "max abs diff", "steps", "verdict"]
    rows = []
    for label, run in zip(labels, c.runs):
        cells = row(run)
        comparison = run.result.comparison if run.result else None
        absolute = "" if comparison is None or comparison.max_abs_diff is None else f"{comparison.max_abs_diff:.3g}"
        at = RUNS_COLUMNS.index
        rows.append([label, plain(cells[at("max rel diff")]), absolute, plain(cells[at("steps")]), plain(cells[at("verdict")])])
    layout.print_table(
        console, "Each run against its GLM (the verdict's measure first)", columns, rows, right=[c in NUMERIC_COLUMNS for c in columns]
    )
