"""The statsmodels GLM that the network must equal.

The model is chosen once (`chosen`): statsmodels' GLM, its MNLogit for a multinomial family, or its NB2
count model for `model.alpha: estimate` (nb2.py); the rest asks it. What the GLM side reads of the config
besides the family is GlmOptions, made once (GlmOptions.of).

The design matrix gets a constant column exactly when the network has a bias.
statsmodels' warnings (perfect separation, non-convergence) are captured into
the result instead of being printed.

statsmodels' own fit comes first. Where it raises, returns non-finite numbers or
stops unconverged, it is fitted again as the network is trained: on the
preconditioned design (precondition.py), from the network's start, by each of
statsmodels' methods in turn, and the answer is mapped back exactly. Only when
every try fails is the GLM called failed, in statsmodels' own words.
"""

import contextlib
import gc
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import ConfigDict, Field

from nnglm.config import Config
from nnglm.config.schema import Penalty as PenaltySpec
from nnglm.data.table import Dataset
from nnglm.log.result import GlmSection, Quantiles, Statistics
from nnglm.model import nb2, penalty, precondition
from nnglm.model.separation import separated
from nnglm.vocabulary.families import Family


class GlmFit(GlmSection):
    """The GLM's fit: result.json's glm section (its figures are declared there), and what the fit alone holds."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    if TYPE_CHECKING:  # the section's figures as a fit holds them: always there, coefficients by flat term
        # (one of the section's shapes; a dict's value type is invariant, hence the ignores)
        coefficients: dict[str, float]  # type: ignore[assignment]
        bse: dict[str, float]  # type: ignore[assignment]
        llf: float
        statistics: Statistics
    scale: float = Field(exclude=True)  # the fit's dispersion (the inference section's glm_scale)
    cov: np.ndarray | None = Field(default=None, exclude=True)  # statsmodels' cov_params, where kept: covariance.csv

    @property
    def finite(self) -> bool:
        return bool(np.all(np.isfinite(list(self.coefficients.values()))) and np.isfinite(self.llf))


@dataclass(frozen=True)
class GlmOptions:
    """What the GLM side reads of a run's config besides the family: made once, by `of`."""

    use_bias: bool  # model.use_bias: a constant column first in the design
    maxiter: int  # glm.maxiter
    tol: float  # glm.tol
    penalty: PenaltySpec | None  # model.penalty
    cov_type: str  # inference.cov_type
    scale: str | float  # inference.scale

    @classmethod
    def of(cls, config: Config) -> "GlmOptions":
        return cls(
            use_bias=config.model.use_bias,
            maxiter=config.glm.maxiter,
            tol=config.glm.tol,
            penalty=config.model.penalty,
            cov_type=config.inference.cov_type,
            scale=config.inference.scale,
        )


def design(dataset: Dataset, use_bias: bool) -> np.ndarray:
    return stack(dataset.X, use_bias)


def stack(X: np.ndarray, use_bias: bool) -> np.ndarray:
    """X with a constant column first exactly when the network has a bias: where X is the view that
    table.beside_constant makes, the array it views, uncopied."""
    if not use_bias:
        return X
    full = X.base
    if (
        isinstance(full, np.ndarray)
        and full.shape == (len(X), X.shape[1] + 1)
        and full.dtype == X.dtype
        and full.strides == X.strides
        and X.ctypes.data == full.ctypes.data + full.strides[1]
        and np.all(full[:, 0] == 1.0)
    ):
        return full
    return np.column_stack([np.ones(len(X)), X])


# --- the model, chosen once: statsmodels' GLM, its MNLogit (multinomial) or its NB2 (model.alpha: estimate) ---


