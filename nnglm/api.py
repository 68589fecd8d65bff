"""nnglm from Python: run experiments, read runs back, get pandas DataFrames (what a notebook wants).

The command line is a thin layer over the same functions (config.expand, runner.run, logbook).
Nothing here imports TensorFlow: a run imports it when it trains, so `nnglm.runs()` and
`nnglm.load()` stay light, and a second run in the same process reuses what the first imported.
"""

from __future__ import annotations

import functools
import html
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnglm import config as config_module
from nnglm.config import received
from nnglm.foundation.errors import ConfigError, UserError, bounded, clip, from_path
from nnglm.log import logbook, runlog
from nnglm.log.result import RunResult, Status, flat
from nnglm.vocabulary.tolerance import scale

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from nnglm.experiment.cache import RunCache

# the columns of nnglm.runs()'s DataFrame, names a program takes (the table `nnglm runs` prints has its
# own headings, logbook.RUNS_COLUMNS)
RUNS_FRAME_COLUMNS = [
    "id",
    "name",
    "status",
    "outcome",
    "family",
    "link",
    "dtype",
    "backend",
    "device",
    "set_keys",
    "max_rel_diff",
    "seconds",
    "folder",
]


@contextmanager
def config_errors() -> Iterator[None]:
    """Any error a user causes, as ConfigError with the command line's message."""
    try:
        yield
    except ConfigError:
        raise
    except UserError as e:
        raise ConfigError(bounded(str(e))) from None
    except OSError as e:
        if (error := from_path(e)) is None:
            raise
        raise ConfigError(str(error)) from None


