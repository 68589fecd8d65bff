"""The tolerance has one home (nnglm/vocabulary/tolerance.py): the config, the run log's comparisons and anova
take their figures from it, and the words that name the defaults name its figures."""

from types import SimpleNamespace

import pytest
from support import load

from nnglm import cli
from nnglm.config import schema
from nnglm.log import logbook
from nnglm.log.result import ComparisonSection, RunResult
from nnglm.model import anova
from nnglm.vocabulary import tolerance


@pytest.fixture
def moved(monkeypatch):
    """tolerance.py's figures changed: whoever takes them from there follows."""
    monkeypatch.setattr(tolerance, "VERDICT_RTOL", {"float64": 3e-7, "float32": 3e-5})
    monkeypatch.setattr(tolerance, "L1_RTOL", 7e-3)
    monkeypatch.setattr(tolerance, "STOP_FRACTION", 10)
    monkeypatch.setattr(tolerance, "ACROSS_RUNS", {"float64": 2e-11, "float32": 2e-7})


def test_the_config_takes_the_verdict_and_stop_tolerance_from_tolerance_py(moved):
    cfg = load("seed002_logistic_no_bias", "train.dtype=float64")
    assert cfg.compare_rtol == 3e-7 and cfg.stop_rtol == pytest.approx(3e-8)
    assert load("seed002_logistic_no_bias", "train.dtype=float32").compare_rtol == 3e-5
    lasso = load("seed002_logistic_no_bias", "model.penalty.alpha=0.1", "model.penalty.l1_wt=1")
    assert lasso.lasso and lasso.compare_rtol == 7e-3
    given = load("seed002_logistic_no_bias", "compare.rtol=1e-5", "train.rtol=1e-9")
    assert given.compare_rtol == 1e-5 and given.stop_rtol == 1e-9


def test_runs_compared_and_anova_take_the_default_from_tolerance_py(moved):
    def run(dtype):
        return RunResult(status="completed", environment={"dtype": dtype})

    assert logbook._judged_by([run("float64"), run("float64")], None) == (2e-11, False)
    assert logbook._judged_by([run("float32")], None) == (2e-7, False)
    models = [SimpleNamespace(result=run("float64")), SimpleNamespace(result=run("float64"))]
    assert anova.tolerance_of(models) == 2e-11
    models[0].result.comparison = ComparisonSection(tolerance=tolerance.Tolerance.of(1e-3, None))
    assert anova.tolerance_of(models) == 1e-3  # the runs' own verdict tolerance, where they have one


def written(figure: float) -> str:
    """A figure as the words write it: 1e-6, not 1e-06."""
    return f"{figure:.0e}".replace("e-0", "e-")


def test_the_words_naming_the_defaults_name_tolerance_py_figures():
    compare_rtol = schema.CompareConfig.model_fields["rtol"].description
    figures = tolerance.VERDICT_RTOL
    named = f"{written(figures['float64'])} in float64, {written(figures['float32'])} in float32"
    assert f"{named}, {written(tolerance.L1_RTOL)} under an L1 penalty" in compare_rtol
    assert f"compare.rtol / {tolerance.STOP_FRACTION}" in schema.TrainConfig.model_fields["rtol"].description
    compare = next(a for a in cli.parser()._subparsers._group_actions[0].choices["compare"]._actions if a.dest == "tol")
    across = tolerance.ACROSS_RUNS
    assert f"{written(across['float64'])} when all runs are float64, {written(across['float32'])} when all" in compare.help
