"""The network's weights beside the GLM's coefficients: differences and a verdict.

Each difference is judged relative to the larger of the coefficient's size and
its GLM standard error: a coefficient of 1e-6 is not called equal to 0 because
the two are within 1e-3 of each other, and a gap of 1e-3 on a coefficient
whose standard error is 0.6 is statistically nothing. `compare.max_abs`, when
set, judges absolute differences instead (as nnglm did before `rtol`).
"""

import numpy as np
from pydantic import ConfigDict, Field

from nnglm.config import Config
from nnglm.foundation.errors import MAX_NAMES, listing
from nnglm.log.result import ComparisonOutcome, ComparisonSection, StopReason
from nnglm.model.glm import GlmFit
from nnglm.train.network import NetworkFit
from nnglm.vocabulary import tolerance as measure


class Comparison(ComparisonSection):
    """The comparison: result.json's comparison section (its figures are declared there), and the
    coefficients it compared, by term, which it alone holds (result.json has them in network and glm)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    terms: list[str] = Field(exclude=True)
    network: np.ndarray = Field(exclude=True)
    glm: np.ndarray = Field(exclude=True)


def compare(network: NetworkFit, glm: GlmFit, network_llf: float, network_bse: np.ndarray, config: Config, condition: float) -> Comparison:
    terms = list(glm.coefficients)
    w = np.array([network.coefficients[t] for t in terms])
    b = np.array([glm.coefficients[t] for t in terms])
    glm_bse = np.array([glm.bse[t] for t in terms])
    tolerance = measure.Tolerance.of(config.compare_rtol, config.compare.max_abs)
    diff = np.abs(w - b)
    zero = measure.at_zero(b, glm_bse)
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = None if zero.any() else float(100 * np.mean(diff / np.abs(b)))
        rel_l2 = None if zero.all() else float(np.linalg.norm(w - b) / np.linalg.norm(b))
        cosine = float(w @ b / (np.linalg.norm(w) * np.linalg.norm(b)))
        bse_rel = float(np.max(np.abs(network_bse / glm_bse - 1)))
        rel = diff / measure.scale(b, glm_bse)
    max_rel = float(np.max(rel)) if rel.size else 0.0
    within = bool(np.all(tolerance.gaps(w, b, glm_bse) <= 1))
    identified = not glm.perfect_separation and not glm.rank_deficient
    matched = [step for (step, _, _), t in zip(network.history, network.trajectory) if np.all(tolerance.gaps(t, b, glm_bse) <= 1)]
    outcome, sentence = verdict(
        network, glm, config, condition, within, tolerance, cosine, network_llf, max_rel, float(diff.max(initial=0.0))
    )
    return Comparison(
        terms=terms,
        network=w,
        glm=b,
        max_abs_diff=float(diff.max(initial=0.0)),
        max_rel_diff=max_rel,
        mape_pct=mape,
        rel_l2=rel_l2,
        direction_cosine=cosine,
        network_llf=network_llf,
        glm_llf=glm.llf,
        equivalent=outcome == ComparisonOutcome.EQUIVALENT,
        outcome=outcome,
        tolerance=tolerance,
        verdict=sentence,
        epochs_to_match=matched[0] if matched and identified else None,
        bse_max_rel_diff=bse_rel,
        undefined=undefined(terms, b, zero),
    )


def undefined(terms: list[str], b: np.ndarray, zero: np.ndarray) -> str | None:
    """The sentence that says which relative measures have no value, and why."""
    if not zero.any():
        return None
    names = [t for t, z in zip(terms, zero) if z]
    values = ", ".join(f"{v:.2g}" for v in b[zero][:MAX_NAMES])
    one = len(names) == 1
    measures = "MAPE and relative L2 are" if zero.all() else "MAPE is"
    return (
        f"{measures} undefined here: {'they divide' if zero.all() else 'it divides'} by |GLM coefficient|, and the GLM's "
        f"{listing(names)} {'is' if one else 'are'} zero within round-off ({values}: below {measure.ROUND_OFF:.2g} times "
        f"{'its standard error' if one else 'their standard errors'}); the verdict's relative measure divides by the "
        "standard error there"
    )


def verdict(
    network: NetworkFit,
    glm: GlmFit,
    config: Config,
    condition: float,
    within: bool,
    tolerance: measure.Tolerance,
    cosine: float,
    network_llf: float,
    max_rel: float,
    max_abs: float,
) -> tuple[ComparisonOutcome, str]:
    """(outcome, the sentence that says it)."""
    assert network.distance is not None  # network.train sets it
    gaps = f"max relative diff {max_rel:.2g}, max abs diff {max_abs:.3g}"
    if network.diverged:
        return ComparisonOutcome.DIVERGED, f"the network diverged ({(network.note or '').removeprefix('diverged: ')}): not equivalent"
    if glm.rank_deficient:
        return ComparisonOutcome.RANK_DEFICIENT, (
            f"the design is rank deficient (aliased: {', '.join(glm.aliased)}), so the coefficients are not "
            "identified and the two fits need not share them; compare the fits instead: log-likelihood "
            f"{network_llf:.10g} (network) against {glm.llf:.10g} (GLM)"
        )
    if glm.perfect_separation:
        if not glm.finite:
            return ComparisonOutcome.NO_FINITE_MLE, (
                "the classes are separated, so no finite maximum-likelihood estimate exists: statsmodels' fits ran off "
                f"to non-finite coefficients, and the network's weights grow along the separating direction ({own_estimate(network)})"
            )
        return ComparisonOutcome.NO_FINITE_MLE, (
            "the classes are separated, so no finite maximum-likelihood estimate exists; "
            f"both fits grow without bound along a separating direction, and the cosine between "
            f"the network's and the GLM's coefficient vectors is {cosine:.8g}"
        )
    if glm.failed is not None:
        return ComparisonOutcome.GLM_FAILED, (
            f"the GLM failed, not the network: statsmodels gave no usable fit ({glm.failed}); nothing to compare the "
            f"network with. The network on its own: {own_estimate(network)}"
            + ("; raise glm.maxiter to let the GLM go further" if "no convergence" in glm.failed else "")
        )
    if within:
        return ComparisonOutcome.EQUIVALENT, f"equivalent: every weight is {tolerance.describe()} ({gaps})"
    if network.distance > config.compare_rtol:
        return ComparisonOutcome.NOT_CONVERGED, not_converged(network, config, condition, gaps)
    if not glm.converged or network_llf > glm.llf + 1e-9 * abs(glm.llf):
        return ComparisonOutcome.GLM_SHORT, (
            f"not equivalent ({gaps}), and the GLM is the one short of the optimum: the network's log-likelihood "
            f"{network_llf:.12g} is above the GLM's {glm.llf:.12g}; lower glm.tol or raise glm.maxiter"
        )
    return ComparisonOutcome.DIFFERENT_POINT, (
        f"not equivalent ({gaps}), yet the network's own estimate puts it within {network.distance:.2g} of its "
        "optimum: the two fits converged to different points, which they should not; this is a bug in nnglm, "
        "please report it with this run folder"
    )


def own_estimate(network: NetworkFit) -> str:
    """The network judged by itself: its own estimate of its distance to its optimum."""
    return (
        f"after {network.epochs_run} steps its own estimate puts its coefficients {network.distance:.2g} (relative) from "
        f"its optimum; largest gradient {network.max_abs_grad:.3g}"
    )


def not_converged(network: NetworkFit, config: Config, condition: float, gaps: str) -> str:
    """What is left to do, backed by the number that says why."""
    train = config.train
    eps = float(np.finfo(train.dtype).eps)
    head = (
        f"not converged yet ({gaps}): after {network.epochs_run} steps the network's own estimate puts its "
        f"coefficients {network.distance:.2g} (relative) from the optimum, above the relative tolerance "
        f"{config.compare_rtol:g}; largest gradient {network.max_abs_grad:.3g}. "
    )
    if train.dtype == "float32" and network.stopped in (StopReason.FLOOR, StopReason.NO_PROGRESS):
        return head + (
            f"float32 cannot resolve this design: the estimate stalls at its round-off floor (float32's "
            f"eps {eps:.2g}; the design's condition number is {condition:.2g}); set train.dtype: float64"
        )
    advice = []
    if not train.auto:
        advice.append(f"set train.epochs: auto (it trains until converged) or more than {train.epochs} steps")
    elif network.stopped in (StopReason.MAX_STEPS, StopReason.MAX_SECONDS):
        advice.append(f"raise train.{network.stopped}")
    if train.inputs == "none" and condition > 1e3:
        advice.append(f"set train.precondition: whiten (the design's condition number is {condition:.2g})")
    if train.dtype == "float32" and condition * eps > config.compare_rtol:
        advice.append(f"set train.dtype: float64 (condition number {condition:.2g} times float32's eps {eps:.2g} is {condition * eps:.2g})")
    return head + ("To get there: " + "; ".join(advice) if advice else "Training stopped before the estimate fell below the tolerance.")
