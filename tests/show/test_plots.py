"""The pictures, read back as figures: what they contain (legend counts, axis limits, the lines drawn),
on a real 21-term model, a failed GLM, seed 000's four points and a 32-point learning-rate sweep."""

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln
from support import ROOT, load

from nnglm import cli
from nnglm.experiment import runner
from nnglm.log import logbook
from nnglm.show import plots

SEED002 = str(ROOT / "configs" / "seed002_logistic_no_bias.yaml")


def read(folder: Path, name: str) -> tuple[list[str], list[list[str]]]:
    with open(folder / name, newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def lines_of(ax, label=None):
    return [line for line in ax.get_lines() if label is None or line.get_label() == label]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def star98(tmp_path_factory):
    """A real dataset with 21 terms (20 features and the intercept), grouped binomial."""
    return runner.run(load("star98_grouped_binomial"), tmp_path_factory.mktemp("star98"), quiet=True)


def gaps_from_files(folder: Path) -> tuple[list[str], np.ndarray]:
    """Each logged step's |w - b| / max(|b|, bse), computed from the run's CSVs alone."""
    header, rows = read(folder, "coefficients.csv")
    terms = [r[0] for r in rows]
    b = np.array([float(r[header.index("glm")]) for r in rows])
    bse = np.array([float(r[header.index("glm_bse")]) for r in rows])
    w = np.array([[float(v) for v in r[1:]] for r in read(folder, "trajectory.csv")[1]])
    return terms, np.abs(w - b) / np.maximum(np.abs(b), bse)


@pytest.mark.runs
def test_distance_on_21_terms_names_the_worst_five_and_says_how_many_it_shows(star98):
    fig = plots.figures(star98.run_dir)["distance.png"]
    ax = fig.axes[0]
    terms, gaps = gaps_from_files(star98.run_dir)
    assert len(terms) == 21
    assert ax.get_legend().get_title().get_text() == "5 of 21 terms named (the worst at the end), 16 in grey"
    worst = [terms[j] for j in np.argsort(-gaps[-1], kind="stable")[:5]]
    texts = legend_texts(ax)
    assert texts[:3] == ["largest of all 21", "the other 16 terms", worst[0]] and texts[2:7] == worst
    assert len([line for line in ax.get_lines() if line.get_color() == plots.OTHERS]) == 16
    (largest,) = lines_of(ax, "largest of all 21")
    np.testing.assert_allclose(largest.get_ydata(), gaps.max(axis=1), rtol=1e-9)  # the headline is the max over all terms
    (tolerance,) = lines_of(ax, "tolerance 1e-06")
    assert list(tolerance.get_ydata()) == [1e-06, 1e-06]
    first = star98.result["comparison"]["epochs_to_match"]
    assert lines_of(ax, f"within tolerance from step {first}")
    assert ax.get_yscale() == "log"
    # the file in the run folder is that picture
    assert (star98.run_dir / "distance.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.runs
def test_loss_is_the_gap_to_the_glms_own_loss_on_a_log_scale_with_its_unit(star98):
    fig = plots.figures(star98.run_dir)["loss.png"]
    gap_ax, loss_ax = fig.axes
    result = star98.result
    glm_loss = result["glm"]["loss"]
    # equivalent in float64: the network's loss ends on the GLM's, to round-off
    assert abs(result["network"]["final_loss"] - glm_loss) <= 1e-12 * abs(glm_loss)
    losses = np.array([float(r[1]) for r in read(star98.run_dir, "history.csv")[1]])
    (gap,) = lines_of(gap_ax, "loss − the GLM's loss")
    round_off = np.finfo("float64").eps * max(abs(glm_loss), abs(losses[-1]))
    floor = round_off / 10
    above = losses - glm_loss > floor
    # the line where the gap has a place on the log scale; the steps at or below its floor marked apart
    np.testing.assert_allclose(gap.get_ydata(), np.where(above, losses - glm_loss, np.nan), rtol=1e-12)
    marked = [m for m in gap_ax.get_lines() if "(equal to the GLM's loss at round-off): marked here" in m.get_label()]
    steps = np.array([int(r[0]) for r in read(star98.run_dir, "history.csv")[1]])
    assert (list(marked[0].get_xdata()) if marked else []) == list(steps[~above])
    assert gap_ax.get_yscale() == "log" and loss_ax.get_yscale() == "linear"
    assert gap.get_ydata()[0] > 1.0 and (np.nan_to_num(gap.get_ydata()[-1]) <= round_off)  # from the start's gap to round-off
    assert gap_ax.get_title() == "Gap to the GLM's loss (log scale): at round-off at the last step"
    assert lines_of(loss_ax, f"at the GLM's coefficients: {glm_loss:.6g}")
    assert "weighted mean negative log-likelihood per row" in loss_ax.get_title()


@pytest.mark.runs
def test_the_glms_loss_is_statsmodels_log_likelihood_in_the_networks_units(tmp_path):
    """Poisson: the network's loss is mean(mu - y log mu), statsmodels' llf keeps the -log(y!) it drops."""
    outcome = runner.run(load("auto_cpunish_poisson"), tmp_path, quiet=True)
    result = outcome.result
    y = np.array([float(v) for v in pd_column(outcome.run_dir, result["data"]["target"])])
    expected = (-result["glm"]["llf"] - np.sum(gammaln(y + 1))) / len(y)
    assert result["glm"]["loss"] == pytest.approx(expected, rel=1e-10)
    assert result["glm"]["loss"] < 0  # -5.51: a log-likelihood with its -log(y!) left out can be above zero
    ax = plots.figures(outcome.run_dir)["loss.png"].axes[1]
    assert "below zero because that term is left out" in ax.get_title().replace("\n", " ")


def pd_column(run_dir: Path, target: str):
    """The target column as the run read it."""
    from nnglm import config
    from nnglm.data import table

    cfg = config.load(run_dir / "config.yaml")
    return table.split(table.load(table.DataSpec.of(cfg)), table.DataSpec.of(cfg))[0].y


@pytest.mark.runs
def test_a_failed_glm_gets_a_picture_that_says_so(tmp_path):
    """star98's 21 terms with the GLM held to one iteration: statsmodels and its fallbacks all stop short."""
    outcome = runner.run(load("star98_grouped_binomial", "glm.maxiter=1"), tmp_path, quiet=True)
    result = outcome.result
    assert result["comparison"]["outcome"] == "GLM failed" and result["glm"]["loss"] is None
    pictures = plots.figures(outcome.run_dir)
    ax = pictures["distance.png"].axes[0]
    assert ax.get_title() == "The GLM failed: the network's weights on their own"
    assert ax.get_legend().get_title().get_text() == "5 of 21 terms named (the largest), 16 in grey"
    (note,) = ax.texts
    text = note.get_text().replace("\n", " ")
    assert text.startswith("The GLM failed: there is no coefficient to measure the network's weights against.")
    assert "statsmodels' IRLS on the design as given gave no convergence within glm.maxiter = 1" in text
    assert f"The network on its own: {result['network']['distance']:.2g} (relative) from its optimum" in text
    trajectory = np.array([[float(v) for v in r[1:]] for r in read(outcome.run_dir, "trajectory.csv")[1]])
    drawn = sorted((line.get_ydata() for line in ax.get_lines()), key=lambda y: tuple(y))
    assert len(drawn) == 21  # the weights themselves, not an empty axis
    np.testing.assert_array_equal(np.array(drawn), np.array(sorted(trajectory.T, key=lambda y: tuple(y))))
    (loss_ax,) = pictures["loss.png"].axes
    assert loss_ax.get_title().startswith("Loss of the network (no GLM loss to measure it against)")


@pytest.mark.runs
def test_seed000_lines_are_framed_on_the_four_points(tmp_path):
    outcome = runner.run(
        load("seed000_four_points", "train.epochs=500", "description=<script>alert(1)</script> & co"), tmp_path, quiet=True
    )
    page = (outcome.run_dir / "report.html").read_text()
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>" in page and "<script>" not in page  # text, never markup
    assert page.count('src="data:image/png;base64,') == 3
    pictures = plots.figures(outcome.run_dir)
    ax = pictures["lines.png"].axes[0]
    assert ax.get_xlim() == pytest.approx((-0.1, 1.1)) and ax.get_ylim() == pytest.approx((-0.1, 1.1))
    assert sorted(legend_texts(ax)) == sorted(["y = 0", "y = 1", "GLM: η = 0", "network: η = 0"])  # both lines inside
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 2
    distance = pictures["distance.png"].axes[0]
    assert "no finite MLE: the verdict compares the fits' directions" in distance.get_title()
    assert distance.get_legend().get_title().get_text() == "all 3 terms"


def test_lines_stay_on_the_data_when_a_line_lies_far_from_it():
    """As on MASS birthwt: one line crosses the frame, one lies far outside; the axes stay on the data."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(14, 45, 100), rng.uniform(80, 250, 100)])  # age, weight
    y = (rng.uniform(size=100) < 0.3).astype(float)
    glm = np.array([-1.0, 0.05, -0.002])  # eta = 0 at weight = (0.05 age - 1) / 0.002: 100 .. 600
    network = np.array([-1.0, 0.05, 0.1])  # weight = (1 - 0.05 age) / 0.1: negative, below the frame
    ax = plots.lines_figure(X, y, ["age", "lwt"], network, glm, True).axes[0]
    span = np.ptp(X, axis=0)
    assert ax.get_xlim() == pytest.approx((X[:, 0].min() - span[0] / 10, X[:, 0].max() + span[0] / 10))
    assert ax.get_ylim() == pytest.approx((X[:, 1].min() - span[1] / 10, X[:, 1].max() + span[1] / 10))
    assert "GLM: η = 0" in legend_texts(ax) and "network: η = 0 (outside the frame)" in legend_texts(ax)


@pytest.fixture(scope="module")
def lr_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    rates = [float(f"{v:.3g}") for v in np.geomspace(1e-3, 0.3, 32)]
    values = ",".join(map(str, rates))
    code = cli.main(["run", SEED002, "--out", str(out), "--set", f"train.learning_rate=sweep:{values}", "--set", "train.epochs=200"])
    assert code == 0
    return out / "seed002_logistic_no_bias", rates


@pytest.mark.runs
def test_a_32_point_sweep_draws_each_runs_road_and_its_answer(lr_sweep):
    folder, rates = lr_sweep
    *points, own = sorted(folder.iterdir())  # the points' folders, then the sweep's own, named after the first
    assert len(points) == 32 and own.name == f"sweep-{points[0].name}" and list(folder.glob("*/sweep.png")) == [own / "sweep.png"]
    assert len(logbook.scan(folder)) == 32  # the sweep's folder is not a run
    fig = plots.sweep_figure([plots.sweep_point(p) for p in points])
    road_ax, steps_ax, gap_ax = fig.axes[:3]
    assert fig.get_suptitle() == "Sweep of 32 points over train.learning_rate"
    roads = [line for line in road_ax.get_lines() if not line.get_label().startswith("tolerance")]
    assert len(roads) == 32 and road_ax.get_title() == "Each run's road to the GLM (32 lines)"
    results = [json.loads((p / "result.json").read_text()) for p in points]
    by_rate = sorted(zip([r["sweep_point"]["train.learning_rate"] for r in results], results), key=lambda t: t[0])
    assert [rate for rate, _ in by_rate] == sorted(rates)
    (matched,) = lines_of(steps_ax, "first step within the tolerance")
    expected = [np.nan if r["comparison"]["epochs_to_match"] is None else r["comparison"]["epochs_to_match"] for _, r in by_rate]
    np.testing.assert_array_equal(matched.get_ydata(), expected)
    assert list(matched.get_xdata()) == sorted(rates) and steps_ax.get_xscale() == "log"
    never = [r for _, r in by_rate if r["comparison"]["epochs_to_match"] is None]
    assert 0 < len(never) < 32  # the smallest rates do not get there in 200 steps, the others do
    assert len(lines_of(steps_ax, "never within it (its last step)")[0].get_xdata()) == len(never)
    (tolerance,) = lines_of(gap_ax, "tolerance 0.0001")  # seed 002 judges absolute differences (compare.max_abs)
    (final,) = lines_of(gap_ax, "at the last step")
    np.testing.assert_allclose(final.get_ydata(), [r["comparison"]["max_abs_diff"] for _, r in by_rate])


@pytest.mark.runs
def test_two_swept_keys_make_a_grid_that_report_draws_again(tmp_path, capsys):
    code = cli.main(
        ["run", SEED002, "--out", str(tmp_path), "--set", "train.learning_rate=sweep:0.001,0.01,0.1"]
        + ["--set", "train.dtype=sweep:float32,float64", "--set", "train.epochs=150"]
    )
    assert code == 0
    points = [p for p in (tmp_path / "seed002_logistic_no_bias").iterdir() if not p.name.startswith("sweep-")]
    fig = plots.sweep_figure([plots.sweep_point(p) for p in points])
    steps_ax, gap_ax = fig.axes[:2]
    assert steps_ax.images[0].get_array().shape == (2, 3) and gap_ax.images[0].get_array().shape == (2, 3)
    assert [t.get_text() for t in steps_ax.get_xticklabels()] == ["0.001", "0.01", "0.1"]
    assert [t.get_text() for t in steps_ax.get_yticklabels()] == ["float32", "float64"]
    cells = [t.get_text() for t in steps_ax.texts]
    assert len(cells) == 6 and cells[0] == cells[3] == "never\n(step 150)"  # lr 0.001 is short of the GLM after 150 steps
    # nnglm report, given the points' folders as the shell's glob gives them, draws the picture again
    (picture,) = (tmp_path / "seed002_logistic_no_bias").glob("*/sweep.png")
    assert picture.parent.name == f"sweep-{min(points).name}"
    picture.unlink()
    capsys.readouterr()
    assert cli.main(["report", *map(str, sorted(points))]) == 0
    out = capsys.readouterr().out
    assert out.count("drew loss.png, distance.png, diagnostics.png; report.md and report.html show them") == 6
    assert out.splitlines()[-1] == f"{picture}: the picture of the sweep of 6 points"
    assert picture.read_bytes().startswith(b"\x89PNG")


@pytest.mark.runs
def test_runs_and_compare_show_the_relative_measure_first(lr_sweep, tmp_path, capsys):
    folder, _ = lr_sweep
    a, b = sorted(p for p in folder.iterdir() if not p.name.startswith("sweep-"))[-2:]
    listed = logbook.read(a)
    cells = logbook.row(listed)
    at = logbook.RUNS_COLUMNS.index("max rel diff")
    assert "max abs diff" not in logbook.RUNS_COLUMNS and logbook.RUNS_COLUMNS[at + 1] == "verdict"
    assert cells[at] == f"{listed.result.comparison.max_rel_diff:.3g}"
    capsys.readouterr()
    assert cli.main(["compare", str(a), str(b), "--plot", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    assert "Each run against its GLM (the verdict's measure first)" in out
    assert "largest difference between the runs' network weights: relative " in out
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    compared = logbook.compare_runs([a, b])
    fig = plots.compare_figure(compared)
    value_ax, gap_ax = fig.axes
    assert sorted(t.get_text() for t in value_ax.get_yticklabels()) == sorted(f"x{i}" for i in range(1, 11))
    rates = compared.config_diff["train.learning_rate"]  # each run named by what differs, not "run 1"
    labels = [f"train.learning_rate={rate}" for rate in rates]
    drawn = [line.get_label() for line in value_ax.get_lines()][1:3]  # after the GLM's line at 0
    assert all(d.startswith(label) for d, label in zip(drawn, labels, strict=True)), drawn
    assert gap_ax.get_xscale() == "log"
    assert cli.main(["compare", str(a), str(b), "--plot", str(tmp_path / "c.gif")]) == 2
    assert capsys.readouterr().err == f"error: --plot: {tmp_path / 'c.gif'}: give a file ending in .png, .svg or .pdf\n"


def browser() -> str | None:
    return next((shutil.which(b) for b in ("chromium-headless-shell", "chromium", "google-chrome") if shutil.which(b)), None)


@pytest.mark.runs
def test_report_html_is_one_file_that_a_browser_shows(star98, tmp_path):
    page = star98.run_dir / "report.html"
    text = page.read_text()
    pictures = sorted(p.name for p in star98.run_dir.glob("*.png"))
    assert {"loss.png", "distance.png"} <= set(pictures)
    assert text.count('src="data:image/png;base64,') == len(pictures)  # every picture of the run, inside the file
    assert "http://" not in text and "https://" not in text  # nothing fetched from elsewhere
    alone = tmp_path / "mailed.html"
    shutil.copy(page, alone)  # the file on its own, as a reviewer receives it
    chromium = browser()
    if chromium is None:
        pytest.skip("no headless Chromium on this machine (make install puts it there with apt-get)")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1000,1400", alone.as_uri()], capture_output=True, timeout=120, check=True
    )
    dom = subprocess.run([*flags, "--dump-dom", alone.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    assert star98.result["comparison"]["verdict"] in dom.replace("&lt;", "<").replace("&gt;", ">")
    import matplotlib.image

    image = matplotlib.image.imread(shot)[..., :3]
    assert image.shape[:2] == (1400, 1000)
    assert image.std() > 0.05 and (image < 0.3).mean() > 0.005  # not a blank page: text and tables drawn


def test_three_swept_keys_put_each_point_in_its_own_place():
    """Figures of points as sweep_point reads them; three keys: one place on the axis a point."""
    points = [
        plots.SweepPoint(
            {"a": lr, "b": dt, "c": bs},
            "completed",
            steps_to_match=100 if lr > 0.001 else None,
            steps_run=300,
            final_gap=1e-5 / lr,
            limit=1e-4,
            measure="m",
        )
        for lr in (0.001, 0.01)
        for dt in ("float32", "float64")
        for bs in ("full", 100)
    ] + [plots.SweepPoint({"a": 0.1, "b": "float32", "c": "full"}, "failed")]
    fig = plots.sweep_figure(points)
    road_ax, steps_ax, gap_ax = fig.axes[:3]
    assert fig.get_suptitle() == "Sweep of 9 points over a, b, c (1 failed: not shown)"
    labels = [t.get_text() for t in steps_ax.get_xticklabels()]
    assert len(labels) == 8 and labels[0] == "0.001, float32, 100" and labels[-1] == "0.01, float64, full"
    (never,) = lines_of(steps_ax, "never within it (its last step)")
    assert len(never.get_xdata()) == 4 and list(never.get_ydata()) == [300] * 4


def test_names_from_the_data_are_shown_as_written(tmp_path):
    """A column named with a $ is not mathtext (an unmatched one would stop the drawing); one that
    starts with _ is not dropped from a legend."""
    X, y = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.9]]), np.array([0.0, 1.0, 1.0, 0.0])
    fig = plots.lines_figure(X, y, ["price $", "_weight"], np.array([0.1, 1.0, -1.0]), np.array([0.0, 1.0, -1.0]), True)
    plots.save(fig, tmp_path / "lines.png")  # raises on mathtext it cannot parse
    ax = fig.axes[0]
    assert ax.get_xlabel() == r"price \$" and ax.get_ylabel() == " _weight"
    assert (tmp_path / "lines.png").read_bytes().startswith(b"\x89PNG")
    assert plots.plain("_x") == " _x" and plots.plain("a$b$") == r"a\$b\$"


def test_a_sweep_whose_every_point_failed_still_gets_a_picture_that_says_so(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no empty legend, no matplotlib complaint
        fig = plots.sweep_figure([plots.SweepPoint({"a": 1}, "failed"), plots.SweepPoint({"a": 2}, "rejected")])
        plots.save(fig, tmp_path / "sweep.png")
    assert fig.get_suptitle() == "Sweep of 2 points over a (1 failed, 1 rejected: not shown)"


def a_loss_picture(gaps: list[float]) -> "plots.RunPicture":
    """A float32 run's picture whose loss stands `gaps` above the GLM's loss of -30.5 at steps 0, 10, ..."""
    from nnglm.log.result import Tolerance

    glm_loss = -30.5
    return plots.RunPicture(
        terms=["(Intercept)"],
        network=np.array([1.0]),
        glm=np.array([1.0]),
        bse=np.array([0.1]),
        tolerance=Tolerance.of(1e-4, None),
        history=[(10 * i, glm_loss + g, 0.0) for i, g in enumerate(gaps)],
        trajectory=[np.array([1.0]) for _ in gaps],
        loss_name="poisson_nll",
        loss_unit="mean negative log-likelihood per row",
        dtype="float32",
        glm_loss=glm_loss,
    )


def test_loss_steps_at_round_off_are_marked_and_said_not_drawn_as_a_flat_line():
    # Dobson's float32 run: the gap falls to round-off, then is 0 or below at most steps
    gaps = [0.3, 1e-2, 1e-4, 3e-6, 0.0, -4e-6, 0.0, 0.0, 3e-6]
    fig = plots.loss_figure(a_loss_picture(gaps))
    gap_ax = fig.axes[0]
    (line,) = lines_of(gap_ax, "loss − the GLM's loss")
    drawn = np.asarray(line.get_ydata(), dtype=float)
    round_off = float(np.finfo(np.float32).eps) * 30.5
    assert np.isnan(drawn[[4, 5, 6, 7]]).all() and np.allclose(drawn[[0, 1, 2]], gaps[:3], rtol=1e-4)
    (marked,) = [m for m in gap_ax.get_lines() if m.get_label().startswith("4 steps with a gap ≤")]
    assert list(marked.get_xdata()) == [40, 50, 60, 70] and np.allclose(marked.get_ydata(), round_off / 10)
    assert "(equal to the GLM's loss at round-off): marked here" in marked.get_label()
    assert "below round-off: a gap here is noise" in legend_texts(gap_ax)


def sweep_of(n_diverged: int, failed: int = 0) -> list:
    done = [
        plots.SweepPoint({"lr": v}, "completed", steps_to_match=None, steps_run=60, final_gap=g, limit=1e-4, measure="m", road=None)
        for v, g in ((0.01, 2.9), (0.1, 2.3))
    ]
    diverged = [plots.SweepPoint({"lr": 10.0**k}, "completed", steps_run=3, outcome="diverged") for k in range(2, 2 + n_diverged)]
    return done + diverged + [plots.SweepPoint({"lr": 1e9}, "failed") for _ in range(failed)]


def test_a_sweep_says_diverged_points_apart_from_failed_ones_and_marks_them():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no All-NaN slice, no empty legend
        fig = plots.sweep_figure(sweep_of(2, failed=1))
    assert fig.get_suptitle() == "Sweep of 5 points over lr (2 diverged: marked at their last step; 1 failed: not shown)"
    road_ax, steps_ax, gap_ax = fig.axes[:3]
    (marked,) = lines_of(steps_ax, "diverged (its last step)")
    assert list(marked.get_xdata()) == [100.0, 1000.0] and list(marked.get_ydata()) == [3, 3]
    assert lines_of(gap_ax, "diverged: no gap")
    # no run got within the tolerance: the panel says so, and draws no empty series for it
    assert steps_ax.get_title() == "Steps to equivalence: no run got within the tolerance"
    assert not lines_of(steps_ax, "first step within the tolerance")


def test_a_grid_where_no_run_got_there_has_no_meaningless_colour_bar():
    points = [
        plots.SweepPoint({"lr": lr, "dtype": d}, "completed", steps_run=5, final_gap=g, limit=1e-6, measure="m")
        for lr, d, g in ((0.001, "float32", 1.018), (0.002, "float32", 1.034), (0.001, "float64", 1.017), (0.002, "float64", 1.03))
    ] + [plots.SweepPoint({"lr": 0.003, "dtype": "float32"}, "completed", steps_run=2, outcome="diverged")]
    fig = plots.sweep_figure(points)
    steps_ax, gap_ax, bar_ax = fig.axes
    assert bar_ax.get_ylabel() == "final gap (the verdict's measure)"  # the steps panel has none
    assert steps_ax.get_title() == "Steps to equivalence (no run got within the tolerance)"
    texts = sorted(t.get_text() for t in steps_ax.texts)
    assert texts == ["diverged\n(step 2)"] + ["never\n(step 5)"] * 4
    assert "diverged" in [t.get_text() for t in gap_ax.texts]
    low, high = gap_ax.images[0].norm.vmin, gap_ax.images[0].norm.vmax
    assert low <= 1e-7 and high >= 1.034  # the tolerance inside the colour scale: 1.02 and 1.03 look alike


def test_compare_names_runs_by_what_differs_and_puts_every_term_on_one_scale(tmp_path):
    from nnglm.log.logbook import LoggedRun, RunComparison
    from nnglm.log.result import RunResult

    def logged(dtype: str, rtol: float, network: list[float]) -> LoggedRun:
        result = RunResult.model_validate(
            {
                "schema": 1,
                "run_id": f"r-{dtype}",
                "name": "dobson",
                "status": "completed",
                "config": {"model": {"family": "poisson", "link": "log"}},
                "environment": {"dtype": dtype},
                "glm": {"coefficients": {"(Intercept)": 3.04, "treatment2": 8.8e-16}, "bse": {"(Intercept)": 0.17, "treatment2": 0.2}},
                "comparison": {"outcome": "equivalent", "tolerance": {"rtol": rtol, "max_abs": None}},
            }
        )
        return LoggedRun(folder=tmp_path / dtype, result=result)

    glm = np.array([3.04, 8.8e-16])
    c = RunComparison(
        runs=[logged("float64", 1e-6, [3.04, 1e-12]), logged("float32", 1e-4, [3.0400003, 1.1e-7])],
        config_diff={"train.dtype": ["float64", "float32"]},
        environment_diff={"dtype": ["float64", "float32"]},
        terms=["(Intercept)", "treatment2"],
        network=np.array([[3.04, 1e-12], [3.0400003, 1.1e-7]]),
        glm=np.vstack([glm, glm]),
        max_weight_diff=0.0,
        max_rel_weight_diff=0.0,
        tolerance=1e-4,
        relative=True,
        same=True,
        validation={},
        statistics={},
    )
    fig = plots.compare_figure(c)
    value_ax, gap_ax = fig.axes
    assert plots.run_labels(c) == ["train.dtype=float64", "train.dtype=float32"]
    (float32,) = lines_of(value_ax, "train.dtype=float32")
    # in GLM standard errors: 3e-7 / 0.17 and 1.1e-7 / 0.2, both far inside the GLM's 95% interval
    np.testing.assert_allclose(sorted(float32.get_xdata()), sorted([3e-7 / 0.17, 1.1e-7 / 0.2]), rtol=1e-6)
    assert value_ax.get_xlim() == (-2.5, 2.5) and value_ax.get_xscale() == "linear"
    assert "the GLM's 95% interval (± 1.96 std err)" in legend_texts(value_ax)
    tolerances = [t for t in legend_texts(gap_ax) if t.startswith("tolerance of ")]
    assert tolerances == ["tolerance of train.dtype=float64: 1e-06", "tolerance of train.dtype=float32: 0.0001"]
