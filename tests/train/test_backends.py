"""The other backends: the same training path, the same weights as TensorFlow.

Keras picks its backend once per process and this test process runs TensorFlow,
so the JAX and PyTorch sides run in subprocesses."""

import json
import subprocess
import sys

import pytest
from support import ROOT, load

from nnglm.experiment import runner
from nnglm.foundation.errors import UserError
from nnglm.log import logbook


def run_on(backend, *args):
    done = subprocess.run(
        [sys.executable, "-m", "nnglm", "run", *args, "--set", f"train.backend={backend}", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.runs
@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-6), ("float64", 1e-10)])
def test_tensorflow_and_jax_agree_on_seed002(dtype, tolerance, tmp_path):
    tf_run = runner.run(load("seed002_logistic_no_bias", f"train.dtype={dtype}"), tmp_path, quiet=True)
    run_on("jax", "configs/seed002_logistic_no_bias.yaml", "--out", str(tmp_path), "--set", f"train.dtype={dtype}")
    (jax_dir,) = [d for d in tmp_path.glob("seed002_logistic_no_bias/*") if d != tf_run.run_dir]
    jax_result = json.loads((jax_dir / "result.json").read_text())
    assert jax_result["environment"]["backend"] == "jax" and jax_result["environment"]["dtype"] == dtype
    comparison = logbook.compare_runs([tf_run.run_dir, jax_dir])
    assert comparison.config_diff == {"train.backend": ["tensorflow", "jax"]}  # the only changed key
    assert comparison.tolerance == tolerance
    assert comparison.max_weight_diff <= tolerance and comparison.same
    assert jax_result["comparison"]["equivalent"]


FAST_EQUALS_FIT = """
import sys, json, numpy as np
sys.path.insert(0, "tests")
from support import load
from nnglm.data import table
from nnglm.train import backends, network
cfg = load("seed003_balloons_logistic", "data.n_rows=64", "train.epochs=30", "train.log_every=7", "train.backend=" + sys.argv[1])
ds = table.load(table.DataSpec.of(cfg))
engine = backends.load(cfg.train.backend, cfg.train.dtype)
spec = network.NetworkSpec.of(cfg)
fast = network.train(engine, ds, spec, "CPU:0", target=np.zeros(4))
model = network.build(engine, spec, ds.n_features, ds.n_outputs, network.start_bias(spec, ds))
model.fit(ds.X.astype("float32"), ds.y.astype("float32")[:, None], epochs=30, batch_size=64, shuffle=False, verbose=0)
kernel, bias = model.get_weights()
gap = np.max(np.abs(np.array(list(fast.coefficients.values())) - np.r_[bias, kernel[:, 0]]))
print(json.dumps({"gap": float(gap), "steps": fast.epochs_run}))
"""


def fast_path_against_fit(backend: str) -> dict:
    done = subprocess.run([sys.executable, "-c", FAST_EQUALS_FIT, backend], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.runs
def test_jax_fast_path_gives_the_weights_of_plain_fit():
    result = fast_path_against_fit("jax")
    assert result["gap"] <= 1e-7 and result["steps"] == 30


@pytest.mark.runs
def test_a_second_backend_in_one_process_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="train.backend: jax, but Keras is already loaded with tensorflow in this process"):
        runner.run(load("seed000_four_points", "train.backend=jax", "train.epochs=5"), tmp_path, quiet=True)


@pytest.mark.runs
def test_torch_loop_gives_the_weights_of_plain_fit():
    pytest.importorskip("torch")  # an optional extra: make install brings it
    result = fast_path_against_fit("torch")
    assert result["gap"] == 0.0 and result["steps"] == 30  # the same train_step, the same order: bit for bit


@pytest.mark.runs
def test_tensorflow_and_torch_agree_on_seed002_in_float32(tmp_path):
    pytest.importorskip("torch")
    tf_run = runner.run(load("seed002_logistic_no_bias", "train.epochs=300"), tmp_path, quiet=True)
    run_on("torch", "configs/seed002_logistic_no_bias.yaml", "--out", str(tmp_path), "--set", "train.epochs=300")
    (torch_dir,) = [d for d in tmp_path.glob("seed002_logistic_no_bias/*") if d != tf_run.run_dir]
    comparison = logbook.compare_runs([tf_run.run_dir, torch_dir])
    assert comparison.config_diff == {"train.backend": ["tensorflow", "torch"]}
    assert comparison.max_weight_diff <= 1e-6
