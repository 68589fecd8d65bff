import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TRAINING = ("tensorflow", "keras", "jax", "torch")


class _NoTraining:
    """make test-fast's promise kept: under NNGLM_TEST_TIER=fast a test that imports a training backend
    fails, and belongs under @pytest.mark.runs."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in TRAINING:
            raise ImportError(f"make test-fast trains nothing, but this test imports {name}: mark it runs")
        return None


if os.environ.get("NNGLM_TEST_TIER") == "fast":
    sys.meta_path.insert(0, _NoTraining())

from nnglm import config  # noqa: E402  (after the guard above)

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def load(name_or_path, *overrides):
    path = Path(name_or_path)
    if not path.is_absolute() and not path.exists():
        path = ROOT / "configs" / f"{name_or_path}.yaml"
    return config.load(path, list(overrides))


def engine_of(cfg):
    """The Keras backend engine a run of cfg trains on, as runner.run loads it."""
    from nnglm.train import backends

    return backends.load(cfg.train.backend, cfg.train.dtype)


def run_cli(capsys, *args):
    """`nnglm ARGS` in this process: (exit code, stdout, stderr)."""
    from nnglm import cli

    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def cli_error(capsys, *args, one_line: bool = False) -> str:
    """The message of `nnglm ARGS`, which must exit 2 with 'error: ' and no traceback (one line, if asked)."""
    code, _, err = run_cli(capsys, *args)
    lines = err.count("\n")
    assert code == 2 and err.startswith("error: ") and (lines == 1 if one_line else lines >= 1), err
    return err[len("error: ") :].rstrip("\n")


@pytest.fixture
def write_config(tmp_path):
    def write(text: str, name: str = "c.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def sample_config(row, *overrides, n_rows=500, dtype="float64", **data):
    """A config on a sample drawn from a known GLM of the family row, its means inside the link's domain."""
    eta_min, eta_max = row.eta_range
    bounded = bool(np.isfinite(eta_min) or np.isfinite(eta_max))
    if np.isfinite(eta_min) and np.isfinite(eta_max):
        intercept = (eta_min + eta_max) / 2
    else:
        intercept = -1.5 if np.isfinite(eta_max) else (2.0 if np.isfinite(eta_min) else 0.5)
    raw = {
        "name": f"sample_{row.family}_{row.link}",
        "seed": 1,
        "data": {
            "source": "synthetic",
            "generator": "glm",
            "n_rows": n_rows,
            "n_features": 3,
            "coefficients": [0.1, -0.1, 0.05] if bounded else [0.3, -0.2, 0.1],
            "intercept": intercept,
            "scale": 0.5,
        }
        | data,
        "model": {"family": row.family, "link": row.link} | ({"variance": row.variance} if row.variance else {}),
        "train": {"dtype": dtype},
    }
    raw = config.apply_overrides(raw, list(overrides))
    return config.validate(raw, f"sample config of {row.key}")


def pytest_collection_modifyitems(config, items):
    """Tests marked gpu run only where a GPU is (nvidia-smi answers); elsewhere they are skipped, saying so."""
    import shutil

    if shutil.which("nvidia-smi"):
        return
    skip = pytest.mark.skip(reason="needs a GPU, and this machine has none (no nvidia-smi)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
