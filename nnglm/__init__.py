"""nnglm: a neural network with no hidden layer is a GLM, shown run by run.

From Python (a notebook, a script):

    import nnglm
    run = nnglm.run("configs/seed002_logistic_no_bias.yaml")  # or a dict of the same keys, data=a DataFrame
    run.coefficients                                         # network beside GLM, a DataFrame by term
    nnglm.runs()                                             # the run log, a DataFrame

`import nnglm` is light: the names below are loaded when first used (nnglm/api.py), and TensorFlow
only when a run trains.

- run(config, data=None, overrides=None, out="experiments", quiet=True) -> Run, or a list of Run for a sweep
- load(folder_or_id, dir="experiments") -> Run
- runs(dir="experiments") -> DataFrame, one row a run
- compare(*runs_or_ids, dir="experiments", tol=None) -> DataFrame, what `nnglm compare` prints
- anova(*runs_or_ids, test=None, dir="experiments") -> DataFrame, R's analysis of deviance of nested runs, network and GLM
- Run: id, folder, status, outcome, equivalent, verdict, coefficients, result, history, plot(); after the fit,
  as statsmodels names them: params, bse, pvalues, conf_int(), summary(), predict(frame), residuals(kind)
- ConfigError: raised for any bad config, data or argument, with the command line's message
"""

from typing import TYPE_CHECKING, Any

__all__ = ["ConfigError", "Run", "anova", "compare", "load", "run", "runs"]

if TYPE_CHECKING:
    from nnglm.api import Run, anova, compare, load, run, runs
    from nnglm.foundation.errors import ConfigError


def __getattr__(name: str) -> Any:
    if name == "ConfigError":
        from nnglm.foundation.errors import ConfigError

        return ConfigError
    if name in __all__:
        from nnglm import api

        return getattr(api, name)
    raise AttributeError(f"module 'nnglm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
