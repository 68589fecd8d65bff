"""Each phase of a run timed apart from the imports it needs: in a fresh process, the first run's GLM
phase is the fit (milliseconds for 9 rows), not statsmodels' import (seconds), and the console says so."""

import json
import os
import re
import subprocess
import sys

import pytest
from support import ROOT

from nnglm.show import progress

DOBSON = """\
counts,outcome,treatment
18,1,1
17,2,1
15,3,1
20,1,2
10,2,2
20,3,2
25,1,3
13,2,3
12,3,3
"""

CONFIG = """\
name: dobson
data: {source: csv, path: dobson.csv, target: counts, features: [outcome, treatment], categorical: [outcome, treatment]}
model: {family: poisson, link: log}
"""

RUN = (
    "import sys; from pathlib import Path; from nnglm import config; from nnglm.experiment import runner; "
    "o = runner.run(config.load(Path('c.yaml'), []), Path('out'), quiet=False); print(o.run_dir)"
)


@pytest.mark.runs
def test_the_first_runs_glm_phase_is_its_fit_not_statsmodels_import(tmp_path):
    (tmp_path / "dobson.csv").write_text(DOBSON)
    (tmp_path / "c.yaml").write_text(CONFIG)
    done = subprocess.run(
        [sys.executable, "-c", RUN], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert done.returncode == 0, done.stderr
    timings = json.loads((tmp_path / done.stdout.strip().splitlines()[-1] / "result.json").read_text())["timings"]
    assert list(timings)[:4] == ["data", "condition_number", "imports", "glm"]
    # a fresh process imports statsmodels, TensorFlow and matplotlib: seconds; the GLM of 9 rows, milliseconds
    assert timings["glm"] < timings["imports"] / 20, timings
    said = re.search(r"^GLM \(statsmodels\): (.+)$", done.stderr, re.M)
    assert said and said.group(1) == progress.duration(timings["glm"]), done.stderr
    assert re.search(r"^imports \(statsmodels, the training backend, matplotlib\): \d+\.\d s$", done.stderr, re.M)


@pytest.mark.parametrize(
    "seconds, said", [(0.0072, "7.2 ms"), (0.00025, "0.25 ms"), (0.0425, "42 ms"), (0.0999, "100 ms"), (2.94, "2.9 s")]
)
def test_a_phase_below_a_tenth_of_a_second_is_said_in_milliseconds(seconds, said):
    assert progress.duration(seconds) == said
