"""Data sources: the seeds' generators follow their rules; bad data names its column."""

import numpy as np
import pytest
from support import load

from nnglm.data import table
from nnglm.foundation.errors import UserError


def test_gaussian_bernoulli_has_the_seed_002_shape_and_moments():
    ds = table.load(table.DataSpec.of(load("seed002_logistic_no_bias", "data.n_rows=20000")))
    assert ds.X.shape == (20000, 10) and ds.feature_names == [f"x{i}" for i in range(1, 11)]
    assert np.allclose(ds.X.mean(axis=0), 1.0, atol=0.02)
    assert np.allclose(ds.X.std(axis=0), 0.5, atol=0.02)
    assert set(np.unique(ds.y)) == {0.0, 1.0} and abs(ds.y.mean() - 0.5) < 0.02


def test_same_seed_same_data_other_seed_other_data():
    a = table.load(table.DataSpec.of(load("seed002_logistic_no_bias")))
    b = table.load(table.DataSpec.of(load("seed002_logistic_no_bias")))
    c = table.load(table.DataSpec.of(load("seed002_logistic_no_bias", "seed=7")))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


def test_balloons_follow_the_seed_003_rule():
    count = table.load(table.DataSpec.of(load("seed003_balloons_linear")))
    colour = table.load(table.DataSpec.of(load("seed003_balloons_logistic")))
    assert count.feature_names == colour.feature_names == ["relationship", "children", "age"]
    r, c, a = count.X.T
    assert set(np.unique(r)) == {-0.5, 0.5}
    assert c.min() >= -0.5 and c.max() <= 0.5 and a.min() >= -0.5 and a.max() <= 0.5
    partnered = r == -0.5
    assert np.allclose(count.y[partnered], 1.0 * c[partnered] - 0.2 * a[partnered])
    assert np.allclose(count.y[~partnered], 0.8 * c[~partnered] + 0.5 * a[~partnered])
    red = np.where(partnered, 0.8 * c + 0.2 * a > 0, 0.5 * c + 0.5 * a > 0)
    assert np.array_equal(colour.y, red.astype(float))


def test_four_points_are_the_seed_000_table():
    ds = table.load(table.DataSpec.of(load("seed000_four_points")))
    assert ds.X.tolist() == [[1, 0], [0, 0], [1, 1], [0, 1]]
    assert ds.y.tolist() == [0, 1, 0, 1]


def test_glm_generator_recovers_its_coefficients(write_config):
    import statsmodels.api as sm

    path = write_config(
        "name: g\nseed: 1\nmodel: {family: gaussian}\n"
        "data: {source: synthetic, generator: glm, n_rows: 5000, n_features: 2, coefficients: [1.5, -2.0],"
        " intercept: 0.5, scale: 0.01}\n"
    )
    from nnglm import config

    ds = table.load(table.DataSpec.of(config.load(path)))
    params = sm.OLS(ds.y, sm.add_constant(ds.X)).fit().params
    assert np.allclose(params, [0.5, 1.5, -2.0], atol=0.01)


def csv_config(write_config, csv_text, extra=""):
    from nnglm import config

    csv_path = write_config(csv_text, "d.csv")
    return config.load(
        write_config(f"name: c\ndata: {{source: csv, path: {csv_path}, target: y{extra}}}\nmodel: {{family: binomial}}\n")
    ), csv_path


def test_csv_source_reads_columns(write_config):
    cfg, _ = csv_config(write_config, "a,b,y\n1,2,0\n3,4,1\n5,7,1\n", ", features: [b]")
    ds = table.load(table.DataSpec.of(cfg))
    assert ds.feature_names == ["b"] and ds.X.ravel().tolist() == [2, 4, 7] and ds.y.tolist() == [0, 1, 1]


def error(cfg):
    with pytest.raises(UserError) as e:
        table.load(table.DataSpec.of(cfg))
    return str(e.value)


def test_missing_csv(write_config):
    from nnglm import config

    cfg = config.load(write_config("name: c\ndata: {source: csv, path: nowhere.csv, target: y}\n"))
    assert error(cfg) == "data.path: file not found: nowhere.csv"


def test_missing_column_lists_the_columns(write_config):
    cfg, path = csv_config(write_config, "a,b,y\n1,2,0\n3,4,1\n5,7,1\n", ", features: [a, c]")
    assert error(cfg) == f"data.features: column 'c' not in {path}; columns are: 'a', 'b', 'y'"


