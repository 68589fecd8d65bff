"""R's formula habits (., poly, ns, bs, a proportion target) give R's coefficients under R's names.

Each figure below is R's, measured with R 4.2.2 by the command beside it (data: R's own
datasets, written once into data/r/). The GLM is statsmodels' fit of the design nnglm builds;
the tolerance is 1e-8 relative (R's IRLS stops at its own epsilon, 1e-8 in the deviance).
"""

import numpy as np
import pandas as pd
import patsy
import pytest
from support import ROOT

from nnglm import config
from nnglm.data import bases, table
from nnglm.foundation.errors import UserError
from nnglm.model import glm
from nnglm.vocabulary import names
from nnglm.vocabulary.formula import parse_formula

R_TOLERANCE = 1e-8

# (data file, formula, family, extra data keys, R's coefficients by R's names)
R_FITS = {
    # Rscript -e 'coef(glm(breaks ~ ., poisson, warpbreaks))'
    "dot": (
        "warpbreaks.parquet",
        "breaks ~ .",
        "poisson",
        {},
        {"(Intercept)": 3.691963144953793, "woolB": -0.205988442648863, "tensionM": -0.321320431600191, "tensionH": -0.518488496517343},
    ),
    # Rscript -e 'library(MASS); coef(glm(type ~ ., binomial, Pima.tr))' (type: No, Yes; Yes counts as success)
    "dot labelled target": (
        "Pima.tr.csv",
        "type ~ .",
        "binomial",
        {},
        {
            "(Intercept)": -9.77306153290844648,
            "npreg": 0.10318342731907260,
            "glu": 0.03211682289314381,
            "bp": -0.00476754197497693,
            "skin": -0.00191663174692825,
            "bmi": 0.08362391205460259,
            "ped": 1.82041036745115359,
            "age": 0.04118352881637331,
        },
    ),
    # Rscript -e 'coef(glm(breaks ~ .^2, poisson, warpbreaks))'
    "dot squared": (
        "warpbreaks.parquet",
        "breaks ~ .^2",
        "poisson",
        {},
        {
            "(Intercept)": 3.796736849976930,
            "woolB": -0.456627160294054,
            "tensionM": -0.618683019628053,
            "tensionH": -0.595798725786428,
            "woolB:tensionM": 0.638176814308700,
            "woolB:tensionH": 0.188363173690409,
        },
    ),
    # Rscript -e 'coef(glm(breaks ~ . - tension, poisson, warpbreaks))'
    "dot minus": (
        "warpbreaks.parquet",
        "breaks ~ . - tension",
        "poisson",
        {},
        {"(Intercept)": 3.435181234690490, "woolB": -0.205988442849611},
    ),
    # Rscript -e 'coef(glm(dist ~ . + I(speed^2), gaussian, cars))'
    "dot plus": (
        "cars.csv",
        "dist ~ . + I(speed^2)",
        "gaussian",
        {},
        {"(Intercept)": 2.4701377850662980, "speed": 0.9132876142425850, "I(speed^2)": 0.0999593020698439},
    ),
    # Rscript -e 'coef(glm(dist ~ poly(speed, 2), gaussian, cars))'
    "poly": (
        "cars.csv",
        "dist ~ poly(speed, 2)",
        "gaussian",
        {},
        {"(Intercept)": 42.98, "poly(speed, 2)1": 145.5522550457571, "poly(speed, 2)2": 22.9957635973432},
    ),
    # Rscript -e 'coef(glm(dist ~ poly(speed, 2, raw = TRUE), gaussian, cars))'
    "poly raw": (
        "cars.csv",
        "dist ~ poly(speed, 2, raw = TRUE)",
        "gaussian",
        {},
        {
            "(Intercept)": 2.4701377850662980,
            "poly(speed, 2, raw = TRUE)1": 0.9132876142425850,
            "poly(speed, 2, raw = TRUE)2": 0.0999593020698439,
        },
    ),
    # Rscript -e 'library(MASS); library(splines); coef(glm(accel ~ ns(times, df = 5), gaussian, mcycle))'
    "ns": (
        "mcycle.csv",
        "accel ~ ns(times, df = 5)",
        "gaussian",
        {},
        {
            "(Intercept)": -27.67354522690576,
            "ns(times, df = 5)1": -140.11761213665702,
            "ns(times, df = 5)2": 48.47570416051727,
            "ns(times, df = 5)3": 6.72181758408468,
            "ns(times, df = 5)4": 114.96306891854681,
            "ns(times, df = 5)5": -33.61298881225907,
        },
    ),
    # Rscript -e 'library(MASS); library(splines); coef(glm(accel ~ bs(times, df = 4, degree = 3), gaussian, mcycle))'
    "bs": (
        "mcycle.csv",
        "accel ~ bs(times, df = 4, degree = 3)",
        "gaussian",
        {},
        {
            "(Intercept)": 23.4214401839922,
            "bs(times, df = 4, degree = 3)1": -53.0122888857184,
            "bs(times, df = 4, degree = 3)2": -146.8524716102373,
            "bs(times, df = 4, degree = 3)3": 96.5626110514034,
            "bs(times, df = 4, degree = 3)4": -72.9687597499614,
        },
    ),
    # Rscript -e 'library(MASS); coef(glm(Menarche/Total ~ Age, binomial, menarche, weights = Total))'
    # (the same figures as cbind(Menarche, Total - Menarche) ~ Age)
    "proportion": (
        "menarche.csv",
        "Menarche/Total ~ Age",
        "binomial",
        {"weights": "Total", "weights_kind": "var"},
        {"(Intercept)": -21.22639490512815, "Age": 1.63196834822456},
    ),
    "cbind": (
        "menarche.csv",
        "cbind(Menarche, Total - Menarche) ~ Age",
        "binomial",
        {},
        {"(Intercept)": -21.22639490512815, "Age": 1.63196834822456},
    ),
}