@dataclass(frozen=True)
class Glm:
    """statsmodels' GLM with the family, offset and weights: IRLS first, then each of METHODS on the whitened
    design where IRLS fails."""

    family: Family
    options: GlmOptions
    first: ClassVar[str] = "IRLS"  # statsmodels' default fit, as a failed try names it

    def model(self, dataset: Dataset, X: np.ndarray | None = None):
        """statsmodels' model (on X, where given, in place of the design)."""
        import statsmodels.api as sm

        glm = sm.GLM(
            dataset.y,
            design(dataset, self.options.use_bias) if X is None else X,
            family=self.family.sm_family(),
            offset=dataset.offset,
            var_weights=dataset.var_weights,
            freq_weights=dataset.freq_weights,
        )
        # a quasi family's dispersion is estimated wherever statsmodels estimates one (statistics' estimate_scale);
        # GLM.fit sets it again from its scale argument (fit_options)
        glm.scaletype = self.family.sm_scale
        return glm

    def fit(self, dataset: Dataset) -> GlmFit:
        return _fit(self, dataset)

    def solve(self, sm_model, dataset: Dataset) -> "_Solved":
        """statsmodels' fit (read while its warnings are caught: it computes lazily)."""
        if self.options.penalty is not None:
            return _solve_penalized(sm_model, dataset, self.options)
        return _solve_irls(sm_model, fit_options(self.family, self.options, dataset), self.options)

    def solve_with(self, z_model, dataset: Dataset, method: str, T: np.ndarray) -> "_Solved":
        """statsmodels' `method` on the preconditioned design from the network's start, mapped back by T."""
        return _solve_glm_with(self, z_model, dataset, method, T)


@dataclass(frozen=True)
class MNLogit(Glm):
    """statsmodels' MNLogit (a multinomial family): Newton's method first, then METHODS on the whitened design."""

    first: ClassVar[str] = "MNLogit's Newton"

    def model(self, dataset: Dataset, X: np.ndarray | None = None):
        import statsmodels.api as sm

        return sm.MNLogit(dataset.y, design(dataset, self.options.use_bias) if X is None else X)

    def solve(self, sm_model, dataset: Dataset) -> "_Solved":
        result = sm_model.fit(method="newton", maxiter=self.options.maxiter, tol=self.options.tol, disp=0)
        # MNLogit's are (terms, classes - 1): read class by class, as Dataset.terms orders them
        params, bse = np.ravel(result.params, order="F"), np.ravel(result.bse, order="F")
        retvals = result.mle_retvals
        cov = np.asarray(result.cov_params(), dtype=float)  # class by class, as params
        stats = statistics(sm_model, params)
        return _Solved(params, bse, retvals["converged"], retvals["iterations"], stats, None, "Newton (MNLogit)", cov=cov)

    def solve_with(self, z_model, dataset: Dataset, method: str, T: np.ndarray) -> "_Solved":
        return _solve_mnlogit_with(self, z_model, dataset, method, T)


@dataclass(frozen=True)
class NegativeBinomial:
    """model.alpha: estimate: statsmodels' NB2 count model, alpha learned beside the coefficients (nb2.py)."""

    family: Family
    options: GlmOptions

    def model(self, dataset: Dataset, X: np.ndarray | None = None):
        return nb2.model(dataset, self.options.use_bias)

    def fit(self, dataset: Dataset) -> GlmFit:
        return GlmFit(**nb2.fit(dataset, self.family, self.options.use_bias, self.options.maxiter))


def chosen(family: Family, options: GlmOptions) -> Glm | NegativeBinomial:
    """The statsmodels model that the run's network is compared with."""
    if family.estimated:
        return NegativeBinomial(family, options)
    if family.multiclass:
        return MNLogit(family, options)
    return Glm(family, options)


