"""The family table: which GLM family and link map to which activation and loss.

This is the one place that knows the correspondence. A row names the
statsmodels family (the source of truth for the link), the Keras activation
that is the link's inverse, the Keras loss whose minimum is the family's
maximum-likelihood estimate, and the rule the target must obey. Adding a
family is one row here; the property tests over every row check it.

Keras and statsmodels are imported inside the functions, so that reading the
table (config validation) stays fast.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Family:
    family: str
    link: str
    activation: str | Callable  # a Keras activation name, or a function of Keras ops
    loss: str | Callable  # a Keras loss name, or a per-row function of Keras ops
    sm_family: Callable[[], object] | None  # builds the statsmodels family (None: MNLogit)
    target_rule: str  # what the target must be, in words
    target_ok: Callable[[np.ndarray], np.ndarray]  # elementwise check
    sample: Callable  # (rng, mu, scale) -> a target drawn with mean mu and the family's scale
    # n * mean loss = nll_factor * (negative log-likelihood at scale 1) + a constant
    nll_factor: float = 1.0
    mle_scale: bool = False  # llf at the ML scale (Gaussian), else the GLM's scale
    # η = 0 is outside the activation's domain: the bias starts at link(mean y) instead
    start_bias_at_mean: bool = False
    multiclass: bool = False  # softmax over C classes, compared with MNLogit
    eta_min: float = -np.inf  # the activation is the inverse link for η above this
    canonical: bool = True  # observed and expected information agree only for canonical links
    free_scale: bool = False  # a dispersion to estimate (Gaussian variance, Gamma 1/shape), else 1

    def intercept_only(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        """The bias of the intercept-only fit: link(mean y), or the log class shares for softmax."""
        if self.multiclass:
            shares = np.bincount(y.astype(int), minlength=n_outputs) / len(y)
            return np.log(np.maximum(shares, 1e-12))
        with np.errstate(all="ignore"):
            bias = float(self.sm_family().link(np.mean(y)))
        return np.array([bias if np.isfinite(bias) else 0.0])

    def dispersion(self, y: np.ndarray, mu: np.ndarray, n_params: int) -> float:
        """Pearson chi^2 / (n - p) where the family has a scale to estimate (as statsmodels), else 1."""
        if not self.free_scale:
            return 1.0
        residual_df = max(len(y) - n_params, 1)
        return float(np.sum((y - mu) ** 2 / self.sm_family().variance(mu)) / residual_df)

    @property
    def activation_name(self) -> str:
        return self.activation if isinstance(self.activation, str) else self.activation.__name__

    @property
    def key(self) -> str:
        return f"{self.family}/{self.link}"


# --- activations and losses Keras does not ship ---


def normal_cdf(eta):
    from keras import ops

    return 0.5 * ops.erfc(-eta / np.sqrt(2.0))


def inverse_cloglog(eta):
    from keras import ops

    return -ops.expm1(-ops.exp(eta))


def inverse_power(eta):
    # 1/η, guarded: η must stay positive (the bias starts at 1 / mean y)
    from keras import ops

    return 1.0 / ops.maximum(eta, 1e-12)


def poisson_nll(y, mu):
    # Keras' own "poisson" adds 1e-7 inside the log, which moves the optimum; this does not
    from keras import ops

    return ops.mean(mu - y * ops.log(mu), axis=-1)


def gamma_nll(y, mu):
    from keras import ops

    return ops.mean(y / mu + ops.log(mu), axis=-1)


# --- statsmodels families ---


def _sm(family: str, link: str):
    def build():
        import statsmodels.api as sm

        return getattr(sm.families, family)(getattr(sm.families.links, link)())

    return build


def _zero_one(y):
    return (y == 0) | (y == 1)


def _whole(y):
    return np.isfinite(y) & (y == np.round(y))


def _binomial(link: str, activation, sm_link: str, canonical: bool = False) -> Family:
    return Family(
        family="binomial",
        link=link,
        activation=activation,
        loss="binary_crossentropy",
        sm_family=_sm("Binomial", sm_link),
        target_rule="0 or 1",
        target_ok=_zero_one,
        sample=lambda rng, mu, scale: rng.binomial(1, mu).astype(float),
        canonical=canonical,
    )


def _gamma(link: str, activation, sm_link: str, canonical: bool, start_bias_at_mean: bool = False, eta_min: float = -np.inf) -> Family:
    return Family(
        family="gamma",
        link=link,
        activation=activation,
        loss=gamma_nll,
        sm_family=_sm("Gamma", sm_link),
        target_rule="greater than 0",
        target_ok=lambda y: y > 0,
        # shape 1/scale, mean mu: variance scale * mu^2, as statsmodels' Gamma
        sample=lambda rng, mu, scale: rng.gamma(1.0 / scale, mu * scale),
        free_scale=True,
        start_bias_at_mean=start_bias_at_mean,
        eta_min=eta_min,
        canonical=canonical,
    )


FAMILIES = [
    Family(
        family="gaussian",
        link="identity",
        activation="linear",
        loss="mean_squared_error",
        sm_family=_sm("Gaussian", "Identity"),
        target_rule="any finite number",
        target_ok=np.isfinite,
        sample=lambda rng, mu, scale: mu + rng.normal(0.0, np.sqrt(scale), size=mu.shape),
        nll_factor=2.0,  # squared error is twice the Gaussian NLL at unit variance
        mle_scale=True,
        free_scale=True,
    ),
    _binomial("logit", "sigmoid", "Logit", canonical=True),
    _binomial("probit", normal_cdf, "Probit"),
    _binomial("cloglog", inverse_cloglog, "CLogLog"),
    Family(
        family="poisson",
        link="log",
        activation="exponential",
        loss=poisson_nll,
        sm_family=_sm("Poisson", "Log"),
        target_rule="a count, 0 or more",
        target_ok=lambda y: _whole(y) & (y >= 0),
        sample=lambda rng, mu, scale: rng.poisson(mu).astype(float),
    ),
    _gamma("inverse_power", inverse_power, "InversePower", canonical=True, start_bias_at_mean=True, eta_min=0.0),
    _gamma("log", "exponential", "Log", canonical=False),
    Family(
        family="multinomial",
        link="softmax",
        activation="softmax",
        loss="sparse_categorical_crossentropy",
        sm_family=None,
        target_rule="a class label: a whole number 0 or more",
        target_ok=lambda y: _whole(y) & (y >= 0),
        sample=None,  # drawn by the softmax generator
        multiclass=True,
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
