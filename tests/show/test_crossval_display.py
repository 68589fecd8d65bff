"""The cross-validation section (data.folds) as it is shown: the summary's block and sentences, the report's
table by fold, crossval.png, the cv column of `nnglm runs` and Run.cross_validation()'s frame; drawn from
a run folder written by hand, with no training."""

import numpy as np
import pytest
from support import hand_run, load

import nnglm
from nnglm.log import logbook, runlog
from nnglm.show import plots, report, summary

# five folds: the network started at the GLM lowers each fold's deviance a little, the one from scratch does not
GLM = [0.52, 0.48, 0.55, 0.50, 0.47]
SCRATCH = [0.53, 0.47, 0.56, 0.51, 0.48]
AT_GLM = [0.51, 0.47, 0.54, 0.49, 0.46]
VERDICT = "the network started at the GLM improves the held-out deviance by 2.0 % ± 0.1 %, p = 0.003, in 5 folds"
SECTION = {
    "folds": 5,
    "stratified": False,
    "measure": "deviance",
    "inner_fraction": 0.2,
    "per_fold": [
        {"fold": k + 1, "n_train": 80, "n_held_out": 20, "deviance": {"glm": g, "scratch": s, "at_glm": a}}
        for k, (g, s, a) in enumerate(zip(GLM, SCRATCH, AT_GLM))
    ],
    "networks": [
        {
            "model": "scratch",
            "mean_difference": 0.006,
            "standard_error": 0.004,
            "relative_pct": -1.2,
            "relative_se_pct": 0.8,
            "p_value_folds": 0.9,
            "p_value_rows": 0.85,
            "improves": False,
            "sentence": "no evidence that the network from scratch lowers the held-out deviance",
        },
        {
            "model": "at_glm",
            "mean_difference": -0.01,
            "standard_error": 0.0005,
            "relative_pct": 2.0,
            "relative_se_pct": 0.1,
            "p_value_folds": 0.003,
            "p_value_rows": 0.0004,
            "improves": True,
            "sentence": VERDICT,
        },
    ],
    "verdict": VERDICT,
    "seconds": 12.5,
}
ROWS = [
    {"term": t, "network": v, "network_bse": 0.1, "z": 10.0, "p": 0.0, "ci_low": v - 0.2, "ci_high": v + 0.2}
    | {"glm": v, "glm_bse": 0.1, "diff": 0.0, "reference": None}
    for t, v in (("(Intercept)", 1.0), ("x1", 2.0))
]
DATA = {"n_rows": 100, "n_features": 1, "feature_names": ["x1"], "target": "y"}


@pytest.fixture
def folder(tmp_path):
    return hand_run(tmp_path / "log", name="cv", data=DATA, cross_validation=SECTION)


@pytest.fixture
def plain(tmp_path):
    return hand_run(tmp_path / "log", name="plain", run_id="20260101-000001-abcdef", data=DATA)


def test_the_summary_shows_each_models_mean_with_its_error_and_the_verdict(folder):
    result = nnglm.load(folder).result
    (block,) = [b for b in summary.blocks(result, ROWS) if b.title.startswith("Cross-validation")]
    assert block.title.startswith("Cross-validation (5 folds; held-out deviance per row")
    assert [r[0] for r in block.rows] == ["GLM", "network from scratch", "network started at the GLM"]
    glm, scratch, at_glm = block.rows
    # the mean to its standard error's second significant digit: 0.504 ± 0.014
    assert glm[1] == "0.504 ± 0.014" and glm[2:] == ["–", "–", "–"]
    # the change of the GLM's deviance, signed as the verdict says it: the scratch network raises it by 1.2 %
    assert scratch[2:] == ["+1.20 % ± 0.80 %", "0.900", "0.850"]
    assert at_glm[2:] == ["-2.00 % ± 0.10 %", "0.003", "<0.001"]
    assert f"cross-validation: {VERDICT}" in summary.notes(result)


def test_a_run_without_the_section_shows_what_it_showed(folder, plain):
    result = nnglm.load(plain).result
    assert not any(b.title.startswith("Cross-validation") for b in summary.blocks(result, ROWS))
    assert not any("cross-validation" in n for n in summary.notes(result))
    assert "Cross-validation" not in report.markdown(result, ROWS, {})
    assert plots.crossval_of(result) == {}


def test_the_report_has_a_table_by_fold_and_the_picture(folder):
    result = nnglm.load(folder).result
    config = load("glm_poisson_log")
    history, trajectory = [(0, 1.0, 0.5), (10, 0.9, 0.1)], [np.array([0.5, 1.5]), np.array([1.0, 2.0])]
    pictures = plots.draw(folder, result, config, ROWS, history, trajectory)
    assert runlog.CROSSVAL_PICTURE in pictures and (folder / runlog.CROSSVAL_PICTURE).read_bytes().startswith(b"\x89PNG")
    report.write(folder, result, ROWS, pictures)
    md = (folder / runlog.REPORT_MD).read_text()
    assert "## Cross-validation by fold (held-out deviance per row)" in md
    assert "| fold | training rows | held-out rows | GLM | network from scratch | network started at the GLM |" in md
    assert "| 3 | 80 | 20 | 0.55 | 0.56 | 0.54 |" in md
    assert f"![{plots.PICTURES[runlog.CROSSVAL_PICTURE]}](crossval.png)" in md
    assert VERDICT in md and "data:image/png;base64," in (folder / runlog.REPORT_HTML).read_text()


