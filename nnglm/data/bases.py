"""R's bases for one numeric column: poly(), ns() and bs(), as R's stats and splines packages compute them.

Each is a stateful transform of the formula library (patsy): the first pass over the
training rows fixes the basis (poly's centring and norms, the splines' knots), and the
same basis is then applied to any rows, training or new, through the design's
DesignInfo (`patsy.build_design_matrices([design_info], new_rows)`), as R's
`predict()` reuses the basis through the terms' `predvars`.

- poly(x, degree): R's orthogonal polynomials (the QR of the centred powers, then R's
  three-term recursion with the stored alpha and norm2); raw = True: the powers x, x^2, ...
- bs(x, df, knots, degree = 3, intercept = False): the B-spline basis with inner knots at
  the quantiles of x (R's type 7, numpy's default) and boundary knots at its range;
  outside the range, R's extrapolation (the Taylor polynomial at the nearer boundary).
- ns(x, df, knots, intercept = False): the natural cubic spline basis, R's splines::ns:
  the cubic B-spline basis with the second derivative zero at both boundary knots,
  imposed by the QR of those constraints; linear beyond the boundary knots.
"""

from dataclasses import dataclass

import numpy as np

from nnglm.data import checks
from nnglm.foundation.errors import UserError


def _numbers(x, name: str) -> np.ndarray:
    values = np.asarray(x)
    if values.ndim != 1:
        values = values.reshape(len(values), -1)
        if values.shape[1] != 1:
            raise UserError(f"data.formula: {name}() takes one numeric column, not {values.shape[1]}")
        values = values[:, 0]
    try:
        values = values.astype(float)
    except (TypeError, ValueError):
        raise UserError(f"data.formula: {name}() takes a numeric column; this one holds labels") from None
    if not np.all(np.isfinite(values)):
        raise UserError(f"data.formula: {name}() needs finite numbers in its column")
    return values


