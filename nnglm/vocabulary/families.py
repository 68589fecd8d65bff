"""The family table: which GLM family and link map to which activation and loss.

This is the one place that knows the correspondence. A family (the
distribution) owns its loss, its statsmodels family, the rule its target must
obey, its dispersion and how to draw a sample; a link owns its inverse, which is
the network's activation, and the range of η on which that inverse is defined
for the family's means (its domain guard). `Family` joins the two with the
family's parameters (negative binomial's alpha, Tweedie's variance power), and
every other module asks it, never a family's name. Adding a family or a link is
an entry in DISTRIBUTIONS or LINKS here; the property tests over every pair
(tests/vocabulary/test_families.py) check it. Which links statsmodels lists for a family
(checks with check_link=True) is asked of statsmodels' family itself, by link
class, never copied here.

Keras and statsmodels are imported inside the functions, so that reading the
table (config validation) stays fast.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

GUARD = 1e-12  # how close to the edge of its domain a guarded activation lets η come


# --- links: the inverse of each is an activation, in Keras ops ---


@dataclass(frozen=True)
class Link:
    name: str
    sm_name: str  # the statsmodels link class
    inverse: Callable[[Any, Any], Any]  # (keras.ops, η) -> μ, unguarded
    activation_name: str  # Keras' own activation where it ships one (used as such when unguarded)
    keras: bool = False
    # the range of η on which μ lies in the mean's domain: {mean domain: (η_min, η_max)}
    domain: dict[str, tuple[float, float]] = field(default_factory=dict)
    power: float | None = None  # the power link's exponent (η = μ^power), statsmodels' Power(power)

    def eta_range(self, mean_domain: str) -> tuple[float, float]:
        return self.domain.get(mean_domain, (-np.inf, np.inf))

    def sm_link(self):
        """statsmodels' link object, with its parameter where it has one."""
        from statsmodels.genmod.families import links

        return getattr(links, self.sm_name)(**({} if self.power is None else {"power": self.power}))

    @property
    def described(self) -> str:
        return self.name if self.power is None else f"{self.name}({self.power:g})"


def power_link(p: float) -> Link:
    """statsmodels' Power(p), R's link.power = p: η = μ^p, μ = η^(1/p), with η kept positive."""
    if not np.isfinite(p) or p == 0:
        raise ValueError(f"the power link's exponent must be a finite number other than 0 (got {p!r}; 0 is link: log)")
    return Link(
        "power",
        "Power",
        lambda ops, eta: ops.power(eta, 1.0 / p),
        "power_mean",
        False,
        {"positive": (0.0, np.inf), "real": (0.0, np.inf), "unit": (0.0, 1.0)},
        power=float(p),
    )


def _normal_cdf(ops, eta):
    return 0.5 * ops.erfc(-eta / np.sqrt(2.0))


LINKS = {
    link.name: link
    for link in [
        Link("identity", "Identity", lambda ops, eta: eta, "linear", True, {"positive": (0.0, np.inf)}),
        Link("log", "Log", lambda ops, eta: ops.exp(eta), "exponential", True, {"unit": (-np.inf, 0.0)}),
        Link("logit", "Logit", lambda ops, eta: ops.sigmoid(eta), "sigmoid", True),
        Link("probit", "Probit", _normal_cdf, "normal_cdf"),
        Link("cloglog", "CLogLog", lambda ops, eta: -ops.expm1(-ops.exp(eta)), "inverse_cloglog"),
        Link("loglog", "LogLog", lambda ops, eta: ops.exp(-ops.exp(-eta)), "inverse_loglog"),
        Link("cauchy", "Cauchy", lambda ops, eta: 0.5 + ops.arctan(eta) / np.pi, "cauchy_cdf"),
        Link("logc", "LogC", lambda ops, eta: -ops.expm1(eta), "one_minus_exp", False, {"unit": (-np.inf, 0.0)}),
        # η must stay positive: the mean is 1/η (the bias starts at link(mean y), inside the domain)
        Link(
            "inverse_power",
            "InversePower",
            lambda ops, eta: 1.0 / eta,
            "inverse_power",
            False,
            {"positive": (0.0, np.inf), "real": (0.0, np.inf)},
        ),
        Link(
            "inverse_squared", "InverseSquared", lambda ops, eta: 1.0 / ops.sqrt(eta), "inverse_squared", False, {"positive": (0.0, np.inf)}
        ),
        Link("sqrt", "Sqrt", lambda ops, eta: ops.square(eta), "square", False, {"positive": (0.0, np.inf)}),
        power_link(1.0),  # its exponent is model.link_power (see lookup)
    ]
}