def test_the_picture_joins_each_folds_three_models_and_marks_the_means(folder):
    fig = plots.crossval_of(nnglm.load(folder).result)[runlog.CROSSVAL_PICTURE]
    by_fold, differences = fig.axes
    assert [t.get_text() for t in by_fold.get_xticklabels()] == ["GLM", "from scratch", "at the GLM"]
    folds = [line for line in by_fold.get_lines() if line.get_label().startswith("fold ")]
    assert len(folds) == 5
    for line, values in zip(folds, zip(GLM, SCRATCH, AT_GLM)):
        assert list(line.get_xdata()) == [0, 1, 2]
        np.testing.assert_allclose(line.get_ydata(), values)
    (means,) = [line for line in by_fold.get_lines() if line.get_label() == "mean over the folds"]
    np.testing.assert_allclose(means.get_ydata(), [np.mean(GLM), np.mean(SCRATCH), np.mean(AT_GLM)])
    assert [t.get_text() for t in differences.get_xticklabels()] == ["from scratch", "at the GLM"]
    paired = [line for line in differences.get_lines() if line.get_label().startswith("_fold ")]
    assert len(paired) == 5
    np.testing.assert_allclose(paired[0].get_ydata(), [SCRATCH[0] - GLM[0], AT_GLM[0] - GLM[0]])


def test_runs_shows_the_best_networks_gain_only_where_a_run_cross_validated(folder, plain, run_cli):
    runs = {r.name: r for r in logbook.scan(folder.parent.parent)}
    assert logbook.runs_columns(list(runs.values())) == [*logbook.RUNS_COLUMNS, "cv"]
    assert logbook.row(runs["cv"], cv=True)[-1] == "dev -2.0% p=0.003"
    assert logbook.row(runs["plain"], cv=True)[-1] == ""
    assert logbook.runs_columns([runs["plain"]]) == logbook.RUNS_COLUMNS
    code, out, _ = run_cli("runs", folder.parent.parent)
    assert code == 0 and "dev -2.0% p=0.003" in out and " cv " in out
    code, out, _ = run_cli("runs", plain.parent)
    assert code == 0 and " cv " not in out
    frame = nnglm.runs(folder.parent.parent)
    assert dict(zip(frame["name"], frame["cv"])) == {"cv": "dev -2.0% p=0.003", "plain": ""}
    assert "cv" not in nnglm.runs(plain.parent).columns


def test_no_network_that_improves_is_no_gain(tmp_path):
    section = SECTION | {"networks": [n | {"improves": False} for n in SECTION["networks"]]}
    run = logbook.read(hand_run(tmp_path, cross_validation=section))
    assert logbook.cross_validated(run.result) == "no gain"


def test_the_api_gives_a_row_a_fold_and_model(folder, plain):
    run = nnglm.load(folder)
    frame = run.cross_validation()
    assert list(frame.columns) == ["fold", "model", "deviance", "n_held_out"] and len(frame) == 15
    assert list(frame["model"][:3]) == ["glm", "scratch", "at_glm"] and list(frame["fold"].unique()) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(frame[frame["model"] == "at_glm"]["deviance"], AT_GLM)
    assert frame.attrs["verdict"] == VERDICT and run.result.cross_validation.networks[1].p_value_rows == 0.0004
    with pytest.raises(nnglm.ConfigError, match="did not cross-validate; set data.folds"):
        nnglm.load(plain).cross_validation()


def test_the_export_carries_each_network_against_the_glm_and_the_verdict(folder):
    """nnglm export: each network's figures by its name (the section holds them in a list), the verdict a tag."""
    from nnglm.log import export

    run = export.readable(folder)
    figures, tags = export.figures(run.result), export.tags(run)
    assert figures["cross_validation.at_glm.relative_pct"] == 2.0 and figures["cross_validation.at_glm.improves"] == 1.0
    assert figures["cross_validation.scratch.p_value_rows"] == 0.85 and figures["cross_validation.folds"] == 5
    assert tags["nnglm.cross_validation"] == VERDICT


def test_compare_sets_cross_validated_runs_side_by_side(folder, tmp_path, run_cli):
    other = hand_run(tmp_path / "log", name="cv", run_id="20260101-000002-abcdef", data=DATA, cross_validation=SECTION)
    c = logbook.compare_runs([folder, other])
    assert c.cross_validation["glm.deviance"] == [pytest.approx(np.mean(GLM))] * 2
    assert c.cross_validation["at_glm.change %"] == [-2.0, -2.0] and c.cross_validation["scratch.p, folds"] == [0.9, 0.9]
    code, out, _ = run_cli("compare", folder, other)
    assert code == 0 and "Cross-validation" in out and "at_glm.change %" in out
    assert nnglm.compare(folder, other).loc[("cross_validation", "at_glm.p, folds")].tolist() == [0.003, 0.003]
