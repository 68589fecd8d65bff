"""The summary of a real run, Dobson's Poisson example (R's `?glm`: counts ~ outcome + treatment), whose
treatment coefficients are 0 at the optimum and come out of IRLS as about 1e-16: every name and number
shown whole at 80 and 60 columns, and MAPE said to be undefined rather than printed as 1e+10."""

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from rich.console import Console

import nnglm
from nnglm.log.result import RunResult
from nnglm.show import summary
from nnglm.vocabulary.tolerance import at_zero

LONG = "treatment_given_in_the_second_week_of_the_trial"


def dobson() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "counts": [18, 17, 15, 20, 10, 20, 25, 13, 12],
            "outcome": pd.Categorical([1, 2, 3] * 3).astype(str),
            LONG: pd.Categorical(["1"] * 3 + ["2"] * 3 + ["3"] * 3),
        }
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    config = {
        "name": "dobson",
        "data": {"target": "counts", "features": ["outcome", LONG], "categorical": ["outcome", LONG]},
        "model": {"family": "poisson", "link": "log"},
    }
    return nnglm.run(config, data=dobson(), out=tmp_path_factory.mktemp("runs"))


def printed(run, width: int) -> str:
    result = RunResult.model_validate_json((run.folder / "result.json").read_text())
    with open(run.folder / "coefficients.csv", newline="") as f:
        rows = [{k: (v if k == "term" else float(v) if v else None) for k, v in r.items()} for r in csv.DictReader(f)]
    console = Console(width=width, file=io.StringIO(), color_system=None)
    summary.print_run(result, rows, run.folder, console)
    return console.file.getvalue()


def first_column(text: str) -> str:
    return "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))


@pytest.mark.runs
@pytest.mark.parametrize("width", [80, 60])
def test_the_summary_cuts_no_term_and_no_number(run, width):
    text = printed(run, width)
    assert "…" not in text
    result = RunResult.model_validate_json((run.folder / "result.json").read_text())
    blocks = summary.blocks(result, [])
    terms = list(result.glm.coefficients)
    assert any(LONG in t for t in terms)
    for term in terms:
        assert term in first_column(text)
    # every number of the coefficient table, as the summary formats it, on one line
    rows = list(csv.DictReader(open(run.folder / "coefficients.csv")))
    for r in rows:
        for key in ("network", "glm"):
            shown = f"{float(r[key]):.10g}"
            assert any(f" {shown} " in line for line in text.splitlines()), (shown, text)
    assert blocks  # the blocks the console shows are those report.md writes


@pytest.mark.runs
def test_mape_is_undefined_where_a_glm_coefficient_is_zero_within_round_off(run):
    comparison = json.loads((run.folder / "result.json").read_text())["comparison"]
    # statsmodels' own fit: the treatment terms are 0 at the optimum, about 1e-16 as computed
    frame = dobson()
    X = sm.add_constant(pd.get_dummies(frame[["outcome", LONG]], drop_first=True).astype(float))
    fit = sm.GLM(frame["counts"], X, family=sm.families.Poisson()).fit()
    treatment = [c for c in X.columns if c.startswith(LONG)]
    assert np.all(np.abs(fit.params[treatment]) < 1e-12)
    result = json.loads((run.folder / "result.json").read_text())
    w, b = (np.array(list(result[side]["coefficients"].values())) for side in ("network", "glm"))
    assert 100 * np.mean(np.abs(w - b) / np.abs(b)) > 1e3  # what MAPE would print, dividing by 1e-16 (float32, the default)
    assert comparison["mape_pct"] is None
    assert comparison["rel_l2"] is not None and comparison["rel_l2"] < 1e-6
    assert comparison["undefined"].startswith("MAPE is undefined here: it divides by |GLM coefficient|, and the GLM's ")
    assert comparison["undefined"].count(LONG) == 2 and "zero within round-off" in comparison["undefined"]
    text = printed(run, 200)
    assert "MAPE %" in text and "undefined (see below)" in text and "e+" not in text.split("MAPE %")[1].splitlines()[0]
    assert " ".join(comparison["undefined"].split()) in " ".join(text.split())


def test_only_a_coefficient_at_round_off_of_its_standard_error_is_zero():
    b = np.array([8.8e-16, 1e-8, 0.0, 0.3, 0.0])
    bse = np.array([0.2, 0.2, np.nan, 0.1, 0.0])
    assert list(at_zero(b, bse)) == [True, False, True, False, True]