@functools.cache
def _listed_by_statsmodels(sm_name: str) -> frozenset[str]:
    """The links statsmodels' family lists: those whose statsmodels class is one of the family's `links`
    attribute or a subclass of one, as its check_link tests them (isinstance: Sqrt is a Power, CLogLog a Logit)."""
    from statsmodels.genmod.families import family, links

    listed = tuple(getattr(family, sm_name).links)
    return frozenset(link.name for link in LINKS.values() if issubclass(getattr(links, link.sm_name), listed))


# --- distributions: loss (the negative log-likelihood at scale 1, up to a constant), target, sample ---


@dataclass(frozen=True)
class Parameter:
    """A family's parameter (model.<name>), as statsmodels' family takes it: a constructor argument of
    that name, with the family's rule for its values and the value taken when none is given."""

    name: str
    default: float  # statsmodels' NegativeBinomial and Tweedie defaults, near enough
    rule: str  # the values allowed, in words
    ok: Callable[[float], bool]


ALPHA = Parameter("alpha", 1.0, "greater than 0", lambda a: a > 0)
VAR_POWER = Parameter(
    "var_power",
    1.5,
    "0 (normal) or 1 or more (1 Poisson, 1 to 2 compound Poisson-gamma, 2 gamma, 3 inverse Gaussian); no Tweedie distribution has 0 < p < 1",
    lambda p: p == 0 or 1 <= p < float("inf"),
)

PARAMETERS = (ALPHA, VAR_POWER)


@dataclass(frozen=True)
class Distribution:
    name: str
    sm_name: str  # the statsmodels family class
    # nnglm's order of its links: the first is the default (canonical where allowed, as R's), the others lead the
    # family's list in this order; which links statsmodels lists for the family is asked of statsmodels (`links`)
    link_order: tuple[str, ...]
    target_rule: str  # what the target must be, in words
    target_ok: Callable[[np.ndarray], np.ndarray]  # elementwise check
    mean_domain: str  # real, positive or unit: where the mean lies
    nll: Callable | str | None  # (ops, y, μ, params) -> per-row NLL; or a Keras loss name
    # (rng, mu, scale, params) -> a target with mean mu and the family's scale
    sample: Callable | None = None
    # n * mean loss = nll_factor * (negative log-likelihood at scale 1) + a constant
    nll_factor: float = 1.0
    free_scale: bool = False  # a dispersion to estimate (Pearson chi^2 / df), else 1
    multiclass: bool = False  # softmax over C classes, compared with MNLogit
    params: tuple[Parameter, ...] = ()  # the model.* keys it takes (alpha, var_power), each with its rule
    canonical: str = ""  # its canonical link
    # binomial: with data.trials or data.weights the target may be a proportion
    proportion_ok: Callable[[np.ndarray], np.ndarray] | None = None
    r_name: str = ""  # R's family$family, as summary.glm prints it ("Gamma", "inverse.gaussian"); default: name
    # R's quasi families: the base family's mean, variance and loss with the dispersion estimated (Pearson
    # chi^2 / df) although statsmodels' family fixes it at 1 (Poisson, Binomial): statsmodels is asked scale="X2"
    quasi: bool = False
    variance: str = ""  # quasi: R's name of the variance function (constant, mu(1-mu), mu, mu^2, mu^3)

    @property
    def links(self) -> tuple[str, ...]:
        """The links statsmodels' family lists (checks with check_link=True), link_order's first, then the rest
        in LINKS' order; softmax for the multinomial. Asks statsmodels, which it imports."""
        if self.multiclass:
            return self.link_order
        listed = _listed_by_statsmodels(self.sm_name)
        first = [name for name in self.link_order if name in listed]
        return tuple(first + [name for name in LINKS if name in listed and name not in first])

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.params if p.name == name), None)

    def lists(self, link: Link) -> bool:
        """Does statsmodels' family list the link (by its class, as statsmodels checks it)?"""
        return link.name in _listed_by_statsmodels(self.sm_name)


def _zero_or_one(y):
    return (y == 0) | (y == 1)


def _zero_to_one(y):
    return np.isfinite(y) & (y >= 0) & (y <= 1)


def _whole(y):
    return np.isfinite(y) & (y == np.round(y))


def _poisson_nll(ops, y, mu, params):
    """μ − y log μ"""
    # Keras' own "poisson" adds 1e-7 inside the log, which moves the optimum; this does not
    return mu - y * ops.log(mu)


def _gamma_nll(ops, y, mu, params):
    """y/μ + log μ"""
    return y / mu + ops.log(mu)


def _inverse_gaussian_nll(ops, y, mu, params):
    """y/(2μ²) − 1/μ"""
    return y / (2.0 * ops.square(mu)) - 1.0 / mu


def _negative_binomial_nll(ops, y, mu, params):
    """(y + 1/α) log(1 + αμ) − y log μ"""
    alpha = params["alpha"]
    return (y + 1.0 / alpha) * ops.log1p(alpha * mu) - y * ops.log(mu)


