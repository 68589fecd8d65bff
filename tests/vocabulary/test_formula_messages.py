"""A formula that cannot be evaluated is one message before it runs: arithmetic without end, terms that are not
finite, a spline's degree, the intercept alone (vocabulary.formula, data.design)."""

import pandas as pd
import pytest


@pytest.mark.parametrize(
    "formula, message",
    [
        (
            "dist ~ I(speed + 10**10**10)",
            "the exponent of 10 ** 10 ** 10 must be a number of at most 1000 in size (x^2, x^0.5, x^(1/2)) or hold a column; "
            "a power of powers of numbers is evaluated exactly, without end",
        ),
        ("dist ~ C(speed, levels=[1]*10**9)", "c(...) is a list of values for an argument (levels = c(...)), not a number ([1] * 10 ** 9)"),
    ],
)
def test_formula_arithmetic_that_would_never_end_is_refused_before_it_runs(formula, message):
    from nnglm.vocabulary.formula import FormulaError, parse_formula

    with pytest.raises(FormulaError) as caught:
        parse_formula(formula)
    assert str(caught.value) == f"data.formula: {formula!r}: {message}"
    assert "x ** (1 / 2)" in parse_formula("y ~ I(x^(1/2)) + I(2^x) + I(x^-1)").rhs  # R's habits pass


def test_a_formula_term_that_is_not_finite_is_one_message(tmp_path, cli_error, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"speed": [4, 4, 7, 8], "dist": [2, 10, 4, 16]}).to_csv("cars.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        'name: c\ndata: {source: file, path: cars.csv, formula: "dist ~ log(speed - 4)"}\nmodel: {family: gaussian}\n'
    )
    assert cli_error("validate", "c.yaml") == (
        "c.yaml: data.formula: term 'log(speed - 4)' must give finite numbers; first offending rows (0-based): 0 (-inf), 1 (-inf)"
    )


def test_a_formula_evaluates_integer_columns_as_r_does_in_doubles(tmp_path, cli_error, monkeypatch):
    """speed^500 of an integer column wrapped around silently in 64-bit integers; as doubles (R's numbers) it is inf."""
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"speed": [4, 4, 7, 8], "dist": [2, 10, 4, 16]}).to_csv("cars.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        'name: c\ndata: {source: file, path: cars.csv, formula: "dist ~ I(speed^500)"}\nmodel: {family: gaussian}\n'
    )
    assert (
        cli_error("validate", "c.yaml")
        == (
            "c.yaml: data.formula: term 'I(speed^500)' must give finite numbers; first offending rows (0-based): 2 (inf), 3 (inf)"  # 4^500 is 1e301, finite
        )
    )


def test_a_spline_degree_past_the_column_says_so_without_a_negative_count(tmp_path, cli_error, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"speed": [4, 4, 7, 8, 9, 10], "dist": [2, 10, 4, 16, 10, 18]}).to_csv("cars.csv", index=False)
    (tmp_path / "c.yaml").write_text(
        'name: c\ndata: {source: file, path: cars.csv, formula: "dist ~ bs(speed, df = 5, degree = 100000000)"}\nmodel: {family: gaussian}\n'
    )
    assert cli_error("validate", "c.yaml") == (
        "c.yaml: data.formula: bs(): degree 100000000 on a column of 5 distinct values; the degree must be less than the number "
        "of distinct values"
    )


def test_an_intercept_only_model_is_refused_before_the_backend_aborts(tmp_path, cli_error, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "three.csv").write_text("y,x\n1,0.5\n0,1.5\n1,2.5\n")
    (tmp_path / "t.yaml").write_text('name: t\ndata: {source: file, path: three.csv, formula: "y ~ 1"}\n')
    message = (
        "data.formula: 'y ~ 1' leaves the intercept alone: the network would have no weight beside its bias, and Keras cannot "
        "build a layer of no inputs; that model is the null model, whose deviance every run reports (null deviance): add a term"
    )
    assert cli_error("validate", "t.yaml") == "t.yaml: " + message
    assert cli_error("run", "t.yaml", "--out", "runs") == message
    assert not (tmp_path / "runs").exists()