class Run:
    """One run folder, read through its result.json (the typed RunResult)."""

    def __init__(self, folder: Path, result: RunResult):
        self.folder = Path(folder)
        self.result = result

    @property
    def id(self) -> str:
        return self.result.run_id or self.folder.name

    @property
    def name(self) -> str:
        return self.result.name or self.folder.parent.name

    @property
    def status(self) -> str:
        """running, completed, failed or interrupted, as result.json says."""
        return self.result.status

    @property
    def outcome(self) -> str | None:
        """equivalent, not converged, no finite MLE, rank deficient, diverged, GLM short, different point; None before a comparison."""
        return self.result.comparison.outcome if self.result.comparison else None

    @property
    def equivalent(self) -> bool | None:
        return self.result.comparison.equivalent if self.result.comparison else None

    @property
    def verdict(self) -> str | None:
        """The sentence that says the outcome."""
        return self.result.comparison.verdict if self.result.comparison else None

    @property
    def coefficients(self) -> pd.DataFrame:
        """One row a term (a (class, term) index for a multinomial model): network, glm, difference
        (network - glm), relative (|difference| over max(|glm|, glm_se), the verdict's measure),
        network_se (from the network's own Hessian), glm_se (statsmodels'); then each fit's Wald
        statistic (network_z and glm_z, or _t where the run tests with t: `.attrs["statistic"]`), its
        p-value (network_p, glm_p) and its 95% interval (network_lower, network_upper, glm_lower, glm_upper)."""
        import numpy as np
        import pandas as pd

        from nnglm.show import estimates

        r = self.result
        network, glm = (r.network.coefficients if r.network else {}), (r.glm.coefficients if r.glm else {})
        terms = list(flat(network) or flat(glm))

        def column(coefficients: Mapping | None) -> np.ndarray:
            values = flat(dict(coefficients or {}))
            return np.array([np.nan if values.get(t) is None else values[t] for t in terms], dtype=float)

        w, b = column(network), column(glm)
        glm_se = column(r.glm.bse if r.glm else None)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.abs(w - b) / scale(b, glm_se)
        frame = pd.DataFrame(
            {
                "network": w,
                "glm": b,
                "difference": w - b,
                "relative": relative,
                "network_se": column(r.network.bse if r.network else None),
                "glm_se": glm_se,
            }
        )
        frame.index = estimates.index(r, terms)
        inferred = self._estimates()
        stat = inferred.attrs["statistic"]
        interval = estimates.conf_int(inferred, estimates.test_of(r), 0.05)
        for name in (f"network_{stat}", f"glm_{stat}", "network_p", "glm_p"):
            frame[name] = inferred[name].to_numpy()
        for name in interval.columns:
            frame[name] = interval[name].to_numpy()
        frame.attrs = dict(inferred.attrs)
        return frame

    def _estimates(self) -> pd.DataFrame:
        """estimates.estimates, with the network's p-values as coefficients.csv recorded them (where it can be read)."""
        from nnglm.show import estimates

        recorded = None
        if (self.folder / runlog.COEFFICIENTS_FILE).is_file():
            try:
                rows = self.rows()
            except ConfigError:
                rows = []
            recorded = {str(row["term"]): row["p"] for row in rows if "p" in row and row["p"] is not None}
        return estimates.estimates(self.result, recorded)

    def _by_fit(self, suffix: str) -> pd.DataFrame:
        import pandas as pd

        from nnglm.show import estimates

        inferred = self._estimates()
        frame = pd.DataFrame({fit: inferred[f"{fit}{suffix}"].to_numpy() for fit in estimates.FITS})
        frame.index = estimates.index(self.result, list(inferred.index))
        frame.attrs = dict(inferred.attrs)
        return frame

    @property
    def params(self) -> pd.DataFrame:
        """Each fit's coefficients, one row a term: columns network and glm (statsmodels' params)."""
        return self._by_fit("")

    @property
    def bse(self) -> pd.DataFrame:
        """Each fit's standard errors, one row a term: network (from its own Hessian) and glm (statsmodels' bse)."""
        return self._by_fit("_se")

    @property
    def pvalues(self) -> pd.DataFrame:
        """Each fit's Wald test p-values, one row a term, in the distribution result.json records
        (`.attrs["statistic"]`: z, or t on the residual degrees of freedom)."""
        return self._by_fit("_p")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Each fit's Wald intervals at level 1 - alpha (statsmodels' conf_int): network_lower,
        network_upper, glm_lower, glm_upper, one row a term."""
        import math

        from nnglm.show import estimates

        if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and math.isfinite(alpha) and 0 < alpha < 1):
            raise ConfigError(f"alpha: {clip(repr(alpha))}; give a number between 0 and 1 (0.05 for 95% intervals)")
        inferred = self._estimates()
        frame = estimates.conf_int(inferred, estimates.test_of(self.result), float(alpha))
        frame.index = estimates.index(self.result, list(inferred.index))
        return frame

    def summary(self) -> str:
        """The run as statsmodels' GLMResults.summary() reads, both fits: the model, each fit's log-likelihood,
        deviances, AIC, BIC, scale and Pearson chi2, the deviance residuals' quartiles (R's summary.glm),
        then each fit's coefficient table. Print it."""
        from nnglm.show import estimates

        kept = None
        if (self.folder / runlog.RESIDUALS_FILE).is_file():
            with config_errors():
                kept = self.csv(runlog.RESIDUALS_FILE)
        return estimates.summary(self.result, self._estimates(), estimates.test_of(self.result), kept)

    def predict(
        self, frame: pd.DataFrame, type: str = "response", se: bool = False, overrides: Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Both fits' predictions for new rows (R's predict.glm(fit, newdata), statsmodels' get_prediction):
        columns network and glm, on the scale of the mean (type="response") or of the linear predictor
        ("link"); se=True adds network_se and glm_se, by the delta method from each fit's own covariance.
        A multinomial run's are one row a (row, class): each class's probability, or its linear predictor
        against the reference class. The rows go through the run's own design (its factor levels, its formula's terms, its offset and
        exposure columns), fixed on the training rows, which are read again from the run's data;
        overrides={"data.path": FILE} names that data where the run's folder does not hold it."""
        from nnglm.experiment import predict

        with config_errors():
            config = predict.run_config(self.folder, self.result.config, sets(overrides))
            return predict.predict(self.folder, self.result, config, frame, type, se)  # se: a bool, checked there

    def residuals(self, kind: str = "deviance", overrides: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Each fit's residuals on its training rows (R's residuals.glm, statsmodels' resid_*): kind
        deviance, pearson, response or working; columns network and glm, one row a training row. Read
        from the folder's residuals.csv, or computed again from the run's data where it has none."""
        from nnglm.experiment import predict

        with config_errors():
            kept = self.csv(runlog.RESIDUALS_FILE, index_col="row") if (self.folder / runlog.RESIDUALS_FILE).is_file() else None
            config = None
            if kept is None:
                predict.fits_of(self.result, self.config(), "residuals", estimated=False)  # a run that has none, said first
                config = predict.run_config(self.folder, self.result.config, sets(overrides))
            return predict.residuals(self.folder, self.result, config, kind, kept)

    def cross_validation(self) -> pd.DataFrame:
        """The cross-validation (data.folds), one row a fold and model: fold (1..K), model (glm, scratch:
        the hidden-layer network from scratch, at_glm: the one started at the GLM), deviance (its held-out
        deviance per row in that fold), n_held_out. `.attrs` holds the verdict and each network against the
        GLM (run.result.cross_validation is the whole section); ConfigError for a run without data.folds."""
        import pandas as pd

        cv = self.result.cross_validation
        if cv is None and self.result.status != Status.COMPLETED and (self.result.config.get("data") or {}).get("folds"):
            raise ConfigError(f"run {self.id} is {self.result.status}: it ended before its cross-validation did; run it again")
        if cv is None:
            raise ConfigError(f"run {self.id} did not cross-validate; set data.folds (e.g. --set data.folds=5) and run it again")
        rows = [
            {"fold": f.fold, "model": model, "deviance": value, "n_held_out": f.n_held_out}
            for f in cv.per_fold
            for model, value in f.deviance.items()
        ]
        frame = pd.DataFrame(rows, columns=["fold", "model", "deviance", "n_held_out"]).astype({"deviance": float})
        frame.attrs = {"verdict": cv.verdict, "networks": [n.model_dump() for n in cv.networks]}
        return frame

    @property
    def history(self) -> pd.DataFrame:
        """history.csv: step, loss, max_abs_diff_to_glm, one row every train.log_every steps."""
        return self.csv(runlog.HISTORY_FILE)

    def plot(self) -> Figures:
        """The run's pictures as its folder's are drawn (plots.figures: the loss, each weight's distance to
        its GLM coefficient, and for a binary target with two features the separating lines), as matplotlib
        Figures that a notebook shows; no file is written."""
        from nnglm.show import plots

        with config_errors():
            return Figures(plots.figures(self.folder).values())

    def config(self) -> config_module.Config:
        """The run's resolved config, as its config.yaml holds it."""
        return config_module.validate(self.result.config, str(self.folder / runlog.CONFIG_FILE))

    def rows(self) -> list[dict]:
        """coefficients.csv as a list of dicts, one a term (term, network, network_bse, z, p, ci_low, ci_high,
        glm, glm_bse, diff, reference), missing values as None: what the console summary reads."""
        frame = self.csv(runlog.COEFFICIENTS_FILE, dtype={"term": str})
        return [{k: (None if v != v else v) for k, v in row.items()} for row in frame.to_dict("records")]

    def csv(self, name: str, **read_csv: Any) -> pd.DataFrame:
        """A CSV file of the run folder by its name (history.csv, coefficients.csv, residuals.csv, ...), with
        pandas.read_csv's keyword arguments, read as every run-folder file is (safe.py: a plain file inside the
        folder, no link out of it, no FIFO, bounded); ConfigError where it cannot be."""
        import io

        import pandas as pd

        from nnglm.foundation import safe
        from nnglm.show import plots

        path = self.folder / name
        with config_errors():
            try:
                content = safe.read_bytes(path, plots.MAX_CSV_BYTES, within=self.folder)
            except (OSError, safe.Refused) as e:
                raise UserError(f"{clip(str(path), 200)}: cannot be read ({e})") from None
            if len(content) > plots.MAX_CSV_BYTES:
                raise UserError(f"{clip(str(path), 200)}: larger than {plots.MAX_CSV_BYTES // 2**20} MB")
        return pd.read_csv(io.BytesIO(content), **read_csv)

    def __repr__(self) -> str:
        return f"<nnglm.Run {self.name}/{self.id}: {self.status}{f', {self.outcome}' if self.outcome else ''}>"

    def _repr_html_(self) -> str:
        """What the console summary shows: the verdict first, then the coefficient tables and the fit statistics."""
        from nnglm.show import summary

        r, e = self.result, html.escape
        folder = f"<p>run folder: <code>{e(str(self.folder))}</code></p>"
        if r.status != Status.COMPLETED or not (r.network and r.glm and r.comparison):
            error = f": {e(r.error)}" if r.error else ""
            return f"<p><b>{e(self.name)}/{e(self.id)}: status {e(r.status)}</b>{error}</p>{folder}"
        notes = summary.notes(r)
        colour = "green" if r.comparison.equivalent else "firebrick"
        parts = [f'<p style="color:{colour}"><b>{e(notes[-1])}</b></p>', f"<p>{e(summary.headline(r))}</p>"]
        parts += [_html_table(block) for block in summary.blocks(r, self.rows())]
        parts += [f"<p>{e(note)}</p>" for note in notes[:-1]]
        return "\n".join(parts + [folder])


class Figures(list["Figure"]):
    """Run.plot()'s matplotlib Figures: a list, which a notebook shows as pictures. They are drawn
    without pyplot, so no backend shows or keeps them by itself."""

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
        from IPython.display import display

        shell = get_ipython()
        if shell is not None:
            select_figure_formats(shell, {"png"})
        for figure in self:
            display(figure)


def _html_table(block) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in block.headers) if any(block.headers) else ""
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in block.rows)
    return f"<table><caption style='text-align:left'><b>{e(block.title)}</b></caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --- running ---


