"""The GLMs statisticians fit: trials, weights, offsets, exposure, formulas, missing rows, more
families and links, penalties. Each on generated data in float64: the network within 1e-6 of
statsmodels on the coefficients (relative to the larger of the coefficient and its standard
error) and within 1e-4 on the standard errors."""

import numpy as np
import pandas as pd
import pytest
from support import engine_of, sample_config

from nnglm import config
from nnglm.data import table
from nnglm.experiment import runner
from nnglm.foundation.errors import UserError
from nnglm.model import glm, penalty
from nnglm.train import network
from nnglm.vocabulary import families, tolerance

SINGLE = [row for row in families.FAMILIES if not row.multiclass]


def frame(n=400, seed=3) -> pd.DataFrame:
    """Three features, a group, trials, weights, an exposure and targets drawn to match."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    g = rng.choice(["a", "b", "c"], n)
    exposure = rng.uniform(0.5, 4.0, n)
    trials = rng.integers(1, 12, n)
    eta = 0.3 + X @ [0.5, -0.4] + np.select([g == "b", g == "c"], [0.3, -0.2], 0.0)
    return pd.DataFrame(
        {
            "x1": X[:, 0],
            "x2": X[:, 1],
            "g": g,
            "successes": rng.binomial(trials, 1 / (1 + np.exp(-eta))),
            "trials": trials,
            "count": rng.poisson(exposure * np.exp(eta)),
            "exposure": exposure,
            "offset": np.log(exposure),
            "w": rng.integers(1, 5, n).astype(float),
            "z": np.exp(eta) * rng.gamma(2.0, 0.5, n),
        }
    )


def csv_config(tmp_path, df: pd.DataFrame, data_keys: dict, model: dict, **train) -> config.Config:
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    raw = {
        "name": "options",
        "data": {"source": "csv", "path": str(path)} | data_keys,
        "model": model,
        "train": {"dtype": "float64"} | train,
    }
    return config.validate(raw, "test config")


def run(cfg: config.Config, tmp_path) -> dict:
    return runner.run(cfg, tmp_path / "runs", quiet=True).result


def assert_equivalent(result: dict, cfg: config.Config, rtol: float = 1e-6):
    """Coefficients within rtol; standard errors within 1e-4 of statsmodels' from the observed information
    (its IRLS reports the expected information, the same only for canonical links)."""
    c = result["comparison"]
    assert c["outcome"] == "equivalent", c["verdict"]
    assert c["max_rel_diff"] <= rtol
    network_bse = np.array(list(result["network"]["bse"].values()))
    if cfg.model.penalty is None:
        ds = table.load(table.DataSpec.of(cfg))
        params = np.array(list(result["glm"]["coefficients"].values()))
        hessian = glm.model(ds, cfg.family, glm.GlmOptions.of(cfg)).hessian(
            params, scale=result["glm"]["statistics"]["dispersion"], observed=True
        )
        expected = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    else:
        expected = np.array(list(result["glm"]["bse"].values()))
    np.testing.assert_allclose(network_bse, expected, rtol=1e-4)


CASES = {
    "trials": ({"target": "successes", "features": ["x1", "x2"], "trials": "trials"}, {"family": "binomial"}),
    "freq weights": ({"target": "z", "features": ["x1", "x2"], "weights": "w", "weights_kind": "freq"}, {"family": "gamma", "link": "log"}),
    "var weights": ({"target": "z", "features": ["x1", "x2"], "weights": "w", "weights_kind": "var"}, {"family": "gamma", "link": "log"}),
    "offset": ({"target": "count", "features": ["x1", "x2"], "offset": "offset"}, {"family": "poisson"}),
    "exposure": ({"target": "count", "features": ["x1", "x2"], "exposure": "exposure"}, {"family": "poisson"}),
    "formula": ({"formula": "count ~ x1 * x2 + C(g, Treatment('b')) + np.log(exposure)"}, {"family": "poisson"}),
    "negative binomial": (
        {"target": "count", "features": ["x1", "x2"], "exposure": "exposure"},
        {"family": "negative_binomial", "alpha": 0.5},
    ),
    "tweedie": ({"target": "z", "features": ["x1", "x2"]}, {"family": "tweedie", "var_power": 1.6}),
    "ridge": ({"target": "count", "features": ["x1", "x2"], "offset": "offset"}, {"family": "poisson", "penalty": {"alpha": 0.05}}),
}


@pytest.mark.runs
@pytest.mark.parametrize("case", CASES)
def test_option_reaches_statsmodels(case, tmp_path):
    data_keys, model = CASES[case]
    cfg = csv_config(tmp_path, frame(), data_keys, model)
    result = run(cfg, tmp_path)
    assert_equivalent(result, cfg)
    g, n = result["glm"]["statistics"], result["network"]["statistics"]
    for key in ("llf", "deviance", "aic", "bic"):
        assert n[key] == pytest.approx(g[key], rel=1e-9, abs=1e-9)
    assert n["null_deviance"] == g["null_deviance"] and n["df_resid"] == g["df_resid"]


def test_trials_is_the_expanded_bernoulli_fit(tmp_path):
    """Successes out of trials fits what one row per trial fits."""
    import statsmodels.api as sm

    df = frame(120)
    cfg = csv_config(tmp_path, df, *CASES["trials"])
    fit = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    rows = df.loc[df.index.repeat(df.trials)]
    y = np.concatenate([np.r_[np.ones(s), np.zeros(t - s)] for s, t in zip(df.successes, df.trials)])
    expanded = sm.GLM(y, sm.add_constant(rows[["x1", "x2"]].to_numpy()), family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(list(fit.coefficients.values()), expanded.params, rtol=1e-6)
    np.testing.assert_allclose(list(fit.bse.values()), expanded.bse, rtol=1e-6)


def test_formula_terms_carry_r_names(tmp_path):
    cfg = csv_config(tmp_path, frame(), *CASES["formula"])
    ds = table.load(table.DataSpec.of(cfg))
    # R's glm(count ~ x1 * x2 + relevel(g, ref = "b") + log(exposure)) lists the main effects, then x1:x2
    assert ds.terms(True) == ["(Intercept)", "x1", "x2", "ga", "gc", "log(exposure)", "x1:x2"]


@pytest.mark.runs
def test_missing_drop_says_how_many_rows_went(tmp_path):
    df = frame()
    df.loc[[3, 10, 11], "x1"] = np.nan
    keys, model = CASES["exposure"]
    cfg = csv_config(tmp_path, df, keys | {"missing": "drop"}, model)
    result = run(cfg, tmp_path)
    assert result["data"]["rows_dropped"] == 3 and result["data"]["n_rows"] == 397
    assert_equivalent(result, cfg)
    with pytest.raises(UserError) as e:
        table.load(table.DataSpec.of(csv_config(tmp_path, df, keys, model)))
    assert str(e.value).endswith(
        "first offending rows (0-based): 3 (nan), 10 (nan), 11 (nan); set data.missing: drop to leave rows with missing values out"
    )


@pytest.mark.runs
def test_elastic_net_with_zeros_is_equivalent_at_its_tolerance(tmp_path):
    """An L1 penalty that puts a coefficient at exactly 0; the verdict's default is 1e-3 there."""
    df = frame()
    df["noise"] = np.random.default_rng(9).normal(size=len(df))
    keys = {"target": "count", "features": ["x1", "x2", "noise"], "exposure": "exposure"}
    result = run(csv_config(tmp_path, df, keys, {"family": "poisson", "penalty": {"alpha": 0.05, "l1_wt": 1.0}}), tmp_path)
    assert result["glm"]["coefficients"]["noise"] == 0.0
    assert result["comparison"]["tolerance"]["rtol"] == tolerance.L1_RTOL
    assert result["comparison"]["outcome"] == "equivalent", result["comparison"]["verdict"]
    assert abs(result["network"]["coefficients"]["noise"]) < 1e-3 * result["glm"]["bse"]["noise"]


