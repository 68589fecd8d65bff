"""Synthetic data: the seeds' generators and samples from a known GLM.

Each generator is a model of its parameters, with their defaults, that draws its
own table; `data.generator` picks one (a discriminated union on `name`), and
its parameters sit beside it in the config's `data` section (`data.n_rows`, ...).
"""

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from nnglm.foundation.errors import UserError
from nnglm.vocabulary.families import softmax

if TYPE_CHECKING:
    from nnglm.vocabulary.families import Family


class Generator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    targets: ClassVar[tuple[str, ...]] = ("y",)  # the target columns it makes; the other columns are its features

    def draw(self, rng: np.random.Generator, family: "Family") -> pd.DataFrame:
        raise NotImplementedError


def _features(rng: np.random.Generator, n_rows: int, n_features: int, mean: float, sd: float) -> tuple[np.ndarray, pd.DataFrame]:
    X = rng.normal(mean, sd, size=(n_rows, n_features))
    return X, pd.DataFrame(X, columns=[f"x{i + 1}" for i in range(n_features)])


class GaussianBernoulli(Generator):
    """Seed 002: Gaussian features, a target that ignores them."""

    name: Literal["gaussian_bernoulli"] = "gaussian_bernoulli"
    n_rows: int = 1000
    n_features: int = 10
    feature_mean: float = 1.0
    feature_sd: float = 0.5
    p: float = 0.5

    def draw(self, rng, family):
        _, frame = _features(rng, self.n_rows, self.n_features, self.feature_mean, self.feature_sd)
        frame["y"] = rng.binomial(1, self.p, size=self.n_rows).astype(float)
        return frame


class Balloons(Generator):
    """Seed 003: inputs uniform on [-0.5, 0.5], relationship -0.5 (partnered) or +0.5 (single), targets
    from a rule that differs between the two groups, so that no linear model fits it exactly."""

    name: Literal["balloons"] = "balloons"
    targets: ClassVar[tuple[str, ...]] = ("count", "colour")
    n_rows: int = 1000

    def draw(self, rng, family):
        relationship = rng.choice([-0.5, 0.5], size=self.n_rows)
        children = rng.uniform(-0.5, 0.5, size=self.n_rows)
        age = rng.uniform(-0.5, 0.5, size=self.n_rows)
        partnered = relationship == -0.5
        count = np.where(partnered, 1.0 * children - 0.2 * age, 0.8 * children + 0.5 * age)
        colour_score = np.where(partnered, 0.8 * children + 0.2 * age, 0.5 * children + 0.5 * age)
        return pd.DataFrame(
            {"relationship": relationship, "children": children, "age": age, "count": count, "colour": (colour_score > 0).astype(float)}
        )


class FourPoints(Generator):
    """Seed 000: output = 1 - input 1, perfectly separable."""

    name: Literal["four_points"] = "four_points"

    def draw(self, rng, family):
        return pd.DataFrame({"x1": [1.0, 0.0, 1.0, 0.0], "x2": [0.0, 0.0, 1.0, 1.0], "y": [0.0, 1.0, 0.0, 1.0]})


class GlmSample(Generator):
    """A target drawn from a known GLM: mean link^-1(intercept + X b), the family's own noise."""

    name: Literal["glm"] = "glm"
    n_rows: int = 1000
    n_features: int = 3
    feature_mean: float = 0.0
    feature_sd: float = 1.0
    coefficients: list[float]  # required, one per feature
    intercept: float = 0.0
    scale: float = 1.0  # the family's dispersion, where it has one

    def draw(self, rng, family):
        X, frame = _features(rng, self.n_rows, self.n_features, self.feature_mean, self.feature_sd)
        with np.errstate(all="ignore"):
            mu = family.sm_family().link.inverse(self.intercept + X @ np.asarray(self.coefficients, dtype=float))
        check_means(mu, family)
        try:
            frame["y"] = family.sample(rng, mu, self.scale)
        except ValueError as e:  # NumPy's own limits, e.g. a Poisson mean past 1e18
            raise UserError(f"data: generator 'glm' cannot draw family {family.family} at its means ({e}); {SMALLER}") from None
        return frame


SMALLER = "use smaller data.coefficients, data.intercept or data.feature_sd"
MEAN_DOMAINS = {"real": "a finite number", "positive": "greater than 0", "unit": "a probability, 0 to 1"}


def check_means(mu: np.ndarray, family: "Family") -> None:
    """The generator's means must lie where the family's mean does, or no target can be drawn."""
    domain = family.distribution.mean_domain
    bad = ~np.isfinite(mu)
    if domain == "positive":
        bad |= ~(mu > 0)
    elif domain == "unit":
        bad |= ~((mu >= 0) & (mu <= 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise UserError(
            f"data: generator 'glm' gives the mean {mu[row]:.4g} at row {row} under {family.family}/{family.link}, whose mean must be "
            f"{MEAN_DOMAINS.get(domain, domain)}; {SMALLER}"
        )


class Softmax(Generator):
    """Seed 001: class labels from a multinomial logit with random coefficients, class 0 the reference."""

    name: Literal["softmax"] = "softmax"
    n_rows: int = 1000
    n_features: int = 3
    n_classes: int = 3
    feature_mean: float = 0.0
    feature_sd: float = 1.0
    coef_sd: float = 1.0

    def draw(self, rng, family):
        X, frame = _features(rng, self.n_rows, self.n_features, self.feature_mean, self.feature_sd)
        coefs = rng.normal(0.0, self.coef_sd, size=(self.n_features + 1, self.n_classes - 1))
        eta = np.column_stack([np.zeros(self.n_rows), coefs[0] + X @ coefs[1:]])
        p = softmax(eta)
        u = rng.uniform(size=(self.n_rows, 1))
        labels = np.minimum((u > p.cumsum(axis=1)).sum(axis=1), self.n_classes - 1)
        frame["y"] = labels.astype(float)
        return frame


AnyGenerator = Annotated[GaussianBernoulli | Balloons | FourPoints | GlmSample | Softmax, Field(discriminator="name")]
GENERATORS: dict[str, type[Generator]] = {
    cls.model_fields["name"].default: cls for cls in (GaussianBernoulli, Balloons, FourPoints, GlmSample, Softmax)
}
REQUIRED = object()  # a parameter without a default


def parameters(name: str) -> dict[str, Any]:
    """A generator's parameters with their defaults (REQUIRED where it has none)."""
    fields = GENERATORS[name].model_fields
    return {p: (REQUIRED if f.is_required() else f.default) for p, f in fields.items() if p != "name"}


def of(name: str, params: dict[str, Any]) -> Generator:
    return TypeAdapter(AnyGenerator).validate_python({"name": name, **params})
