"""A run's report: its summary tables, sentences and plots on one page, written twice from the same
parts: report.md (for a repository) and report.html (one self-contained file, the plots embedded,
to mail to a student or a reviewer)."""

import base64
import html
from dataclasses import dataclass
from pathlib import Path

from nnglm.foundation.errors import UserError
from nnglm.log import runlog
from nnglm.log.result import RunResult, Status
from nnglm.show import summary

PLOTS_LATER = [
    "This run was a sweep point: its plots were not drawn, as they would cost more than its training. "
    "Draw them into this folder (loss.png, distance.png; lines.png for two features and a binary target) "
    "and add them to this report with `nnglm report <this folder>`; the loss is in history.csv, each "
    "logged step's weights in trajectory.csv."
]


@dataclass
class Part:
    kind: str  # title | heading | text | verdict | table | list | picture
    text: str = ""
    block: summary.Block | None = None
    items: tuple[str, ...] = ()
    file: str = ""


def parts(result: RunResult, rows: list[dict], pictures: dict[str, str], later: bool = False) -> list[Part]:
    """The report's content, top to bottom; `later`: a sweep point whose plots are drawn on demand."""
    config = result.config
    out = [Part("title", str(result.name))]
    if config.get("description"):
        out.append(Part("text", str(config["description"])))
    sentences = summary.notes(result)
    out += [
        Part("text", f"Run `{result.run_id}`, status {result.status}. {summary.headline(result)}."),
        Part("verdict", sentences[-1]),
    ]
    for block in summary.blocks(result, rows):
        out += [Part("heading", block.title), Part("table", block=block)]
    if result.cross_validation:
        folds = summary.fold_block(result)
        out += [Part("heading", folds.title), Part("table", block=folds)]
    out += [Part("heading", "Notes"), Part("list", items=tuple(sentences[:-1]))]
    for file, caption in pictures.items():
        out += [Part("heading", caption), Part("picture", caption, file=file)]
    if later:
        out += [Part("heading", "Plots")] + [Part("text", t) for t in PLOTS_LATER]
    env = result.environment
    versions = ", ".join(f"{k} {getattr(env, k)}" for k in ("python", "numpy", "keras", "tensorflow", "statsmodels") if getattr(env, k))
    out += [
        Part("heading", "Environment"),
        Part("text", versions),
        Part(
            "text",
            "Rerun: `nnglm run <this folder>/config.yaml` from the folder the run was started in "
            "(a CSV's `data.path` is relative to it) reproduces it.",
        ),
    ]
    return out


# --- markdown ---


def _md_table(block: summary.Block) -> str:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    headers = block.headers if any(block.headers) else ["", ""]
    return "\n".join([line(headers), line(["---"] * len(headers))] + [line(r) for r in block.rows])


def _md(part: Part) -> str:
    if part.kind == "title":
        return f"# {part.text}"
    if part.kind == "heading":
        return f"## {part.text}"
    if part.kind == "verdict":
        return f"**{part.text}**"
    if part.kind == "table":
        assert part.block is not None
        return _md_table(part.block)
    if part.kind == "list":
        return "\n".join(f"- {s}" for s in part.items)
    if part.kind == "picture":
        return f"![{part.text}]({part.file})"
    return part.text


def markdown(result: RunResult, rows: list[dict], pictures: dict[str, str], later: bool = False) -> str:
    return "\n\n".join(_md(p) for p in parts(result, rows, pictures, later)) + "\n"


# --- html ---

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85rem; } td, th { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; }
td:not(:first-child), th:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: bold; padding: 0.6rem 0.8rem; border-left: 4px solid; }
.equivalent { border-color: #2a8a2a; background: #eef8ee; } .different { border-color: #c0392b; background: #fbeeee; }
img { max-width: 100%; } code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def _inline(text: str) -> str:
    """Text with its `code` spans, escaped: nothing in a result.json is read as HTML."""
    pieces = text.split("`")
    if len(pieces) % 2 == 0:  # an odd number of backticks: none is a code span
        return html.escape(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(pieces))


def _html_table(block: summary.Block) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.headers) if any(block.headers) else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in block.rows)
    return f"<table>{f'<thead><tr>{head}</tr></thead>' if head else ''}<tbody>{body}</tbody></table>"


