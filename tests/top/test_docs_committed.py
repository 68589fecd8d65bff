"""The docs read whole where they are read: the generated tables (every config key, generator, family
and link) are committed in the pages, as GitHub shows them, and are the code's own; the built site
keeps a key's name whole in a table's narrow first column."""

import re

import yaml
from support import DOCS, ROOT, hooks


def test_the_pages_hold_the_codes_tables_as_committed():
    assert hooks.stale() == [], "the generated tables differ from the code's: run make docs-tables"
    blocks = {m.group(1) for page in DOCS.glob("*.md") for m in re.finditer(r"<!-- /nnglm:([a-z-]+) -->", page.read_text())}
    assert blocks == set(hooks.TABLES)  # every table is in a page, between its markers
    reference = (DOCS / "writing-a-config.md").read_text()
    assert "| `data.features` |" in reference and "| `description` |" in reference  # on GitHub too, not only in the site
    assert "| poisson | **log**" in (DOCS / "families.md").read_text()


def test_the_site_shows_the_tables_without_their_markers_and_a_stale_copy_never():
    page = "before\n\n<!-- nnglm:links -->\n\n| stale | table |\n|---|---|\n\n<!-- /nnglm:links -->\n\nafter\n"
    shown = hooks.render(page)
    assert shown == f"before\n\n{hooks.link_table()}\n\nafter\n" and "stale" not in shown
    written = hooks.refresh(page)
    assert written == f"before\n\n<!-- nnglm:links -->\n\n{hooks.link_table()}\n\n<!-- /nnglm:links -->\n\nafter\n"
    assert hooks.refresh(written) == written  # writing the tables again changes nothing
    # a bare marker (a page not yet written by make docs-tables) is filled in by the build and by the command
    assert hooks.render("<!-- nnglm:links -->\n") == hooks.link_table() + "\n"
    assert hooks.refresh("<!-- nnglm:links -->\n").endswith("<!-- /nnglm:links -->\n")


def test_check_says_which_page_is_stale(tmp_path, monkeypatch, capsys):
    (tmp_path / "p.md").write_text("<!-- nnglm:families -->\n\n| old |\n\n<!-- /nnglm:families -->\n")
    monkeypatch.setattr(hooks, "DOCS", tmp_path)
    assert hooks.main(["--check"]) == 1
    assert capsys.readouterr().out == "docs/p.md: its generated tables differ from the code's; run make docs-tables\n"
    assert hooks.main([]) == 0 and hooks.main(["--check"]) == 0
    assert hooks.family_table() in (tmp_path / "p.md").read_text()


def test_a_tables_first_column_keeps_a_keys_name_whole_in_the_site():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    (sheet,) = config["extra_css"]
    css = (DOCS / sheet).read_text()
    rule = re.search(r"\.md-typeset table:not\(\[class\]\) td:first-child code\s*\{([^}]*)\}", css)
    assert rule and "white-space: nowrap" in rule.group(1) and "word-break: normal" in rule.group(1)
