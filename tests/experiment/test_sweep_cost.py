"""Sweep points that share data and model share the work, and give what a fresh run gives."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nnglm import cli, config
from nnglm.experiment import runner
from nnglm.experiment.cache import RunCache, identity

SEED002 = "configs/seed002_logistic_no_bias.yaml"


def point(lr: float, dtype: str = "float64", epochs: int = 200) -> config.Config:
    return config.load(SEED002, [f"train.learning_rate={lr}", f"train.dtype={dtype}", f"train.epochs={epochs}"])


def weights(outcome: runner.Outcome) -> np.ndarray:
    return np.array(list(outcome.result["network"]["coefficients"].values()))


@pytest.mark.runs
def test_a_point_after_another_gives_the_weights_of_a_point_run_alone(tmp_path):
    cache = RunCache()
    alone = runner.run(point(0.01), tmp_path, quiet=True, cache=cache)  # builds and compiles
    runner.run(point(0.05), tmp_path, quiet=True, cache=cache)  # resets and reuses
    again = runner.run(point(0.01), tmp_path, quiet=True, cache=cache)
    fresh = runner.run(point(0.01), tmp_path, quiet=True)  # builds anew, nothing shared
    assert len(cache.entries) == 1
    np.testing.assert_array_equal(weights(again), weights(alone))
    np.testing.assert_array_equal(weights(fresh), weights(alone))
    assert again.result["network"]["final_loss"] == alone.result["network"]["final_loss"]
    assert again.result["glm"]["coefficients"] == fresh.result["glm"]["coefficients"]
    history = (again.run_dir / "history.csv").read_text()
    assert history == (alone.run_dir / "history.csv").read_text()


@pytest.mark.runs
def test_points_that_differ_in_shape_do_not_share(tmp_path):
    cache = RunCache()
    a = runner.run(point(0.01), tmp_path, quiet=True, cache=cache)
    b = runner.run(
        config.load(SEED002, ["train.dtype=float64", "train.epochs=200", "data.n_features=3"]), tmp_path, quiet=True, cache=cache
    )
    assert len(cache.entries) == 2
    assert len(weights(a)) == 10 and len(weights(b)) == 3


def test_the_cache_identity_keeps_steering_keys_out_and_everything_else_in(tmp_path):
    base = point(0.01)
    assert identity(point(0.5, epochs=7)) == identity(base)  # learning rate and steps only steer
    assert identity(base.model_copy(update={"name": "other"})) == identity(base)
    for other in (point(0.01, "float32"), config.load(SEED002, ["train.dtype=float64", "train.epochs=200", "seed=3"])):
        assert identity(other) != identity(base)
    assert identity(config.load(SEED002, ["train.dtype=float64", "train.epochs=200", "train.beta_1=0.8"])) != identity(base)


@pytest.mark.runs
def test_an_edited_csv_is_new_data_to_the_cache(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n" + "".join(f"{i / 10},{i % 2}\n" for i in range(40)))
    path = tmp_path / "c.yaml"
    path.write_text(f"name: c\ndata: {{source: csv, path: {csv}, target: y}}\nmodel: {{family: binomial}}\ntrain: {{epochs: 20}}\n")
    cache = RunCache()
    first = runner.run(config.load(path), tmp_path / "runs", quiet=True, cache=cache)
    csv.write_text("x,y\n" + "".join(f"{i / 10},{int(i % 3 == 0)}\n" for i in range(41)))
    second = runner.run(config.load(path), tmp_path / "runs", quiet=True, cache=cache)
    assert len(cache.entries) == 2
    assert first.result["glm"]["coefficients"] != second.result["glm"]["coefficients"]


@pytest.mark.runs
def test_a_sweep_point_draws_its_plots_on_demand(tmp_path, capsys):
    outcome = runner.run(point(0.01, "float32"), tmp_path, quiet=True, draw_plots=False)
    folder = outcome.run_dir
    assert not (folder / "loss.png").exists() and (folder / "trajectory.csv").exists()
    assert "nnglm report" in (folder / "report.md").read_text()
    single = runner.run(point(0.01, "float32"), tmp_path, quiet=True).run_dir  # a plain run of the same config: plots drawn
    before = (single / "report.md").read_bytes()
    capsys.readouterr()
    # a glob over the config's folders catches both; the sweep point is named by its id, looked up in --dir
    assert cli.main(["report", str(single), folder.name, "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{single}: a single run, whose plots were drawn when it ran; nothing to do" in out
    assert f"{folder}: drew loss.png, distance.png, diagnostics.png; report.md and report.html show them" in out
    assert (single / "report.md").read_bytes() == before
    report = (folder / "report.md").read_text()
    for picture in ("loss.png", "distance.png"):
        assert (folder / picture).read_bytes().startswith(b"\x89PNG")
        assert f"]({picture})" in report
    assert "nnglm report" not in report
    assert json.loads((folder / "result.json").read_text())["status"] == "completed"
    # a failed point is passed over; damaged files are one message, before anything is drawn
    failed, damaged = tmp_path / "failed", tmp_path / "damaged"
    for copy in (failed, damaged):
        shutil.copytree(folder, copy)
        (copy / "loss.png").unlink()
    result = json.loads((failed / "result.json").read_text()) | {"status": "failed"}
    (failed / "result.json").write_text(json.dumps(result))
    (damaged / "trajectory.csv").write_text((damaged / "trajectory.csv").read_text().rsplit("\n", 2)[0] + "\n")  # a row short
    capsys.readouterr()
    assert cli.main(["report", str(failed)]) == 0
    assert capsys.readouterr().out == f"{failed}: status failed; nothing to draw\n"
    assert cli.main(["report", str(damaged)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {damaged}: its files are damaged (ValueError: ") and err.count("\n") == 1
    assert not (damaged / "loss.png").exists()


def test_report_on_a_folder_without_a_run_exits_2(tmp_path):
    assert cli.main(["report", str(Path(tmp_path) / "nothing")]) == 2


JAX_POINTS = """
import sys, tempfile
from pathlib import Path
import numpy as np
from nnglm import config
from nnglm.experiment import runner
from nnglm.experiment.cache import RunCache
out = Path(tempfile.mkdtemp())
cache = RunCache()
def run(lr, shared=True):
    cfg = config.load(sys.argv[1], [f"train.learning_rate={lr}", "train.dtype=float64", "train.epochs=200", "train.backend=jax"])
    return np.array(list(runner.run(cfg, out, quiet=True, cache=cache if shared else None).result["network"]["coefficients"].values()))
alone, _, again, fresh = run(0.01), run(0.05), run(0.01), run(0.01, shared=False)
print(np.array_equal(alone, again) and np.array_equal(alone, fresh))
"""


@pytest.mark.runs
def test_on_jax_too_a_reused_loop_gives_the_weights_of_a_fresh_one():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", JAX_POINTS, SEED002], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