def cfg_of(path, formula, family, **keys):
    raw = {"name": "t", "data": {"source": "file", "path": str(path), "formula": formula, **keys}, "model": {"family": family}}
    return config.validate(raw, "c.yaml")


def fit(path, formula, family, **keys):
    cfg = cfg_of(path, formula, family, **keys)
    dataset = table.load(table.DataSpec.of(cfg))
    return dataset, glm.fit(dataset, cfg.family, glm.GlmOptions.of(cfg))


@pytest.mark.parametrize("case", R_FITS)
def test_r_coefficients_under_r_names(case):
    path, formula, family, keys, expected = R_FITS[case]
    _, result = fit(ROOT / "data" / "r" / path, formula, family, **keys)
    assert list(result.coefficients) == list(expected)
    np.testing.assert_allclose(list(result.coefficients.values()), list(expected.values()), rtol=R_TOLERANCE, atol=1e-10)


SHIPPED = {"r_pima_dot": "dot labelled target", "r_cars_poly": "poly", "r_mcycle_ns": "ns", "r_menarche_proportion": "proportion"}


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_configs_fit_r_coefficients(name):
    """Each config's GLM, as the config stands, against the R figures above (its opening comment quotes them)."""
    cfg = config.load(ROOT / "configs" / f"{name}.yaml")
    result = glm.fit(table.load(table.DataSpec.of(cfg)), cfg.family, glm.GlmOptions.of(cfg))
    expected = R_FITS[SHIPPED[name]][-1]
    assert list(result.coefficients) == list(expected)
    np.testing.assert_allclose(list(result.coefficients.values()), list(expected.values()), rtol=R_TOLERANCE, atol=1e-10)


def test_the_training_basis_is_applied_to_new_rows():
    """predict() on new rows, inside and outside the training range, as R's predict.glm gives it."""
    cases = (
        # Rscript -e 'library(MASS); library(splines); f <- glm(accel ~ ns(times, df = 5), gaussian, mcycle);
        #   print(predict(f, data.frame(times = c(1, 10, 30, 60))), digits = 15)'
        (
            "mcycle.csv",
            "accel ~ ns(times, df = 5)",
            "times",
            [1, 10, 30, 60],
            [-42.26995286836818, 21.77841543901405, 6.98179478628285, -13.03455325993485],
        ),
        # ... f <- glm(accel ~ bs(times, df = 4, degree = 3), gaussian, mcycle); predict(f, ...)
        (
            "mcycle.csv",
            "accel ~ bs(times, df = 4, degree = 3)",
            "times",
            [1, 10, 30, 60],
            [34.2453945318377, -25.8392867710926, -28.5866604948383, -90.1262537675168],
        ),
        # Rscript -e 'f <- glm(dist ~ poly(speed, 2), gaussian, cars); print(predict(f, data.frame(speed = c(3, 10, 30))), digits = 15)'
        ("cars.csv", "dist ~ poly(speed, 2)", "speed", [3, 10, 30], [6.10963434642259, 21.59894413447651, 119.83213807520339]),
    )
    for path, formula, column, new, expected in cases:
        dataset, result = fit(ROOT / "data" / "r" / path, formula, "gaussian")
        (design,) = patsy.build_design_matrices([dataset.design], pd.DataFrame({column: np.array(new, dtype=float)}))
        predicted = np.asarray(design) @ np.array(list(result.coefficients.values()))
        np.testing.assert_allclose(predicted, expected, rtol=R_TOLERANCE)