def model(dataset: Dataset, family: Family, options: GlmOptions, X: np.ndarray | None = None):
    """The statsmodels model of the run (on X, where given, in place of the design). Its warnings
    (DomainWarning) are fit's to record."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return chosen(family, options).model(dataset, X)


def fit(dataset: Dataset, family: Family, options: GlmOptions) -> GlmFit:
    return chosen(family, options).fit(dataset)


def statistics(sm_model, params: np.ndarray, scale: float | None = None) -> Statistics:
    """deviance, AIC, BIC ... of any coefficients (Dataset.terms' order), by statsmodels' own formulas;
    scale None: the fit's own dispersion (Pearson chi^2 / df_resid, as statsmodels estimates it)."""
    import statsmodels.api as sm
    from statsmodels.genmod.generalized_linear_model import GLMResults

    params = np.asarray(params, dtype=float)
    if isinstance(sm_model, sm.MNLogit):
        return _multinomial_statistics(sm_model, params)
    if isinstance(sm_model, sm.NegativeBinomial):  # model.alpha: estimate
        return nb2.statistics(sm_model, params)
    if scale is None:
        scale = float(sm_model.estimate_scale(sm_model.predict(params)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = GLMResults(sm_model, params, None, scale)
        return Statistics(
            llf=float(r.llf),
            deviance=float(r.deviance),
            null_deviance=float(r.null_deviance),
            aic=float(r.aic),
            bic=float(r.bic_llf),
            df_resid=float(r.df_resid),
            dispersion=float(scale),
            df_null=float(r.nobs - 1),  # statsmodels' null model is the intercept alone (with the offset)
            pearson_chi2=float(r.pearson_chi2),
            pseudo_r2_mcfadden=float(r.pseudo_rsquared("mcf")),
            pseudo_r2_cox_snell=float(r.pseudo_rsquared("cs")),
            deviance_residuals=Quantiles.of(r.resid_deviance),
        )


def _multinomial_statistics(sm_model, params: np.ndarray) -> Statistics:
    n, k = sm_model.exog.shape
    llf = float(sm_model.loglike(params.reshape(-1, k).T))
    shares = np.bincount(sm_model.endog.astype(int)) / n
    llnull = float(np.sum(np.log(shares[sm_model.endog.astype(int)])))
    return Statistics(
        llf=llf,
        deviance=-2 * llf,
        null_deviance=-2 * llnull,
        aic=-2 * llf + 2 * params.size,
        bic=-2 * llf + np.log(n) * params.size,
        df_resid=float(n - params.size),
        dispersion=1.0,
        pseudo_r2_mcfadden=1 - llf / llnull,  # MNLogit's prsquared
        pseudo_r2_cox_snell=float(1 - np.exp(2 * (llnull - llf) / n)),
    )


def _fit(kind: Glm, dataset: Dataset) -> GlmFit:
    """statsmodels' fit of a GLM or MNLogit, with its fallbacks, and what it noticed on the way."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    family, options = kind.family, kind.options
    notes = [family.link_warning] if family.link_warning else []
    columns = ([dataset.intercept] if options.use_bias else []) + dataset.feature_names
    aliased = aliased_columns(design(dataset, options.use_bias), columns)
    if aliased:
        notes.append(
            f"design matrix is rank deficient: {', '.join(aliased)} "
            f"{'is a linear combination' if len(aliased) == 1 else 'are linear combinations'} of the columns "
            "before it (aliased; R reports NA): the coefficients are not identified"
        )
    start = time.perf_counter()
    separated_first = not aliased and separated_before(dataset, family, options)
    if separated_first:
        notes.append(
            f"separation, found before the fit (a linear programme, as R's detectseparation runs it): the likelihood has no "
            f"finite maximum, so statsmodels' fit of this wide design is capped at {SEPARATED_MAXITER} iterations"
        )
        options = dataclass_replace(options, maxiter=min(options.maxiter, SEPARATED_MAXITER))
        kind = dataclass_replace(kind, options=options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        solved, tries = _solve_robustly(kind, kind.model(dataset), dataset, bool(aliased) or separated_first)
    seconds = time.perf_counter() - start
    notes += tries
    kinds = Counter((w.category.__name__, str(w.message)) for w in caught)
    for (category, message), count in kinds.items():
        notes.append(f"{category}: {message}" + (f" (x{count})" if count > 1 else ""))
    separation, separation_notes = _separation(kind, dataset, solved, caught, separated_first, bool(tries), bool(aliased))
    notes += separation_notes
    converged = bool(solved.converged) and (solved.method != "IRLS" or not any(issubclass(w.category, ConvergenceWarning) for w in caught))
    if not converged and (solved.failed is None or "no convergence" in solved.failed):
        notes.append(f"not converged within glm.maxiter = {options.maxiter} iterations (tol {options.tol:g})")
    names = dataset.terms(options.use_bias)
    return GlmFit(
        coefficients=dict(zip(names, map(float, solved.params))),
        bse=dict(zip(names, map(float, solved.bse))),
        llf=solved.statistics.llf,
        scale=solved.statistics.dispersion,
        converged=converged,
        iterations=int(solved.iterations),
        fit_seconds=seconds,
        statistics=solved.statistics,
        warnings=notes,
        perfect_separation=separation,
        rank_deficient=bool(aliased),
        aliased=aliased,
        method=solved.method,
        failed=solved.failed,
        cov=solved.cov,
    )


def _separation(
    kind: Glm, dataset: Dataset, solved: "_Solved", caught: list, found_first: bool, tried: bool, aliased: bool
) -> tuple[bool, list[str]]:
    """Has the likelihood no finite maximum (found before the fit, by statsmodels, or by a linear programme
    where the fit gave cause: fallbacks `tried` or extreme probabilities), and the notes on it."""
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    family = kind.family
    separation = found_first or any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    extreme = solved.mu is not None and bool(np.any((solved.mu < 1e-8) | (solved.mu > 1 - 1e-8)))
    notes = []
    if (family.takes_trials or family.multiclass) and not separation and (extreme or tried) and not aliased:
        classes = len(dataset.classes) if dataset.classes else 2
        if separated(design(dataset, kind.options.use_bias), dataset.y, classes, dataset.weights):
            separation = True
            notes.append(
                "separation: a direction of the coefficients raises every row's fitted probability of its own class "
                "or leaves it (a linear programme finds it, as R's detectseparation does): the likelihood has no "
                "finite maximum, and the fits' coefficients grow without bound along it"
            )
    if family.takes_trials and not separation and extreme:
        notes.append(
            "quasi-separation: some fitted probabilities are numerically 0 or 1, so some coefficients "
            "may be very large and poorly determined"
        )
    return separation, notes


@dataclass
class _Solved:
    params: np.ndarray  # Dataset.terms' order
    bse: np.ndarray
    converged: bool
    iterations: int
    statistics: Statistics
    mu: np.ndarray | None
    method: str
    failed: str | None = None
    cov: np.ndarray | None = None  # cov_params, Dataset.terms' order (single-output fits of statsmodels' only)

    def trouble(self, likelihood: bool = True) -> str | None:
        """What makes this answer unusable, or None; `likelihood`: statsmodels defines one for the family."""
        if not np.all(np.isfinite(self.params)):
            return "non-finite coefficients"
        if likelihood and not np.isfinite(self.statistics.llf):
            return "a non-finite log-likelihood"
        if not np.all(np.isfinite(self.bse)):
            return "non-finite standard errors"
        if not self.converged:
            return "no convergence"
        return None


METHODS = ("newton", "bfgs", "lbfgs")  # statsmodels' optimizers tried after its default, in this order
# each optimizer's own stopping options, tight: the answer must be the optimum to the verdict's precision
OPTIONS: dict[str, dict] = {"newton": {"tol": 1e-12}, "bfgs": {"gtol": 1e-10}, "lbfgs": {"pgtol": 1e-12, "factr": 10.0}}


# one IRLS solve costs about rows x columns^2: above this, a binomial or multinomial design is checked for
# separation before the fit (3000 rows x 1500 levels: 52 iterations of 7 s each, for coefficients that run off to
# infinity), as long as the linear programme itself stays small (rows x columns)
COSTLY_SOLVE = 1e9
LARGEST_PROGRAMME = 5e7
SEPARATED_MAXITER = 10


def separated_before(dataset: Dataset, family: Family, options: GlmOptions) -> bool:
    if not (family.takes_trials or family.multiclass) or options.penalty is not None:
        return False
    n, k = dataset.n_rows, dataset.n_features + int(options.use_bias)
    if n * k * k <= COSTLY_SOLVE or n * k * dataset.n_outputs > LARGEST_PROGRAMME:
        return False
    classes = len(dataset.classes) if dataset.classes else 2
    return separated(design(dataset, options.use_bias), dataset.y, classes, dataset.weights)


def _solve_robustly(kind: Glm, sm_model, dataset: Dataset, aliased: bool) -> tuple[_Solved, list[str]]:
    """statsmodels' default fit; where it fails, the fallbacks; (the answer, a note on each failed try)."""
    options, likelihood = kind.options, kind.family.has_likelihood
    tries: list[str] = []
    try:
        solved = kind.solve(sm_model, dataset)
        trouble = solved.trouble(likelihood)
    except Exception as e:  # statsmodels' own errors: singular matrices, overflow, ...
        solved, trouble = None, f"{type(e).__name__}: {e}"
    if trouble is None or options.penalty is not None or aliased:
        return solved if solved is not None else _failed(dataset, options, trouble or ""), tries
    tries.append(
        f"statsmodels' {kind.first} on the design as given gave {trouble}"
        + (f" within glm.maxiter = {options.maxiter}" if trouble == "no convergence" else "")
    )
    inputs = precondition.Inputs.of(dataset.X, "whiten" if dataset.n_features else "none", options.use_bias)
    transform = _transform(inputs, options.use_bias)
    z_model = kind.model(dataset, stack(inputs.apply(dataset.X), options.use_bias))
    for method in METHODS:
        try:
            answer = kind.solve_with(z_model, dataset, method, transform)
        except Exception as e:
            tries.append(f"{method} on the whitened design raised {type(e).__name__}: {e}")
            continue
        trouble_now = answer.trouble(likelihood)
        if trouble_now is None:
            return answer, tries
        tries.append(f"{method} on the whitened design gave {trouble_now}")
    reason = "; ".join(tries)
    if solved is None or not np.all(np.isfinite(solved.params)):
        return _failed(dataset, options, reason), tries
    return dataclass_replace(solved, failed=reason), tries


def iterations(method: str, maxiter: int) -> int:
    """glm.maxiter bounds Newton's iterations; a quasi-Newton method takes many cheaper ones: ten times as many."""
    return maxiter if method == "newton" else 10 * maxiter


def _transform(inputs: precondition.Inputs, use_bias: bool) -> np.ndarray:
    """T with coefficients(X) = T @ coefficients(Z), for the design [1, Z] (or Z) of Z = (X - shift) M."""
    k = inputs.matrix.shape[0]
    if not use_bias:
        return inputs.matrix
    T = np.zeros((k + 1, k + 1))
    T[0, 0] = 1.0
    T[0, 1:] = -inputs.shift @ inputs.matrix
    T[1:, 1:] = inputs.matrix
    return T


def _solve_mnlogit_with(kind: MNLogit, z_model, dataset: Dataset, method: str, T: np.ndarray) -> _Solved:
    k = T.shape[0]
    C = len(dataset.classes or [])
    result = z_model.fit(
        start_params=np.zeros(k * (C - 1)), method=method, maxiter=iterations(method, kind.options.maxiter), disp=0, **OPTIONS[method]
    )
    B = T @ np.asarray(result.params).reshape(k, C - 1)
    cov = np.asarray(result.cov_params())
    # cov_params is ordered class by class; the map acts on each class's block
    big = np.kron(np.eye(C - 1), T)
    cov = big @ cov @ big.T
    bse = np.sqrt(np.diag(cov))
    params = np.ravel(B, order="F")
    converged = bool(result.mle_retvals.get("converged", False))
    return _Solved(
        params,
        bse,
        converged,
        int(result.mle_retvals.get("iterations", 0)),
        statistics(kind.model(dataset), params),
        None,
        f"{method} (MNLogit) on the whitened design",
        cov=cov,
    )


def _solve_glm_with(kind: Glm, z_model, dataset: Dataset, method: str, T: np.ndarray) -> _Solved:
    k = T.shape[0]
    start = np.zeros(k)
    if kind.options.use_bias:
        with np.errstate(all="ignore"):
            start[0] = float(kind.family.sm_family().link(np.clip(np.average(dataset.y), 1e-6, None)))
    # cov_type eim: the expected information's standard errors, as IRLS gives them (or inference.cov_type's)
    options = {"cov_type": "eim"} | fit_options(kind.family, kind.options, dataset)
    result = z_model.fit(
        start_params=start, method=method, maxiter=iterations(method, kind.options.maxiter), disp=0, **options, **OPTIONS[method]
    )
    params = T @ np.asarray(result.params, dtype=float)
    cov = T @ np.asarray(result.cov_params()) @ T.T
    bse = np.sqrt(np.diag(cov))
    x_model = kind.model(dataset)
    stats = statistics(x_model, params, float(result.scale))
    return _Solved(
        params,
        bse,
        bool(result.mle_retvals["converged"]),  # a gradient fit's results keep its optimizer's word here
        int(result.fit_history["iteration"]),
        stats,
        np.asarray(x_model.predict(params)),
        f"{method} on the whitened design",
        cov=cov,
    )


def fit_options(family: Family, options: GlmOptions, dataset: Dataset | None) -> dict:
    """inference.* as statsmodels' GLM.fit takes it (cov_type, cov_kwds, scale); nothing for the defaults,
    so that a run without an inference section calls statsmodels exactly as before."""
    fit: dict = {}
    if options.cov_type != "nonrobust":
        fit["cov_type"] = options.cov_type
    if options.cov_type == "cluster":
        assert dataset is not None  # the clusters are the data's
        fit["cov_kwds"] = {"groups": dataset.groups}
    if options.scale != "family":
        fit["scale"] = options.scale
    elif family.sm_scale is not None:
        fit["scale"] = family.sm_scale
    return fit


def _failed(dataset: Dataset, options: GlmOptions, reason: str) -> _Solved:
    k = len(dataset.terms(options.use_bias))
    nan = np.full(k, np.nan)
    return _Solved(nan, nan, False, 0, Statistics(), None, "none", failed=reason)


def _solve_irls(sm_model, fit: dict, options: GlmOptions) -> _Solved:
    """statsmodels' IRLS, with GLM.fit's `fit` options."""
    # glm.tol bounds the change in the coefficients, not in the deviance: IRLS stopped on the deviance
    # leaves a non-canonical fit (probit) about 1e-6 of a standard error short of its optimum
    with collected_promptly():
        result = sm_model.fit(maxiter=options.maxiter, tol=options.tol, tol_criterion="params", **fit)
    params = np.asarray(result.params, dtype=float)
    return _Solved(
        params,
        np.asarray(result.bse, dtype=float),
        result.converged,
        result.fit_history["iteration"],
        statistics(sm_model, params, float(result.scale)),
        np.asarray(result.mu),
        "IRLS",
        cov=np.asarray(result.cov_params(), dtype=float),
    )


# the collector's thresholds while statsmodels' IRLS runs: the young objects are collected whenever
# more than COLLECT_EVERY have been made since the last collection, all (but the frozen) every fourth
# time; at 10, an iteration that made fewer objects than that kept its copy (3 of 5 in a binomial fit)
COLLECT_EVERY = 1


@contextlib.contextmanager
def collected_promptly() -> Iterator[None]:
    """Each IRLS iteration's weighted copy of the design is freed within the next iteration.

    statsmodels' IRLS keeps every iteration's weighted design (rows x terms) in a reference cycle (its
    results Bunch is its own __dict__ and holds the least-squares model), which only Python's cyclic
    collector frees; with the half million objects TensorFlow's import leaves, a full collection takes
    0.26 s and runs rarely, so a fit held one copy per iteration beside its last least squares (6 of
    them at 1e6 rows x 21). Here the objects alive before the fit are frozen (left out of collections),
    which makes a collection cheap (microseconds), and collections run often. The arithmetic is statsmodels'
    own, unchanged."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.collect()  # resets the collector's count of long-lived objects, or the oldest generation would wait
    gc.set_threshold(COLLECT_EVERY, 1, 1)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _solve_penalized(sm_model, dataset: Dataset, options: GlmOptions) -> _Solved:
    pen = penalty.of_run(options.penalty, dataset, options.use_bias)
    assert pen is not None  # only called with model.penalty set
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only the start: its shortfall is what the Newton steps remove
        start = sm_model.fit_regularized(method="elastic_net", alpha=pen.alpha, L1_wt=pen.l1_wt).params
    solution = penalty.solve(sm_model, pen, np.asarray(start, dtype=float), options.tol, options.maxiter)
    stats = statistics(sm_model, solution.params)
    mu = np.asarray(sm_model.predict(solution.params))
    method = "elastic net: statsmodels' coordinate descent, then active-set Newton to the optimum"
    return _Solved(solution.params, solution.bse, solution.converged, solution.iterations, stats, mu, method)


ALIAS_TOL = 1e-7  # R's lm.fit: a column within 1e-7 (relative) of the span of the earlier ones is aliased


def aliased_columns(X: np.ndarray, names: list[str], tol: float = ALIAS_TOL) -> list[str]:
    """The columns that are linear combinations of the columns before them, in order (R's NA).

    One QR of the design, columns scaled to unit length so that the test does not depend on
    their units: |R[j, j]| is then column j's distance from the span of the columns before it.
    An aliased column is deleted from the factorization (a Givens update, O(k^2)) and the
    columns after it are read again, so the cost is one QR, not a rank per column."""
    from scipy import linalg

    k = X.shape[1]
    if k == 0:
        return []
    norms = np.linalg.norm(X, axis=0)
    R = linalg.qr(X / np.where(norms > 0, norms, 1.0), mode="r")[0][: min(X.shape)]  # rows past k are zeros
    Q = np.eye(R.shape[0])
    kept = list(range(k))
    aliased = []
    j = 0
    while j < len(kept):
        if j >= R.shape[0]:  # more columns than rows: the rest lie in the span already
            aliased += [names[i] for i in kept[j:]]
            break
        if abs(R[j, j]) > tol:
            j += 1
            continue
        aliased.append(names[kept.pop(j)])
        Q, R = linalg.qr_delete(Q, R, j, 1, which="col", check_finite=False)
    return aliased
