"""Configs: every shipped config loads; bad ones end in one message naming the key."""

import pydantic
import pytest
from support import CONFIGS, load

from nnglm import config
from nnglm.config import schema
from nnglm.foundation.errors import UserError

MINIMAL = "name: t\ndata: {source: synthetic, generator: gaussian_bernoulli}\n"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_config_loads_and_opens_with_its_command(path):
    cfg = config.load(path)
    assert cfg.name == path.stem
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert f"#   make experiment CONFIG=configs/{path.name}" in header
    assert any(line.startswith("# Expect") for line in header)


def test_defaults_are_keras_adam_full_batch_float32_zero_init(write_config):
    cfg = config.load(write_config(MINIMAL))
    # Keras' Adam; the learning rate is chosen from the data, as `epochs: auto` trains until converged
    assert (cfg.train.learning_rate, cfg.train.beta_1, cfg.train.beta_2, cfg.train.epsilon) == (None, 0.9, 0.999, 1e-7)
    assert cfg.train.epochs == "auto" and cfg.train.inputs == "whiten" and cfg.train.step_cap == 200_000
    assert cfg.train.batch_size == "full" and cfg.train.dtype == "float32"
    assert cfg.model.kernel_initializer == "zeros" and cfg.model.link == "logit"
    assert cfg.data.n_rows == 1000 and cfg.data.target == "y"


def test_config_is_frozen(write_config):
    cfg = config.load(write_config(MINIMAL))
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        cfg.train.epochs = 5


def test_overrides_go_through_validation(write_config):
    path = write_config(MINIMAL)
    cfg = config.load(path, ["train.epochs=5000", "train.dtype=float64", "train.learning_rate=0.01"])
    assert (cfg.train.epochs, cfg.train.dtype, cfg.train.learning_rate) == (5000, "float64", 0.01)
    with pytest.raises(UserError) as e:
        config.load(path, ["train.epochs=0"])
    assert str(e.value) == (
        f"{path} (with --set train.epochs=0): train.epochs: 'auto' (train until converged) or a whole number of steps, 1 to 2,147,483,647 (got 0)"
    )


def error_of(write_config, text, overrides=()):
    path = write_config(text)
    with pytest.raises(UserError) as e:
        config.load(path, list(overrides))
    return str(e.value).removeprefix(f"{path}: ")


def test_unknown_key_suggests_the_closest(write_config):
    message = error_of(write_config, MINIMAL + "train: {epoch: 10}\n")
    assert message.startswith("train.epoch: unknown key. did you mean 'epochs'? Allowed here: learning_rate, beta_1,")


def test_unknown_top_level_key(write_config):
    message = error_of(write_config, MINIMAL + "trian: {}\n")
    assert message.startswith("trian: unknown key. did you mean 'train'? Allowed here: name, description, seed, data,")


def test_wrong_type(write_config):
    assert error_of(write_config, MINIMAL + "train: {epochs: many}\n") == (
        "train.epochs: 'auto' (train until converged) or a whole number of steps, 1 to 2,147,483,647 (got 'many')"
    )


def test_no_silent_coercion_of_strings(write_config):
    assert error_of(write_config, MINIMAL + "model: {use_bias: 'no'}\n") == ("model.use_bias: Input should be a valid boolean (got 'no')")


def test_negative_learning_rate(write_config):
    assert error_of(write_config, MINIMAL + "train: {learning_rate: -0.1}\n") == (
        "train.learning_rate: Input should be greater than 0 (got -0.1)"
    )


def test_unknown_dtype(write_config):
    assert error_of(write_config, MINIMAL + "train: {dtype: float16}\n") == (
        "train.dtype: Input should be 'float32' or 'float64' (got 'float16')"
    )


def test_unknown_family_names_the_allowed(write_config):
    assert error_of(write_config, MINIMAL + "model: {family: poison}\n") == (
        "model.family: unknown family 'poison' (did you mean 'poisson'?); allowed: gaussian, binomial, poisson, gamma, inverse_gaussian, "
        'negative_binomial, tweedie, quasipoisson, quasibinomial, quasi, multinomial, or as R writes it, e.g. binomial(link = "probit")'
    )


def test_link_must_belong_to_the_family(write_config):
    assert error_of(write_config, MINIMAL + "model: {family: gaussian, link: softmax}\n") == (
        "model.link: 'softmax' is not a link of family gaussian; allowed: identity, log, inverse_power (and, with statsmodels' "
        "check_link=False and a recorded warning: logit, probit, cloglog, loglog, cauchy, logc, inverse_squared, sqrt, power)"
    )


def test_inverse_power_without_a_bias_starts_inside_its_domain(write_config):
    from nnglm.train import network

    cfg = config.load(write_config(MINIMAL + "model: {family: gamma, link: inverse_power, use_bias: false}\n"))
    assert network.starts_inside(cfg.family, cfg.model.use_bias)


def test_missing_name(write_config):
    assert error_of(write_config, "data: {source: synthetic, generator: four_points}\n") == "name: required key is missing"


def test_parameter_of_another_generator(write_config):
    text = "name: t\ndata: {source: synthetic, generator: four_points, n_rows: 10}\n"
    assert error_of(write_config, text) == "data.n_rows: not a parameter of generator 'four_points' (its parameters: none)"


def test_balloons_needs_a_target(write_config):
    text = "name: t\ndata: {source: synthetic, generator: balloons}\n"
    assert error_of(write_config, text) == "data.target: required for generator 'balloons'; one of count, colour"


def test_glm_generator_needs_one_coefficient_per_feature(write_config):
    text = "name: t\ndata: {source: synthetic, generator: glm, n_features: 3, coefficients: [1.0, 2.0]}\n"
    assert error_of(write_config, text) == ("data.coefficients: 2 values given, but data.n_features is 3 (one coefficient per feature)")


