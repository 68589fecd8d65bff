import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from nnglm import config

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def load(name_or_path, *overrides):
    path = Path(name_or_path)
    if not path.is_absolute() and not path.exists():
        path = ROOT / "configs" / f"{name_or_path}.yaml"
    return config.load(path, list(overrides))


@pytest.fixture
def write_config(tmp_path):
    def write(text: str, name: str = "c.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
