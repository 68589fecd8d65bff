"""The docs: the generated references name every key, family and link; the site builds strict."""

import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from support import DOCS, ROOT, hooks

from nnglm.config import schema
from nnglm.vocabulary import families


def _models(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _models(a)]


def schema_keys() -> dict[str, str | None]:
    """Every dotted key a config may hold, walked from the schema itself, with its description."""
    keys: dict[str, str | None] = {}

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            keys[prefix + name] = field.description
            for inner in _models(field.annotation):
                walk(inner, f"{prefix}{name}.")

    walk(schema.Config, "")
    for model in schema.SOURCES.values():
        walk(model, "data.")
    for section in ("data", "model", "train", "glm", "compare", "inference", "model.penalty"):
        keys.pop(section)
    return keys


def test_the_config_reference_names_every_key_of_the_schema_with_its_description():
    reference = hooks.config_reference()
    keys = schema_keys()
    assert len(keys) > 60  # the walk found the sections' keys, not only the top level
    missing = [key for key in keys if f"| `{key}` |" not in reference]
    assert missing == []
    assert [key for key, description in keys.items() if not description] == []


def test_the_family_table_names_every_family_with_its_links_default_first():
    table = hooks.family_table()
    for name, distribution in families.DISTRIBUTIONS.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
        links = row.split(" | ")[1].split(", ")
        assert links == [f"**{distribution.links[0]}**", *distribution.links[1:]]
        assert all(f"`model.{p.name}`" in row for p in distribution.params)
        assert row.split(" | ")[3].strip()  # a loss for every family
    links = hooks.link_table()
    every_link = {link for d in families.DISTRIBUTIONS.values() for link in d.links}
    assert {line.split(" | ")[0].lstrip("| ") for line in links.splitlines()[2:]} == every_link


def test_every_marker_in_the_pages_is_replaced_and_an_unknown_one_is_an_error():
    for page in DOCS.glob("*.md"):
        assert "<!-- nnglm:" not in hooks.render(page.read_text()), page.name
    with pytest.raises(ValueError, match=r"unknown marker <!-- nnglm:nosuch -->; known: config-reference"):
        hooks.render("<!-- nnglm:nosuch -->")


def test_every_page_is_in_the_nav_and_the_readme_is_short():
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    listed = {page for entry in nav for page in entry.values()}
    assert listed == {page.name for page in DOCS.glob("*.md")}
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_the_readme_and_the_config_page_show_the_same_csv_config():
    block = re.compile(r"A CSV config looks like:\n\n```yaml\n(.*?)```", re.S)
    readme = block.search((ROOT / "README.md").read_text()).group(1)
    assert block.search((DOCS / "writing-a-config.md").read_text()).group(1) == readme


@pytest.mark.runs
def test_the_site_builds_strict(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (the docs extra: make install EXTRAS=test,dev,docs)")
    done = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "site" / "writing-a-config.html").read_text()
    assert "<code>train.max_seconds</code>" in page and "nnglm:config-reference" not in page
    assert not (tmp_path / "site" / "hooks.py").exists()  # the hook is code, not published