def test_penalized_glm_is_the_exact_optimum(tmp_path):
    """The elastic net's solution satisfies its optimality conditions to round-off, where statsmodels'
    coordinate descent stops short."""
    df = frame()
    cfg = csv_config(
        tmp_path,
        df,
        {"target": "count", "features": ["x1", "x2"], "exposure": "exposure"},
        {"family": "poisson", "penalty": {"alpha": 0.02, "l1_wt": 0.5}},
    )
    ds = table.load(table.DataSpec.of(cfg))
    fit = glm.fit(ds, cfg.family, glm.GlmOptions.of(cfg))
    b = np.array(list(fit.coefficients.values()))
    model = glm.model(ds, cfg.family, glm.GlmOptions.of(cfg))
    pen = penalty.of_run(cfg.model.penalty, ds, cfg.model.use_bias)
    g = -model.score(b, scale=1.0) / model.nobs + pen.ridge * b + pen.lasso * np.sign(b)
    assert np.max(np.abs(g)) < 1e-10
    coordinate = model.fit_regularized(method="elastic_net", alpha=pen.alpha, L1_wt=0.5).params
    assert np.max(np.abs(coordinate - b)) > 100 * np.max(np.abs(g))


@pytest.mark.runs
@pytest.mark.parametrize("row", SINGLE, ids=lambda r: r.key)
def test_every_family_and_link_trains_to_statsmodels(row):
    """Every row of the family table on a sample of its own: the network within 1e-6 (relative)."""
    cfg = sample_config(row, n_rows=300, **({"scale": 0.2} if row.family == "inverse_gaussian" else {}))
    ds = table.load(table.DataSpec.of(cfg))
    glm_fit = glm.fit(ds, cfg.family, glm.GlmOptions.of(cfg))
    b = np.array(list(glm_fit.coefficients.values()))
    fit = network.train(engine_of(cfg), ds, network.NetworkSpec.of(cfg), "CPU:0", b)
    w = np.array(list(fit.coefficients.values()))
    bse = np.array(list(glm_fit.bse.values()))
    assert np.max(np.abs(w - b) / np.maximum(np.abs(b), bse)) <= 1e-6, fit.note


