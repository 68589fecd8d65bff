"""MkDocs hook: the references generated from the code, so that they cannot drift from it.

A page holds a block, `<!-- nnglm:NAME -->` ... `<!-- /nnglm:NAME -->`, with the table between:
config-reference (every key of the config schema, from nnglm/config/schema.py's pydantic models and
their descriptions), generators (the synthetic generators' parameters), families and links
(nnglm/vocabulary/families.py). The tables are committed in the pages, so that docs/ reads whole on GitHub;
`python docs/hooks.py` (make docs-tables) writes them again from the code, a test fails while a page's
table differs from the code's, and the build puts the code's table in place of the block (markers
left out), so that the site never shows a stale one. A bare start marker is filled in by the build too.
"""

import math
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

# the only imports of nnglm: where the package moves, these lines move with it
from nnglm.config import schema
from nnglm.vocabulary import families, generators

MARKER = re.compile(r"<!-- nnglm:([a-z-]+) -->(?:\n(?:.*?\n)?<!-- /nnglm:\1 -->)?", re.S)
DOCS = Path(__file__).resolve().parent


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _constraint(meta: Any) -> str:
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "length ≥", "max_length": "length ≤", "pattern": "matching"}
    if hasattr(meta, "metadata"):  # a pydantic Field(...) inside Annotated holds its bounds in turn
        return ", ".join(c for c in (_constraint(m) for m in meta.metadata) if c)
    parts = []
    for key, sign in words.items():
        value = getattr(meta, key, None)
        if key == "pattern" and value is not None:
            parts.append(f"matching `{value}`")
        elif value is not None:
            parts.append(f"{sign} {value:,}" if isinstance(value, int) and not isinstance(value, bool) else f"{sign} {value}")
    return ", ".join(parts)


