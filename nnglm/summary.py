"""The console summary of a run, rendered from its result.json dictionary."""

from rich.console import Console
from rich.table import Table


def _num(value, digits: int = 10) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


MAX_ROWS = 40  # longer coefficient tables are cut here; coefficients.csv has them all


def flat(coefficients: dict) -> dict[str, float]:
    """Multinomial fits nest coefficients by class; the tables list them as '<class>:<term>'."""
    out = {}
    for key, value in coefficients.items():
        if isinstance(value, dict):
            out.update({f"{key}:{term}": v for term, v in value.items()})
        else:
            out[key] = value
    return out


def coefficient_table(result: dict) -> Table:
    net, glm, bse = (flat(result[s][k]) for s, k in [("network", "coefficients"), ("glm", "coefficients"), ("glm", "bse")])
    title = "Network weights beside GLM coefficients"
    if len(glm) > MAX_ROWS:
        title += f" (the first {MAX_ROWS} of {len(glm)}; all in coefficients.csv)"
    table = Table(title=title, title_justify="left")
    for column in ("term", "network", "GLM", "network − GLM", "GLM std. err."):
        table.add_column(column, justify="left" if column == "term" else "right")
    for term, b in list(glm.items())[:MAX_ROWS]:
        w = net[term]
        table.add_row(term, _num(w), _num(b), _num(w - b, 3), _num(bse.get(term), 4))
    return table


def metrics_table(result: dict) -> Table:
    c, n, g = result["comparison"], result["network"], result["glm"]
    table = Table(title="Fit", title_justify="left", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    rows = [
        ("max abs diff", _num(c["max_abs_diff"], 3) + f"  (tolerance {c['tolerance']['max_abs']:g})"),
        ("MAPE %", _num(c["mape_pct"], 3)),
        ("relative L2", _num(c["rel_l2"], 3)),
        ("cosine of coefficient vectors", _num(c["direction_cosine"], 8)),
        ("log-likelihood: network / GLM", f"{_num(c['network_llf'], 10)} / {_num(c['glm_llf'], 10)}"),
        ("network: steps, seconds, final loss", f"{n['epochs_run']}, {n['train_seconds']:.2f}, {_num(n['final_loss'], 6)}"),
        ("network: max |gradient| at the end", _num(n["max_abs_grad"], 3)),
        ("GLM: iterations, converged", f"{g['iterations']}, {'yes' if g['converged'] else 'no'}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def print_run(result: dict, run_dir, console: Console | None = None) -> None:
    console = console or Console()
    env, data = result["environment"], result["data"]
    console.print(
        f"[bold]{result['name']}[/bold]  {data['n_rows']} rows × {data['n_features']} features, "
        f"target {data['target']!r};  {env['backend']} on {env['device']}, {env['dtype']}"
    )
    console.print(coefficient_table(result))
    console.print(metrics_table(result))
    if result["network"]["note"]:
        console.print(f"[yellow]network:[/yellow] {result['network']['note']}")
    for note in result["glm"]["warnings"]:
        console.print(f"[yellow]GLM warning:[/yellow] {note}")
    colour = "green" if result["comparison"]["equivalent"] else "red"
    console.print(f"[{colour}]{result['comparison']['verdict']}[/{colour}]")
    console.print(f"run logged in {run_dir}")