def sets(overrides: Mapping[str, Any] | None) -> list[str]:
    """{"train.dtype": "float64", "train.epochs": 5000} as `--set` items: a string is read as --set reads
    it (YAML; "sweep:V1,V2" sweeps), any other value is taken as it is."""
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        raise UserError(
            f'overrides: a dict of dotted keys and values, e.g. {{"train.dtype": "float64"}} (got {clip(type(overrides).__name__)})'
        )
    return [f"{key}={value if isinstance(value, str) else _json(key, value)}" for key, value in overrides.items()]


def _json(key: object, value: object) -> str:
    """An override's value as the YAML that --set reads; NumPy's scalars (np.int64(5)) as the numbers they hold."""

    def plain(item: object) -> object:
        if hasattr(item, "item") and type(item).__module__ == "numpy":
            return item.item()
        raise TypeError

    try:
        return json.dumps(value, default=plain)
    except (TypeError, ValueError):
        raise UserError(
            f"overrides: {clip(str(key))}: a value of type {clip(type(value).__name__)}; give a number, text, "
            "a boolean, None or a list of them"
        ) from None


def expand(config: str | os.PathLike | Mapping, overrides: Sequence[str] = (), data_hash: str | None = None) -> list:
    """Every point of the config (a YAML file, or a dict of the same keys) with --set items, validated:
    [(point, Config), ...]. `data_hash`: a DataFrame is the data (data.source may be left out)."""
    within = None
    if isinstance(config, (str, os.PathLike)):
        path = Path(config)
        within = path.parent if runlog.is_run_folder(path.parent) else None  # a received config: no link out of its folder
        raw, label = config_module.read_yaml(path, within), config_module.shown(path)
    elif isinstance(config, Mapping):
        raw, label = dict(config), "config"
    else:
        raise UserError(f"config: a path to a YAML file, or a dict of its keys (got {clip(type(config).__name__)})")
    if data_hash is not None:
        raw = with_frame(raw, data_hash)
    points = config_module.expand_raw(raw, label, overrides)
    if within is not None and data_hash is None and not received.named_by_user(overrides):
        points = [(point, received.confine(cfg, within)) for point, cfg in points]
    return points


