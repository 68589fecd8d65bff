"""Models you did not mean: a target the default family (binomial) refuses is told the family nnglm assumed and
which to set; an integer column of few values that R users would have made a factor is noted."""

import numpy as np
import pytest
from conftest import load

from nnglm import config
from nnglm.data import table
from nnglm.errors import UserError
from nnglm.model import families

ASSUMED = "model.family is not set, so nnglm assumed binomial, its default (R's glm assumes gaussian): set model.family: "
AS_R = ' (as R writes it too, e.g. poisson(link = "log"))'


def message(data: dict, model: dict | None = None) -> str:
    raw = {"name": "t", "data": {"source": "statsmodels"} | data} | ({"model": model} if model else {})
    with pytest.raises(UserError) as caught:
        table.load(config.validate(raw, "t"))
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
