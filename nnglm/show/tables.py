"""The tables `nnglm runs` and `nnglm compare` print: the logged runs, newest first, and runs side by
side (what differs, each against its GLM, coefficients, errors, the verdict of the comparison)."""

from pathlib import Path

from nnglm import safe
from nnglm.log.logbook import NUMERIC_COLUMNS, RUNS_COLUMNS, LoggedRun, RunComparison, row
from nnglm.show.summary import wide_console


def plain(value: object, limit: int = 200):
    """A table cell shown as written: text from a result.json is never read as rich markup, and its
    control characters are escaped."""
    return safe.cell(value, limit)


def print_runs(runs: list[LoggedRun], root: Path, console=None) -> None:
    from rich.table import Table

    console = console or wide_console()
    table = Table(title=plain(f"{len(runs)} runs in {root}, newest first"), title_justify="left")
    for column in RUNS_COLUMNS:
        # the id is what `nnglm compare` takes: never wrapped, so that it can be copied whole
        table.add_column(column, justify="right" if column in NUMERIC_COLUMNS else "left", no_wrap=column == "id")
    for run in runs:
        table.add_row(*map(plain, row(run)), style="red" if run.status in ("broken", "failed", "dead") else None)
    console.print(table)


def per_run_table(title: str, first: str, runs: list[str], rows: dict[str, list], digits: int):
    """One row per key, one column per run, '–' where a run has no value."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column(first)
    for run in runs:
        table.add_column(run, justify="right")
    for key, values in rows.items():
        # a key may hold a term, named by the data: never read as markup
        table.add_row(plain(key), *["–" if v is None or v != v else f"{v:.{digits}g}" for v in values])  # None or NaN: undefined
    return table


def print_comparison(c: RunComparison, console=None) -> None:
    from rich.table import Table

    console = console or wide_console()
    labels = [f"{r.name}/{r.run_id}" for r in c.runs]
    short = [f"run {i + 1}" for i in range(len(c.runs))]
    for label, s in zip(labels, short):
        console.print(plain(f"{s}: {label}", 400))

    def diff_table(title: str, diff: dict[str, list]) -> None:
        if not diff:
            console.print(f"{title}: the same in every run")
            return
        table = Table(title=title, title_justify="left")
        table.add_column("key")
        for s in short:
            table.add_column(s)
        for key, values in diff.items():
            table.add_row(plain(key), *map(plain, values))
        console.print(table)

    diff_table("Config keys that differ", c.config_diff)
    diff_table("Environment that differs", c.environment_diff)
    console.print(verdict_table(c, short))
    table = Table(
        title="Coefficients (network; GLM)" + (f", the first 40 of {len(c.terms)}" if len(c.terms) > 40 else ""), title_justify="left"
    )
    table.add_column("term")
    for s in short:
        table.add_column(f"{s} network", justify="right")
    table.add_column("GLM (run 1)", justify="right")
    for j, term in enumerate(c.terms[:40]):
        table.add_row(plain(term), *[f"{v:.12g}" for v in c.network[:, j]], f"{c.glm[0, j]:.12g}")
    console.print(table)
    if c.statistics:
        console.print(
            per_run_table("Fit statistics (statsmodels' formulas at each fit's coefficients)", "fit.statistic", short, c.statistics, 10)
        )
    errors = {"standard errors": c.errors}
    if len(set(c.errors)) > 1:
        diff_table("Standard errors used", errors)
    else:
        console.print(plain(f"standard errors: {c.errors[0]}, in every run"))
    if c.bse:
        console.print(per_run_table("Standard errors (each run's own)", "fit.term", short, c.bse, 8))
    if c.validation:
        console.print(per_run_table("Losses (held-out rows kept out of every fit)", "fit.loss", short, c.validation, 6))
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


def verdict_table(c: RunComparison, labels: list[str]):
    """Each run against its own GLM, as its verdict measured it: the relative measure first."""
    from rich.table import Table

    table = Table(title="Each run against its GLM (the verdict's measure first)", title_justify="left")
    for column in ("run", "max rel diff", "max abs diff", "steps", "verdict"):
        table.add_column(column, justify="right" if column in NUMERIC_COLUMNS else "left")
    for label, run in zip(labels, c.runs):
        cells = row(run)
        comparison = run.result.comparison if run.result else None
        absolute = "" if comparison is None or comparison.max_abs_diff is None else f"{comparison.max_abs_diff:.3g}"
        at = RUNS_COLUMNS.index
        table.add_row(label, plain(cells[at("max rel diff")]), absolute, plain(cells[at("steps")]), plain(cells[at("verdict")]))
    return table