BAD = [
    (
        {"target": "successes", "features": ["x2"], "trials": "x1"},
        {"family": "binomial"},
        "data.trials: column 'x1' must hold whole numbers, 1 or more; first offending rows (0-based): 0 (-0.0474), 1 (0.0447)",
    ),
    (
        {"target": "trials", "features": ["x1"], "trials": "successes"},
        {"family": "binomial"},
        "data.trials: column 'successes' must hold whole numbers, 1 or more; first offending rows (0-based): 5 (0), 14 (0)",
    ),
    (
        {"target": "x1", "features": ["z"], "weights": "x2", "weights_kind": "var"},
        {"family": "gaussian"},
        "data.weights: column 'x2' must hold 0 or more; first offending rows (0-based): 0 (-0.256), 3 (-0.218)",
    ),
    (
        {"target": "count", "features": ["x1"], "exposure": "zero"},
        {"family": "poisson"},
        "data.exposure: column 'zero' must hold greater than 0 (the offset is its log); first offending rows (0-based): 0 (0)",
    ),
    (
        {"formula": "count ~ x1 + nosuch"},
        {"family": "poisson"},
        "data.formula: column 'nosuch' not in {path}; columns are: 'x1', 'x2', 'g', 'successes', 'trials', 'count', 'exposure', 'offset', 'w', 'z', 'zero'",
    ),
]


@pytest.mark.parametrize("keys, model, message", BAD, ids=["x1 trials", "0 trials", "negative weights", "zero exposure", "formula"])
def test_bad_column_gets_one_message(tmp_path, keys, model, message):
    df = frame(20)
    df["zero"] = np.r_[0.0, np.ones(19)]
    cfg = csv_config(tmp_path, df, keys, model)
    with pytest.raises(UserError) as e:
        table.load(table.DataSpec.of(cfg))
    assert str(e.value).split("; first offending")[0] == message.format(path=tmp_path / "d.csv").split("; first offending")[0]


def test_successes_above_trials(tmp_path):
    df = frame(20)
    df.loc[2, "successes"] = df.loc[2, "trials"] + 1
    with pytest.raises(UserError) as e:
        table.load(table.DataSpec.of(csv_config(tmp_path, df, *CASES["trials"])))
    assert str(e.value) == (
        "data.target: column 'successes' counts successes out of data.trials ('trials'): it must be a whole number "
        f"from 0 to the trials; first offending rows (0-based): 2 ({df.loc[2, 'successes']:g} of {df.loc[2, 'trials']:g})"
    )


