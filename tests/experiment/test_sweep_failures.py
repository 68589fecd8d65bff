"""A sweep with a failed point, or a point whose worker process is killed, exits 3 and lists the point
(experiment.sweep)."""

import contextlib
import json
import os
import signal
import subprocess

import pytest
from support import FOUR, nnglm_process, wait_for

from nnglm.log import logbook
from nnglm.train import network


@pytest.mark.runs
def test_a_sweep_with_a_failed_point_exits_3(write_config, tmp_path, monkeypatch, run_cli):
    real_train = network.train  # not glm.fit: a sweep's points fit their shared GLM once

    def train(engine, dataset, cfg, *args, **kwargs):
        if cfg.train.learning_rate == 0.2:
            raise RuntimeError("a fault in this point")
        return real_train(engine, dataset, cfg, *args, **kwargs)

    monkeypatch.setattr(network, "train", train)
    path = write_config(FOUR)
    code, out, _ = run_cli("run", path, "--out", tmp_path, "--set", "train.learning_rate=sweep:0.1,0.2")
    assert code == 3
    assert "train.learning_rate=0.2: failed, RuntimeError: a fault in this point" in out
    statuses = sorted(json.loads(p.read_text())["status"] for p in tmp_path.glob("t/*/result.json"))
    assert statuses == ["completed", "failed"]


@pytest.mark.runs
def test_a_sweep_whose_worker_is_killed_exits_3_and_lists_the_run_dead(tmp_path):
    sweep = nnglm_process(
        "run",
        "configs/seed002_logistic_no_bias.yaml",
        "--out",
        tmp_path,
        "--jobs",
        "2",
        "--set",
        "train.epochs=5000000",
        "--set",
        "train.log_every=200",
        "--set",
        "train.learning_rate=sweep:0.001,0.002",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a process group: killed whole below, workers included
    )
    try:
        wait_for(lambda: list(tmp_path.glob("*/*/history.csv")) and [r for r in logbook.scan(tmp_path) if r.result and r.result.process])
        victim = [r for r in logbook.scan(tmp_path) if r.result and r.result.process][0]
        os.kill(victim.result.process.pid, signal.SIGKILL)  # the liveness record names the worker
        stdout, _ = sweep.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)  # its worker processes too, should the sweep hang
        sweep.wait()
    assert sweep.returncode == 3
    assert "failed, its worker process died" in stdout
    assert logbook.read(victim.folder).status == "dead"
