"""Each fit is a subclass of the result.json section it becomes: its figures are declared once, in the
section, and the fit adds only what it alone holds, never written to result.json. What each fit adds is
named here, with why."""

import inspect

import pytest

from nnglm.experiment.verdict import Comparison
from nnglm.log import result
from nnglm.model.glm import GlmFit
from nnglm.train.hidden import HiddenFit
from nnglm.train.network import NetworkFit

SUBCLASSES = [
    # a fit that subclasses its section, what it adds: the scale (inference's), the covariance (covariance.csv)
    (GlmFit, result.GlmSection, {"scale", "cov"}),
    (Comparison, result.ComparisonSection, {"terms", "network", "glm"}),  # the coefficients: in network and glm
    # the environment's device, timings, the CSVs (history, trajectory), and what the reference and the
    # standard errors take (the fitted mean, the curvature, the inputs)
    (NetworkFit, result.NetworkSection, {"curvature", "device", "history", "inputs", "mu", "timings", "trajectory"}),
    # what predicts held-out rows, and the early-stopping losses (data.folds' inner split)
    (HiddenFit, result.HiddenSection, {"dtype", "early_losses", "inputs", "model"}),
]


@pytest.mark.parametrize("fit, section, fit_only", SUBCLASSES, ids=lambda p: getattr(p, "__name__", ""))
def test_a_fit_declares_only_what_its_section_does_not_and_never_writes_it(fit, section, fit_only):
    assert issubclass(fit, section)
    assert set(inspect.get_annotations(fit)) == fit_only  # nothing the section declares is declared again
    assert set(fit.model_fields) - set(section.model_fields) == fit_only
    assert all(fit.model_fields[name].exclude for name in fit_only)  # never in result.json
