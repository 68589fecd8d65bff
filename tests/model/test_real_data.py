"""Real data that ships with statsmodels, against published reference coefficients.

The references are Stata 11's estimates as published in statsmodels' own test suite
(statsmodels/discrete/tests/results/results_discrete.py): Spector & Mazzeo's grade
data (logit, probit), the RAND Health Insurance Experiment (Poisson) and the 1996
American National Election Studies (multinomial logit, base class 0). Each config
trains on standardized features in float64; the network's weights, mapped back to
the original scale, must be within 1e-4 relative of the reference.
"""

import numpy as np
import pytest
from support import load

from nnglm.experiment import runner

REL = 1e-4

SPECTOR_TERMS = ["(Intercept)", "GPA", "TUCE", "PSI"]
SPECTOR_LOGIT = [-13.0213483201, 2.82611297201, 0.0951576702557, 2.37868772835]
SPECTOR_PROBIT = [-7.45232041607, 1.62581025407, 0.051728948442, 1.42633236818]

RANDHIE_TERMS = ["(Intercept)", "lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]
RANDHIE_POISSON = [
    0.700352877227,
    -0.052535114675,
    -0.247086797633,
    0.035290201794,
    -0.03457750643,
    0.271713973711,
    0.033941474461,
    -0.012635035534,
    0.054056326828,
    0.206115121809,
]

ANES_TERMS = ["logpopul", "selfLR", "age", "educ", "income", "(Intercept)"]  # Stata's order, constant last
ANES_MNLOGIT = np.reshape(
    [
        -0.01153598,
        0.29771435,
        -0.024945,
        0.08249144,
        0.00519655,
        -0.37340167,
        -0.08875065,
        0.39166864,
        -0.02289784,
        0.18104276,
        0.04787398,
        -2.2509132,
        -0.1059667,
        0.57345051,
        -0.01485121,
        -0.00715242,
        0.05757516,
        -3.6655835,
        -0.0915567,
        1.2787718,
        -0.00868135,
        0.19982796,
        0.08449838,
        -7.6138431,
        -0.0932846,
        1.3469616,
        -0.01790407,
        0.21693885,
        0.08095841,
        -7.0604782,
        -0.14088069,
        2.0700801,
        -0.00943265,
        0.3219257,
        0.10889408,
        -12.105751,
    ],
    (6, 6),
    order="F",
)  # column j: class j + 1 against class 0


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("experiments")


def network_coefficients(name, out):
    result = runner.run(load(name), out, quiet=True).result
    assert result["status"] == "completed"
    assert result["config"]["train"]["standardize"] is True and result["config"]["train"]["dtype"] == "float64"
    return result["network"]["coefficients"]


@pytest.mark.runs
@pytest.mark.parametrize(
    "name, terms, reference",
    [
        ("real_spector_logit", SPECTOR_TERMS, SPECTOR_LOGIT),
        ("real_spector_probit", SPECTOR_TERMS, SPECTOR_PROBIT),
        ("real_randhie_poisson", RANDHIE_TERMS, RANDHIE_POISSON),
    ],
)
def test_network_matches_published_coefficients(name, terms, reference, out):
    coefficients = network_coefficients(name, out)
    assert list(coefficients) == terms
    np.testing.assert_allclose([coefficients[t] for t in terms], reference, rtol=REL)


@pytest.mark.runs
def test_softmax_contrasts_match_published_mnlogit(out):
    coefficients = network_coefficients("real_anes96_mnlogit", out)
    assert list(coefficients) == ["1", "2", "3", "4", "5", "6"]
    got = np.array([[coefficients[str(j + 1)][t] for j in range(6)] for t in ANES_TERMS])
    np.testing.assert_allclose(got, ANES_MNLOGIT, rtol=REL)
