"""A sweep's picture belongs to the sweep: its own folder beside its points' (not inside the first point's),
written by `nnglm run` with or without --quiet and by the Python API, and never listed as a run."""

import warnings

import pytest
from support import ROOT

import nnglm
from nnglm.log import logbook, runlog
from nnglm.show import plots

CSV = "y,x\n" + "".join(f"{v},{x}\n" for v, x in zip([0, 1, 2, 1, 3, 2, 4, 3, 5, 4], range(10)))
CONFIG = "name: s\ndata: {source: csv, path: d.csv, target: y}\nmodel: {family: poisson, link: log}\ntrain: {epochs: 30}\n"


def own_folder(name_folder):
    points = sorted(p for p in name_folder.iterdir() if not p.name.startswith("sweep-"))
    return points, name_folder / f"sweep-{points[0].name}"


@pytest.mark.runs
def test_quiet_changes_what_is_printed_not_what_is_written(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(CSV)
    (tmp_path / "c.yaml").write_text(CONFIG)
    code, out, _ = run_cli("run", "c.yaml", "--out", "quiet", "--quiet", "--set", "train.learning_rate=sweep:0.01,0.1")
    assert code == 0
    points, own = own_folder(tmp_path / "quiet" / "s")
    assert len(points) == 2 and sorted(out.split()) == sorted(str(p.relative_to(tmp_path)) for p in points)  # the folders only, one a line
    assert sorted(p.name for p in own.iterdir()) == [runlog.SWEEP_PICTURE]
    assert (own / runlog.SWEEP_PICTURE).read_bytes().startswith(b"\x89PNG")
    assert not list((tmp_path / "quiet" / "s").glob(f"*/*/{runlog.SWEEP_PICTURE}")) and not (points[0] / runlog.SWEEP_PICTURE).exists()
    assert [r.run_id for r in logbook.scan(tmp_path / "quiet")] == sorted((p.name for p in points), reverse=True)
    code, out, _ = run_cli("run", "c.yaml", "--out", "loud", "--set", "train.learning_rate=sweep:0.01,0.1")
    points, own = own_folder(tmp_path / "loud" / "s")
    assert code == 0 and f"sweep picture: {(own / runlog.SWEEP_PICTURE).relative_to(tmp_path)} " in " ".join(out.split())
    # the runs table lists the points only
    code, out, _ = run_cli("runs", "loud")
    assert code == 0 and "2 runs in loud" in out and "broken" not in out


@pytest.mark.runs
def test_the_python_apis_sweep_draws_its_picture_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(CSV)
    (tmp_path / "c.yaml").write_text(CONFIG)
    runs = nnglm.run("c.yaml", overrides={"train.learning_rate": "sweep:0.01,0.1"}, out="api")  # quiet by default
    points, own = own_folder(tmp_path / "api" / "s")
    assert sorted(r.folder.resolve() for r in runs) == sorted(p.resolve() for p in points)
    assert (own / runlog.SWEEP_PICTURE).read_bytes().startswith(b"\x89PNG")
    assert len(nnglm.runs("api")) == 2


@pytest.mark.runs
def test_a_diverged_point_is_told_apart_from_a_failed_one_and_no_warning_reaches_the_console(tmp_path, run_cli):
    config = str(ROOT / "configs" / "glm_poisson_log.yaml")
    code, out, err = run_cli("run", config, "--out", tmp_path, "--set", "train.learning_rate=sweep:0.01,100", "--set", "train.epochs=30")
    assert code == 0 and "train.learning_rate=100: completed, not equivalent (diverged)" in out
    assert "Warning" not in out + err and "not drawn" not in out
    points, own = own_folder(tmp_path / "glm_poisson_log")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a diverged point's NaN distances: no All-NaN slice warning
        fig = plots.sweep_figure([plots.sweep_point(p) for p in points])
    assert fig.get_suptitle() == "Sweep of 2 points over train.learning_rate (1 diverged: marked at their last step)"
    assert (own / runlog.SWEEP_PICTURE).is_file()
