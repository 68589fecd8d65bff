"""Predictions of both fits on new rows (R's predict.glm, statsmodels' get_prediction), and the Run as a
results object (params, bse, pvalues, conf_int, summary), on statsmodels' cpunish data: a factor (SOUTH)
and an exposure (violent crimes per 100 000), a formula with log(), an interaction and offset()."""

import errno
import io
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from support import ROOT

import nnglm

FEATURES = ["INCOME", "PERPOVERTY", "SOUTH"]
COLUMNS = {
    "name": "cpunish_columns",
    "data": {
        "source": "statsmodels",
        "dataset": "cpunish",
        "target": "EXECUTIONS",
        "features": FEATURES,
        "categorical": ["SOUTH"],
        "exposure": "VC100k96",
    },
    "model": {"family": "poisson"},
    "train": {"dtype": "float64", "standardize": True},
}
FORMULA = {
    "name": "cpunish_formula",
    "data": {
        "source": "statsmodels",
        "dataset": "cpunish",
        "formula": "EXECUTIONS ~ log(INCOME) + PERPOVERTY:DEGREE + factor(SOUTH) + offset(log(VC100k96))",
    },
    "model": {"family": "poisson"},
    "train": {"dtype": "float64", "standardize": True},
}


def cpunish() -> pd.DataFrame:
    return sm.datasets.cpunish.load_pandas().data


def new_rows() -> pd.DataFrame:
    """Rows the fits never saw: incomes, poverty and crime rates moved, both levels of SOUTH."""
    new = cpunish().iloc[[0, 2, 5, 11]].copy()
    new["INCOME"] *= [1.1, 0.9, 1.05, 1.2]
    new["PERPOVERTY"] += [1.0, -2.0, 0.5, 3.0]
    new["VC100k96"] += [50.0, -20.0, 10.0, 100.0]
    return new.reset_index(drop=True)


def reference(formula: str, frame: pd.DataFrame, run: nnglm.Run):
    """statsmodels' own fit, with the run's GLM options (nnglm stops IRLS on the coefficients' change)."""
    glm = run.config().glm
    model = smf.glm(formula, frame, family=sm.families.Poisson(), offset=np.log(frame["VC100k96"]))
    return model.fit(tol=glm.tol, maxiter=glm.maxiter, tol_criterion="params")


@pytest.fixture(scope="module")
def columns_run(tmp_path_factory) -> nnglm.Run:
    run = nnglm.run(COLUMNS, out=tmp_path_factory.mktemp("columns"))
    assert run.outcome == "equivalent"
    return run


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory) -> nnglm.Run:
    run = nnglm.run(FORMULA, out=tmp_path_factory.mktemp("formula"))
    assert run.outcome == "equivalent"
    return run


def check_against(run: nnglm.Run, res, design: np.ndarray, new: pd.DataFrame) -> None:
    """The GLM's predictions equal statsmodels' get_prediction within 1e-10; the network's differ from them by
    no more than the verdict's tolerance on each coefficient allows (sum_j |x_j| rtol max(|b_j|, se_j))."""
    offset = np.log(new["VC100k96"].to_numpy())
    expected = res.get_prediction(new, offset=offset)
    link = run.predict(new, type="link", se=True)
    mean = run.predict(new, se=True)
    assert list(mean.columns) == ["network", "glm", "network_se", "glm_se"] and list(mean.index) == list(new.index)
    np.testing.assert_allclose(mean["glm"], expected.predicted_mean, rtol=1e-10, atol=0)
    np.testing.assert_allclose(mean["glm_se"], expected.se_mean, rtol=1e-10, atol=0)
    np.testing.assert_allclose(link["glm"], expected.linpred.predicted_mean, rtol=1e-10, atol=0)
    np.testing.assert_allclose(link["glm_se"], expected.linpred.se_mean, rtol=1e-10, atol=0)
    table = run.coefficients
    allowed = np.abs(design) @ (run.result.comparison.tolerance.rtol * np.maximum(table["glm"].abs(), table["glm_se"]).to_numpy())
    gap = np.abs(link["network"] - link["glm"]).to_numpy()
    assert np.all(gap <= allowed) and gap.max() > 0  # two fits, not one number twice
    assert np.all(np.abs(mean["network"] / mean["glm"] - 1) <= np.expm1(allowed))
    # the network's own covariance, from its Hessian: Poisson's log link is canonical (observed = expected information)
    np.testing.assert_allclose(mean["network_se"], mean["glm_se"], rtol=1e-6)
    assert mean.attrs["max_abs_diff"] == pytest.approx(np.abs(mean["network"] - mean["glm"]).max())


