"""Each fit and the result.json section it becomes declare the same figures: the runner copies a fit into
its section by attribute name (pydantic's from_attributes), which would silently drop a figure declared
on one side only. What each side holds alone is named here, with why."""

import dataclasses

import pytest

from nnglm.experiment.verdict import Comparison
from nnglm.log import result
from nnglm.model.glm import GlmFit
from nnglm.train.hidden import HiddenFit
from nnglm.train.network import NetworkFit

PAIRS = [
    # fit, its section, figures only the section holds (the runner fills them), figures only the fit holds
    (Comparison, result.ComparisonSection, set(), {"terms", "network", "glm"}),  # the coefficients: in network/glm
    # the loss at the GLM's coefficients; the scale: inference; the covariance: covariance.csv
    (GlmFit, result.GlmSection, {"loss"}, {"scale", "cov"}),
    (
        NetworkFit,
        result.NetworkSection,
        {"bse", "statistics"},  # computed after training, from the fit's curvature
        {"curvature", "device", "history", "inputs", "mu", "timings", "trajectory"},  # environment, timings, CSVs
    ),
    (HiddenFit, result.HiddenSection, {"activation", "widths"}, {"dtype", "inputs", "model"}),  # from the config
]


@pytest.mark.parametrize("fit, section, section_only, fit_only", PAIRS, ids=lambda p: getattr(p, "__name__", ""))
def test_a_fit_and_its_section_declare_the_same_figures(fit, section, section_only, fit_only):
    fields = {f.name for f in dataclasses.fields(fit)}
    keys = set(section.model_fields) - set(result.Part.model_fields)
    assert keys - fields == section_only
    assert fields - keys == fit_only
