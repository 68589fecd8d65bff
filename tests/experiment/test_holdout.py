"""Beyond the degenerate model: a hidden layer against the GLM on held-out rows (seed 003)."""

import json
import shutil

import numpy as np
import pytest
from support import load

from nnglm.data import table
from nnglm.experiment import runner
from nnglm.foundation.errors import UserError
from nnglm.log import logbook


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("experiments")


def test_split_is_seeded_disjoint_and_sized():
    cfg = load("seed003_balloons_count_vs_hidden")
    full = table.load(table.DataSpec.of(cfg))
    train, held = table.split(full, table.DataSpec.of(cfg))
    assert (train.n_rows, held.n_rows) == (800, 200)
    rows = {tuple(r) for r in full.X}
    assert {tuple(r) for r in train.X} | {tuple(r) for r in held.X} == rows
    assert not {tuple(r) for r in train.X} & {tuple(r) for r in held.X}
    again, _ = table.split(full, table.DataSpec.of(cfg))
    assert np.array_equal(again.X, train.X)
    held_again = table.split(full, table.DataSpec.of(load("seed003_balloons_count_vs_hidden", "seed=4")))[1]
    assert not np.array_equal(held_again.X, held.X)  # another seed holds out other rows


def test_hidden_layers_need_held_out_rows(write_config):
    from nnglm import config

    path = write_config("name: h\ndata: {source: synthetic, generator: four_points}\nmodel: {hidden: [4]}\n")
    with pytest.raises(UserError) as e:
        config.load(path)
    assert str(e.value) == (
        f"{path}: model.hidden: a hidden-layer network is compared with the GLM on held-out rows; set data.validation_fraction (e.g. 0.2)"
    )


def test_too_few_training_rows_after_the_split():
    cfg = load("seed000_four_points", "data.validation_fraction=0.5")
    with pytest.raises(UserError, match="data.validation_fraction: 0.5 of 4 rows leaves 2 held out and 2 to train on"):
        table.split(table.load(table.DataSpec.of(cfg)), table.DataSpec.of(cfg))


@pytest.mark.runs
@pytest.mark.parametrize("name, factor", [("seed003_balloons_count_vs_hidden", 10), ("seed003_balloons_colour_vs_hidden", 5)])
def test_hidden_layer_beats_the_glm_on_balloons(name, factor, out):
    outcome = runner.run(load(name), out, quiet=True)
    result = outcome.result
    v = result["validation"]
    assert set(v) == {"glm", "network", "hidden", "verdict"}
    assert v["hidden"]["validation_loss"] * factor <= v["glm"]["validation_loss"]
    assert result["comparison"]["equivalent"]  # the degenerate network still equals the GLM
    assert v["network"]["validation_loss"] == pytest.approx(v["glm"]["validation_loss"], rel=1e-3)
    assert v["verdict"].startswith("the hidden layer pays")
    assert result["data"]["n_validation_rows"] == 200 and result["data"]["n_rows"] == 800
    assert "Held-out fit" in (outcome.run_dir / "report.md").read_text()
    # nnglm compare reads each run's held-out losses from its own result.json: a copy with another loss shows it
    copy = outcome.run_dir.parent / (outcome.run_dir.name + "-copy")
    shutil.copytree(outcome.run_dir, copy)
    edited = json.loads((copy / "result.json").read_text())
    edited["validation"]["hidden"]["validation_loss"] = 0.125
    (copy / "result.json").write_text(json.dumps(edited))
    shown = logbook.compare_runs([outcome.run_dir, copy]).validation
    assert shown["hidden.validation_loss"] == [v["hidden"]["validation_loss"], 0.125]


@pytest.mark.runs
def test_on_data_from_a_true_glm_the_linear_model_suffices(out):
    cfg = load("glm_binomial_logit", "data.validation_fraction=0.3", "model.hidden=[16]", "train.epochs=3000")
    result = runner.run(cfg, out, quiet=True).result
    assert result["validation"]["verdict"].startswith("the linear model suffices")
