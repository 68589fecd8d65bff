"""The network's weights beside the GLM's coefficients: differences and a verdict."""

from dataclasses import dataclass

import numpy as np

from nnglm.glm import GlmFit
from nnglm.network import NetworkFit


@dataclass
class Comparison:
    terms: list[str]
    network: np.ndarray
    glm: np.ndarray
    max_abs_diff: float
    mape_pct: float  # mean absolute percentage error, as seed 002 reports it
    rel_l2: float
    direction_cosine: float  # what is left to compare when no finite MLE exists
    network_llf: float
    glm_llf: float
    equivalent: bool
    tolerance: float
    verdict: str
    epochs_to_match: int | None  # the first logged step with every weight within the tolerance
    bse_max_rel_diff: float  # network standard errors against statsmodels'

    def to_dict(self) -> dict:
        return {
            "max_abs_diff": self.max_abs_diff,
            "mape_pct": self.mape_pct,
            "rel_l2": self.rel_l2,
            "direction_cosine": self.direction_cosine,
            "network_llf": self.network_llf,
            "glm_llf": self.glm_llf,
            "equivalent": self.equivalent,
            "tolerance": {"max_abs": self.tolerance},
            "verdict": self.verdict,
            "epochs_to_match": self.epochs_to_match,
            "bse_max_rel_diff": self.bse_max_rel_diff,
        }


def compare(network: NetworkFit, glm: GlmFit, network_llf: float, network_bse: np.ndarray, max_abs: float) -> Comparison:
    terms = list(glm.coefficients)
    w = np.array([network.coefficients[t] for t in terms])
    b = np.array([glm.coefficients[t] for t in terms])
    diff = np.abs(w - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = float(100 * np.mean(diff / np.abs(b)))
        rel_l2 = float(np.linalg.norm(w - b) / np.linalg.norm(b))
        cosine = float(w @ b / (np.linalg.norm(w) * np.linalg.norm(b)))
        glm_bse = np.array([glm.bse[t] for t in terms])
        bse_rel = float(np.max(np.abs(network_bse / glm_bse - 1)))
    matched = [step for step, _, gap in network.history if gap <= max_abs]
    max_abs_diff = float(diff.max())
    identified = not glm.perfect_separation and not glm.rank_deficient
    equivalent = bool(not network.diverged and identified and max_abs_diff <= max_abs)
    return Comparison(
        terms=terms,
        network=w,
        glm=b,
        max_abs_diff=max_abs_diff,
        mape_pct=mape,
        rel_l2=rel_l2,
        direction_cosine=cosine,
        network_llf=network_llf,
        glm_llf=glm.llf,
        equivalent=equivalent,
        tolerance=max_abs,
        verdict=verdict(network, glm, max_abs_diff, max_abs, cosine, network_llf),
        epochs_to_match=matched[0] if matched and identified else None,
        bse_max_rel_diff=bse_rel,
    )


def verdict(network: NetworkFit, glm: GlmFit, max_abs_diff: float, max_abs: float, cosine: float, network_llf: float) -> str:
    if network.diverged:
        return f"the network diverged (loss not finite after {network.epochs_run} steps): not equivalent"
    if glm.rank_deficient:
        return (
            f"the design is rank deficient (aliased: {', '.join(glm.aliased)}), so the coefficients are not "
            "identified and the two fits need not share them; compare the fits instead: log-likelihood "
            f"{network_llf:.10g} (network) against {glm.llf:.10g} (GLM)"
        )
    if glm.perfect_separation:
        return (
            "the classes are perfectly separated, so no finite maximum-likelihood estimate exists; "
            f"both fits grow without bound along a separating direction, and the cosine between "
            f"the network's and the GLM's coefficient vectors is {cosine:.8g}"
        )
    if max_abs_diff <= max_abs:
        return f"equivalent: every weight is within {max_abs:g} of its GLM coefficient (max abs diff {max_abs_diff:.3g})"
    return f"not equivalent: max abs diff {max_abs_diff:.3g} exceeds the tolerance {max_abs:g}"