def _tweedie_nll(ops, y, mu, params):
    """μ^(2−p)/(2−p) − y μ^(1−p)/(1−p), the Tweedie quasi-likelihood (p = 1: μ − y log μ; p = 2: y/μ + log μ; p = 0: μ²/2 − y μ)"""
    # the Tweedie quasi-likelihood: its derivative in mu is (mu - y) / mu^p, statsmodels' IRLS estimating
    # equations at every power; at p = 1 and 2 the limits (Poisson's and gamma's)
    p = params["var_power"]
    if p == 0:
        return 0.5 * ops.square(mu) - y * mu
    if p == 1:
        return _poisson_nll(ops, y, mu, params)
    if p == 2:
        return _gamma_nll(ops, y, mu, params)
    return ops.power(mu, 2.0 - p) / (2.0 - p) - y * ops.power(mu, 1.0 - p) / (1.0 - p)


def _sample_tweedie(rng, mu, scale, params):
    p = params["var_power"]
    if p == 0:
        return mu + rng.normal(0.0, np.sqrt(scale), size=mu.shape)
    if p == 1:  # scale times a Poisson count: variance scale * mu
        return scale * rng.poisson(mu / scale).astype(float)
    if p == 2:
        return rng.gamma(1.0 / scale, mu * scale)
    if p == 3:
        return rng.wald(mu, 1.0 / scale)
    if not 1 < p < 2:
        raise ValueError(f"Tweedie samples are drawn at p = 0, 1, 2, 3 and 1 < p < 2 only, not {p:g}")
    # compound Poisson-gamma: N ~ Poisson(λ) gamma-distributed amounts, mean mu, variance scale * mu^p
    lam = mu ** (2 - p) / (scale * (2 - p))
    shape, theta = (2 - p) / (p - 1), scale * (p - 1) * mu ** (p - 1)
    counts = rng.poisson(lam)
    return np.array([rng.gamma(shape * c, t) if c else 0.0 for c, t in zip(counts, theta)])


DISTRIBUTIONS = {
    d.name: d
    for d in [
        Distribution(
            "gaussian",
            "Gaussian",
            ("identity", "log", "inverse_power"),
            "any finite number",
            np.isfinite,
            "real",
            "mean_squared_error",
            sample=lambda rng, mu, scale, params: mu + rng.normal(0.0, np.sqrt(scale), size=mu.shape),
            nll_factor=2.0,  # squared error is twice the Gaussian NLL at unit variance
            free_scale=True,
            canonical="identity",
        ),
        Distribution(
            "binomial",
            "Binomial",
            ("logit", "probit", "cloglog", "loglog", "cauchy", "log", "logc"),
            "0 or 1",
            _zero_or_one,
            "unit",
            "binary_crossentropy",
            sample=lambda rng, mu, scale, params: rng.binomial(1, mu).astype(float),
            canonical="logit",
            proportion_ok=_zero_to_one,
        ),
        Distribution(
            "poisson",
            "Poisson",
            ("log", "identity", "sqrt"),
            "a count, 0 or more",
            lambda y: _whole(y) & (y >= 0),
            "positive",
            _poisson_nll,
            sample=lambda rng, mu, scale, params: rng.poisson(mu).astype(float),
            canonical="log",
        ),
        Distribution(
            "gamma",
            "Gamma",
            ("inverse_power", "log", "identity"),
            "greater than 0",
            lambda y: y > 0,
            "positive",
            _gamma_nll,
            # shape 1/scale, mean mu: variance scale * mu^2, as statsmodels' Gamma
            sample=lambda rng, mu, scale, params: rng.gamma(1.0 / scale, mu * scale),
            free_scale=True,
            canonical="inverse_power",
        ),
        Distribution(
            "inverse_gaussian",
            "InverseGaussian",
            ("inverse_squared", "inverse_power", "log", "identity"),
            "greater than 0",
            lambda y: y > 0,
            "positive",
            _inverse_gaussian_nll,
            sample=lambda rng, mu, scale, params: rng.wald(mu, 1.0 / scale),  # variance scale * mu^3
            free_scale=True,
            canonical="inverse_squared",
        ),
        Distribution(
            "negative_binomial",
            "NegativeBinomial",
            ("log", "identity", "sqrt"),
            "a count, 0 or more",
            lambda y: _whole(y) & (y >= 0),
            "positive",
            _negative_binomial_nll,
            sample=lambda rng, mu, scale, params: rng.negative_binomial(1 / params["alpha"], 1 / (1 + params["alpha"] * mu)).astype(float),
            params=(ALPHA,),
        ),
        Distribution(
            "tweedie",
            "Tweedie",
            ("log", "identity", "sqrt", "power"),
            "0 or more",
            lambda y: np.isfinite(y) & (y >= 0),
            "positive",
            _tweedie_nll,
            sample=_sample_tweedie,
            free_scale=True,
            params=(VAR_POWER,),
        ),
        Distribution(
            "multinomial",
            "",
            ("softmax",),
            "a class label: a whole number 0 or more",
            lambda y: _whole(y) & (y >= 0),
            "unit",
            "sparse_categorical_crossentropy",
            multiclass=True,
            canonical="softmax",
        ),
    ]
}


