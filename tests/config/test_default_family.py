"""Models you did not mean: a target the default family (binomial) refuses is told the family nnglm assumed and
which to set; an integer column of few values that R users would have made a factor is noted."""

import numpy as np
import pytest
from support import load

from nnglm import config
from nnglm.data import table
from nnglm.foundation.errors import UserError
from nnglm.vocabulary import families

ASSUMED = "model.family is not set, so nnglm assumed binomial, its default (R's glm assumes gaussian): set model.family: "
AS_R = ' (as R writes it too, e.g. poisson(link = "log"))'


def message(data: dict, model: dict | None = None) -> str:
    raw = {"name": "t", "data": {"source": "statsmodels"} | data} | ({"model": model} if model else {})
    with pytest.raises(UserError) as caught:
        table.load(table.DataSpec.of(config.validate(raw, "t")))
    return str(caught.value)


def test_counts_without_a_family_are_told_the_default_and_poisson():
    assert message({"dataset": "cpunish", "target": "EXECUTIONS"}) == (
        "data.target: column 'EXECUTIONS' must be 0 or 1 for family binomial; first offending rows (0-based): "
        f"0 (37), 1 (9), 2 (6), 3 (4), 4 (3); {ASSUMED}poisson (or quasipoisson, negative_binomial) for counts like these, "
        f"or gaussian{AS_R}"
    )


def test_positive_values_are_told_gaussian_or_gamma_and_any_number_gaussian():
    assert message({"dataset": "copper", "target": "WORLDCONSUMPTION"}).endswith(
        f"{ASSUMED}gaussian, or gamma (or inverse_gaussian) for positive values like these{AS_R}"
    )
    assert families.assumed(np.array([-1.5, 0.0, 2.5])) == f"{ASSUMED}gaussian{AS_R}"


def test_a_family_given_is_not_second_guessed():
    got = message({"dataset": "cpunish", "target": "EXECUTIONS"}, {"family": "binomial"})
    assert "assumed" not in got and got.endswith("; for successes out of trials, set data.trials")


def test_r_s_default_is_one_key_away():
    assert load("r_copper_gaussian", "model.family=gaussian").family.family == "gaussian"


DOBSON = "counts,outcome,treatment\n" + "".join(
    f"{c},{o},{t}\n" for c, o, t in zip([18, 17, 15, 20, 10, 20, 25, 13, 12], [1, 2, 3] * 3, [1, 1, 1, 2, 2, 2, 3, 3, 3])
)  # Dobson's example (R's ?glm) as write.csv leaves it: gl()'s levels written as 1, 2, 3
NOTE = (
    "column 'outcome' holds 3 whole numbers (1, 2, 3) and is fitted as one number, as R fits an integer column; "
    "if they are levels (R's gl() or factor()), write factor(outcome) in data.formula or list 'outcome' in data.categorical"
)


def dobson(tmp_path, **data):
    path = tmp_path / "dobson.csv"
    path.write_text(DOBSON)
    raw = {"name": "dobson", "data": {"source": "file", "path": str(path)} | data, "model": {"family": "poisson"}}
    return config.validate(raw, "dobson")


def test_an_integer_column_of_few_values_is_noted_and_how_to_make_it_a_factor(tmp_path):
    assert table.load(table.DataSpec.of(dobson(tmp_path, target="counts"))).notes[0] == NOTE
    assert table.load(table.DataSpec.of(dobson(tmp_path, formula="counts ~ outcome + treatment"))).notes[0] == NOTE
    assert table.load(table.DataSpec.of(dobson(tmp_path, formula="counts ~ factor(outcome) + factor(treatment)"))).notes == []
    assert table.load(table.DataSpec.of(dobson(tmp_path, target="counts", categorical=["outcome", "treatment"]))).notes == []


def test_validate_says_it(tmp_path, run_cli):

    path = tmp_path / "dobson.csv"
    path.write_text(DOBSON)
    (tmp_path / "c.yaml").write_text(f"name: d\ndata: {{source: file, path: {path}, target: counts}}\nmodel: {{family: poisson}}\n")
    code, out, _ = run_cli("validate", tmp_path / "c.yaml")
    assert code == 0 and f"  note: {NOTE}" in out


@pytest.mark.runs
def test_dobson_as_numbers_fits_r_s_numbers_and_the_summary_says_it(tmp_path):
    from nnglm.experiment import runner
    from nnglm.show import summary

    cfg = dobson(tmp_path, target="counts")
    outcome = runner.run(cfg.model_copy(update={"train": cfg.train.model_copy(update={"dtype": "float64"})}), tmp_path, quiet=True)
    statistics = outcome.result["glm"]["statistics"]
    # R: glm(counts ~ as.integer(outcome) + as.integer(treatment), family = poisson): 8.015958 on 6 df (factors: 5.129141 on 4)
    assert statistics["deviance"] == pytest.approx(8.015958, rel=1e-6) and statistics["df_resid"] == 6
    assert f"data: {NOTE}" in summary.notes(outcome.record)
