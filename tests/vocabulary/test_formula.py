"""data.formula: nothing in it runs unchecked, and R's habits mean what they mean in R."""

import shutil

import numpy as np
import pandas as pd
import pytest
from support import ROOT

from nnglm import cli, config
from nnglm.data import checks, table
from nnglm.foundation.errors import UserError
from nnglm.model import glm
from nnglm.vocabulary.formula import FormulaError, parse_formula

# each: a formula that would run code (or reach what it must not) if evaluated, and the message's tail
INJECTIONS = {
    "y ~ I(__import__('os').system('touch PWNED') + 0)": "attribute access (__import__('os').system) is not allowed",
    "y ~ __import__('os')": "the name '__import__' is not allowed in a formula (dunder names)",
    "y ~ I(np.save('PWNED', x) or x)": "attribute access (np.save) is not allowed",
    "y ~ np.load('PWNED')": "attribute access (np.load) is not allowed",
    "y ~ open('PWNED', 'w')": "the function open() is not allowed",
    "y ~ eval('1')": "the function eval() is not allowed",
    "y ~ exec('x = 1')": "the function exec() is not allowed",
    "y ~ getattr(np, 'save')": "the function getattr() is not allowed",
    "y ~ x.__class__": "the name '__class__' is not allowed in a formula (dunder names)",
    "y ~ __builtins__": "the name '__builtins__' is not allowed in a formula (dunder names)",
    "y ~ x[0]": "a subscript (x[0]) is not allowed in a formula",
    "y ~ I(x[::-1])": "a subscript (x[::-1]) is not allowed in a formula",
    "y ~ I((lambda: x)())": "a lambda (lambda: x) cannot be called in a formula",
    "y ~ I([v for v in x])": "a comprehension ([v for v in x]) is not allowed in a formula",
    "y ~ I({v for v in x})": "a comprehension ({v for v in x}) is not allowed in a formula",
    "y ~ I((v for v in x))": "a generator expression ((v for v in x)) is not allowed in a formula",
    "y ~ I(f'{x}')": "an f-string (f'{x}') is not allowed in a formula",
    "y ~ I(np.log(x).sum())": "attribute access (np.log(x).sum) is not allowed",
    "y ~ np.linalg.inv(x)": "attribute access (np.linalg.inv) is not allowed",
    "y ~ C(x)(1)": "a call's result (C(x)) cannot be called in a formula",
    "y ~ I(np.log(*x))": "*args and **kwargs (np.log(*x)) are not allowed in a formula",
    "y ~ I({'a': x})": "a dict ({'a': x}) is not allowed in a formula",
    "y ~ I(x if x else 1)": "a conditional expression (x if x else 1) is not allowed in a formula",
    "y ~ np.log(x, out=np.save('PWNED', x))": "attribute access (np.save) is not allowed",
    "y ~ C(x, Treatment(__import__('os').getcwd()))": "attribute access (__import__('os').getcwd) is not allowed",
    # R's bases and '.' open no door: their arguments are checked as every term is
    "y ~ poly(__import__('os').system('touch PWNED'), 2)": "attribute access (__import__('os').system) is not allowed",
    "y ~ ns(x, df = np.save('PWNED', x))": "attribute access (np.save) is not allowed",
    "y ~ bs(x, knots = open('PWNED', 'w'))": "the function open() is not allowed",
    "y ~ poly(x, coefs = x)": "poly() takes degree, raw; not coefs (poly(x, coefs=x))",
    "y ~ . + I(x.__class__)": "the name '__class__' is not allowed in a formula (dunder names)",
    "y ~ bs(x)(1)": "a call's result (bs(x)) cannot be called in a formula",
}


@pytest.mark.parametrize("formula", INJECTIONS)
def test_code_in_a_formula_is_refused_before_anything_runs(formula, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"y": [0, 1, 1, 0], "x": [1.0, 2.0, 3.0, 4.0]}).to_csv("d.csv", index=False)
    (tmp_path / "c.yaml").write_text(f'name: t\ndata: {{source: file, path: d.csv, formula: "{formula}"}}\n')
    assert cli.main(["validate", "c.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: c.yaml: data.formula: ") and INJECTIONS[formula] in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "d.csv"]  # nothing written