def _sample_quasipoisson(rng, mu, scale, params):
    """scale times a Poisson count: mean mu, variance scale * mu (over-dispersed for scale > 1)."""
    return scale * rng.poisson(mu / scale).astype(float)


def _zero_or_more(y):
    return np.isfinite(y) & (y >= 0)


def _quasi(base: str, name: str, variance: str = "", **changes: Any) -> Distribution:
    """R's quasi family on a base family: its links, mean, variance function and loss (the quasi-likelihood,
    which is the base family's log-likelihood at scale 1), with the dispersion estimated."""
    return replace(DISTRIBUTIONS[base], name=name, r_name=name, free_scale=True, quasi=True, variance=variance, **changes)


QUASIPOISSON = _quasi("poisson", "quasipoisson", target_rule="0 or more", target_ok=_zero_or_more, sample=_sample_quasipoisson)
# R's quasibinomial takes any proportion 0 to 1 as the target, with or without weights
QUASIBINOMIAL = _quasi("binomial", "quasibinomial", target_rule="0 to 1", target_ok=_zero_to_one)
# R's quasi(link, variance): each variance function statsmodels has a family for (R's default: constant)
QUASI_VARIANCES = {
    "constant": _quasi("gaussian", "quasi", "constant"),
    "mu(1-mu)": replace(QUASIBINOMIAL, name="quasi", r_name="quasi", variance="mu(1-mu)"),
    "mu": replace(QUASIPOISSON, name="quasi", r_name="quasi", variance="mu"),
    "mu^2": _quasi("gamma", "quasi", "mu^2"),
    "mu^3": _quasi("inverse_gaussian", "quasi", "mu^3"),
}
QUASI_LINK = "identity"  # R's quasi() default link, whatever the variance
_QUASI = {"quasipoisson": QUASIPOISSON, "quasibinomial": QUASIBINOMIAL, "quasi": QUASI_VARIANCES["constant"]}
_R_NAMES = {"gamma": "Gamma", "inverse_gaussian": "inverse.gaussian", "tweedie": "Tweedie"}
DISTRIBUTIONS = (
    {name: replace(d, r_name=_R_NAMES.get(name, name)) for name, d in DISTRIBUTIONS.items() if not d.multiclass}
    | _QUASI
    | {name: d for name, d in DISTRIBUTIONS.items() if d.multiclass}
)

DRAWN_POWERS = "0, 1, 2, 3 or strictly between 1 and 2"  # the Tweedie powers a synthetic sample is drawn at


def tweedie_drawn(p: float) -> bool:
    return p in (0, 1, 2, 3) or 1 < p < 2


# --- a family with its link: what every other module asks ---