@pytest.mark.parametrize(
    "model, message",
    [
        ({"family": "poisson", "penalty": {"alpha": -1}}, "model.penalty.alpha: Input should be greater than or equal to 0 (got -1)"),
        (
            {"family": "gamma", "link": "softmax"},
            (
                "model.link: 'softmax' is not a link of family gamma; allowed: inverse_power, log, identity (and, with statsmodels' "
                "check_link=False and a recorded warning: logit, probit, cloglog, loglog, cauchy, logc, inverse_squared, sqrt, power)"
            ),
        ),
        (
            {"family": "tweedie", "var_power": 0.5},
            "model.var_power: 0.5 is not 0 (normal) or 1 or more (1 Poisson, 1 to 2 compound Poisson-gamma, 2 gamma, "
            "3 inverse Gaussian); no Tweedie distribution has 0 < p < 1",
        ),
        ({"family": "poisson", "alpha": 1.0}, "model.alpha: only for model.family negative_binomial, not poisson"),
    ],
)
def test_bad_model_key_gets_one_message(model, message):
    raw = {"name": "bad", "data": {"source": "statsmodels", "dataset": "cpunish", "target": "EXECUTIONS"}, "model": model}
    with pytest.raises(UserError) as e:
        config.validate(raw, "c.yaml")
    assert str(e.value) == f"c.yaml: {message}"


def test_exposure_needs_the_log_link():
    raw = {
        "name": "bad",
        "data": {"source": "statsmodels", "dataset": "cpunish", "target": "EXECUTIONS", "exposure": "INCOME"},
        "model": {"family": "poisson", "link": "identity"},
    }
    with pytest.raises(UserError) as e:
        config.validate(raw, "c.yaml")
    assert (
        str(e.value) == "c.yaml: data.exposure: needs model.link log (the offset is log exposure), not identity; give data.offset instead"
    )


@pytest.mark.runs
def test_held_out_rows_use_the_offset_and_weights(tmp_path):
    """Predictions on rows neither fit saw carry their own offset; their losses, their own weights."""
    keys = {"target": "count", "features": ["x1", "x2"], "exposure": "exposure", "weights": "w", "weights_kind": "freq"}
    cfg = csv_config(tmp_path, frame(), keys | {"validation_fraction": 0.25}, {"family": "poisson"})
    result = run(cfg, tmp_path)
    v = result["validation"]
    assert v["network"]["validation_loss"] == pytest.approx(v["glm"]["validation_loss"], rel=1e-8)
    ds = table.load(table.DataSpec.of(cfg))
    _, held = table.split(ds, table.DataSpec.of(cfg))
    b = np.array(list(result["glm"]["coefficients"].values()))
    mu = held.offset + np.column_stack([np.ones(held.n_rows), held.X]) @ b
    mu = np.exp(mu)
    expected = np.mean(held.weights * (mu - held.y * np.log(mu)))
    assert v["glm"]["validation_loss"] == pytest.approx(expected, rel=1e-10)


@pytest.mark.runs
def test_an_offset_on_the_wrong_scale_is_named(tmp_path):
    df = frame(20)
    df["big"] = 800.0
    with pytest.raises(UserError) as e:
        table.load(
            table.DataSpec.of(csv_config(tmp_path, df, {"target": "count", "features": ["x1"], "offset": "big"}, {"family": "poisson"}))
        )
    assert str(e.value) == (
        "data.offset: column 'big' is on the scale of the linear predictor, where 800 gives the log link an infinite mean; "
        "for a log link give the exposure itself as data.exposure (its log is the offset)"
    )


def test_a_missing_value_in_a_formula_column_is_named(tmp_path):
    df = frame(20)
    df.loc[4, "g"] = None
    with pytest.raises(UserError) as e:
        table.load(table.DataSpec.of(csv_config(tmp_path, df, {"formula": "count ~ x1 + C(g)"}, {"family": "poisson"})))
    assert str(e.value) == (
        f"data: column 'g' of {tmp_path / 'd.csv'}, which the formula uses, has missing values; "
        "first offending rows (0-based): 4; set data.missing: drop to leave those rows out"
    )
