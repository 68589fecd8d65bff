"""The run folder is written whole or says why not: --out that cannot be written, a full disk, an interrupted
write, a folder removed mid-run, runs at once into one folder, names too long for the file system (log.runlog)."""

import errno
import json
import os
from pathlib import Path

import pytest
from support import FOUR, nnglm_process

from nnglm.log import logbook, runlog
from nnglm.model import glm


def test_out_that_is_a_file_or_cannot_be_written(write_config, tmp_path, cli_error):
    path = write_config(FOUR)
    a_file = tmp_path / "afile"
    a_file.write_text("")
    for out in (a_file, a_file / "sub"):
        assert cli_error("run", path, "--out", out) == f"--out: {a_file} is a file, not a folder"
    assert cli_error("run", path, "--out", "") == "--out: empty; give a folder, e.g. --out experiments"
    assert a_file.read_text() == ""


@pytest.mark.runs
@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's read-only /sys")
def test_out_on_a_read_only_file_system(write_config, cli_error):
    message = cli_error("run", write_config(FOUR), "--out", "/sys/kernel/nnglm-test")
    assert message in ("--out: no permission to write in /sys/kernel",) or (
        message.startswith("--out: cannot make the run folder /sys/kernel/nnglm-test/t/") and message.endswith(": Operation not permitted")
    )


def full_disk_after(monkeypatch, names):
    """Writes of these run files fail as on a full disk, after part of the data went out."""
    real = runlog._write_file

    def write(path, data):
        if any(path.name.startswith(f".{name}.") for name in names):
            path.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(runlog, "_write_file", write)


@pytest.mark.runs
def test_a_full_disk_leaves_no_temporary_file_and_says_so(write_config, tmp_path, monkeypatch, cli_error):
    path = write_config(FOUR)
    full_disk_after(monkeypatch, ["coefficients.csv"])
    message = cli_error("run", path, "--out", tmp_path, "--quiet")
    (run_dir,) = tmp_path.glob("t/*")
    assert message == f"cannot write {run_dir / 'coefficients.csv'}: No space left on device"
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "failed" and result["error"] == f"RunFolderError: {message}"
    assert not list(tmp_path.rglob(".*.tmp")) and not (run_dir / "heartbeat").exists()

    # full from the start of the run on: nothing can say "failed"; the folder is not left half-made
    full_disk_after(monkeypatch, ["config.yaml", "result.json", "coefficients.csv", "history.csv"])
    message = cli_error("run", path, "--out", tmp_path / "full", "--quiet")
    assert message.startswith(f"cannot write {tmp_path / 'full' / 't'}/") and message.endswith("config.yaml: No space left on device")
    assert list((tmp_path / "full" / "t").iterdir()) == []


@pytest.mark.runs
def test_a_full_disk_mid_run_is_listed_dead_not_running(write_config, tmp_path, monkeypatch, cli_error):
    path = write_config(FOUR)
    real = runlog._write_file

    def write(p, data):  # the first result.json goes out; nothing after it does
        if p.name.startswith((".coefficients.csv.", ".history.csv.")) or (p.name.startswith(".result.json.") and b'"running"' not in data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(p, data)

    monkeypatch.setattr(runlog, "_write_file", write)
    assert cli_error("run", path, "--out", tmp_path, "--quiet").endswith("No space left on device")
    (run,) = logbook.scan(tmp_path)
    assert run.result.status == "running" and run.status == "dead"
    assert run.problem == "it ended without recording its status"
    assert not list(tmp_path.rglob(".*.tmp"))


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(path, data):
        path.write_bytes(data[:10])
        raise KeyboardInterrupt  # a second Ctrl-C while the first is being recorded

    monkeypatch.setattr(runlog, "_write_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runlog.write_atomic(tmp_path / "result.json", "{}" * 100)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.runs
def test_run_folder_removed_while_the_run_goes(write_config, tmp_path, monkeypatch, cli_error):
    import shutil

    real_fit = glm.fit

    def fit(dataset, family, options):
        shutil.rmtree(tmp_path / "t")  # someone cleans up the run log mid-run
        return real_fit(dataset, family, options)

    monkeypatch.setattr(glm, "fit", fit)
    message = cli_error("run", write_config(FOUR), "--out", tmp_path, "--quiet")
    assert message.startswith(f"cannot write {tmp_path / 't'}/") and message.endswith(": No such file or directory")


@pytest.mark.runs
def test_four_runs_at_once_into_one_folder(tmp_path):
    runs = [
        nnglm_process("run", "configs/seed000_four_points.yaml", "--out", str(tmp_path), "--quiet", "--set", "train.epochs=50")
        for _ in range(4)
    ]
    for process in runs:
        process.communicate(timeout=180)
        assert process.returncode == 0
    folders = list(tmp_path.glob("seed000_four_points/*"))
    assert len(folders) == 4 and len({f.name for f in folders}) == 4
    for folder in folders:
        result = json.loads((folder / "result.json").read_text())
        assert result["status"] == "completed" and result["run_id"] == folder.name
        assert (folder / "history.csv").read_text().startswith("step,loss,max_abs_diff_to_glm\n")


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "{long}"],
        ["compare", "{long}", "{long}"],
        ["report", "{long}"],
        ["export", "{long}", "--mlflow", "sqlite:///m.db"],
        ["run", "c.yaml", "--out", "{long}"],
    ],
)
def test_a_path_part_over_255_bytes_is_one_message(tmp_path, monkeypatch, cli_error, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text("name: t\ndata: {source: synthetic, generator: four_points}\ntrain: {epochs: 5}\n")
    long = "a" * 300
    message = cli_error(*[a.format(long=long) for a in args])
    assert message == f"{long[:119]}…: a name in this path is too long for the file system (at most 255 bytes a name)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
