"""Each family's config on a generated sample (2000 rows, float64) reaches statsmodels
within 1e-6; seed 001's softmax over 16 classes reaches MNLogit's contrasts within 1e-4."""

import pytest
from support import CONFIGS, load

from nnglm.experiment import runner
from nnglm.vocabulary import families

FAMILY_CONFIGS = sorted(p.stem for p in CONFIGS if p.stem.startswith("glm_"))


def test_every_family_has_a_config():
    """Each family's config on generated data (every link is trained in test_glm_options)."""
    shipped = {name.removeprefix("glm_") for name in FAMILY_CONFIGS}
    for name in families.family_names():
        if name != "multinomial":
            assert any(s.startswith(name + "_") and s.removeprefix(name + "_") in families.links_of(name) for s in shipped), name


@pytest.mark.runs
@pytest.mark.parametrize("name", FAMILY_CONFIGS)
def test_family_row_reaches_statsmodels_within_1e_6(name, tmp_path):
    result = runner.run(load(name), tmp_path, quiet=True).result
    assert result["data"]["n_rows"] >= 1000 and result["environment"]["dtype"] == "float64"
    assert result["comparison"]["max_rel_diff"] <= 1e-6 and result["comparison"]["outcome"] == "equivalent"
    assert result["network"]["converged"] is True  # stopped by its own measure, not by the step cap


@pytest.mark.runs
def test_seed001_softmax_contrasts_within_1e_4(tmp_path):
    result = runner.run(load("seed001_softmax"), tmp_path, quiet=True).result
    assert result["data"]["n_features"] == 32
    glm = result["glm"]["coefficients"]
    assert list(glm) == [str(c) for c in range(1, 16)]  # 16 classes, class 0 the reference
    assert all(len(terms) == 33 for terms in glm.values())
    assert result["comparison"]["max_abs_diff"] <= 1e-4