def test_report_of_a_run_folder_whose_config_was_edited_to_inject(tmp_path, monkeypatch, capsys):
    """A received run folder: `nnglm report` reads its config.yaml, and must not run what it says."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "received"
    folder.mkdir()
    for name in ("result.json", "coefficients.csv", "history.csv", "trajectory.csv"):
        (folder / name).write_text("{}" if name.endswith("json") else "a\n")
    (folder / "result.json").write_text('{"schema": 1, "status": "completed", "name": "t", "run_id": "x"}')
    (folder / "config.yaml").write_text(
        "name: t\ndata: {source: file, path: d.csv, formula: \"y ~ I(__import__('os').system('touch PWNED'))\"}\n"
    )
    assert cli.main(["report", str(folder)]) == 2
    assert "data.formula: " in capsys.readouterr().err
    assert not (tmp_path / "PWNED").exists()


def test_r_functions_without_a_counterpart_say_so():
    cases = {
        "y ~ s(x)": "R's s() has no counterpart here (smooth terms (mgcv); write a spline basis, ns(x, df = 4) or bs(x, df = 5))",
        "y ~ poly(x, z, 2)": "poly() of several columns is not supported; write one poly() per column (poly(x, z, 2))",
        "y ~ ns(x, df = 3, Boundary = 2)": "ns() takes df, knots, intercept; not Boundary (ns(x, df=3, Boundary=2))",
        "y ~ ns(x, 3, df = 4)": "ns() is given df twice (ns(x, 3, df=4))",
        "y ~ bs()": "bs() needs a column: bs(x, df = ..., knots = ..., degree = ..., intercept = ...) (bs())",
        ". ~ x": "'.' (every other column) belongs on the right of '~'",
        "y ~ x + (1 | g)": "a '|' term (1 | g) is a random effect (lme4's); nnglm fits GLMs without random effects",
        "y ~ x %in% g": "R's %in% (nesting) has no counterpart here; write the interaction a:b",
        "y ~ offset(x) : g": "offset() is a term of its own, added to the formula with +, not inside an interaction",
        "y ~ log(cbind(a, b))": "cbind() belongs at the left of '~', not inside another term (cbind(a, b))",
    }
    for formula, message in cases.items():
        with pytest.raises(FormulaError) as e:
            parse_formula(formula)
        assert str(e.value) == f"data.formula: {formula!r}: {message}"


def test_r_habits_are_rewritten():
    parsed = parse_formula('cbind(s, f) ~ factor(race) + relevel(t, ref = "M") + log(x) + Sepal.Length + x^2 + offset(log(h))')
    assert parsed.target == "s" and parsed.failures == "f"
    assert parsed.offsets == ("np.log(h)",)
    assert "factor(race)" in parsed.rhs and "relevel(t, ref='M')" in parsed.rhs and "np.log(x)" in parsed.rhs
    assert "Q('Sepal.Length')" in parsed.rhs and "(x) ** (2)" in parsed.rhs
    assert parsed.names >= {"s", "f", "race", "t", "x", "h", "Sepal.Length"}


# --- R's habits reach the same GLM as nnglm's own keys ---

N = 60


@pytest.fixture
def frame_path(tmp_path):
    rng = np.random.default_rng(3)
    trials = rng.integers(1, 20, N)
    frame = pd.DataFrame(
        {
            "race": rng.integers(1, 4, N),
            "x": rng.uniform(0.5, 3.0, N),
            "hours": rng.uniform(1.0, 10.0, N),
            "count": rng.poisson(3, N),
            "s": rng.binomial(trials, 0.4),
        }
    )
    frame["f"] = trials - frame["s"]
    frame["trials"] = trials
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    return path


def glm_of(path, family, **keys):
    raw = {"name": "t", "data": {"source": "file", "path": str(path), **keys}, "model": {"family": family}}
    cfg = config.validate(raw, "c.yaml")
    fit = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    return np.array(list(fit.coefficients.values())), fit


def test_cbind_is_data_trials(frame_path):
    r, _ = glm_of(frame_path, "binomial", formula="cbind(s, f) ~ x + factor(race)")
    own, _ = glm_of(frame_path, "binomial", formula="s ~ x + C(race)", trials="trials")
    np.testing.assert_allclose(r, own, rtol=0, atol=1e-12)


def test_offset_log_is_data_exposure_and_offsets_add_up(frame_path):
    r, _ = glm_of(frame_path, "poisson", formula="count ~ log(x) + offset(log(hours))")
    own, _ = glm_of(frame_path, "poisson", formula="count ~ np.log(x)", exposure="hours")
    np.testing.assert_allclose(r, own, rtol=0, atol=1e-12)
    frame = pd.read_csv(frame_path).assign(lx=lambda d: np.log(d.x), lh=lambda d: np.log(d.hours))
    frame.to_csv(frame_path, index=False)
    two, _ = glm_of(frame_path, "poisson", formula="count ~ race + offset(lh) + offset(lx)")
    summed = frame.assign(o=frame.lh + frame.lx)
    summed.to_csv(frame_path, index=False)
    one, _ = glm_of(frame_path, "poisson", formula="count ~ race", offset="o")
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-12)


def test_a_comparison_as_the_target_gives_success_true(frame_path):
    r, _ = glm_of(frame_path, "binomial", formula="I(count > 2) ~ x")
    frame = pd.read_csv(frame_path).assign(high=lambda d: (d["count"] > 2).astype(int))
    frame.to_csv(frame_path, index=False)
    own, _ = glm_of(frame_path, "binomial", target="high", features=["x"])
    np.testing.assert_allclose(r, own, rtol=0, atol=1e-12)


def test_a_formula_over_an_identifier_is_refused_by_its_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "available_memory", lambda: 2**29)
    frame = pd.DataFrame({"y": np.arange(3000) % 2, "id": np.arange(3000)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    raw = {"name": "t", "data": {"source": "file", "path": str(tmp_path / "d.csv"), "formula": "y ~ C(id)"}}
    with pytest.raises(UserError) as e:
        table.load(table.DataSpec.of(config.validate(raw, "c.yaml")))
    assert str(e.value) == (
        "data.formula: 3,000 rows x 3,001 columns need about 0.6 GiB for one run (9 times the float64 design matrix, "
        "as statsmodels' IRLS takes); this machine has 0.5 GiB available"
    )


def test_a_missing_column_in_a_formula_is_named(frame_path):
    with pytest.raises(UserError) as e:
        glm_of(frame_path, "poisson", formula="count ~ log(hour)")
    assert str(e.value).startswith("data.formula: column 'hour' not in ")
    assert "did you mean 'hours'?" in str(e.value)


def test_the_shipped_r_formula_configs_reach_r_deviances(tmp_path):
    """MASS's ships and R's UCBAdmissions: the deviances R prints."""
    for name, deviance in (("r_ships_formula", 38.695), ("r_ucb_admissions_excel", 20.204)):
        shutil.copy(ROOT / "configs" / f"{name}.yaml", tmp_path)
        cfg = config.load(ROOT / "configs" / f"{name}.yaml")
        fit = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
        assert round(fit.statistics.deviance, 3) == deviance


def test_cbind_of_an_expression_subtracts(frame_path):
    """R's idiom cbind(s, n - s): the '-' is arithmetic, not the formula's removal of a term."""
    r, _ = glm_of(frame_path, "binomial", formula="cbind(s, trials - s) ~ x")
    own, _ = glm_of(frame_path, "binomial", formula="s ~ x", trials="trials")
    np.testing.assert_allclose(r, own, rtol=0, atol=1e-12)