def with_frame(raw: dict, data_hash: str) -> dict:
    section = raw.get("data", {})
    if not isinstance(section, Mapping):
        return raw  # the validation names what is wrong with it
    source = section.get("source", "dataframe")
    if source != "dataframe":
        raise UserError(
            f"data: a DataFrame was given (data=), but data.source is {clip(str(source))}; leave data.source out or set it to dataframe"
        )
    return raw | {"data": dict(section) | {"source": "dataframe", "sha256": data_hash}}


@functools.cache
def run_cache() -> RunCache:
    """The one RunCache of the Python API's runs in this process (a notebook's), made at the first run.
    Held by functools.cache, a module's state, because nnglm.run is a plain function called again and
    again with nothing else to hold it; the command line makes its own for a sweep."""
    from nnglm.experiment.cache import RunCache  # statsmodels and Keras' modules: only once a run is asked for

    return RunCache()


def run(
    config: str | os.PathLike | Mapping,
    data: pd.DataFrame | None = None,
    overrides: Mapping[str, Any] | None = None,
    out: str | os.PathLike = "experiments",
    quiet: bool = True,
) -> Run | list[Run]:
    """Train the network the config describes, fit its GLM, compare and log, as `nnglm run` does.

    config: a path to a YAML file, or a dict with the same keys. data: a pandas DataFrame to use as the
    data (data.source may then be left out: it is `dataframe`). overrides: {"train.dtype": "float64", ...},
    as `--set` (a value "sweep:V1,V2" sweeps). out: the run log's root. quiet=False shows the progress
    bar and the console summary. Returns the Run, or for a sweep one Run a point; raises ConfigError for
    bad input (no folder is made for it; in a sweep, the points before it stay logged), and lets a crash
    through (its run folder says failed)."""
    from nnglm.data import frames

    with config_errors():
        items = sets(overrides)
        if not str(out).strip():
            raise UserError("out: empty; give a folder, e.g. out='experiments'")
        data_hash = frames.hash_of_given(frames.check(data)) if data is not None else None
        points = expand(config, items, data_hash)
        if data is not None:  # the frame goes down with the configs, to the reader
            frames.hand(points, data)
        plain = config_module.plain_overrides(items)
        root = Path(out)
        runlog.check_out(root)
        if len({cfg.train.backend for _, cfg in points}) > 1:
            raise UserError(
                "train.backend: a sweep over backends needs a fresh process a point (Keras takes one backend per process); run it with `nnglm run`"
            )
        from nnglm.experiment import runner  # numpy, statsmodels, rich; TensorFlow once a run trains

        cache = run_cache()
        if len(points) == 1:
            # a later run of the same data and model in this process takes its data, GLM fit and compiled network
            outcome = runner.run(points[0][1], root, quiet=quiet, overrides=plain, cache=cache)
            return Run(outcome.run_dir, outcome.record)
        runs = []
        for point, cfg in points:
            try:
                outcome = runner.run(cfg, root, quiet=quiet, point=point, overrides=plain, cache=cache, draw_plots=False)
            except UserError as e:
                raise UserError(f"sweep point {config_module.describe_point(point)}: {e}") from None
            runs.append(Run(outcome.run_dir, outcome.record))
        from nnglm.experiment import sweep

        said = sweep.draw_picture([r.folder for r in runs])  # written as `nnglm run` writes it, quiet or not
        if not quiet:
            print(said)
        return runs


