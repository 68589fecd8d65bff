"""Each family row's config on a generated sample (2000 rows, float64) reaches statsmodels
within 1e-6; seed 001's softmax over 16 classes reaches MNLogit's contrasts within 1e-4."""

import pytest

from conftest import CONFIGS, load
from nnglm import families, runner

FAMILY_CONFIGS = sorted(p.stem for p in CONFIGS if p.stem.startswith("glm_"))


def test_every_single_output_row_has_a_config():
    rows = {f"glm_{row.family}_{row.link}" for row in families.FAMILIES if not row.multiclass}
    assert rows == set(FAMILY_CONFIGS)


@pytest.mark.parametrize("name", FAMILY_CONFIGS)
def test_family_row_reaches_statsmodels_within_1e_6(name, tmp_path):
    result = runner.run(load(name), tmp_path, quiet=True).result
    assert result["data"]["n_rows"] >= 1000 and result["environment"]["dtype"] == "float64"
    assert result["comparison"]["max_abs_diff"] <= 1e-6
    assert result["network"]["converged"] is True  # stopped by train.grad_tol, not by the step cap
    assert result["network"]["epochs_run"] < result["config"]["train"]["epochs"]


def test_seed001_softmax_contrasts_within_1e_4(tmp_path):
    result = runner.run(load("seed001_softmax"), tmp_path, quiet=True).result
    assert result["data"]["n_features"] == 32
    glm = result["glm"]["coefficients"]
    assert list(glm) == [str(c) for c in range(1, 16)]  # 16 classes, class 0 the reference
    assert all(len(terms) == 33 for terms in glm.values())
    assert result["comparison"]["max_abs_diff"] <= 1e-4