def _html(part: Part, run_dir: Path, equivalent: bool) -> str:
    if part.kind == "title":
        return f"<h1>{html.escape(part.text)}</h1>"
    if part.kind == "heading":
        return f"<h2>{html.escape(part.text)}</h2>"
    if part.kind == "verdict":
        return f'<p class="verdict {"equivalent" if equivalent else "different"}">{_inline(part.text)}</p>'
    if part.kind == "table":
        assert part.block is not None
        return _html_table(part.block)
    if part.kind == "list":
        return "<ul>" + "".join(f"<li>{_inline(s)}</li>" for s in part.items) + "</ul>"
    if part.kind == "picture":
        png = base64.b64encode((run_dir / part.file).read_bytes()).decode("ascii")
        return f'<figure><img alt="{html.escape(part.text)}" src="data:image/png;base64,{png}"></figure>'
    return f"<p>{_inline(part.text)}</p>"


def html_page(result: RunResult, rows: list[dict], pictures: dict[str, str], run_dir: Path, later: bool = False) -> str:
    """report.html: one file, nothing fetched from elsewhere (the plots are in it as data)."""
    equivalent = bool(result.comparison and result.comparison.equivalent)
    body = "\n".join(_html(p, run_dir, equivalent) for p in parts(result, rows, pictures, later))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(str(result.name))} — {html.escape(str(result.run_id))}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def write(run_dir: Path, result: RunResult, rows: list[dict], pictures: dict[str, str], later: bool = False) -> None:
    """report.md and report.html into the run folder."""
    runlog.write_atomic(run_dir / runlog.REPORT_MD, markdown(result, rows, pictures, later))
    runlog.write_atomic(run_dir / runlog.REPORT_HTML, html_page(result, rows, pictures, run_dir, later))


def command(folders: list[Path]) -> list[str]:
    """`nnglm report RUN ...`: each run's plots and report drawn (again) from its files, and the picture
    of each sweep whose points are among them; one line a thing done."""
    from nnglm.log import logbook  # matplotlib; no TensorFlow
    from nnglm.show import plots

    lines, points = [], []
    for folder in folders:
        logged = logbook.read(folder)
        if logged.result is not None and logged.result.sweep_point:
            points.append(folder)
        if logged.result is not None and not logged.result.sweep_point and plots.drawn(folder):
            lines.append(f"{folder}: a single run, whose plots were drawn when it ran; nothing to do")
            continue
        if logged.result is not None and logged.status != Status.COMPLETED:  # a failed or dead sweep point: no plots to draw
            lines.append(f"{folder}: status {logged.status}; nothing to draw")
            continue
        pictures = redraw(folder)
        lines.append(f"{folder}: drew {', '.join(pictures)}; report.md and report.html show them")
    for sweep in sweeps(points):
        if len(sweep) > 1:
            lines.append(f"{plots.draw_sweep(sweep)}: the picture of the sweep of {len(sweep)} points")
    return lines


def redraw(run_dir: Path) -> dict[str, str]:
    """`nnglm report RUN`: draw a run folder's plots from its files (as a sweep point leaves it, or any
    completed run) and write its report again with them."""
    from nnglm.show import plots  # matplotlib

    f = plots.read_folder(run_dir)
    try:
        markdown(f.result, f.rows, {})  # the tables can be made: checked before anything is drawn
    except (ValueError, KeyError) as e:
        raise UserError(f"{run_dir}: its result.json cannot be summarized ({e})") from None
    pictures = plots.draw(run_dir, f.result, f.config, f.rows, f.history, f.trajectory, lambda: plots.training_rows(f.config, run_dir))
    write(run_dir, f.result, f.rows, pictures)
    return pictures


def sweeps(points: list[Path]) -> list[list[Path]]:
    """Sweep points grouped into sweeps: the points of one sweep set the same keys, in the same run log folder."""
    from nnglm.log import logbook

    groups: dict[tuple, list[Path]] = {}
    for folder in points:
        result = logbook.read(folder).result
        keys = tuple(sorted(result.sweep_point or {})) if result else ()
        groups.setdefault((str(folder.resolve().parent), keys), []).append(folder)
    return list(groups.values())