def test_non_numeric_and_missing_values_name_column_and_rows(write_config):
    cfg, path = csv_config(write_config, "a,b,y\n1,2,0\nx,4,1\n5,,1\n3,3,0\n")
    assert error(cfg) == (f"data: column 'a' of {path} must hold finite numbers; first offending rows (0-based): 1 ('x')")


def test_binomial_target_must_be_zero_or_one(write_config):
    cfg, _ = csv_config(write_config, "a,y\n1,0\n2,2\n3,1\n4,-1\n")
    assert error(cfg) == ("data.target: column 'y' must be 0 or 1 for family binomial; first offending rows (0-based): 1 (2), 3 (-1)")


def test_too_few_rows_for_the_coefficients(write_config):
    cfg, path = csv_config(write_config, "a,b,c,y\n1,2,3,0\n2,3,4,1\n")
    assert error(cfg) == f"data: 2 rows from {path}, fewer than the 4 coefficients to estimate"


def test_batch_size_above_row_count():
    cfg = load("seed000_four_points", "train.batch_size=8")
    assert error(cfg) == "train.batch_size: 8 is more than the 4 rows of the data; use 'full' or at most 4"


@pytest.mark.parametrize(
    "family, link, values, message",
    [
        (
            "poisson",
            "log",
            "1\n-2\n3\n0.5\n",
            "must be a count, 0 or more for family poisson; first offending rows (0-based): 1 (-2), 3 (0.5)",
        ),
        ("gamma", "log", "1\n0\n3\n-1\n", "must be greater than 0 for family gamma; first offending rows (0-based): 1 (0), 3 (-1)"),
        (
            "multinomial",
            "softmax",
            "1\n2\n1.5\n0\n",
            "must be a class label: a whole number 0 or more for family multinomial; first offending rows (0-based): 2 (1.5)",
        ),
    ],
)
def test_target_rule_per_family(write_config, family, link, values, message):
    from nnglm import config

    lines = values.strip().split("\n")
    csv_path = write_config("x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(lines)), "d.csv")
    cfg = config.load(
        write_config(f"name: c\ndata: {{source: csv, path: {csv_path}, target: y}}\nmodel: {{family: {family}, link: {link}}}\n")
    )
    assert error(cfg) == f"data.target: column 'y' {message}"


def test_statsmodels_dataset_by_name(write_config):
    from nnglm import config

    cfg = config.load(write_config("name: s\ndata: {source: statsmodels, dataset: spector, target: GRADE}\n"))
    ds = table.load(table.DataSpec.of(cfg))
    assert ds.n_rows == 32 and ds.feature_names == ["GPA", "TUCE", "PSI"]


def test_unknown_statsmodels_dataset_lists_the_available(write_config):
    from nnglm import config

    cfg = config.load(write_config("name: s\ndata: {source: statsmodels, dataset: spectre, target: GRADE}\n"))
    message = error(cfg)
    assert message.startswith("data.dataset: statsmodels has no dataset 'spectre'; available: ")
    assert "spector" in message and "anes96" in message


def test_categorical_columns_get_treatment_contrasts(write_config):
    cfg, _ = csv_config(write_config, "a,colour,y\n1,red,0\n2,green,1\n3,blue,1\n4,red,0\n5,green,0\n", ", categorical: [colour]")
    ds = table.load(table.DataSpec.of(cfg))
    # levels sorted, the first (blue) dropped: R's treatment contrasts
    assert ds.feature_names == ["a", "colourgreen", "colourred"]
    assert ds.X[:, 1].tolist() == [0, 1, 0, 0, 1] and ds.X[:, 2].tolist() == [1, 0, 0, 1, 0]


def test_categorical_must_be_a_feature(write_config):
    cfg, _ = csv_config(write_config, "a,b,y\n1,2,0\n2,3,1\n3,4,1\n", ", features: [a], categorical: [b]")
    assert error(cfg) == "data.categorical: 'b' is not among the features ('a')"


def test_multinomial_labels_become_classes(write_config):
    from nnglm import config

    csv_path = write_config("x,y\n1,3\n2,7\n3,3\n4,5\n5,7\n", "d.csv")
    cfg = config.load(write_config(f"name: c\ndata: {{source: csv, path: {csv_path}, target: y}}\nmodel: {{family: multinomial}}\n"))
    ds = table.load(table.DataSpec.of(cfg))
    assert ds.classes == ["3", "5", "7"] and ds.y.tolist() == [0, 2, 0, 1, 2]
    assert ds.terms(True) == ["5:(Intercept)", "5:x", "7:(Intercept)", "7:x"]
