"""The analysis of deviance of nested runs (nnglm.anova, `nnglm anova`) against R's anova.glm and
statsmodels, on real data: MASS's ships (Poisson, a chi-square test) and statsmodels' scotland (Gamma,
an F test with the estimated dispersion)."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from support import ROOT

import nnglm
from nnglm.data.table import Dataset
from nnglm.log.result import Statistics
from nnglm.model import anova

SHIPS = str(ROOT / "configs/r_ships_formula.yaml")
SCOTLAND = str(ROOT / "configs/auto_scotland_gamma.yaml")
SHIPS_SMALL = "incidents ~ type + factor(year) + offset(log(service))"
SHIPS_BIG = "incidents ~ type + factor(year) + factor(period) + offset(log(service))"
SCOTLAND_SMALL = ["COUTAX", "UNEMPF"]

# R 4.2.2, measured:
#   ships <- read.csv("data/r/ships.csv")
#   m0 <- glm(incidents ~ type + factor(year) + offset(log(service)), family = poisson, data = ships)
#   m1 <- update(m0, . ~ . + factor(period)); options(digits = 10); anova(m0, m1, test = "Chisq")
#     Resid. Df Resid. Dev Df  Deviance  Pr(>Chi)
#   1        26  49.355190
#   2        25  38.695052  1 10.660139 0.0010947
#   anova(m1, m0, test = "Chisq"): the rows swapped, Df -1, Deviance -10.660139, Pr(>Chi) 0.0010947
R_SHIPS = {"Resid. Df": [26, 25], "Resid. Dev": [49.355190, 38.695052], "Df": [np.nan, 1], "Deviance": [np.nan, 10.660139]}
R_SHIPS_P = 0.0010947
# R 4.2.2, measured (scotland written from statsmodels' dataset to CSV):
#   m0 <- glm(YES ~ COUTAX + UNEMPF, family = Gamma, data = d)
#   m1 <- glm(YES ~ COUTAX + UNEMPF + MOR + ACT + GDP + AGE + COUTAX_FEMALEUNEMP, family = Gamma, data = d)
#   anova(m0, m1, test = "F")
#     Resid. Df  Resid. Dev Df    Deviance       F    Pr(>F)
#   1        29 0.184309527
#   2        24 0.087388516  5 0.096921011 5.40811 0.0018063
#   anova(m0, m1, test = "Chisq"): Pr(>Chi) 5.6014e-05; summary(m1)$dispersion 0.003584283175
R_SCOTLAND = {"Resid. Df": [29, 24], "Resid. Dev": [0.184309527, 0.087388516], "Df": [np.nan, 5], "Deviance": [np.nan, 0.096921011]}
R_SCOTLAND_F, R_SCOTLAND_P_F, R_SCOTLAND_P_CHI, R_SCOTLAND_DISPERSION = 5.40811, 0.0018063, 5.6014e-05, 0.003584283175


def ships_frame() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data/r/ships.csv")


def ships_run(root, formula, **overrides):
    return nnglm.run(
        SHIPS,
        overrides={"data.path": str(ROOT / "data/r/ships.csv"), "data.formula": formula, "train.dtype": "float64"} | overrides,
        out=root,
    )


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return tmp_path_factory.mktemp("anova")


@pytest.fixture(scope="module")
def ships(log):
    return [ships_run(log, SHIPS_SMALL), ships_run(log, SHIPS_BIG)]


@pytest.fixture(scope="module")
def scotland(log):
    return [nnglm.run(SCOTLAND, overrides={"data.features": SCOTLAND_SMALL}, out=log), nnglm.run(SCOTLAND, out=log)]


def assert_r_columns(frame: pd.DataFrame, expected: dict, digits: float) -> None:
    for fit in ("network", "glm"):
        for column, values in expected.items():
            np.testing.assert_allclose(frame[(fit, column)].to_numpy(dtype=float), values, rtol=digits, err_msg=f"{fit} {column}")


def statsmodels_deviances(formulas: list[str], data: pd.DataFrame, family, **kwargs) -> list:
    import statsmodels.formula.api as smf

    return [smf.glm(f, data, family=family, **kwargs).fit() for f in formulas]


@pytest.mark.runs
def test_ships_chi_square_as_r_prints_it_and_as_statsmodels_computes_it(ships):
    import statsmodels.api as sm

    frame = nnglm.anova(*ships, test="Chisq")
    assert list(frame["glm"].columns) == ["Resid. Df", "Resid. Dev", "Df", "Deviance", "Pr(>Chi)"]
    assert list(frame.index) == [1, 2]
    assert_r_columns(frame, R_SHIPS, 1e-7)  # R printed 8 digits
    for fit in ("network", "glm"):
        assert frame[(fit, "Pr(>Chi)")].iloc[1] == pytest.approx(R_SHIPS_P, rel=1e-4)  # R printed 5 digits
    # statsmodels: the deviance difference against scipy's chi-square
    data = ships_frame()
    small, big = statsmodels_deviances(
        [f.replace(" + offset(log(service))", "").replace("factor(", "C(") for f in (SHIPS_SMALL, SHIPS_BIG)],
        data,
        sm.families.Poisson(),
        offset=np.log(data["service"]),
    )
    difference = small.deviance - big.deviance
    assert frame[("glm", "Deviance")].iloc[1] == pytest.approx(difference, rel=1e-10)
    assert frame[("glm", "Pr(>Chi)")].iloc[1] == pytest.approx(stats.chi2.sf(difference, small.df_resid - big.df_resid), rel=1e-9)
    # the network's table from its own deviances: equal to the GLM's within the runs' tolerance
    assert frame.attrs["equal"] and frame.attrs["largest_difference"] < 1e-8
    assert frame.attrs["dispersion"] == {"network": 1.0, "glm": 1.0} and not frame.attrs["dispersion_estimated"]
    assert frame.attrs["models"][0].endswith(SHIPS_SMALL)


@pytest.mark.runs
def test_scotland_f_test_with_the_largest_models_dispersion_as_r(scotland):
    import statsmodels.api as sm

    frame = nnglm.anova(*scotland, test="F")
    assert list(frame["glm"].columns) == ["Resid. Df", "Resid. Dev", "Df", "Deviance", "F", "Pr(>F)"]
    assert_r_columns(frame, R_SCOTLAND, 1e-8)  # R printed 9 digits
    for fit in ("network", "glm"):
        assert frame[(fit, "F")].iloc[1] == pytest.approx(R_SCOTLAND_F, rel=1e-5)
        assert frame[(fit, "Pr(>F)")].iloc[1] == pytest.approx(R_SCOTLAND_P_F, rel=1e-4)
        assert frame.attrs["dispersion"][fit] == pytest.approx(R_SCOTLAND_DISPERSION, rel=1e-9)
    # statsmodels: the deviance difference over its df and the big model's Pearson dispersion, against scipy's F
    data = sm.datasets.scotland.load_pandas().data
    small, big = statsmodels_deviances(["YES ~ COUTAX + UNEMPF", "YES ~ " + " + ".join(data.columns[1:])], data, sm.families.Gamma())
    df = small.df_resid - big.df_resid
    f_value = (small.deviance - big.deviance) / df / big.scale
    assert frame[("glm", "F")].iloc[1] == pytest.approx(f_value, rel=1e-9)
    assert frame[("glm", "Pr(>F)")].iloc[1] == pytest.approx(stats.f.sf(f_value, df, big.df_resid), rel=1e-9)
    assert frame.attrs["equal"] and frame.attrs["dispersion_estimated"]
    chi = nnglm.anova(*scotland, test="Chisq")
    for fit in ("network", "glm"):
        assert chi[(fit, "Pr(>Chi)")].iloc[1] == pytest.approx(R_SCOTLAND_P_CHI, rel=1e-4)


@pytest.mark.runs
def test_the_default_test_is_rs_chi_square_for_a_known_dispersion_and_f_for_an_estimated_one(ships, scotland):
    assert nnglm.anova(*ships).attrs["test"] == "Chisq"
    assert nnglm.anova(*scotland).attrs["test"] == "F"


@pytest.mark.runs
def test_f_with_a_known_dispersion_is_the_chi_square_over_its_df_with_rs_warning(ships):
    frame = nnglm.anova(*ships, test="F")
    assert frame[("glm", "F")].iloc[1] == pytest.approx(R_SHIPS["Deviance"][1], rel=1e-7)  # R: F 10.66014
    assert frame[("glm", "Pr(>F)")].iloc[1] == pytest.approx(R_SHIPS_P, rel=1e-4)  # R: Pr(>F) 0.0010947
    assert any("inappropriate" in note for note in frame.attrs["notes"])


@pytest.mark.runs
def test_the_larger_model_first_gives_negative_rows_as_r(ships):
    frame = nnglm.anova(ships[1], ships[0], test="Chisq")
    assert frame[("glm", "Df")].iloc[1] == -1
    assert frame[("glm", "Deviance")].iloc[1] == pytest.approx(-10.660139, rel=1e-7)
    assert frame[("glm", "Pr(>Chi)")].iloc[1] == pytest.approx(R_SHIPS_P, rel=1e-4)
    assert any("nested in model 1" in note for note in frame.attrs["notes"])


@pytest.mark.runs
def test_nnglm_anova_prints_both_tables_and_the_largest_difference(ships, run_cli):
    code, out, _ = run_cli("anova", ships[0].folder, ships[1].folder)
    assert code == 0
    assert "Analysis of Deviance Table (test Chisq; dispersion 1, known)" in out
    assert f"Model 1: {SHIPS_SMALL}" in out and f"Model 2: {SHIPS_BIG}" in out
    assert "Pr(>Chi)" in out and out.count("network") >= 2 and out.count("GLM") >= 2
    assert "10.66013874" in out and "0.0010947" in out
    assert "tolerance 1e-06 (the runs' own): equal" in out


@pytest.mark.runs
def test_runs_whose_terms_do_not_nest_are_refused(ships, log, cli_error):
    other = ships_run(log, "incidents ~ type + factor(period) + offset(log(service))")
    message = cli_error("anova", ships[0].folder, other.folder)
    small, big = set(ships[0].coefficients.index), set(other.coefficients.index)
    year, period = sorted(small - big), sorted(big - small)  # year's levels, and period's (named as the formula library names them)
    assert len(year) == 3 and len(period) == 1
    assert message == (
        f"{other.folder}: its terms and those of the run before it do not nest: only that run has "
        f"{', '.join(map(repr, year))}; only this one has {period[0]!r}"
    )
    with pytest.raises(nnglm.ConfigError, match="the same terms as the run before it: nothing to test"):
        nnglm.anova(ships[0], ships[0])


@pytest.mark.runs
def test_runs_on_other_rows_are_refused(ships, log, cli_error):
    shuffled = ships_frame().sample(frac=1.0, random_state=1).reset_index(drop=True)
    config = {"name": "ships_shuffled", "data": {"formula": SHIPS_BIG}, "model": {"family": "poisson"}, "train": {"dtype": "float64"}}
    other = nnglm.run(config, data=shuffled, out=log)
    message = cli_error("anova", ships[0].folder, other.folder)
    assert message == (
        f"{other.folder}: fitted on different rows than the first run (the same count, 34, but another target, weights or order: "
        "data.rows_sha256 differs)"
    )


@pytest.mark.runs
def test_runs_of_other_families_are_refused(ships, scotland):
    with pytest.raises(nnglm.ConfigError) as caught:
        nnglm.anova(ships[0], scotland[1])
    assert str(caught.value) == (
        f"{scotland[1].folder}: not the first run's family (model.family 'gamma' against 'poisson'; model.link 'inverse_power' "
        "against 'log'): deviances of different families do not compare"
    )


def edited_copy(run, tmp_path, edit) -> str:
    """A copy of a run folder whose result.json is edited: what an older or a different run records."""
    folder = tmp_path / run.folder.parent.name / run.folder.name
    shutil.copytree(run.folder, folder)
    result = json.loads((folder / "result.json").read_text())
    edit(result)
    (folder / "result.json").write_text(json.dumps(result))
    return str(folder)


@pytest.mark.runs
def test_edited_records_are_refused_with_the_reason(ships, tmp_path):
    def link(r):
        r["config"]["model"]["link"] = "sqrt"

    def older(r):
        del r["data"]["rows_sha256"]

    def offset(r):
        del r["data"]["offset_sha256"]

    def target(r):
        r["data"]["target"] = "damage"

    def fewer(r):
        r["data"]["n_rows"] = 30

    cases = {
        link: "not the first run's family (model.link 'sqrt' against 'log'): deviances of different families do not compare",
        older: "records no identity of the rows it fitted (data.rows_sha256, written since anova was added): run it again to compare it",
        fewer: "fitted on 30 rows, the first run on 34 (as R says: models were not all fitted to the same size of dataset)",
        target: "its target 'damage' is not the first run's 'incidents': models of different responses do not compare",
        offset: "its offset is not the first run's (its: none, the first run's: one; data.offset_sha256 differs)",
    }
    for edit, expected in cases.items():
        copy = edited_copy(ships[1], tmp_path / edit.__name__, edit)
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.anova(ships[0], copy)
        assert str(caught.value).startswith(f"{copy}: {expected}"), str(caught.value)


@pytest.mark.runs
def test_compare_refuses_other_models_and_points_to_anova(ships, cli_error):
    message = cli_error("compare", ships[0].folder, ships[1].folder)
    assert "not the same model (`nnglm anova` compares nested models by their deviances)" in message


@pytest.mark.runs
def test_arguments_are_checked(ships, cli_error):
    with pytest.raises(nnglm.ConfigError) as caught:
        nnglm.anova()
    assert str(caught.value) == "anova: give one run (its terms added in turn) or two or more runs of nested models, the smallest first"
    for runs in (ships, ships[:1]):
        with pytest.raises(nnglm.ConfigError, match="test: 'LRT' is not 'Chisq'"):
            nnglm.anova(*runs, test="LRT")
    message = cli_error("anova", ships[0].folder, ships[1].folder, "--set", "data.path=x.csv")
    assert message == "--set: only for one run's sequential table (it names the run's data); nested runs are read from their folders"


# --- no training ---


def test_the_table_follows_rs_stat_anova_on_rs_deviances():
    rows = [
        Statistics(deviance=d, df_resid=df, dispersion=1.0)
        for d, df in ((146.328337, 33), (90.889279, 29), (49.355190, 26), (38.695052, 25))
    ]
    table = anova.table(rows, "Chisq", 1.0, estimated=False)
    # R: anova(m1, test = "Chisq") on ships, its sequential rows: Pr(>Chi) 2.6287e-11, 5.0377e-09, 0.0010947
    np.testing.assert_allclose(table["Pr(>Chi)"].to_numpy()[1:], [2.6287e-11, 5.0377e-09, 0.0010947], rtol=1e-4)
    assert np.isnan(table["Pr(>Chi)"].iloc[0]) and np.isnan(table["Df"].iloc[0])


def test_the_rows_identity_covers_target_weights_and_order_and_keeps_the_offset_apart():
    X = np.ones((4, 1))
    y = np.array([1.0, 0.0, 2.0, 3.0])
    base = Dataset(X=X, y=y, feature_names=["x"], target="y")
    same = anova.rows_sha256(base)
    assert anova.rows_sha256(Dataset(X=X * 2, y=y.copy(), feature_names=["z"], target="y")) == same  # the design is the model's
    assert anova.rows_sha256(Dataset(X=X, y=y[::-1].copy(), feature_names=["x"], target="y")) != same
    assert anova.rows_sha256(Dataset(X=X, y=y, feature_names=["x"], target="y", var_weights=np.ones(4))) != same
    assert anova.rows_sha256(Dataset(X=X, y=y, feature_names=["x"], target="y", freq_weights=np.ones(4))) != same
    assert anova.offset_sha256(base) is None
    assert anova.offset_sha256(Dataset(X=X, y=y, feature_names=["x"], target="y", offset=np.zeros(4))) is not None


# --- one run's sequential table (R's anova(fit)) ---

# R 4.2.2, measured: anova(m1, test = "Chisq") on ships' m1 above
#                  Df  Deviance Resid. Df Resid. Dev   Pr(>Chi)
#   NULL                               33 146.328337
#   type            4 55.439057        29  90.889279 2.6287e-11
#   factor(year)    3 41.534089        26  49.355190 5.0377e-09
#   factor(period)  1 10.660139        25  38.695052  0.0010947
R_SHIPS_SEQUENTIAL = {
    "Df": [np.nan, 4, 3, 1],
    "Deviance": [np.nan, 55.439057, 41.534089, 10.660139],
    "Resid. Df": [33, 29, 26, 25],
    "Resid. Dev": [146.328337, 90.889279, 49.355190, 38.695052],
}
R_SHIPS_SEQUENTIAL_P = [2.6287e-11, 5.0377e-09, 0.0010947]
# R 4.2.2, measured: anova(m1, test = "F") on scotland's m1 above (Gamma, inverse link)
#                      Df    Deviance Resid. Df Resid. Dev        F     Pr(>F)
#   NULL                                     31 0.53607208
#   COUTAX              1 0.232268186        30 0.30380389 64.80185 2.8262e-08
#   UNEMPF              1 0.119494367        29 0.18430953 33.33843 5.9553e-06
#   MOR                 1 0.027463789        28 0.15684574  7.66228  0.0106916
#   ACT                 1 0.022977734        27 0.13386800  6.41069  0.0183022
#   GDP                 1 0.000514396        26 0.13335361  0.14351  0.7081427
#   AGE                 1 0.007325453        25 0.12602816  2.04377  0.1657195
#   COUTAX_FEMALEUNEMP  1 0.038639639        24 0.08738852 10.78030  0.0031368
R_SCOTLAND_SEQUENTIAL_DEV = [0.53607208, 0.30380389, 0.18430953, 0.15684574, 0.13386800, 0.13335361, 0.12602816, 0.08738852]
R_SCOTLAND_SEQUENTIAL_F = [64.80185, 33.33843, 7.66228, 6.41069, 0.14351, 2.04377, 10.78030]
R_SCOTLAND_SEQUENTIAL_P = [2.8262e-08, 5.9553e-06, 0.0106916, 0.0183022, 0.7081427, 0.1657195, 0.0031368]
# R 4.2.2, measured: anova(glm(incidents ~ type + factor(year) - 1 + offset(log(service)), family = poisson,
# data = ships), test = "Chisq"): NULL 34 322217.70 (the mean from the offset alone); type 5 322126.81, 29 90.89;
# factor(year) 3 41.53, 26 49.36, Pr(>Chi) 5.0377e-09
SHIPS_DATA = {"data.path": str(ROOT / "data/r/ships.csv")}


@pytest.mark.runs
def test_the_sequential_table_of_one_run_as_r_and_statsmodels(ships):
    import statsmodels.api as sm

    frame = nnglm.anova(ships[1], overrides=SHIPS_DATA)
    assert list(frame.index) == ["NULL", "type", "factor(year)", "factor(period)"] and frame.attrs["sequential"]
    assert list(frame["glm"].columns) == ["Df", "Deviance", "Resid. Df", "Resid. Dev", "Pr(>Chi)"]
    assert_r_columns(frame, R_SHIPS_SEQUENTIAL, 1e-7)
    for fit in ("network", "glm"):
        np.testing.assert_allclose(frame[(fit, "Pr(>Chi)")].to_numpy()[1:], R_SHIPS_SEQUENTIAL_P, rtol=1e-4)
    # statsmodels: each sub-model fitted from its own formula, the deviances in turn
    data = ships_frame()
    formulas = ["incidents ~ type", "incidents ~ type + C(year)"]
    deviances = [m.deviance for m in statsmodels_deviances(formulas, data, sm.families.Poisson(), offset=np.log(data["service"]))]
    np.testing.assert_allclose(frame[("glm", "Resid. Dev")].to_numpy()[1:3], deviances, rtol=1e-10)
    np.testing.assert_allclose(frame[("network", "Resid. Dev")].to_numpy()[1:3], deviances, rtol=1e-9)
    assert frame.attrs["equal"] and frame.attrs["largest_difference"] < 1e-8


@pytest.mark.runs
def test_the_sequential_f_table_of_a_gamma_run_as_r(scotland):
    frame = nnglm.anova(scotland[1], test="F")
    assert list(frame.index) == ["NULL", "COUTAX", "UNEMPF", "MOR", "ACT", "GDP", "AGE", "COUTAX_FEMALEUNEMP"]
    for fit in ("network", "glm"):
        np.testing.assert_allclose(frame[(fit, "Resid. Dev")], R_SCOTLAND_SEQUENTIAL_DEV, rtol=1e-7)  # R printed 8 digits
        np.testing.assert_allclose(frame[(fit, "F")].to_numpy()[1:], R_SCOTLAND_SEQUENTIAL_F, rtol=1e-4)  # 5 digits
        np.testing.assert_allclose(frame[(fit, "Pr(>F)")].to_numpy()[1:], R_SCOTLAND_SEQUENTIAL_P, rtol=1e-4)
    assert frame.attrs["equal"]


@pytest.mark.runs
def test_the_sequential_table_without_an_intercept_starts_from_the_offset_alone(log):
    run = ships_run(log, "incidents ~ type + factor(year) - 1 + offset(log(service))", **{"model.use_bias": False})
    frame = nnglm.anova(run, overrides=SHIPS_DATA)
    np.testing.assert_allclose(frame[("glm", "Resid. Df")], [34, 29, 26])
    np.testing.assert_allclose(frame[("glm", "Resid. Dev")], [322217.70, 90.89, 49.36], rtol=1e-4)  # R printed 2 decimals
    assert frame[("glm", "Pr(>Chi)")].iloc[2] == pytest.approx(5.0377e-09, rel=1e-4)
    assert frame[("network", "Resid. Dev")].iloc[0] == frame[("glm", "Resid. Dev")].iloc[0]  # no coefficient: one deviance
    # measured: this run's network (every level of type a column, no intercept) stops without reaching its GLM
    # ('no progress', 0.21 from the optimum); the table then says so, and the two tables differ
    if run.equivalent:
        assert frame.attrs["equal"]
    else:
        assert not frame.attrs["equal"] and any("the network did not reach its GLM" in note for note in frame.attrs["notes"])


@pytest.mark.runs
def test_nnglm_anova_of_one_run_prints_its_terms_in_turn(ships, cli_error, run_cli):
    code, out, _ = run_cli("anova", ships[1].folder, "--set", f"data.path={SHIPS_DATA['data.path']}")
    assert code == 0
    assert "Terms added sequentially (first to last)" in out and "Response: incidents" in out
    assert "factor(period)" in out and "55.43905711" in out and "2.6287e-11" in out
    # a run folder reads no data from outside itself unless the data is named
    message = cli_error("anova", ships[1].folder)
    assert "lies outside the run folder" in message and "--set data.path=FILE" in message


@pytest.mark.runs
def test_the_table_of_nested_runs_loads_no_training_code(ships):
    """Two runs' table reads JSON and computes with scipy: no TensorFlow, as `nnglm compare`."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom nnglm import cli\n"
        f"code = cli.main(['anova', {str(ships[0].folder)!r}, {str(ships[1].folder)!r}])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_a_term_that_adds_nothing_is_tested_alike_on_both_sides():
    """Dobson's treatment: R's deviance difference is +6e-15, the network's -3e-12 (round-off of either
    sign); both are 0, p = 1, where the network's row had no p-value and the verdict said 'different'."""
    from nnglm.log.result import Statistics
    from nnglm.model import anova

    glm = anova.table(
        [Statistics(df_resid=6, deviance=5.129141077), Statistics(df_resid=4, deviance=5.129141077 - 1.07e-14)], "Chisq", 1.0, False
    )
    net = anova.table(
        [Statistics(df_resid=6, deviance=5.129141077), Statistics(df_resid=4, deviance=5.129141077 + 2.9e-12)], "Chisq", 1.0, False
    )
    for frame in (glm, net):
        assert frame.loc[2, "Deviance"] == 0.0 and frame.loc[2, "Pr(>Chi)"] == 1.0
    real = anova.table([Statistics(df_resid=8, deviance=10.58145), Statistics(df_resid=6, deviance=5.129141)], "Chisq", 1.0, False)
    assert real.loc[2, "Pr(>Chi)"] == pytest.approx(0.065471, abs=1e-6)  # R: anova(glm(counts ~ outcome)) 5.452305 on 2 df


@pytest.mark.parametrize("df", [None, float("nan"), float("inf"), -1e308, 2.5])
def test_a_received_result_json_with_a_residual_df_that_is_no_count_is_refused(df):
    from types import SimpleNamespace

    from nnglm.foundation.errors import UserError
    from nnglm.log.result import Statistics
    from nnglm.model import anova

    stats = Statistics(df_resid=4, deviance=5.1, dispersion=1.0).model_copy(update={"df_resid": df})
    model = SimpleNamespace(folder="cr/big", result=SimpleNamespace(glm=SimpleNamespace(statistics=stats)))
    with pytest.raises(UserError, match=r"^cr/big: its result.json records glm.statistics.df_resid .*, not a whole number of 1 or more$"):
        anova._statistics(model, "glm")