@dataclass(frozen=True)
class Family:
    distribution: Distribution
    link_spec: Link | None  # None: softmax
    params: tuple[tuple[str, float], ...] = ()  # (name, value) of the distribution's parameters
    # parameters learned beside the coefficients (model.alpha: estimate), each a term after them; their
    # value in `params` is where learning starts
    estimated: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return self.distribution.name

    @property
    def link(self) -> str:
        return self.link_spec.name if self.link_spec else "softmax"

    @property
    def variance(self) -> str:
        """quasi: R's name of its variance function; '' for every other family."""
        return self.distribution.variance if self.family == "quasi" else ""

    @property
    def key(self) -> str:
        family = f"{self.family}({self.variance})" if self.variance else self.family
        return f"{family}/{self.link_spec.described if self.link_spec else self.link}"

    @property
    def quasi(self) -> bool:
        return self.distribution.quasi

    @property
    def sm_scale(self) -> str | None:
        """The scale statsmodels' GLM.fit is asked for by default: X2 for a quasi family (statsmodels' Poisson
        and Binomial would fix it at 1), else None (statsmodels' own rule, which estimates it where free_scale)."""
        return "X2" if self.quasi else None

    def estimates_dispersion(self, scale: str | float = "family") -> bool:
        """Is the dispersion estimated from the data (inference.scale X2 or dev, or the family's rule where it has a
        scale), rather than fixed (1, or a number given)? R's summary.glm then tests with t, else with z."""
        return scale in ("X2", "dev") or (scale == "family" and self.free_scale)

    @property
    def r_family(self) -> str:
        """R's family$family, as summary.glm names it in "(Dispersion parameter for ... family taken to be ...)"."""
        if self.family == "negative_binomial":
            return f"Negative Binomial({1 / self.param('alpha'):.4g})"
        return self.distribution.r_name or self.family

    @property
    def r_call(self) -> str:
        """The family as R writes it in glm(family = ...): binomial(link = "probit"), quasi(link = "log", variance = "mu")."""
        return r_call(self)

    @property
    def multiclass(self) -> bool:
        return self.distribution.multiclass

    @property
    def unlisted(self) -> bool:
        """A link statsmodels' family does not list: it fits it only with check_link=False, unchecked."""
        return not self.multiclass and not self.distribution.lists(self.inverse_link)

    @property
    def link_warning(self) -> str | None:
        """What a run with an unlisted link records (result.json's GLM warnings, the summary)."""
        if not self.unlisted:
            return None
        return (
            f"link: statsmodels' {self.distribution.sm_name} family does not list the {self.inverse_link.sm_name} link "
            f"(its links: {', '.join(self.distribution.links)}); fitted with check_link=False, as statsmodels allows it, "
            "so nothing checks that the fitted means stay in the family's domain"
        )

    @property
    def canonical(self) -> bool:
        return self.link == self.distribution.canonical

    @property
    def free_scale(self) -> bool:
        return self.distribution.free_scale

    @property
    def nll_factor(self) -> float:
        return self.distribution.nll_factor

    @property
    def target_rule(self) -> str:
        if self.family == "tweedie" and self.param("var_power") == 0:
            return "any finite number"
        if self.family == "tweedie" and self.param("var_power") >= 2:
            return "greater than 0"
        return self.distribution.target_rule

    def target_ok(self, y: np.ndarray, weighted: bool = False) -> np.ndarray:
        """Elementwise: may y be this family's target? With weights, a binomial target may be a proportion."""
        if weighted and self.distribution.proportion_ok:
            return self.distribution.proportion_ok(y)
        if self.family == "tweedie" and self.param("var_power") == 0:
            return np.isfinite(y)
        if self.family == "tweedie" and self.param("var_power") >= 2:
            return np.isfinite(y) & (y > 0)
        return self.distribution.target_ok(y)

    @property
    def mean_domain(self) -> str:
        """Where the mean lies: the distribution's, but a Tweedie at p = 0 (normal) has any real mean."""
        if self.family == "tweedie" and self.param("var_power") == 0:
            return "real"
        return self.distribution.mean_domain

    @property
    def has_likelihood(self) -> bool:
        """statsmodels has a log-likelihood for it: not a Tweedie outside 1 <= p <= 2 (its llf is NaN there)."""
        return self.family != "tweedie" or 1 <= self.param("var_power") <= 2

    @property
    def takes_trials(self) -> bool:
        """Binomial: the target may count successes out of trials (data.trials)."""
        return self.distribution.proportion_ok is not None

    def target_rule_for(self, weighted: bool) -> str:
        return "a proportion, 0 to 1" if weighted and self.distribution.proportion_ok else self.target_rule

    @property
    def eta_range(self) -> tuple[float, float]:
        """Where the activation is the inverse link; outside it is held at the edge (its gradient 0)."""
        return self.link_spec.eta_range(self.mean_domain) if self.link_spec else (-np.inf, np.inf)

    @property
    def eta_min(self) -> float:
        return self.eta_range[0]

    @property
    def guarded(self) -> bool:
        return bool(np.isfinite(self.eta_range).any())

    @property
    def start_bias_at_mean(self) -> bool:
        # η = 0 is outside the activation's domain: the bias starts at link(mean y) instead
        low, high = self.eta_range
        return not (low < 0 < high)

    def sm_family(self):
        """The statsmodels family with this link (None for softmax: MNLogit)."""
        import statsmodels.api as sm

        if self.multiclass:
            return None
        link = self.inverse_link.sm_link()
        family = getattr(sm.families, self.distribution.sm_name)
        return family(link, **dict(self.params), check_link=not self.unlisted)  # params named as statsmodels names them

    @property
    def inverse_link(self) -> Link:
        """The link (a softmax family has none: ask multiclass first)."""
        if self.link_spec is None:
            raise ValueError(f"{self.key} has no link of its own")
        return self.link_spec

    def param(self, name: str) -> float:
        return dict(self.params)[name]

    # --- the network's side, in the ops of whichever backend trains it (keras.ops; numpy for the reference) ---

    @property
    def keras_activation(self) -> str | None:
        """The name of Keras' own activation when the network may use it as it is (an unguarded inverse link Keras has)."""
        if self.multiclass:
            return "softmax"
        link = self.inverse_link
        return link.activation_name if link.keras and not self.guarded else None

    @property
    def activation_name(self) -> str:
        if self.multiclass:
            return "softmax"
        link = self.inverse_link
        return link.activation_name + ("_guarded" if self.guarded and link.keras else "")

    def mean(self, ops, eta):
        """μ from η: the inverse link, with η kept GUARD inside the edges of the link's domain."""
        low, high = self.eta_range
        if np.isfinite(low):
            eta = ops.maximum(eta, low + GUARD)
        if np.isfinite(high):
            eta = ops.minimum(eta, high - GUARD)
        return self.inverse_link.inverse(ops, eta)

    @property
    def keras_loss(self) -> str | None:
        """The name of Keras' own loss when the family's is one of them (binary cross-entropy, ...)."""
        nll = self.distribution.nll
        return nll if isinstance(nll, str) else None

    def row_loss(self, ops, y, mu):
        """The per-row negative log-likelihood (up to terms free of μ), averaged over the last axis."""
        nll = self.distribution.nll
        assert callable(nll), f"{self.key}: its loss is Keras' {nll!r}"
        return ops.mean(nll(ops, y, mu, dict(self.params)), axis=-1)

    @property
    def loss_name(self) -> str:
        nll = self.distribution.nll
        if self.estimated:
            return f"{self.family}_nll_alpha"
        return (nll or "") if isinstance(nll, str) or nll is None else f"{self.family}_nll"

    # --- data side ---

    def sample(self, rng: np.random.Generator, mu: np.ndarray, scale: float) -> np.ndarray:
        if self.distribution.sample is None:
            raise ValueError(f"{self.key} is drawn by its own generator")
        return self.distribution.sample(rng, mu, scale, dict(self.params))

    def intercept_only(
        self, y: np.ndarray, n_outputs: int, weights: np.ndarray | None = None, offset: np.ndarray | None = None
    ) -> np.ndarray:
        """The bias of the intercept-only fit: link(weighted mean y), or the log class shares for softmax;
        with an offset, statsmodels' own intercept-only fit."""
        w = np.ones(len(y)) if weights is None else weights
        if self.multiclass:
            shares = np.bincount(y.astype(int), weights=w, minlength=n_outputs) / w.sum()
            return np.log(np.maximum(shares, 1e-12))
        if offset is not None:
            return np.array([self._intercept_with_offset(y, w, offset)])
        with np.errstate(all="ignore"):
            bias = float(self.sm_family().link(np.average(y, weights=w)))
        return np.array([bias if np.isfinite(bias) else 0.0])

    def _intercept_with_offset(self, y: np.ndarray, w: np.ndarray, offset: np.ndarray) -> float:
        import warnings

        import statsmodels.api as sm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = sm.GLM(y, np.ones((len(y), 1)), family=self.sm_family(), offset=offset, var_weights=w).fit()
                bias = float(fit.params[0])
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                bias = float("nan")
        return bias if np.isfinite(bias) else 0.0

    def dispersion(self, y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None, residual_df: float) -> float:
        """Pearson chi^2 / residual df where the family has a scale to estimate (as statsmodels), else 1."""
        if not self.free_scale:
            return 1.0
        w = 1.0 if weights is None else weights
        return float(np.sum(w * (y - mu) ** 2 / self.sm_family().variance(mu)) / max(residual_df, 1))


