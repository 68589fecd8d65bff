"""report.md: the run's summary tables, sentences and plots on one page, for a screen or a handout."""

from nnglm import summary
from nnglm.result import RunResult


def _table(block: summary.Block) -> str:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    headers = block.headers if any(block.headers) else ["", ""]
    return "\n".join([line(headers), line(["---"] * len(headers))] + [line(r) for r in block.rows])


def markdown(result: RunResult, rows: list[dict], pictures: dict[str, str]) -> str:
    config = result.config
    parts = [f"# {result.name}", ""]
    if config.get("description"):
        parts += [config["description"], ""]
    parts += [
        f"Run `{result.run_id}`, status {result.status}. {summary.headline(result)}.",
        "",
        f"**{summary.notes(result)[-1]}**",
        "",
    ]
    for block in summary.blocks(result, rows):
        parts += [f"## {block.title}", "", _table(block), ""]
    parts += ["## Notes", ""] + [f"- {s}" for s in summary.notes(result)[:-1]] + [""]
    for file, caption in pictures.items():
        parts += [f"## {caption}", "", f"![{caption}]({file})", ""]
    env = result.environment
    versions = ", ".join(f"{k} {getattr(env, k)}" for k in ("python", "numpy", "keras", "tensorflow", "statsmodels") if getattr(env, k))
    parts += [
        "## Environment",
        "",
        versions,
        "",
        "Rerun: `nnglm run <this folder>/config.yaml` from the folder the run was started in (a CSV's `data.path` is relative to it) reproduces it.",
        "",
    ]
    return "\n".join(parts)