@pytest.mark.runs
def test_a_factor_and_an_exposure_predict_as_statsmodels_does(columns_run):
    frame, new = cpunish(), new_rows()
    res = reference("EXECUTIONS ~ INCOME + PERPOVERTY + SOUTH", frame, columns_run)
    np.testing.assert_allclose(columns_run.params["glm"], res.params.to_numpy(), rtol=1e-10)
    design = np.column_stack([np.ones(len(new)), new["INCOME"], new["PERPOVERTY"], new["SOUTH"] == 1.0])
    check_against(columns_run, res, design, new)


@pytest.mark.runs
def test_a_formula_with_log_an_interaction_a_factor_and_an_offset(formula_run):
    frame, new = cpunish(), new_rows()
    res = reference("EXECUTIONS ~ np.log(INCOME) + SOUTH + PERPOVERTY:DEGREE", frame, formula_run)
    np.testing.assert_allclose(formula_run.params["glm"], res.params.to_numpy(), rtol=1e-10)
    design = np.column_stack([np.ones(len(new)), np.log(new["INCOME"]), new["SOUTH"], new["PERPOVERTY"] * new["DEGREE"]])
    check_against(formula_run, res, design, new)


@pytest.mark.runs
def test_the_training_rows_predict_the_fitted_means(columns_run):
    """On its own rows, the GLM's prediction is statsmodels' fittedvalues, as R's predict(fit) is fitted(fit)."""
    frame = cpunish()
    res = reference("EXECUTIONS ~ INCOME + PERPOVERTY + SOUTH", frame, columns_run)
    np.testing.assert_allclose(columns_run.predict(frame)["glm"], res.fittedvalues, rtol=1e-10)


@pytest.mark.runs
def test_nnglm_predict_writes_the_same_as_csv(columns_run, tmp_path, run_cli):
    new = new_rows()
    new.to_csv(tmp_path / "new.csv", index=False)
    code, out, err = run_cli("predict", columns_run.folder, "--data", tmp_path / "new.csv", "--se")
    assert code == 0, err
    written = pd.read_csv(io.StringIO(out), index_col="row")
    pd.testing.assert_frame_equal(written, columns_run.predict(new, se=True).rename_axis("row"), check_exact=False, rtol=1e-15)
    code, out, err = run_cli("predict", columns_run.folder, "--data", tmp_path / "new.csv", "--type", "link", "--out", tmp_path / "p.csv")
    assert code == 0 and out == "" and "4 predictions written into" in err
    assert list(pd.read_csv(tmp_path / "p.csv").columns) == ["row", "network", "glm"]