# --- reading the run log ---


def load(folder_or_id: str | os.PathLike, dir: str | os.PathLike = "experiments") -> Run:
    """The run in a folder, or of a run id (or the start of one) under `dir`, as `nnglm compare` takes it."""
    with config_errors():
        folder = logbook.locate(str(folder_or_id), Path(dir))
        logged = logbook.read(folder)
        if logged.result is None:
            raise UserError(f"{clip(str(folder), 200)}: a broken run ({logged.problem})")
    return Run(folder, logged.result)


def runs(dir: str | os.PathLike = "experiments") -> pd.DataFrame:
    """One row a run under `dir`, newest first, as `nnglm runs` lists them: id, name, status (dead: a
    running run whose process is gone; broken: no readable result.json), outcome, family, link, dtype,
    backend, device, set_keys (the --set and sweep keys), max_rel_diff (the verdict's measure), seconds
    (the network's training), folder; and cv where a run cross-validated (data.folds): the best network's
    gain on the GLM with its p-value, "+2.1% p=0.003", or "no gain"."""
    import pandas as pd

    with config_errors():
        logged = logbook.scan(Path(dir))
    frame = pd.DataFrame([_runs_row(r) for r in logged], columns=RUNS_FRAME_COLUMNS)
    if logbook.runs_columns(logged) != logbook.RUNS_COLUMNS:  # a run cross-validated: its short verdict, as `nnglm runs`
        frame[logbook.CV_COLUMN] = [logbook.cross_validated(r.result) for r in logged]
    return frame


def _runs_row(run: logbook.LoggedRun) -> dict:
    r = run.result
    model = r.config.get("model") if r else None
    model = model if isinstance(model, dict) else {}
    comparison, network, env = (r.comparison, r.network, r.environment) if r else (None, None, None)
    return {
        "id": run.run_id,
        "name": run.name,
        "status": run.status,
        "outcome": comparison.outcome if comparison else None,
        "family": model.get("family"),
        "link": model.get("link"),
        "dtype": env.dtype if env else None,
        "backend": env.backend if env else None,
        "device": env.device if env else None,
        "set_keys": " ".join(f"{k}={v}" for k, v in run.set_keys.items()),
        "max_rel_diff": comparison.max_rel_diff if comparison else None,
        "seconds": network.train_seconds if network else None,
        "folder": str(run.folder),
    }


