"""The suite's hooks and fixtures: the fast tier's guard against a training backend, the gpu mark's skip,
and fixtures (write_config, run_cli, cli_error). Plain helpers are in support.py."""

import os
import sys
from pathlib import Path

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


@pytest.fixture
def write_config(tmp_path):
    def write(text: str, name: str = "c.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def run_cli(capsys):
    """`run_cli(*ARGS)`: `nnglm ARGS` in this process, giving (exit code, stdout, stderr)."""
    from nnglm import cli

    def run(*args):
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cli_error(run_cli):
    """`cli_error(*ARGS, one_line=False)`: the message of `nnglm ARGS`, which must exit 2 with 'error: ' and
    no traceback (one line, if asked)."""

    def error(*args, one_line: bool = False) -> str:
        code, _, err = run_cli(*args)
        lines = err.count("\n")
        assert code == 2 and err.startswith("error: ") and (lines == 1 if one_line else lines >= 1), err
        return err[len("error: ") :].rstrip("\n")

    return error


def pytest_collection_modifyitems(config, items):
    """Tests marked gpu run only where a GPU is (nvidia-smi answers); elsewhere they are skipped, saying so."""
    import shutil

    if shutil.which("nvidia-smi"):
        return
    skip = pytest.mark.skip(reason="needs a GPU, and this machine has none (no nvidia-smi)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