def softmax(eta: np.ndarray) -> np.ndarray:
    """Class probabilities from logits (rows, classes), in NumPy: the multinomial family's inverse link."""
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def distribution_of(family: str, variance: str | None = None) -> Distribution:
    """The family's distribution; quasi's is its variance function's (default constant, as R's quasi())."""
    if family == "quasi" and variance is not None:
        return QUASI_VARIANCES[variance]
    return DISTRIBUTIONS[family]


def links_of(family: str, variance: str | None = None) -> list[str]:
    """The links statsmodels' family lists (checked by it), the default first (quasi's identity, as R's)."""
    links = list(distribution_of(family, variance).links)
    return [QUASI_LINK] + [link for link in links if link != QUASI_LINK] if family == "quasi" else links


def unlisted_links(family: str, variance: str | None = None) -> list[str]:
    """statsmodels' other links, which it fits for the family only with check_link=False (none for softmax)."""
    distribution = distribution_of(family, variance)
    return [] if distribution.multiclass else [name for name in LINKS if name not in distribution.links]


def accepts(family: str, link: str, variance: str | None = None) -> bool:
    """Does nnglm fit the family with the link, listed by statsmodels or not? (Without asking statsmodels.)"""
    distribution = distribution_of(family, variance)
    return isinstance(link, str) and link in (distribution.link_order if distribution.multiclass else LINKS)


def family_names() -> list[str]:
    return list(DISTRIBUTIONS)