def compare(*runs: Run | str | os.PathLike, dir: str | os.PathLike = "experiments", tol: float | None = None) -> pd.DataFrame:
    """What `nnglm compare` prints, as one table: a column a run (its id), a row a (section, key): the
    config keys and environment that differ, each term's network weight and GLM coefficient, the fit
    statistics and held-out losses, each run's largest weight difference to the first. `.attrs` holds
    `same`, `tolerance` and `verdict` (the command's last line)."""
    import math

    import numpy as np
    import pandas as pd

    with config_errors():
        if len(runs) < 2:
            raise UserError("compare: give two or more runs (run folders or run ids)")
        if tol is not None and not (math.isfinite(tol) and tol >= 0):
            raise UserError(f"--tol: {tol}; give a finite number, 0 or more (the largest allowed difference of network weights)")
        folders = [r.folder if isinstance(r, Run) else logbook.locate(str(r), Path(dir)) for r in runs]
        c = logbook.compare_runs(folders, tol)
    rows: dict[tuple[str, str], list] = {}
    for section, diff in (("config", c.config_diff), ("environment", c.environment_diff)):
        rows.update({(section, key): values for key, values in diff.items()})
    for j, term in enumerate(c.terms):
        rows[("network", term)] = list(c.network[:, j])
    for j, term in enumerate(c.terms):
        rows[("glm", term)] = list(c.glm[:, j])
    rows.update({("statistics", key): values for key, values in c.statistics.items()})
    rows.update({("validation", key): values for key, values in c.validation.items()})
    rows.update({("cross_validation", key): values for key, values in c.cross_validation.items()})
    # as text: a difference of 3e-07 in a column of coefficients would be shown as 0.0
    rows[("difference", "max |w - w(run 1)|")] = [f"{d:.3g}" for d in np.max(np.abs(c.network - c.network[0]), axis=1)]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[r.run_id for r in c.runs])
    frame.index = pd.MultiIndex.from_tuples(list(rows), names=["section", "key"])
    from nnglm.show import tables  # rich: not on `nnglm validate`'s path, which imports this module

    frame.attrs = {"same": c.same, "tolerance": c.tolerance, "verdict": tables.verdict(c)}
    return frame


def anova(
    *runs: Run | str | os.PathLike,
    test: str | None = None,
    dir: str | os.PathLike = "experiments",
    overrides: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The analysis of deviance of runs of nested models on the same rows, in the order given (R's
    `anova(m0, m1, test = ...)`), as `nnglm anova` prints it: a row a model (1, 2, ...), columns
    (fit, R's column) for fit network and glm: Resid. Df, Resid. Dev, Df, Deviance, then Pr(>Chi)
    (test "Chisq") or F and Pr(>F) (test "F", with the largest model's estimated dispersion). test None:
    as R chooses, Chisq where the family's dispersion is known, F where it is estimated. `.attrs` holds
    the models, the dispersion, the largest difference between the two tables, its tolerance and the
    verdict. Runs that do not nest, or fitted other rows, raise ConfigError saying why.

    One run: its sequential table (R's `anova(fit)`), a row a term added in turn (NULL first): Df,
    Deviance, Resid. Df, Resid. Dev and the test; each sub-model is fitted and trained in this process
    on the run's data, read again (overrides={"data.path": FILE} names it where the folder does not
    hold it)."""
    from nnglm.model import anova as analysis

    with config_errors():
        folders = [r.folder if isinstance(r, Run) else logbook.locate(str(r), Path(dir)) for r in runs]
        if not folders:
            raise UserError("anova: give one run (its terms added in turn) or two or more runs of nested models, the smallest first")
        if len(folders) == 1:
            from nnglm.experiment import sequential  # trains the sub-models: TensorFlow

            return sequential.compute(folders[0], test, sets(overrides)).frame()
        if overrides:
            raise UserError("overrides: only for one run's sequential table (they name its data); nested runs are read from their folders")
        return analysis.compute(folders, test).frame()