@pytest.mark.runs
def test_rows_that_cannot_be_predicted_get_one_message(columns_run, formula_run, tmp_path, cli_error):
    def message(run, frame, *more):
        frame.to_csv(tmp_path / "bad.csv", index=False)
        return cli_error("predict", run.folder, "--data", tmp_path / "bad.csv", *more, one_line=True)

    new = new_rows()
    assert message(columns_run, new.assign(SOUTH=[0.0, 1.0, 2.0, 1.0])) == (
        "the new rows: column 'SOUTH' holds the level '2', which the run never saw; its levels are '0', '1'"
    )
    assert message(columns_run, new.drop(columns="VC100k96")) == (
        "the new rows: no column 'VC100k96', which the run's data.exposure reads; their columns: "
        "'EXECUTIONS', 'INCOME', 'PERPOVERTY', 'PERBLACK', 'SOUTH', 'DEGREE'"
    )
    assert message(columns_run, new.drop(columns="PERPOVERTY")).startswith(
        "the new rows: no column 'PERPOVERTY', which the run's design reads; their columns: "
    )
    assert message(columns_run, new.assign(INCOME=["low", "high", "low", "mid"])) == (
        "the new rows: column 'INCOME' holds labels ('high', 'low', 'mid'); the run fitted it as numbers"
    )
    assert message(columns_run, new.assign(VC100k96=[1.0, 0.0, 3.0, 4.0])) == (
        "the new rows: data.exposure: column 'VC100k96' must hold numbers greater than 0; first offending rows (0-based): 1 (0)"
    )
    assert message(formula_run, new.drop(columns="DEGREE")).startswith("the new rows: no column 'DEGREE', which the run's design reads")
    assert message(formula_run, new.assign(SOUTH=[0.0, 3.0, 1.0, 1.0])) == (
        "the new rows: column 'SOUTH' holds the level '3', which the run never saw; its levels are '0', '1'"
    )
    with pytest.raises(nnglm.ConfigError, match=r"^type: 'probability'; give 'response' \(the mean"):
        columns_run.predict(new, type="probability")
    with pytest.raises(nnglm.ConfigError, match=r"^the new rows: column 'INCOME' has missing values; first offending rows \(0-based\): 1$"):
        columns_run.predict(new.assign(INCOME=[1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(nnglm.ConfigError, match=r"^the new rows: a pandas DataFrame, one row a prediction \(got 'list'\)$"):
        columns_run.predict([1, 2])


@pytest.mark.runs
def test_standard_errors_need_the_covariances_a_run_keeps(columns_run, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(columns_run.folder, old)
    (old / "covariance.csv").unlink()
    run = nnglm.load(old)
    assert list(run.predict(new_rows()).columns) == ["network", "glm"]  # the coefficients are all a prediction needs
    with pytest.raises(nnglm.ConfigError, match="covariance.csv is missing; runs made before predictions kept their covariances"):
        run.predict(new_rows(), se=True)


@pytest.mark.runs
def test_a_dataframe_run_predicts_from_its_folder_moved_elsewhere(tmp_path):
    rng = np.random.default_rng(3)
    n = 80
    frame = pd.DataFrame({"x": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], size=n)})
    eta = -0.2 + 0.9 * frame["x"] + np.where(frame["colour"] == "red", 0.8, 0.0)
    frame["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    run = nnglm.run({"name": "frame", "data": {"target": "y"}, "train": {"dtype": "float64"}}, data=frame, out=tmp_path / "a")
    moved = tmp_path / "elsewhere"
    shutil.move(str(run.folder), moved)
    new = pd.DataFrame({"x": [0.5, -1.0, 2.0], "colour": ["blue", "red", "green"]})
    got = nnglm.load(moved).predict(new, se=True)
    res = smf.glm("y ~ x + C(colour)", frame, family=sm.families.Binomial()).fit(tol=1e-10, tol_criterion="params")
    expected = res.get_prediction(new)
    np.testing.assert_allclose(got["glm"], expected.predicted_mean, rtol=1e-10)
    np.testing.assert_allclose(got["glm_se"], expected.se_mean, rtol=1e-8)


# --- the Run as a results object ---


@pytest.mark.runs
def test_params_bse_pvalues_and_intervals_are_statsmodels_for_the_glm(columns_run):
    res = reference("EXECUTIONS ~ INCOME + PERPOVERTY + SOUTH", cpunish(), columns_run)
    terms = ["(Intercept)", "INCOME", "PERPOVERTY", "SOUTH1"]
    for table in (columns_run.params, columns_run.bse, columns_run.pvalues):
        assert list(table.columns) == ["network", "glm"] and list(table.index) == terms and table.index.name == "term"
    np.testing.assert_allclose(columns_run.bse["glm"], res.bse.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(columns_run.pvalues["glm"], res.pvalues.to_numpy(), rtol=1e-8)
    assert columns_run.pvalues.attrs["statistic"] == "z"  # Poisson: the dispersion is known, as R's summary.glm tests
    interval = columns_run.conf_int(0.1)
    assert list(interval.columns) == ["network_lower", "network_upper", "glm_lower", "glm_upper"]
    np.testing.assert_allclose(interval[["glm_lower", "glm_upper"]].to_numpy(), res.conf_int(0.1).to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(interval["network_lower"], interval["glm_lower"], rtol=1e-6)
    table = columns_run.coefficients
    np.testing.assert_allclose(table["glm_z"], res.tvalues.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(table[["glm_lower", "glm_upper"]].to_numpy(), res.conf_int().to_numpy(), rtol=1e-10)
    for alpha in (0, 1, "0.05", float("nan")):
        with pytest.raises(nnglm.ConfigError, match="^alpha: .*; give a number between 0 and 1"):
            columns_run.conf_int(alpha)


@pytest.mark.runs
def test_summary_reads_as_statsmodels_summary_for_both_fits(columns_run):
    res = reference("EXECUTIONS ~ INCOME + PERPOVERTY + SOUTH", cpunish(), columns_run)
    text = columns_run.summary()
    lines = text.splitlines()
    assert "Dep. Variable:      EXECUTIONS" in lines and "Model Family:       poisson" in lines
    deviance = next(line for line in lines if line.startswith("Deviance:")).split()[1:]
    assert [float(v) for v in deviance] == pytest.approx([res.deviance] * 2, rel=1e-6)
    pearson = next(line for line in lines if line.startswith("Pearson chi2:")).split()[2:]
    assert [float(v) for v in pearson] == pytest.approx([res.pearson_chi2] * 2, rel=1e-6)
    assert text.count("P>|z|") == 2 and text.count("SOUTH1 ") == 2
    # R's summary.glm: the deviance residuals' quartiles, each fit's
    header = lines.index(next(line for line in lines if line.startswith("Deviance Residuals:")))
    assert lines[header].split()[2:] == ["Min", "1Q", "Median", "3Q", "Max"]
    quartiles = np.quantile(res.resid_deviance, [0, 0.25, 0.5, 0.75, 1])
    for line in lines[header + 1 : header + 3]:
        np.testing.assert_allclose([float(v) for v in line.split()[1:]], quartiles, atol=5e-5)
    assert lines[-1].startswith("equivalent: every weight is within")


# R 4.2.2: glm(f, family = poisson, data = cpunish); predict(fit, newdata, type = "response" | "link", se.fit = TRUE),
# newdata the rows 1, 4, 7 (0-based) with INCOME times 1.07 and PERPOVERTY plus 0.7 (R's printed figures, 12 digits)
R_NEW = [1, 4, 7]
R_PREDICTIONS = {
    "poly(PERPOVERTY, 2)": {
        "response": ([2.74759779223, 6.13921916140, 8.84613680180], [0.443008845491, 0.947406677198, 1.433196107965]),
        "link": ([1.01072699983, 1.81469756166, 2.17998084415], [0.161234969232, 0.154320387054, 0.162013785235]),
    },
    "ns(PERPOVERTY, df = 2)": {
        "response": ([2.66876188820, 5.62259156620, 8.43415143464], [0.457478208458, 0.846089009641, 1.452581340199]),
        "link": ([0.981614652581, 1.726792690392, 2.132289110421], [0.171419642374, 0.150480254466, 0.172226139340]),
    },
    "log(INCOME) + PERPOVERTY:DEGREE + factor(SOUTH)": {
        "response": ([5.52946118454, 7.03127615508, 18.62916994362], [2.110256904683, 0.932200569143, 3.368244073054]),
        "link": ([1.71009037580, 1.95036821923, 2.92472862880], [0.381638795220, 0.132579143328, 0.180804839037]),
    },
}


@pytest.mark.runs
@pytest.mark.parametrize("terms", list(R_PREDICTIONS))
def test_bases_fixed_on_the_training_rows_predict_as_r_does(terms, tmp_path):
    """A polynomial's and a natural spline's basis keep what the training rows gave them: R's predictions,
    and a row predicted alone is the row predicted among others."""
    config = FORMULA | {"name": "cpunish_bases", "data": FORMULA["data"] | {"formula": f"EXECUTIONS ~ {terms} + offset(log(VC100k96))"}}
    run = nnglm.run(config, out=tmp_path)
    new = cpunish().iloc[R_NEW].copy()
    new["INCOME"] *= 1.07
    new["PERPOVERTY"] += 0.7
    for type, (fit, se) in R_PREDICTIONS[terms].items():
        got = run.predict(new, type=type, se=True)
        # R's IRLS stops on the deviance's change (epsilon 1e-8), nnglm's GLM on the coefficients' (1e-10)
        np.testing.assert_allclose(got["glm"], fit, rtol=1e-7)
        np.testing.assert_allclose(got["glm_se"], se, rtol=1e-6)
        np.testing.assert_allclose(got["network"], fit, rtol=1e-5)
    alone = pd.concat([run.predict(new.iloc[[i]]) for i in range(len(new))])
    pd.testing.assert_frame_equal(alone, run.predict(new), check_exact=False, rtol=1e-14)


@pytest.mark.runs
def test_a_run_of_a_file_outside_its_folder_predicts_once_the_user_names_the_file(tmp_path, cli_error, run_cli):
    """A run folder is received: its config reads a data file only from inside it, unless named on the command line."""
    cpunish().to_csv(tmp_path / "cpunish.csv", index=False)
    config = COLUMNS | {"name": "cpunish_file", "data": COLUMNS["data"] | {"source": "file", "path": str(tmp_path / "cpunish.csv")}}
    del config["data"]["dataset"]
    run = nnglm.run(config, out=tmp_path / "runs")
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    message = cli_error("predict", run.folder, "--data", tmp_path / "new.csv", one_line=True)
    assert message.endswith(
        "lies outside the run folder; a run folder's config reads data only from inside its folder: "
        "name the data on the command line (--set data.path=FILE)"
    )
    code, out, err = run_cli("predict", run.folder, "--data", tmp_path / "new.csv", "--set", f"data.path={tmp_path / 'cpunish.csv'}")
    assert code == 0, err
    expected = run.predict(new_rows(), overrides={"data.path": str(tmp_path / "cpunish.csv")})
    np.testing.assert_allclose(pd.read_csv(io.StringIO(out))["glm"], expected["glm"], rtol=1e-15)


@pytest.mark.runs
def test_an_estimated_dispersion_tests_with_t_as_r_and_predicts_with_its_scale(tmp_path):
    """copper, gaussian: result.json records t on 19 df, and pvalues, conf_int and summary follow it; R's
    summary.glm prints p 0.00281 for TIME (configs/r_copper_gaussian.yaml), its t interval 72.961 to 301.500."""
    run = nnglm.run(ROOT / "configs/r_copper_gaussian.yaml", out=tmp_path)
    frame = sm.datasets.copper.load_pandas().data
    X = sm.add_constant(frame.drop(columns="WORLDCONSUMPTION"))
    res = sm.GLM(frame["WORLDCONSUMPTION"], X).fit(use_t=True)
    assert run.pvalues.attrs == {"statistic": "t", "df": 19.0} and "network_t" in run.coefficients.columns
    np.testing.assert_allclose(run.pvalues["glm"], res.pvalues.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(run.pvalues["network"], res.pvalues.to_numpy(), rtol=1e-6)
    assert run.pvalues.loc["TIME", "glm"] == pytest.approx(0.002810952561, rel=1e-8)
    np.testing.assert_allclose(run.conf_int().loc["TIME", ["glm_lower", "glm_upper"]], [72.961, 301.500], atol=1e-3)
    assert "Test:               t on 19 df" in run.summary() and run.summary().count("P>|t|") == 2
    new = frame.iloc[[0, 12, 24]].drop(columns="WORLDCONSUMPTION")
    got = run.predict(new, se=True)
    expected = res.get_prediction(sm.add_constant(new, has_constant="add"))
    np.testing.assert_allclose(got["glm"], expected.predicted_mean, rtol=1e-10)
    np.testing.assert_allclose(got["glm_se"], expected.se_mean, rtol=1e-10)  # with the estimated dispersion, 76536.82


@pytest.mark.runs
def test_a_negative_binomial_with_alpha_estimated_predicts_as_statsmodels_nb2(tmp_path):
    """model.alpha: estimate: the GLM side is statsmodels' NB2 count model, whose get_prediction's standard errors
    come from its joint covariance with alpha (R's glm.nb takes theta as known, and prints 6.477 for row 0's 6.798).
    Residuals are refused: NB2 has no GLM residuals."""
    import warnings

    quine = pd.read_stata(ROOT / "data/r/quine.dta")
    run = nnglm.run(ROOT / "configs/nb_alpha_quine.yaml", out=tmp_path)
    new = quine.iloc[[0, 40, 100]]
    got = run.predict(new, se=True, overrides={"data.path": str(ROOT / "data/r/quine.dta")})
    res = smf.negativebinomial("Days ~ Eth + Sex + Age + Lrn", quine).fit(method="newton", tol=1e-12, maxiter=200, disp=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "using default log-link in get_prediction"
        expected = res.get_prediction(new, which="mean")
    # R 4.2.2, MASS::glm.nb: predict(fit, quine[c(1, 41, 101), ], type = "response")
    np.testing.assert_allclose(got["glm"], [26.2852888627, 15.4600768055, 15.8699839848], rtol=1e-7)
    np.testing.assert_allclose(got["glm"], expected.predicted, rtol=1e-8)
    np.testing.assert_allclose(got["glm_se"], expected.se, rtol=1e-6)
    np.testing.assert_allclose(got["network"], got["glm"], rtol=1e-7)
    with pytest.raises(nnglm.ConfigError, match="^residuals: model.alpha: estimate fits statsmodels' NB2 count model, which has no GLM"):
        run.residuals()
    assert not (run.folder / "residuals.csv").exists()


@pytest.mark.runs
def test_a_multinomial_run_predicts_each_class_as_statsmodels_and_r(tmp_path):
    """carData's Womenlf, three classes (not.work the reference): each class's probability equals statsmodels'
    MNLogit.predict and R's nnet::multinom; the standard errors are the delta method, checked against a
    numerical derivative of MNLogit's probabilities taken through its cov_params."""
    path = str(ROOT / "data/r/Womenlf.csv")
    run = nnglm.run(ROOT / "configs/r_womenlf_multinomial.yaml", overrides={"data.path": path}, out=tmp_path)
    frame = pd.read_csv(path)
    new = frame.iloc[[0, 50, 200]]
    probabilities = run.predict(new, se=True, overrides={"data.path": path})
    classes = ["not.work", "fulltime", "parttime"]
    assert list(probabilities.index) == [(row, c) for row in new.index for c in classes]
    y = frame["partic"].map({c: j for j, c in enumerate(classes)})
    X = sm.add_constant(np.column_stack([frame["hincome"], frame["children"] == "present"]).astype(float))
    glm = run.config().glm
    res = sm.MNLogit(y, X).fit(method="newton", maxiter=glm.maxiter, tol=glm.tol, disp=0)
    Xnew = X[new.index]
    np.testing.assert_allclose(probabilities["glm"], res.predict(Xnew).ravel(), rtol=1e-10)
    # R 4.2.2: nnet::multinom(partic ~ hincome + children, reltol = 1e-14, maxit = 10000), predict(type = "probs")
    r_probabilities = [0.713626015812, 0.0933285836171, 0.193045400571, 0.678423226562, 0.1442707934629, 0.177305979975]
    np.testing.assert_allclose(probabilities["glm"][:6], r_probabilities, rtol=1e-7)
    params = np.ravel(res.params, order="F")  # class by class, as cov_params

    def p(theta):
        return res.model.predict(theta.reshape(X.shape[1], -1, order="F"), Xnew).ravel()

    step = 1e-6
    J = np.column_stack([(p(params + step * e) - p(params - step * e)) / (2 * step) for e in np.eye(len(params))])
    np.testing.assert_allclose(probabilities["glm_se"], np.sqrt(np.diag(J @ res.cov_params() @ J.T)), rtol=1e-6)
    np.testing.assert_allclose(probabilities["network"], probabilities["glm"], rtol=1e-6)
    np.testing.assert_allclose(probabilities["network_se"], probabilities["glm_se"], rtol=1e-4)
    link = run.predict(new, type="link", overrides={"data.path": path})
    assert list(link.index) == [(row, c) for row in new.index for c in classes[1:]]
    odds = res.predict(Xnew)
    np.testing.assert_allclose(link["glm"], np.log(odds[:, 1:] / odds[:, :1]).ravel(), rtol=1e-10)
    with pytest.raises(nnglm.ConfigError, match="^residuals: a multinomial run has one linear predictor a class"):
        run.residuals()


# --- bad input: one message, exit 2, nothing lost ---


@pytest.mark.runs
def test_out_is_refused_where_writing_it_would_lose_or_block(columns_run, tmp_path, cli_error):
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    data = (tmp_path / "new.csv").read_bytes()
    (tmp_path / "precious.txt").write_text("precious\n")
    (tmp_path / "link.csv").symlink_to("precious.txt")
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "dir.csv").mkdir()

    def message(out):
        return cli_error("predict", columns_run.folder, "--data", tmp_path / "new.csv", "--out", out, one_line=True)

    assert message(tmp_path / "link.csv") == (
        f"--out: {tmp_path / 'link.csv'} is a link; predictions are not written through a link: give the name of a file"
    )
    assert message(tmp_path / "fifo.csv") == (
        f"--out: {tmp_path / 'fifo.csv'} is not a plain file (a FIFO, a device or a socket); give the name of a file"
    )
    assert message("/dev/full") == "--out: /dev/full is not a plain file (a FIFO, a device or a socket); give the name of a file"
    assert message(tmp_path / "dir.csv") == (
        f"--out: {tmp_path / 'dir.csv'} is a folder; give the name of a file, e.g. {tmp_path / 'dir.csv' / 'predictions.csv'}"
    )
    assert message(tmp_path / "new.csv") == (
        f"--out: {tmp_path / 'new.csv'} is the --data file itself; give another name, or the new rows would be overwritten"
    )
    assert message(tmp_path / "p.parquet") == f"--out: {tmp_path / 'p.parquet'}: predict writes CSV; give a name ending in .csv"
    assert (tmp_path / "precious.txt").read_text() == "precious\n" and (tmp_path / "new.csv").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.csv", "fifo.csv", "link.csv", "new.csv", "precious.txt"]
    assert list((tmp_path / "dir.csv").iterdir()) == []


@pytest.mark.runs
def test_a_failed_write_of_out_leaves_the_old_file_whole_and_no_other(columns_run, tmp_path, cli_error, monkeypatch):
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    (tmp_path / "p.csv").write_text("kept\n")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert cli_error("predict", columns_run.folder, "--data", tmp_path / "new.csv", "--out", tmp_path / "p.csv", one_line=True) == (
        f"--out: cannot write {tmp_path / 'p.csv'}: No space left on device; nothing was written"
    )
    assert (tmp_path / "p.csv").read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv", "p.csv"]


@pytest.mark.runs
def test_no_rows_are_refused_alike_by_the_command_and_the_api(columns_run, tmp_path, cli_error):
    new_rows().iloc[:0].to_csv(tmp_path / "empty.csv", index=False)
    assert cli_error("predict", columns_run.folder, "--data", tmp_path / "empty.csv", one_line=True) == (
        f"--data: {tmp_path / 'empty.csv'} has no rows; give at least one row to predict"
    )
    with pytest.raises(nnglm.ConfigError, match=r"^the new rows: no rows; give at least one row to predict$"):
        columns_run.predict(new_rows().iloc[:0])


@pytest.mark.runs
@pytest.mark.parametrize(("variance", "said"), [("nan", "nan"), ("-1.0", "-1.0")])
def test_standard_errors_from_a_covariance_that_is_not_one_are_refused(columns_run, tmp_path, cli_error, variance, said):
    folder = tmp_path / "crafted"
    shutil.copytree(columns_run.folder, folder)
    cov = pd.read_csv(folder / "covariance.csv")
    cov.loc[(cov["fit"] == "glm") & (cov["term"] == "INCOME"), "INCOME"] = float(variance)
    cov.to_csv(folder / "covariance.csv", index=False)
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    assert cli_error("predict", folder, "--data", tmp_path / "new.csv", "--se", one_line=True) == (
        f"se=True: {folder / 'covariance.csv'}: the glm fit's variance of 'INCOME' is {said}; "
        "standard errors need finite variances of 0 or greater"
    )
    assert list(nnglm.load(folder).predict(new_rows()).columns) == ["network", "glm"]  # without se, as before


@pytest.mark.runs
def test_se_is_a_bool_and_a_column_named_twice_is_named(columns_run):
    with pytest.raises(nnglm.ConfigError, match=r"^se: 'yes'; give True \(with standard errors\) or False$"):
        columns_run.predict(new_rows(), se="yes")
    twice = pd.concat([new_rows(), new_rows()[["SOUTH"]]], axis=1)
    with pytest.raises(nnglm.ConfigError, match=r"^the new rows: two columns are named 'SOUTH'; give each column its own name$"):
        columns_run.predict(twice)


@pytest.mark.runs
def test_a_fit_that_kept_no_covariance_is_said_and_none_at_all_refused(columns_run, tmp_path, cli_error, run_cli):
    folder = tmp_path / "penalized"
    shutil.copytree(columns_run.folder, folder)
    cov = pd.read_csv(folder / "covariance.csv")
    terms = list(cov.columns[2:])
    cov.loc[cov["fit"] == "glm", terms] = np.nan  # as a penalized GLM's block is written
    cov.to_csv(folder / "covariance.csv", index=False)
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    said = f"se=True: {folder / 'covariance.csv'}: the glm fit kept no covariance (a penalized GLM has none); its glm_se are left empty"
    with pytest.warns(RuntimeWarning) as caught:  # the command prints it as one line 'warning: ...'
        code, out, err = run_cli("predict", folder, "--data", tmp_path / "new.csv", "--se")
    assert code == 0 and err == "" and [str(w.message) for w in caught] == [said]
    written = pd.read_csv(io.StringIO(out))
    assert written["glm_se"].isna().all() and written["network_se"].notna().all()
    cov.loc[:, terms] = np.nan
    cov.to_csv(folder / "covariance.csv", index=False)
    assert cli_error("predict", folder, "--data", tmp_path / "new.csv", "--se", one_line=True) == (
        f"se=True: {folder / 'covariance.csv'}: neither fit kept a covariance, so there are no standard errors"
    )