def default_link(family: str, variance: str | None = None) -> str:
    """The family's first link (quasi's identity, as R's quasi()), without asking statsmodels."""
    return QUASI_LINK if family == "quasi" else distribution_of(family, variance).link_order[0]


ESTIMATED = "estimate"  # model.alpha's value that asks for alpha to be learned


def lookup(
    family: str, link: str | None = None, link_power: float | None = None, variance: str | None = None, **params: float | str | None
) -> Family:
    """The family with a link (default: the family's first) and its parameters (default: each Parameter's);
    a parameter given as "estimate" is learned, from its default value. The power link takes its
    exponent from link_power (default: R's statmod::tweedie default for Tweedie, 1 - var_power; else 1).
    quasi takes R's variance function (default constant, as R's quasi())."""
    distribution = distribution_of(family, variance)
    link = link or default_link(family, variance)
    if not accepts(family, link, variance):
        raise KeyError((family, link))
    estimated = tuple(name for name, value in params.items() if value == ESTIMATED)
    given = {name: value for name, value in params.items() if value is not None and value != ESTIMATED}  # 0 is a value (Tweedie p = 0)
    values = tuple((p.name, float(given.get(p.name, p.default))) for p in distribution.params)
    spec = None if distribution.multiclass else LINKS[link]
    if link == "power":
        default = 1.0 - dict(values)["var_power"] if family == "tweedie" else 1.0
        spec = power_link(default if link_power is None else link_power)
    return Family(distribution, spec, values, estimated)


DEFAULT_FAMILY = "binomial"  # model.family's default: nnglm's first story is logistic regression (seed 002)


def assumed(y: np.ndarray) -> str:
    """What a target the default family refuses is told: the family assumed, and which to set for targets like y.
    R's glm assumes gaussian; nnglm keeps binomial, so that a config without model.family means what it always meant."""
    if y.size and np.all((y >= 0) & (y == np.round(y))):
        like = "poisson (or quasipoisson, negative_binomial) for counts like these, or gaussian"
    elif y.size and np.all(y > 0):
        like = "gaussian, or gamma (or inverse_gaussian) for positive values like these"
    else:
        like = "gaussian"
    return (
        f"model.family is not set, so nnglm assumed {DEFAULT_FAMILY}, its default (R's glm assumes gaussian): "
        f'set model.family: {like} (as R writes it too, e.g. poisson(link = "log"))'
    )


# --- R's spelling: glm(family = binomial(link = "probit")), read by a closed rule, never evaluated ---

R_FAMILIES = {  # R's family function -> nnglm's family (MASS's negative.binomial, statmod's tweedie)
    "gaussian": "gaussian",
    "binomial": "binomial",
    "poisson": "poisson",
    "Gamma": "gamma",
    "inverse.gaussian": "inverse_gaussian",
    "quasipoisson": "quasipoisson",
    "quasibinomial": "quasibinomial",
    "quasi": "quasi",
    "negative.binomial": "negative_binomial",
    "tweedie": "tweedie",
}
R_LINKS = {  # R's make.link names -> nnglm's links
    "logit": "logit",
    "probit": "probit",
    "cauchit": "cauchy",
    "cloglog": "cloglog",
    "identity": "identity",
    "log": "log",
    "sqrt": "sqrt",
    "1/mu^2": "inverse_squared",
    "inverse": "inverse_power",
}
# each R family function's arguments, in R's order (a positional argument takes the next of them)
R_ARGUMENTS = {"quasi": ("link", "variance"), "negative.binomial": ("theta", "link"), "tweedie": ("var.power", "link.power")}
MAX_R_CALL = 200

_R_CALL = re.compile(r"\s*(?:(?:stats|MASS|statmod)::)?([A-Za-z][A-Za-z.]*)\s*(?:\((.*)\))?\s*", re.S)
_R_VALUE = r"\"[^\"]*\"|'[^']*'|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z][A-Za-z0-9._]*"
_R_ARG = re.compile(rf"\s*(?:([A-Za-z][A-Za-z.]*)\s*=\s*)?({_R_VALUE})\s*")
R_EXAMPLE = 'binomial(link = "probit")'


