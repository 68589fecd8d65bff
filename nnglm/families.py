"""The family table: which GLM family and link map to which activation and loss.

This is the one place that knows the correspondence. A row names the
statsmodels family (the source of truth for the link), the Keras activation
that is the link's inverse, the Keras loss whose minimum is the family's
maximum-likelihood estimate, and the rule the target must obey. Adding a
family is one row here plus its test.

statsmodels and Keras are imported inside the functions, so that reading the
table (config validation) stays fast.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Family:
    family: str
    link: str
    activation: str  # Keras activation name
    loss: str  # Keras loss name
    sm_family: Callable[[], object]  # builds the statsmodels family
    target_rule: str  # what the target must be, in words
    target_ok: Callable[[np.ndarray], np.ndarray]  # elementwise check
    sample: Callable  # (rng, mu, noise_sd) -> a target drawn around the mean mu
    mle_scale: bool = False  # llf at the ML scale (Gaussian), else the GLM's scale


def _gaussian():
    import statsmodels.api as sm

    return sm.families.Gaussian(sm.families.links.Identity())


def _binomial_logit():
    import statsmodels.api as sm

    return sm.families.Binomial(sm.families.links.Logit())


FAMILIES = [
    Family(
        family="gaussian",
        link="identity",
        activation="linear",
        loss="mean_squared_error",
        sm_family=_gaussian,
        target_rule="any finite number",
        target_ok=np.isfinite,
        sample=lambda rng, mu, noise_sd: mu + rng.normal(0.0, noise_sd, size=mu.shape),
        mle_scale=True,
    ),
    Family(
        family="binomial",
        link="logit",
        activation="sigmoid",
        loss="binary_crossentropy",
        sm_family=_binomial_logit,
        target_rule="0 or 1",
        target_ok=lambda y: (y == 0) | (y == 1),
        sample=lambda rng, mu, noise_sd: rng.binomial(1, mu).astype(float),
    ),
]


def links_of(family: str) -> list[str]:
    return [f.link for f in FAMILIES if f.family == family]


def family_names() -> list[str]:
    return list(dict.fromkeys(f.family for f in FAMILIES))


def default_link(family: str) -> str:
    # the first row of a family holds its canonical link
    return links_of(family)[0]


def lookup(family: str, link: str | None = None) -> Family:
    link = link or default_link(family)
    for row in FAMILIES:
        if row.family == family and row.link == link:
            return row
    raise KeyError((family, link))
