"""A config's values that no run can take are config errors, each one bounded message: ranges, counts past int32, a
generator's means outside the family, a model the machine or the link cannot start (config.messages)."""

import pandas as pd
import pytest
from support import FOUR

from nnglm.foundation.errors import MAX_MESSAGE


def test_values_out_of_range_for_the_run_are_config_errors(write_config, cli_error):
    path = write_config(FOUR)
    assert cli_error("validate", path, "--set", "seed=4294967296") == (
        f"{path} (with --set seed=4294967296): seed: Input should be less than or equal to 4294967295 (got 4294967296)"
    )
    assert cli_error("validate", path, "--set", f"name={'n' * 300}").endswith(
        "name: String should have at most 100 characters (got '" + "n" * 78 + "…)"
    )
    for item, shown in (("compare.max_abs=.inf", "inf"), ("train.learning_rate=.nan", "nan"), ("glm.tol=-.inf", "-inf")):
        assert cli_error("validate", path, "--set", item) == (
            f"{path} (with --set {item}): {item.partition('=')[0]}: Input should be a finite number (got {shown})"
        )


@pytest.mark.runs
def test_messages_are_bounded_in_size(write_config, cli_error):
    path = write_config(FOUR)
    message = cli_error("validate", path, "--set", f"train.epochs={'9' * 100_000}x")
    assert len(message) < MAX_MESSAGE + 100
    header = ",".join(f"c{i}" for i in range(9_000))  # under the 10 000 columns a file may have
    csv_path = write_config(header + "\n" + ",".join("1" * 9_000) + "\n", "wide.csv")
    cfg = write_config(f"name: t\ndata: {{source: csv, path: {csv_path}, target: y}}\n", "wide.yaml")
    message = cli_error("validate", cfg)
    assert message.startswith(f"{cfg}: data.target: column 'y' not in {csv_path}; columns are: 'c0', 'c1',")
    assert message.endswith(", … (8980 more)")


def test_counts_past_int32(write_config, cli_error):
    path = write_config(FOUR)
    for key in ("train.log_every", "train.max_steps", "glm.maxiter", "model.hidden"):
        value = "[3000000000]" if key == "model.hidden" else "3000000000"
        message = cli_error("validate", path, "--set", f"{key}={value}")
        assert message.endswith(f"{key}: Input should be less than or equal to 2147483647 (got 3000000000)")
    message = cli_error("validate", path, "--set", "train.epochs=3000000000")
    assert message.endswith("train.epochs: 'auto' (train until converged) or a whole number of steps, 1 to 2,147,483,647 (got 3000000000)")


def test_generator_means_outside_the_family(write_config, cli_error):
    def message(family, link, coefficient, intercept=0.5):
        path = write_config(
            f"name: t\ndata: {{source: synthetic, generator: glm, n_features: 1, coefficients: [{coefficient}], intercept: {intercept}}}\n"
            f"model: {{family: {family}, link: {link}}}\ntrain: {{epochs: 5}}\n"
        )
        return cli_error("validate", path).removeprefix(f"{path}: ")

    hint = "use smaller data.coefficients, data.intercept or data.feature_sd"
    assert message("binomial", "log", 5) == (
        f"data: generator 'glm' gives the mean 3.091 at row 0 under binomial/log, whose mean must be a probability, 0 to 1; {hint}"
    )
    assert message("poisson", "log", 1000) == (
        f"data: generator 'glm' gives the mean inf at row 6 under poisson/log, whose mean must be greater than 0; {hint}"
    )
    assert message("gamma", "identity", -3) == (
        f"data: generator 'glm' gives the mean -1.421 at row 2 under gamma/identity, whose mean must be greater than 0; {hint}"
    )
    assert message("poisson", "log", 0.1, intercept=45) == (
        f"data: generator 'glm' cannot draw family poisson at its means (lam value too large); {hint}"
    )


def test_a_proportion_target_takes_its_weights_as_r_does_without_weights_kind():
    from nnglm import config

    cfg = config.validate(
        {"name": "m", "data": {"source": "file", "path": "m.csv", "formula": "Menarche/Total ~ Age", "weights": "Total"}}, "m.yaml"
    )
    assert cfg.data.weights_kind == "var" and cfg.to_dict()["data"]["weights_kind"] == "var"
    with pytest.raises(Exception, match="data.weights_kind: required with data.weights"):
        config.validate({"name": "m", "data": {"source": "file", "path": "m.csv", "formula": "y ~ Age", "weights": "Total"}}, "m.yaml")


def test_a_network_without_a_start_in_its_domain_is_refused_by_validate_and_run_before_any_folder(tmp_path, cli_error, monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(2)
    pd.DataFrame({"x": rng.normal(size=60), "y": rng.gamma(2.0, 1.0, size=60)}).to_csv("g.csv", index=False)
    (tmp_path / "g.yaml").write_text(
        "name: g\nmodel: {family: gamma, link: inverse_power, use_bias: false}\ndata: {source: file, path: g.csv, target: y}\n"
    )
    message = cli_error("validate", "g.yaml")
    assert message.startswith("g.yaml: model.use_bias: false with gamma/inverse_power: the activation is undefined at η = 0")
    assert cli_error("run", "g.yaml", "--out", "runs") == message.removeprefix("g.yaml: ")
    assert not (tmp_path / "runs").exists()


@pytest.mark.runs
def test_validate_refuses_what_run_refuses_about_the_machine(tmp_path, monkeypatch, cli_error):
    import importlib.util

    monkeypatch.chdir(tmp_path)
    four = "name: t\ndata: {source: synthetic, generator: four_points}\n"
    if importlib.util.find_spec("torch") is None:
        (tmp_path / "torch.yaml").write_text(four + "train: {backend: torch}\n")
        assert cli_error("validate", "torch.yaml") == (
            "torch.yaml: train.backend: torch, but PyTorch is not installed here; install it with make install EXTRAS=test,dev,torch"
        )
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        (tmp_path / "gpu.yaml").write_text(four + "train: {device: gpu}\n")
        assert cli_error("validate", "gpu.yaml") == (
            "gpu.yaml: train.device: gpu was asked for, but tensorflow sees no GPU here; allowed: auto, cpu"
        )