def from_r(text: str) -> dict[str, Any] | None:
    """model.family as R writes it (binomial(link = "probit"), Gamma, quasi(link = "log", variance = "mu"),
    MASS's negative.binomial(theta = 2), statmod's tweedie(var.power = 1.5, link.power = 0)) as model keys:
    {"family": ..., "link": ..., ...}; None where the text is not R's spelling (nnglm's own name, or no family).
    A closed rule: a family function's name and quoted strings, names or numbers as its arguments."""
    call = _R_CALL.fullmatch(text) if len(text) <= MAX_R_CALL else None
    if call is None or (call.group(1) not in R_FAMILIES and call.group(2) is None):
        return None
    name, inside = call.groups()
    if name not in R_FAMILIES:
        raise ValueError(f"model.family: {text!r}: R's family {name!r} is not one nnglm fits; R's families here: {', '.join(R_FAMILIES)}")
    given = _r_arguments(text, name, inside or "")
    keys: dict[str, Any] = {"family": R_FAMILIES[name]}
    if "link" in given:
        link = given["link"]
        if link not in R_LINKS and link not in LINKS:
            raise ValueError(f"model.family: {text!r}: link {link!r} is not one of R's links ({', '.join(R_LINKS)})")
        keys["link"] = R_LINKS.get(link, link)
    if "variance" in given:
        if given["variance"] not in QUASI_VARIANCES:
            raise ValueError(
                f"model.family: {text!r}: variance {given['variance']!r} is not one statsmodels has a family for "
                f"({', '.join(QUASI_VARIANCES)})"
            )
        keys["variance"] = given["variance"]
    if name == "negative.binomial":
        keys["alpha"] = 1.0 / (_r_number(text, given, "theta", required=True) or 1.0)  # R's theta is statsmodels' 1 / alpha
    if name == "tweedie":
        keys |= _r_tweedie(_r_number(text, given, "var.power") or 0.0, _r_number(text, given, "link.power"))
    return keys


def _r_arguments(text: str, name: str, inside: str) -> dict[str, str]:
    """{argument: value} of a call's arguments, each named or in R's order, quotes removed."""
    allowed = R_ARGUMENTS.get(name, ("link",))
    given: dict[str, str] = {}
    for position, part in enumerate(inside.split(",") if inside.strip() else []):
        match = _R_ARG.fullmatch(part)
        if match is None:
            raise ValueError(
                f"model.family: {text!r}: {part.strip()!r} is not an argument nnglm reads (a quoted string, a name or a number, "
                f"as in {R_EXAMPLE})"
            )
        key = match.group(1) or (allowed[position] if position < len(allowed) else "")
        if key not in allowed or key in given:
            raise ValueError(f"model.family: {text!r}: {name}() takes {', '.join(allowed)}, each once")
        given[key] = match.group(2).strip("\"'")
    return given


def _r_number(text: str, given: dict[str, str], key: str, required: bool = False) -> float | None:
    if key not in given:
        if required:
            raise ValueError(f"model.family: {text!r}: {key} is required (a number)")
        return None
    try:
        value = float(given[key])
    except ValueError:
        raise ValueError(f"model.family: {text!r}: {key} must be a number, not {given[key]!r}") from None
    if not np.isfinite(value) or (key == "theta" and value <= 0):
        raise ValueError(f"model.family: {text!r}: {key} must be a finite number{' greater than 0' if key == 'theta' else ''}")
    return value


def _r_tweedie(var_power: float, link_power: float | None) -> dict[str, Any]:
    """statmod's tweedie(var.power, link.power = 1 - var.power): link.power 0 is the log link, 1 identity, 0.5 sqrt."""
    power = 1.0 - var_power if link_power is None else link_power
    link = {0.0: "log", 1.0: "identity", 0.5: "sqrt"}.get(power)
    return {"var_power": var_power, "link": link or "power"} | ({} if link else {"link_power": power})


def r_call(family: Family) -> str:
    """The family as R writes it; nnglm's name for what R has no family function for (multinomial)."""
    if family.multiclass:
        return family.family
    name = next(r for r, ours in R_FAMILIES.items() if ours == family.family)
    link = next((r for r, ours in R_LINKS.items() if ours == family.link), family.link)
    args = []
    if family.family == "negative_binomial":
        args.append(f"theta = {1 / family.param('alpha'):.6g}")
    if family.family == "tweedie":
        power = {"log": 0.0, "identity": 1.0, "sqrt": 0.5}.get(family.link, family.inverse_link.power)
        args += [f"var.power = {family.param('var_power'):g}"] + ([f"link.power = {power:g}"] if power is not None else [])
    elif family.family == "quasi":
        args += [f'link = "{link}"', f'variance = "{family.variance}"']
    elif family.link != family.distribution.link_order[0]:
        args.append(f'link = "{link}"')
    return f"{name}({', '.join(args)})" if args else name


# the pairs the property tests check: each family at the links of its link_order (built without asking statsmodels);
# a quasi family's activation and loss are its base family's, checked at each of their links there, so a quasi
# family is checked at its first link only, once per variance function
FAMILIES = [lookup(d.name, link) for d in DISTRIBUTIONS.values() if not d.quasi for link in d.link_order] + [
    lookup(d.name, d.link_order[0], variance=d.variance or None) for d in [QUASIPOISSON, QUASIBINOMIAL, *QUASI_VARIANCES.values()]
]
