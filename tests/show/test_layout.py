"""The console's tables at 80 and 60 columns: no name and no number cut short, the columns that do not
fit stacked under the first ones (the term repeated), a name longer than the width folded onto further
lines; and the summary of a real run (Dobson's Poisson example) laid out the same way."""

import io

import pytest
from rich.console import Console

from nnglm.show import layout, summary

LONG = "C(treatment_given_in_the_second_week_of_the_trial)[T.3]"  # 55 characters, a patsy-style term
HEADERS = ["term", "coef", "std err", "z", "P>|z|", "[0.025", "0.975]", "GLM std err"]
ROWS = [
    ["(Intercept)", "3.04452", "0.1709", "17.81", "<0.001", "2.71", "3.379", "0.1709"],
    [LONG, "-2.92609e-08", "0.2", "-1.463e-07", "1.000", "-0.392", "0.392", "0.2"],
    ["outcome2", "-0.4542539857", "0.2022", "-2.247", "0.025", "-0.8505", "-0.05801", "0.2022"],
]


def shown(width: int, headers=HEADERS, rows=ROWS, **options) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    layout.print_table(console, "The network read as a GLM", headers, rows, **options)
    return console.file.getvalue()


def first_column(text: str) -> str:
    """The first column's fragments of every table row, joined: a folded name reads whole again."""
    return "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))


@pytest.mark.parametrize("width", [80, 60])
def test_no_name_or_number_is_cut_at_a_narrow_width(width):
    text = shown(width)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    lines = text.splitlines()
    for row in ROWS:
        for value in row[1:]:
            assert any(f" {value} " in line for line in lines), (value, text)  # whole, on one line
    assert LONG in first_column(text)
    # the columns that did not fit are in a further table, which says so and repeats the terms
    assert "(part 1 of " in text and "(part 2 of " in text
    assert first_column(text).count("outcome2") >= 2


def test_a_name_up_to_half_the_width_is_never_folded():
    text = shown(120)
    assert any(LONG in line for line in text.splitlines())
    assert any(" outcome2 " in line for line in shown(60).splitlines())


@pytest.mark.parametrize("width", [80, 60])
def test_a_name_longer_than_half_the_width_is_folded_not_cut(width):
    text = shown(width)
    assert not any(LONG in line for line in text.splitlines())  # folded, so that numbers fit beside it
    assert LONG in first_column(text)
    assert text.count("(part ") <= 4


def test_a_table_that_fits_is_one_table_as_before():
    text = shown(200)
    assert "part" not in text and text.count("term") == 1


def test_text_wraps_at_its_spaces_and_keeps_every_word():
    rows = [["max relative diff (to the larger of |coef| and std err)", "2.83e-06  (tolerance: rtol 0.0001)"]]
    text = shown(40, ["", ""], rows, show_header=False)
    words = " ".join(line.replace("│", " ") for line in text.splitlines()).split()
    for word in rows[0][0].split() + rows[0][1].split():
        assert word in words


def test_a_piped_log_is_not_squeezed_into_80_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # what a CI runner or a pipe may say; a terminal's own width wins
    assert summary.wide_console().width == 200