def _whole(value, what: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value != int(value) or value < least:
        raise UserError(f"data.formula: {what} must be a whole number, {least} or more (got {value!r})")
    return int(value)


class _Memory:
    """The training rows seen by the first pass (the formula library may hand them over in chunks)."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    def remember(self, x, name: str) -> None:
        self._chunks.append(_numbers(x, name))

    def rows(self) -> np.ndarray:
        return np.concatenate(self._chunks) if self._chunks else np.empty(0)


# --- poly ---


@dataclass(frozen=True)
class PolyBasis:
    degree: int
    raw: bool
    alpha: np.ndarray  # R's attr(, "coefs")$alpha
    norm2: np.ndarray  # R's attr(, "coefs")$norm2 (its leading 1 included)

    @classmethod
    def of(cls, x: np.ndarray, degree: int, raw: bool) -> "PolyBasis":
        if raw:
            return cls(degree, True, np.empty(0), np.empty(0))
        if degree >= len(np.unique(x)):
            raise UserError(
                f"data.formula: poly(): the degree ({degree}) must be less than the number of distinct values ({len(np.unique(x))})"
            )
        mean = x.mean()
        centred = x - mean
        powers = np.vander(centred, degree + 1, increasing=True)
        q, r = np.linalg.qr(powers)
        if np.min(np.abs(np.diag(r))) <= 1e-7 * np.max(np.abs(np.diag(r))):
            raise UserError(f"data.formula: poly(): the powers of the column up to {degree} are collinear")
        z = q * np.diag(r)  # R: qr.qy(QR, diag(R)); free of the sign convention of the QR
        norm2 = (z**2).sum(axis=0)
        alpha = ((centred[:, None] * z**2).sum(axis=0) / norm2 + mean)[:degree]
        return cls(degree, False, alpha, np.concatenate([[1.0], norm2]))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.raw:
            return np.vander(x, self.degree + 1, increasing=True)[:, 1:]
        alpha, norm2 = self.alpha, self.norm2
        z = np.ones((len(x), self.degree + 1))
        z[:, 1] = x - alpha[0]
        for i in range(1, self.degree):
            z[:, i + 1] = (x - alpha[i]) * z[:, i] - (norm2[i + 1] / norm2[i]) * z[:, i - 1]
        return (z / np.sqrt(norm2[1:]))[:, 1:]


class Poly(_Memory):
    def __init__(self) -> None:
        super().__init__()
        self.basis: PolyBasis | None = None

    def memorize_chunk(self, x, degree=1, raw=False) -> None:
        self.remember(x, "poly")
        self.settings = (_whole(degree, "poly()'s degree", 1), bool(raw))

    def memorize_finish(self) -> None:
        rows = self.rows()
        checks.check_memory("data.formula", len(rows), self.settings[0])
        self.basis = PolyBasis.of(rows, *self.settings)

    def transform(self, x, degree=1, raw=False) -> np.ndarray:
        assert self.basis is not None  # the formula library memorizes before it transforms
        return self.basis(_numbers(x, "poly"))


# --- B-splines, R's splineDesign ---


def spline_design(knots: np.ndarray, x: np.ndarray, order: int = 4, derivative: int = 0) -> np.ndarray:
    """R's splines::splineDesign(knots, x, ord, derivs): each B-spline of the knots at x (a value at the
    last knot as its left limit, as R's)."""
    from scipy.interpolate import BSpline  # a third of a second: only a formula with bs() or ns() pays it

    n = len(knots) - order
    basis = BSpline(knots, np.eye(n), order - 1, extrapolate=True)
    return np.asarray(basis(x, nu=derivative)).reshape(len(x), n)


def _inner_knots(x: np.ndarray, df, knots, degree: int, intercept: bool, name: str) -> np.ndarray:
    """R's inner knots: those given, or df less the degree (ns: less 1) and the intercept of them at the
    quantiles of x; refused where they outnumber the column's distinct values (before any is made)."""
    distinct = len(np.unique(x))
    if knots is not None:
        inner = np.sort(np.atleast_1d(np.asarray(knots, dtype=float)))
        if not np.all(np.isfinite(inner)):
            raise UserError(f"data.formula: {name}(): knots must be finite numbers")
        count = len(inner)
    elif df is None:
        count = 0
    else:
        count = _whole(df, f"{name}()'s df", 1) - (degree if name == "bs" else 1) - int(intercept)
    if degree >= distinct:
        raise UserError(
            f"data.formula: {name}(): degree {degree} on a column of {distinct} distinct values; the degree must be less "
            "than the number of distinct values"
        )
    if count > distinct:
        raise UserError(
            f"data.formula: {name}(): {count} inner knots of degree {degree} on a column of {distinct} distinct values; "
            "ask for fewer (df, knots, degree)"
        )
    if knots is not None:
        return inner
    if count <= 0:
        return np.empty(0)
    return np.quantile(x, np.linspace(0, 1, count + 2)[1:-1])


@dataclass(frozen=True)
class SplineBasis:
    natural: bool  # ns (natural cubic) or bs
    degree: int
    intercept: bool
    boundary: tuple[float, float]
    inner: np.ndarray

    @property
    def knots(self) -> np.ndarray:
        order = self.degree + 1
        return np.sort(np.concatenate([np.repeat(self.boundary, order), self.inner]))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        order, knots = self.degree + 1, self.knots
        low, high = self.boundary
        inside = (x >= low) & (x <= high)
        basis = np.zeros((len(x), len(knots) - order))
        if inside.any():
            basis[inside] = spline_design(knots, x[inside], order)
        for pivot, rows in ((low, x < low), (high, x > high)):
            if rows.any():  # R: the Taylor polynomial at the boundary (linear for ns, of the degree for bs)
                terms = 2 if self.natural else order
                at = np.array([pivot])
                derivatives = np.vstack([spline_design(knots, at, order, d) for d in range(terms)])
                steps = (x[rows] - pivot)[:, None] ** np.arange(terms) / np.array([np.prod(np.arange(1, d + 1)) for d in range(terms)])
                basis[rows] = steps @ derivatives
        if not self.natural:
            return basis if self.intercept else basis[:, 1:]
        constraint = np.vstack([spline_design(knots, np.array([b]), order, 2) for b in self.boundary])
        if not self.intercept:
            constraint, basis = constraint[:, 1:], basis[:, 1:]
        # R: basis %*% t(qr.Q(qr(t(const)), complete = TRUE)), its first two columns dropped
        q, _ = np.linalg.qr(constraint.T, mode="complete")
        return (basis @ q)[:, 2:]


class _Spline(_Memory):
    natural = False
    name = "bs"

    def __init__(self) -> None:
        super().__init__()
        self.basis: SplineBasis | None = None

    def memorize_chunk(self, x, *args, **kwargs) -> None:
        self.remember(x, self.name)
        self.settings = (args, kwargs)

    def memorize_finish(self) -> None:
        args, kwargs = self.settings
        self.basis = self.fit(self.rows(), *args, **kwargs)

    def transform(self, x, *args, **kwargs) -> np.ndarray:
        assert self.basis is not None  # the formula library memorizes before it transforms
        return self.basis(_numbers(x, self.name))

    def fit(self, x: np.ndarray, df=None, knots=None, degree=3, intercept=False) -> SplineBasis:
        if len(x) == 0:
            raise UserError(f"data.formula: {self.name}() has no rows to place its knots")
        boundary = (float(x.min()), float(x.max()))
        degree = _whole(degree, "bs()'s degree", 1)
        inner = _inner_knots(x, df, knots, degree, bool(intercept), self.name)
        checks.check_memory("data.formula", len(x), len(inner) + degree + 1)
        if np.any(inner <= boundary[0]) or np.any(inner >= boundary[1]):
            raise UserError(f"data.formula: {self.name}(): the inner knots must lie inside the range of the column {boundary}")
        return SplineBasis(self.natural, degree, bool(intercept), boundary, inner)


class BS(_Spline):
    pass


class NS(_Spline):
    natural = True
    name = "ns"

    def fit(self, x: np.ndarray, df=None, knots=None, intercept=False) -> SplineBasis:  # type: ignore[override]
        return super().fit(x, df, knots, 3, intercept)


def transforms() -> dict:
    """poly, ns and bs as the formula library's stateful transforms, by the names a formula calls."""
    from patsy import stateful_transform

    return {"poly": stateful_transform(Poly), "ns": stateful_transform(NS), "bs": stateful_transform(BS)}