def test_the_dot_leaves_out_the_columns_with_other_roles(tmp_path):
    rng = np.random.default_rng(5)
    n = 40
    frame = pd.DataFrame({"y": rng.poisson(3, n), "x": rng.normal(size=n), "z": rng.normal(size=n), "w": rng.uniform(1, 2, n)})
    frame["t"] = rng.uniform(1, 3, n)
    frame["g"] = np.repeat(["a", "b", "c", "d"], n // 4)
    frame.to_csv(tmp_path / "d.csv", index=False)
    dataset, _ = fit(tmp_path / "d.csv", "y ~ .", "poisson", weights="w", weights_kind="var", exposure="t")
    assert dataset.feature_names == ["x", "z", "gb", "gc", "gd"]
    cfg = cfg_of(tmp_path / "d.csv", "y ~ .", "poisson").model_copy(
        update={"inference": cfg_of(tmp_path / "d.csv", "y ~ .", "poisson").inference.model_copy(update={"groups": "g"})}
    )
    assert table.load(table.DataSpec.of(cfg)).feature_names == ["x", "z", "w", "t"]


def test_a_column_named_twice_through_the_dot_gets_one_message(tmp_path):
    pd.DataFrame({"y": [1.0, 2.0, 3.5, 4.0], "x": [1.0, 2.0, 3.0, 5.0]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(UserError) as e:
        fit(tmp_path / "d.csv", "y ~ . + x", "gaussian")
    assert str(e.value) == (
        "data.formula: 'y ~ . + x': column 'x' is named twice, through '.' (every column but the target) "
        "and as a term of its own; write it once: leave '+ x' out"
    )


def test_a_basis_that_cannot_be_built_says_why(tmp_path):
    pd.DataFrame({"y": [1.0, 2.0, 3.5, 4.0], "x": [1.0, 2.0, 1.0, 2.0]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(UserError) as e:
        fit(tmp_path / "d.csv", "y ~ poly(x, 2)", "gaussian")
    assert str(e.value) == "data.formula: poly(): the degree (2) must be less than the number of distinct values (2)"


def test_r_splines_match_r_on_new_and_outlying_values():
    """The bases themselves against R's splines::ns/bs and stats::poly, incl. predict() beyond the knots.
    Rscript -e 'library(splines); x <- c(1.2, 3.4, 2.2, 5.9, 4.4, 0.3, 7.7, 6.1, 2.9, 3.3, 8.8, 1.9);
      print(unclass(predict(ns(x, df = 4), c(-1, 4, 10)))[,], digits = 15);
      print(unclass(predict(bs(x, df = 5), c(-1, 4, 10)))[,], digits = 15)'"""
    x = np.array([1.2, 3.4, 2.2, 5.9, 4.4, 0.3, 7.7, 6.1, 2.9, 3.3, 8.8, 1.9])
    new = np.array([-1.0, 4.0, 10.0])
    ns, bs = bases.NS(), bases.BS()
    ns.memorize_chunk(x, df=4)
    ns.memorize_finish()
    bs.memorize_chunk(x, df=5)
    bs.memorize_finish()
    r_ns = [
        [0.0, 0.206700790422169, -0.601970722983860, 0.3952699325616911],
        [0.673100027093275, 0.143506881553285, 0.142980004303023, -0.0915494324706655],
        [0.0, -0.609403551515719, 0.511596307922972, 1.0978072435927471],
    ]
    r_bs = [
        [-3.3136502134083372, 0.61859055202471525, -0.0237419401318396, 0.0, 0.0],
        [0.0154261772423327, 0.51030959402918685, 0.4460499127845706, 0.02821431594391, 0.0],
        [0.0, -0.00849891796183355, 0.2194025991287105, -1.44713490556378, 2.2362312243969],
    ]
    np.testing.assert_allclose(ns.transform(new), r_ns, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(bs.transform(new), r_bs, rtol=1e-12, atol=1e-13)


def test_old_names_map_to_r_names():
    old = {
        "const": "(Intercept)",
        "Intercept": "(Intercept)",
        "C(outcome)[T.2]": "outcome2",
        "C(treatment, Treatment('b'))[T.c]": "treatmentc",
        "wool[T.B]": "woolB",
        "C(sex)[T.M]:ldose": "sexM:ldose",
        "np.log(x)": "log(x)",
        "I(x ** 2)": "I(x^2)",
        "I(count > 2)[T.True]": "I(count > 2)TRUE",
        "Q('Sepal.Length')": "Sepal.Length",
        "x1": "x1",
    }
    for before, after in old.items():
        assert names.r_name(before) == after, before
        assert names.r_name(after) == after, after  # a name already in R's scheme stays


def test_r_names_of_a_formula_design():
    frame = pd.DataFrame(
        {
            "y": [1, 0, 1, 0, 1, 1],
            "sex": ["F", "M", "F", "M", "F", "M"],
            "ldose": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "Sepal.Length": [1.0, 2.0, 3.0, 1.0, 2.0, 4.0],
            "lvl": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
        }
    )
    rhs = parse_formula('y ~ sex:ldose + factor(lvl) + Sepal.Length + log(ldose + 1) + relevel(sex, ref = "M")').rhs
    design = patsy.dmatrix(rhs, frame, eval_env=table.formula_env())
    # R 4.2.2's model.matrix: factor(lvl)2, factor(lvl)3; relevel(sex, ref = "M") codes F; sex:ldose without
    # sex's main effect codes both levels (the Dataset puts the terms in R's order; this is patsy's)
    assert names.design_names(design.design_info) == [
        "(Intercept)",
        "factor(lvl)2",
        "factor(lvl)3",
        'relevel(sex, ref = "M")F',
        "sexF:ldose",
        "sexM:ldose",
        "Sepal.Length",
        "log(ldose + 1)",
    ]


def test_terms_come_in_r_order_and_new_rows_get_the_same_columns(tmp_path):
    """R lists main effects in the formula's order, then interactions; the formula library puts factors first."""
    frame = pd.DataFrame(
        {"y": [1.0, 2.0, 4.0, 3.0, 5.0, 7.0, 6.0, 8.0], "x": np.arange(8.0), "g": list("abcdabcd"), "z": [0.5, 1, 0, 2, 1, 3, 2, 1.5]}
    )
    frame.to_csv(tmp_path / "d.csv", index=False)
    dataset, _ = fit(tmp_path / "d.csv", "y ~ x + g + x:z + poly(z, 2)", "gaussian")
    assert dataset.feature_names == ["x", "gb", "gc", "gd", "poly(z, 2)1", "poly(z, 2)2", "x:z"]
    (design,) = patsy.build_design_matrices([dataset.design], frame)
    np.testing.assert_array_equal(np.asarray(design)[:, 1:], dataset.X)


@pytest.mark.runs
def test_a_folder_written_with_the_old_names_reads_and_compares_in_r_names(tmp_path):
    """A run folder of schema 1 (statsmodels' const, patsy's C(x)[T.b]) beside a new run of the same model."""
    import json
    import shutil

    from nnglm.experiment import runner
    from nnglm.log import logbook
    from nnglm.log import result as record

    frame = pd.DataFrame({"y": [2, 3, 6, 7, 8, 9, 10, 12, 15, 20], "x": np.linspace(0, 1, 10), "g": list("ababababab")})
    frame.to_csv(tmp_path / "d.csv", index=False)
    raw = {
        "name": "old",
        "data": {"source": "file", "path": str(tmp_path / "d.csv"), "target": "y", "features": ["x", "g"]},
        "model": {"family": "poisson"},
        "train": {"epochs": 30},
    }
    new = runner.run(config.validate(raw, "c.yaml"), tmp_path / "runs", quiet=True).run_dir
    old = tmp_path / "old_run"
    shutil.copytree(new, old)
    written = json.loads((old / "result.json").read_text())
    old_names = {"(Intercept)": "const", "gb": "g[T.b]"}
    written["schema"] = 1
    for section in ("network", "glm"):
        for field in ("coefficients", "bse"):
            written[section][field] = {old_names.get(k, k): v for k, v in written[section][field].items()}
    written["data"]["feature_names"] = ["x", "g[T.b]"]
    (old / "result.json").write_text(json.dumps(written))
    read = record.read(old / "result.json")
    assert list(read.network.coefficients) == ["(Intercept)", "x", "gb"] and read.data.feature_names == ["x", "gb"]
    comparison = logbook.compare_runs([old, new])
    assert comparison.terms == ["(Intercept)", "x", "gb"] and comparison.max_weight_diff == 0.0


def test_a_basis_wider_than_its_column_is_refused_before_it_is_built(tmp_path):
    pd.DataFrame({"y": np.arange(20.0), "x": np.tile([1.0, 2.0, 3.0, 4.0], 5)}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(UserError) as e:
        fit(tmp_path / "d.csv", "y ~ ns(x, df = 1000000000)", "gaussian")
    assert str(e.value) == (
        "data.formula: ns(): 999999999 inner knots of degree 3 on a column of 4 distinct values; ask for fewer (df, knots, degree)"
    )


def test_an_identifier_reached_through_the_dot_is_refused_by_its_memory(tmp_path, monkeypatch):
    from nnglm.data import checks

    monkeypatch.setattr(checks, "available_memory", lambda: 2**29)
    pd.DataFrame({"y": np.arange(3000) % 2, "id": [f"p{i}" for i in range(3000)]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(UserError) as e:
        fit(tmp_path / "d.csv", "y ~ .", "binomial")
    assert str(e.value).startswith("data.formula: 3,000 rows x 3,001 columns need about 0.6 GiB")
