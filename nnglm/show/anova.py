"""What `nnglm anova` prints: R's analysis of deviance table, each model's row from the GLM and from
the network one above the other, then the largest difference between the two."""

import math

from nnglm.model.anova import FITS, Anova
from nnglm.safe import cell
from nnglm.show.summary import wide_console

FIT_NAMES = {"glm": "GLM", "network": "network"}


def number(column: str, value: float) -> str:
    if value is None or math.isnan(value):
        return ""  # R leaves the first model's Df, Deviance and test blank
    if column.startswith("Pr("):
        return f"{value:.5g}"
    if column in ("Resid. Df", "Df") and float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.10g}"


def lines(a: Anova) -> list[str]:
    """The heading, as R prints it: the table's name, the dispersion, each model's formula and run (one
    run's sequential table: its family, response and run)."""
    known = "estimated, the largest model's" if a.estimated else "known"
    dispersion = "; ".join(f"{FIT_NAMES[fit]} {a.dispersion[fit]:.6g}" for fit in FITS) if a.estimated else "1"
    title = f"Analysis of Deviance Table (test {a.test}; dispersion {dispersion}, {known})"
    if a.sequential:
        m = a.models[0]
        model, data = m.result.config.get("model") or {}, m.result.data
        return [
            title,
            f"Model: {model.get('family')}, link: {model.get('link')}   ({m.label}: {m.described})",
            f"Response: {data.target if data else '?'}",
            "Terms added sequentially (first to last)",
        ]
    return [title] + [f"Model {i}: {m.described}   ({m.label})" for i, m in enumerate(a.models, start=1)]


def print_anova(a: Anova, console=None) -> None:
    from rich.table import Table

    console = console or wide_console()
    for line in lines(a):
        console.print(cell(line, 400))
    columns = list(a.tables["glm"].columns)
    table = Table(title_justify="left")
    table.add_column("term" if a.sequential else "model", justify="left" if a.sequential else "right")
    table.add_column("fit")
    for column in columns:
        table.add_column(column, justify="right")
    for model in a.tables["glm"].index:
        for fit in ("glm", "network"):
            values = a.tables[fit].loc[model]
            table.add_row(
                str(model) if fit == "glm" else "", FIT_NAMES[fit], *[number(c, values[c]) for c in columns], end_section=fit == "network"
            )
    console.print(table)
    for note in a.notes:
        console.print(cell(f"note: {note}", 400))
    colour = "green" if a.equal else "red"
    console.print(f"[{colour}]{a.verdict()}[/{colour}]")
