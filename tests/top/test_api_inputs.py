"""nnglm.run's inputs: runs in parallel threads are each the run made alone, a DataFrame's copy reruns as it was,
bad arguments and colliding names are config errors with the command's message (api)."""

import pandas as pd
import pytest


@pytest.mark.runs
def test_runs_in_parallel_threads_are_each_the_run_made_alone(tmp_path):
    """Two threads running the same config on the same DataFrame: each trains its own network (the
    process cache lends an entry to one run at a time), so each equals a run made alone, bit for bit."""
    import threading

    import numpy as np

    import nnglm

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    frame["y"] = rng.poisson(np.exp(0.3 + 0.5 * frame["x"]))
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 300, "dtype": "float32"}}
    alone = nnglm.run(config, data=frame, out=tmp_path / "alone", quiet=True)
    results, errors = [], []

    def one(i):
        try:
            results.append(nnglm.run(config, data=frame, out=tmp_path / f"t{i}", quiet=True))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert len(results) == 3
    for run in results:
        assert run.result.network.epochs_run == alone.result.network.epochs_run
        assert run.result.network.coefficients == alone.result.network.coefficients
        assert run.result.comparison.outcome == alone.result.comparison.outcome


@pytest.mark.runs
def test_a_frame_of_text_and_integer_categories_reruns_from_its_folder_anywhere(tmp_path, monkeypatch):
    """Its Parquet copy comes back as the frame it was: object text stays object, a categorical's
    integer categories and their order stay; the rerun reads it from any working directory."""
    import numpy as np

    import nnglm

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "dose": pd.Categorical(rng.choice([3, 1, 2], size=90), categories=[3, 1, 2]),
            "site": pd.Series(rng.choice(["north", "south"], size=90), dtype=object),
            "x": rng.normal(size=90),
        }
    )
    frame["y"] = rng.poisson(2.0, size=90)
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 50, "dtype": "float64"}}
    run = nnglm.run(config, data=frame, out=tmp_path / "runs", quiet=True)
    assert run.result.data.dataframe.kept == "data.parquet"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = nnglm.run(run.folder / "config.yaml", out=tmp_path / "again", quiet=True)
    assert again.result.data.dataframe.sha256 == run.result.data.dataframe.sha256
    assert again.result.glm.coefficients == run.result.glm.coefficients


@pytest.mark.runs
def test_api_input_errors_are_config_errors_with_the_cli_message(tmp_path):
    import numpy as np

    import nnglm

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=40)})
    frame["y"] = rng.poisson(1.0, size=40)
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 5}}
    cases = {
        "data: column 'notes' holds list values; a column holds numbers, text or categories: drop it "
        "(data=df.drop(columns=...)) or make it text": dict(data=frame.assign(notes=[[1, 2]] * 40)),
        "--out: holds a NUL byte, which no folder name can": dict(data=frame, out="a\0b"),
        "overrides: train.epochs: a value of type object; give a number, text, a boolean, None or a list of them": dict(
            data=frame, overrides={"train.epochs": object()}
        ),
    }
    for message, arguments in cases.items():
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.run(config, **({"out": tmp_path / "runs"} | arguments), quiet=True)
        assert str(caught.value) == message
    assert not (tmp_path / "runs").exists()
    run = nnglm.run(config, data=frame, overrides={"train.epochs": np.int64(7)}, out=tmp_path / "runs", quiet=True)
    assert run.result.config["train"]["epochs"] == 7


def test_names_that_collide_once_text_or_as_terms_are_one_message(tmp_path):
    import numpy as np

    import nnglm

    rng = np.random.default_rng(1)
    config = {"name": "t", "model": {"family": "poisson"}, "data": {"target": "y"}, "train": {"epochs": 5}}
    y = rng.poisson(1.0, size=30)
    cases = {
        "data: columns named '1' more than once in the DataFrame (compared as text); rename them": pd.DataFrame(
            {1: rng.normal(size=30), "1": rng.normal(size=30), "y": y}
        ),
        "data: two terms of the design are named '(Intercept)' (a column named as the intercept, or as a factor's "
        "level is named); rename the column": pd.DataFrame({"(Intercept)": rng.normal(size=30), "y": y}),
        "data: two terms of the design are named 'ac' (a column named as the intercept, or as a factor's "
        "level is named); rename the column": pd.DataFrame({"a": ["b", "c"] * 15, "ac": rng.normal(size=30), "y": y}),
    }
    for message, frame in cases.items():
        with pytest.raises(nnglm.ConfigError) as caught:
            nnglm.run(config, data=frame, out=tmp_path, quiet=True)
        assert str(caught.value) == message
    assert not any(tmp_path.iterdir())