def test_csv_needs_a_path(write_config):
    assert error_of(write_config, "name: t\ndata: {source: csv, target: y}\n") == (
        "data.path: required when data.source is file (or data.url: a database's SQLAlchemy URL)"
    )


def test_malformed_yaml_names_the_line(write_config):
    message = error_of(write_config, "name: t\ndata:\n  source: [synthetic\n")
    assert message.startswith("malformed YAML at line 4")


def test_set_without_equals(write_config):
    assert error_of(write_config, MINIMAL, ["train.epochs"]) == ("--set 'train.epochs': expected KEY=VALUE, e.g. train.epochs=5000")


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="config file not found: .*nope.yaml"):
        config.load(tmp_path / "nope.yaml")


def test_resolved_config_round_trips(write_config, tmp_path):
    cfg = load("seed002_logistic_no_bias")
    again = config.validate(cfg.to_dict(), "resolved")
    assert again == cfg


def test_exponent_notation_is_a_number(write_config):
    cfg = config.load(write_config(MINIMAL + "compare: {max_abs: 1e-4}\n"), ["train.learning_rate=1e-2"])
    assert cfg.compare.max_abs == 1e-4 and cfg.train.learning_rate == 1e-2


def test_yaml_boolean_names_get_a_hint(write_config):
    text = "name: t\ndata: {source: csv, path: d.csv, target: YES}\n"
    assert error_of(write_config, text) == (
        "data.target: Input should be a valid string (got True: YAML reads yes/no/on/off/true/false as booleans; quote the name)"
    )


def test_activation_that_contradicts_the_family(write_config):
    assert error_of(write_config, MINIMAL + "model: {family: binomial, activation: relu}\n") == (
        "model.activation: 'relu' contradicts model.family binomial with link logit, whose inverse link is "
        "the activation 'sigmoid'; leave model.activation out or set it to that"
    )
    cfg = config.load(write_config(MINIMAL + "model: {family: binomial, link: probit, activation: normal_cdf}\n"))
    assert cfg.model.activation == "normal_cdf"


def test_the_generator_key_allows_every_generator():
    import typing

    annotation = config.SyntheticData.model_fields["generator"].annotation
    assert set(typing.get_args(annotation)) == set(config.GENERATORS)


def test_a_wrong_or_missing_source_lists_the_sources(write_config):
    assert error_of(write_config, "name: t\ndata: {source: sql, path: d.csv}\n") == (
        "data.source: Input should be 'synthetic', 'file', 'csv', 'statsmodels' or 'dataframe' (got 'sql')"
    )
    assert error_of(write_config, "name: t\ndata: {path: d.csv, target: y}\n") == (
        "data.source: required key is missing; one of synthetic, file, csv, statsmodels, dataframe"
    )


def test_a_key_of_another_source_names_the_source(write_config):
    cases = {
        "{source: csv, path: d.csv, target: y, n_rows: 10}": "data.n_rows: a generator parameter, but data.source is csv",
        "{source: statsmodels, dataset: spector, target: GRADE, generator: glm}": "data.generator: only for data.source: synthetic",
        "{source: csv, path: d.csv, target: y, dataset: spector}": "data.dataset: not used when data.source is csv (it reads data.path)",
        "{source: synthetic, generator: four_points, path: d.csv}": "data.path: not used when data.source is synthetic",
        "{source: statsmodels, target: GRADE}": "data.dataset: required when data.source is statsmodels",
        "{source: synthetic}": "data.generator: required when data.source is synthetic; one of gaussian_bernoulli, balloons, four_points, glm, softmax",
    }
    for data, message in cases.items():
        assert error_of(write_config, f"name: t\ndata: {data}\n") == message


def test_an_unknown_key_lists_the_keys_of_its_source(write_config):
    assert error_of(write_config, "name: t\ndata: {source: csv, path: d.csv, target: y, pth: e.csv}\n") == (
        "data.pth: unknown key. did you mean 'path'? Allowed here: source, target, features, categorical, formula, "
        "trials, weights, weights_kind, offset, exposure, missing, success, reference_class, validation_fraction, folds, path, format, delimiter, sheet, "
        "object, table, query, url"
    )
    assert error_of(write_config, MINIMAL + "model: {penalty: {alpha: 1.0, l1wt: 0.5}}\n") == (
        "model.penalty.l1wt: unknown key. did you mean 'l1_wt'? Allowed here: alpha, l1_wt"
    )


def test_set_switches_the_source_with_null_for_the_old_keys(write_config):
    path = write_config("name: t\ndata: {source: statsmodels, dataset: spector, target: GRADE}\n")
    cfg = config.load(path, ["data.source=csv", "data.path=d.csv", "data.dataset=null"])
    assert isinstance(cfg.data, schema.CsvData) and (cfg.data.path, cfg.data.target) == ("d.csv", "GRADE")
    assert cfg.to_dict()["data"] == {
        "source": "csv",
        "path": "d.csv",
        "target": "GRADE",
        "categorical": [],
        "missing": "error",
        "validation_fraction": 0.0,
    }
    with pytest.raises(UserError) as e:
        config.load(path, ["data.source=csv"])
    where = f"{path} (with --set data.source=csv)"
    assert str(e.value).splitlines() == [
        f"{where}: data.dataset: not used when data.source is csv (it reads data.path)",
    ]  # data.path's absence is named once the keys of another source are gone


def test_a_top_level_key_that_looks_like_a_branch_name_is_named(write_config):
    # YAML reads '0[:' as the mapping {'0[': None}; pydantic's branch names carry '[' too
    message = error_of(write_config, "0[:")
    assert message.endswith("0[: unknown key. Allowed here: name, description, seed, data, model, train, glm, compare, inference")
