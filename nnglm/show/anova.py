"""What `nnglm anova` prints: R's analysis of deviance table, each model's row from the GLM and from
the network one above the other, then the largest difference between the two."""

import math

from nnglm.foundation.safe import cell
from nnglm.model.anova import FITS, Anova
from nnglm.show import layout
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
    console = console or wide_console()
    heading = lines(a)
    for line in heading[1:]:
        console.print(cell(line, 400))
    columns = list(a.tables["glm"].columns)
    rows = []
    for model in a.tables["glm"].index:
        for fit in ("glm", "network"):
            values = a.tables[fit].loc[model]
            rows.append([cell(str(model) if fit == "glm" else ""), FIT_NAMES[fit], *[number(c, values[c]) for c in columns]])
    # the model (or term) and the fit lead every part of a table too wide for the console; no number is cut
    first = "term" if a.sequential else "model"
    layout.print_table(console, heading[0], [first, "fit", *columns], rows, right=[not a.sequential, False] + [True] * len(columns), keys=2)
    for note in a.notes:
        console.print(cell(f"note: {note}", 400))
    colour = "green" if a.equal else "red"
    console.print(f"[{colour}]{a.verdict()}[/{colour}]")
