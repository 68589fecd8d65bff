"""The tolerance: how a weight's distance to its GLM coefficient is measured, and every default figure for it.

The verdict judges each |weight - coefficient| relative to scale(b, bse), within compare.rtol or its default
for the dtype (verdict_rtol); `epochs: auto` stops at a hundredth of that (stop_rtol); runs compared with one
another (`nnglm compare`, anova over runs) agree within across_runs. The config, the verdict, the network's
converged flag, the run log's comparisons and anova all take their figures from here.
"""

import math

import numpy as np
from pydantic import BaseModel, ConfigDict

VERDICT_RTOL = {"float64": 1e-6, "float32": 1e-4}  # the verdict's default tolerance, by dtype
# Under an L1 penalty Adam circles the kinks at zero at the scale of its learning rate and gets within about
# 1e-4 of the optimum, not closer: there the verdict's default is this, in either dtype
L1_RTOL = 1e-3
STOP_FRACTION = 100  # `epochs: auto` stops at the verdict's tolerance divided by this
# comparing runs with one another: float32 round-off differs between backends and devices at about 1e-7
# relative, float64 at about 1e-15
ACROSS_RUNS = {"float64": 1e-10, "float32": 1e-6}


def verdict_rtol(dtype: str, lasso: bool) -> float:
    """The verdict's default relative tolerance for the dtype, or L1_RTOL under an L1 penalty."""
    return L1_RTOL if lasso else VERDICT_RTOL[dtype]


def stop_rtol(verdict: float) -> float:
    """Where `epochs: auto` stops by default: a hundredth of the verdict's tolerance."""
    return verdict / STOP_FRACTION


def across_runs(dtypes: list[str]) -> float:
    """The default tolerance between runs' weights: float64's where every run is float64, else float32's."""
    return ACROSS_RUNS["float64"] if all(d == "float64" for d in dtypes) else ACROSS_RUNS["float32"]


RELATIVE_TO = "max(|GLM coefficient|, GLM standard error)"


def scale(b: np.ndarray, bse: np.ndarray) -> np.ndarray:
    """What each difference to a GLM coefficient is measured against: the larger of the coefficient's
    size and its standard error (an undefined error counts as 0)."""
    bse = np.where(np.isfinite(bse), bse, 0.0)
    return np.maximum(np.abs(b), bse)


ROUND_OFF = 1.5e-8  # about the square root of float64's eps


def at_zero(b: np.ndarray, bse: np.ndarray) -> np.ndarray:
    """Which GLM coefficients are zero within round-off: below ROUND_OFF of their standard error (an
    undefined error counts as 0, so only an exact 0 is then). A measure relative to |coefficient|, such
    as MAPE, is undefined for them (Dobson's treatment terms, 1e-16 where the optimum is 0)."""
    return np.abs(b) <= ROUND_OFF * np.where(np.isfinite(bse), bse, 0.0)


class Tolerance(BaseModel):
    """How close a weight must come to its GLM coefficient: rtol relative to scale(b, bse), or, when
    compare.max_abs is set, max_abs absolute. result.json's comparison.tolerance."""

    model_config = ConfigDict(extra="allow", ser_json_inf_nan="null")  # as result.json's other sections

    rtol: float | None = None
    max_abs: float | None = None
    relative_to: str | None = None

    @classmethod
    def of(cls, rtol: float, max_abs: float | None) -> "Tolerance":
        return cls(rtol=rtol, max_abs=max_abs, relative_to=RELATIVE_TO if max_abs is None else None)

    @property
    def limit(self) -> float:
        """The tolerance in the verdict's own measure (absolute with compare.max_abs, else relative)."""
        limit = self.max_abs if self.max_abs is not None else self.rtol
        return math.nan if limit is None else limit

    def gaps(self, w: np.ndarray, b: np.ndarray, bse: np.ndarray) -> np.ndarray:
        """Each difference as a fraction of what the verdict allows it (within: <= 1)."""
        diff = np.abs(w - b)
        if self.max_abs is not None:
            return diff / self.max_abs
        return diff / scale(b, bse) / self.rtol

    def describe(self) -> str:
        if self.max_abs is not None:
            return f"within {self.max_abs:g} of its GLM coefficient"
        return f"within {self.rtol:g} of its GLM coefficient, relative to the larger of the coefficient's size and its standard error"