def type_text(annotation: Any) -> str:
    """A field's type in words: the allowed values of a Literal, a number's bounds, a union's parts."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is typing.Annotated:
        bounds = ", ".join(c for c in (_constraint(m) for m in args[1:]) if c)
        return f"{type_text(args[0])} ({bounds})" if bounds else type_text(args[0])
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(type_text(a) for a in args)
    if origin is list:
        return f"list of {type_text(args[0])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def default_text(field: Any) -> str:
    if field.default is PydanticUndefined:
        return "required"
    value = field.default
    if isinstance(value, BaseModel):
        return "(its keys' defaults)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return f"{value:g}"
    return f"`{value}`" if value != "" and value != [] else ('`""`' if value == "" else "`[]`")


def fields_table(model: type[BaseModel], prefix: str, only: list[str] | None = None, tag: str | None = None) -> str:
    """A section's keys; `tag` is the key that picks the model of a union, required whatever its default."""
    rows = ["| key | type, allowed values | default | what it does |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if only is not None and name not in only:
            continue
        kind = type_text(field.annotation)
        bounds = ", ".join(c for c in (_constraint(m) for m in field.metadata) if c)
        kind = f"{kind} ({bounds})" if bounds else kind
        default = "required" if name == tag else default_text(field)
        rows.append(f"| `{prefix}{name}` | {kind} | {default} | {_cell(field.description or '')} |")
    return "\n".join(rows)


def config_reference() -> str:
    """Every section and key of a config, in the schema's order."""
    top = [n for n, f in schema.Config.model_fields.items() if not _is_section(f.annotation)]
    parts = ["### The top level", fields_table(schema.Config, "", top)]
    shared = list(schema.DataSource.model_fields)
    parts += ["### `data`: the keys every source takes", fields_table(schema.FileData, "data.", [k for k in shared if k != "source"])]
    for source, model in _sources().items():
        own = [k for k in model.model_fields if k not in shared or k == "source"]
        parts += [f"### `data`, `source: {source}`", fields_table(model, "data.", own, tag=_data_tag())]
    for section in ("model", "train", "glm", "compare", "inference"):
        model = schema.Config.model_fields[section].annotation
        parts += [f"### `{section}`", fields_table(model, f"{section}.")]
    parts += ["### `model.penalty`", fields_table(schema.Penalty, "model.penalty.")]
    return "\n\n".join(parts)


def _is_section(annotation: Any) -> bool:
    """Whether a key holds a section of its own (a model, or a union of them, as data)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_is_section(a) for a in typing.get_args(annotation))


def _data_tag() -> str:
    """The key that picks a data source (the discriminator of the data section's union)."""
    return next(m.discriminator for m in typing.get_args(schema.DataConfig)[1:] if getattr(m, "discriminator", None))


def _sources() -> dict[str, type[BaseModel]]:
    """Each source model once, under its first name (file, not csv)."""
    seen: dict[type[BaseModel], str] = {}
    for name, model in schema.SOURCES.items():
        seen.setdefault(model, name)
    return {name: model for model, name in seen.items()}


def generator_table() -> str:
    rows = ["| `data.generator` | parameters (default) | target |", "|---|---|---|"]
    for name, model in generators.GENERATORS.items():
        params = generators.parameters(name)
        said = ", ".join(f"`{p}`: {'required' if v is generators.REQUIRED else v}" for p, v in params.items()) or "none"
        targets = " \\| ".join(f"`{t}`" for t in model.targets)
        rows.append(f"| `{name}` | {said} | {targets} |")
    return "\n".join(rows)


def _loss_text(distribution: families.Distribution) -> str:
    nll = distribution.nll
    if isinstance(nll, str):
        factor = f" ({distribution.nll_factor:g} × NLL)" if distribution.nll_factor != 1 else ""
        return f"Keras' `{nll}`{factor}"
    return _cell((nll.__doc__ or "").strip()) if callable(nll) else ""


def family_table() -> str:
    rows = [
        "| family | links (**default** first) | parameters | Keras loss (per row, scale 1) | statsmodels | target | mean |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in families.DISTRIBUTIONS.values():
        links = ", ".join(f"**{link}**" if i == 0 else link for i, link in enumerate(d.links))
        params = ", ".join(f"`model.{p.name}`: {p.rule}; default {p.default:g}" for p in d.params) or "none"
        statsmodels = (f"GLM, {d.sm_name}" + (', scale="X2"' if d.quasi else "")) if d.sm_name else "MNLogit"
        rows.append(f"| {d.name} | {links} | {_cell(params)} | {_loss_text(d)} | {statsmodels} | {d.target_rule} | {d.mean_domain} |")
    return "\n".join(rows)


def _interval(low: float, high: float) -> str:
    if math.isinf(low) and math.isinf(high):
        return "anywhere"
    if math.isinf(high):
        return f"η > {low:g}"
    return f"η < {high:g}" if math.isinf(low) else f"{low:g} < η < {high:g}"


def link_table() -> str:
    rows = ["| link | statsmodels | activation (the inverse link) | where η must lie, by the mean's domain |", "|---|---|---|---|"]
    for link in families.LINKS.values():
        domain = "; ".join(f"{mean}: {_interval(*bounds)}" for mean, bounds in link.domain.items()) or "anywhere"
        rows.append(f"| {link.name} | {link.sm_name} | `{link.activation_name}` | {domain} |")
    for d in families.DISTRIBUTIONS.values():
        rows += [
            f"| {link} | MNLogit | `{link}` over C classes | anywhere |" for link in d.links if d.multiclass and link not in families.LINKS
        ]
    return "\n".join(rows)


TABLES = {
    "config-reference": config_reference,
    "generators": generator_table,
    "families": family_table,
    "links": link_table,
}


def _table(name: str) -> str:
    if name not in TABLES:
        raise ValueError(f"unknown marker <!-- nnglm:{name} -->; known: {', '.join(TABLES)}")
    return TABLES[name]()


def render(markdown: str) -> str:
    """The page as the site shows it: each block (or bare marker) replaced by the code's table alone; an
    unknown marker is an error, not a silent gap."""
    return MARKER.sub(lambda m: _table(m.group(1)), markdown)


def refresh(markdown: str) -> str:
    """The page as it is committed: each block holding the code's table between its markers, blank lines
    around it (a table right under an HTML comment would not be read as a table)."""
    return MARKER.sub(lambda m: f"<!-- nnglm:{m.group(1)} -->\n\n{_table(m.group(1))}\n\n<!-- /nnglm:{m.group(1)} -->", markdown)


def stale() -> list[str]:
    """The pages whose committed tables differ from the code's."""
    return [page.name for page in sorted(DOCS.glob("*.md")) if refresh(page.read_text()) != page.read_text()]


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return render(markdown)


def main(argv: list[str]) -> int:
    """Writes the code's tables into the pages (`--check`: only says which pages are stale, exit 1 if any)."""
    if "--check" in argv:
        pages = stale()
        print("\n".join(f"docs/{p}: its generated tables differ from the code's; run make docs-tables" for p in pages))
        return 1 if pages else 0
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        if refresh(text) != text:
            page.write_text(refresh(text))
            print(f"docs/{page.name}: tables written from the code")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
