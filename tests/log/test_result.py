"""result.json's schema: the models the runner writes are the models every reader reads."""

import json
import math

from nnglm.log import result
from nnglm.log.result import ComparisonSection, DataSection, NetworkSection, RunResult, Statistics


def test_nest_and_flat_are_inverses():
    by_term = {"1:const": 0.5, "1:x1": -1.0, "2:const": 2.0, "2:x1": 0.25}
    nested = result.nest(by_term, multiclass=True)
    assert nested == {"1": {"const": 0.5, "x1": -1.0}, "2": {"const": 2.0, "x1": 0.25}}
    assert result.flat(nested) == by_term
    plain = {"const": 1.0, "x:1": 2.0}  # a colon in a term name of a single-output fit is left alone
    assert result.nest(plain, multiclass=False) == plain and result.flat(plain) == plain


def test_a_written_result_reads_back_as_written(tmp_path):
    run = RunResult(
        schema=result.SCHEMA,
        run_id="20260101-000000-aaaaaa",
        name="t",
        status="completed",
        config={"model": {"family": "binomial", "link": "logit"}},
        overrides={"train.epochs": 20},
        data=DataSection(n_rows=4, n_features=1, feature_names=["x1"], target="y", condition_number=1.0),
        network=NetworkSection(
            coefficients={"const": 0.1, "x1": math.inf},  # not finite: written as null
            statistics=Statistics(llf=-2.0, deviance=math.nan, aic=8.0),
            learning_rates=[(0, 0.01)],
        ),
        comparison=ComparisonSection(max_abs_diff=1e-9, equivalent=True),
    )
    written = run.to_json()
    path = tmp_path / "result.json"
    path.write_text(json.dumps(written, allow_nan=False))  # no NaN or infinity reaches the file
    assert "glm" not in written and "validation" not in written and "sweep_point" not in written  # not reached: left out
    assert "n_validation_rows" not in written["data"] and written["error"] is None
    assert written["network"]["coefficients"] == {"const": 0.1, "x1": None}
    assert written["network"]["statistics"]["deviance"] is None
    back = result.read(path)
    assert back.to_json() == written
    assert back.network is not None and back.network.statistics is not None
    assert math.isnan(back.network.statistics.deviance) and back.network.statistics.llf == -2.0  # null reads back as NaN
    assert back.set_keys == {"train.epochs": 20}
