"""Standard errors from the network's Hessian, Adam from scratch, plots and report."""

import numpy as np
import pytest
from support import engine_of, load, sample_config

from nnglm.data import table
from nnglm.experiment import runner
from nnglm.model import glm, penalty
from nnglm.train import inference, reference
from nnglm.vocabulary import families


def standard_errors(ds, cfg, coefficients) -> inference.Inference:
    """Standard errors of any coefficients (Dataset.terms' order) by the network's own loss, as a run computes them."""
    curvature = inference.Curvature(
        engine_of(cfg), cfg.family, ds, cfg.model.use_bias, penalty.of_run(cfg.model.penalty, ds, cfg.model.use_bias)
    )
    return curvature.inference(np.asarray(coefficients, dtype=float))


SINGLE = [row for row in families.FAMILIES if not row.multiclass]


@pytest.mark.runs
@pytest.mark.parametrize("row", SINGLE, ids=lambda r: r.key)
def test_standard_errors_per_family_row(row):
    import statsmodels.api as sm

    cfg = sample_config(row)
    ds = table.load(table.DataSpec.of(cfg))
    X = glm.design(ds, True)
    result = sm.GLM(ds.y, X, family=cfg.family.sm_family()).fit(tol=1e-12, scale=cfg.family.sm_scale)
    got = standard_errors(ds, cfg, result.params)
    if row.canonical:
        expected = result.bse  # observed and expected information agree
    else:
        # statsmodels' IRLS reports the expected information; compare with its observed Hessian
        hessian = result.model.hessian(result.params, scale=result.scale, observed=True)
        expected = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    np.testing.assert_allclose(got.bse, expected, rtol=1e-6)
    np.testing.assert_allclose(got.z, result.params / expected, rtol=1e-6)
    if row.canonical:
        np.testing.assert_allclose(got.p_values, result.pvalues, rtol=1e-5, atol=1e-12)
        np.testing.assert_allclose(np.column_stack([got.ci_low, got.ci_high]), result.conf_int(), rtol=1e-6)


@pytest.mark.runs
def test_multinomial_standard_errors_are_mnlogit_s():
    import statsmodels.api as sm

    cfg = load("seed001_softmax", "data.n_rows=600", "data.n_features=3", "data.n_classes=4")
    ds = table.load(table.DataSpec.of(cfg))
    result = sm.MNLogit(ds.y, glm.design(ds, True)).fit(method="newton", disp=0)
    params = np.ravel(result.params, order="F")
    got = standard_errors(ds, cfg, params)
    np.testing.assert_allclose(got.bse, np.ravel(result.bse, order="F"), rtol=1e-6)


@pytest.fixture(scope="module")
def seed002(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    return {
        dtype: runner.run(load("seed002_logistic_no_bias", f"train.dtype={dtype}"), out, quiet=True) for dtype in ("float32", "float64")
    }


@pytest.mark.runs
def test_seed002_float64_standard_errors_and_reference(seed002):
    result = seed002["float64"].result
    assert result["comparison"]["bse_max_rel_diff"] <= 1e-4
    net, ref = result["network"]["coefficients"], result["reference"]["coefficients"]
    assert list(ref) == list(net)
    assert result["reference"]["max_abs_diff_to_network"] <= 1e-10
    assert max(abs(ref[t] - net[t]) for t in net) == result["reference"]["max_abs_diff_to_network"]


@pytest.mark.runs
def test_seed002_float32_reference_agrees_to_round_off_and_the_report_says_so(seed002):
    outcome = seed002["float32"]
    gap = outcome.result["reference"]["max_abs_diff_to_network"]
    assert 0 < gap <= 1e-5  # float32 round-off over 1000 steps
    relative = outcome.result["reference"]["max_rel_diff_to_network"]
    report = (outcome.run_dir / "report.md").read_text()
    assert (
        f"reaches the network's weights within {relative:.2g} (relative), below √eps of float32 (0.00035): round-off, the same update rule"
    ) in report


def test_reference_agreement_sentence_tells_round_off_from_another_rule():
    assert "round-off, the same update rule" in reference.agreement(1e-9, "float64")
    assert "not the same update rule" in reference.agreement(2.0, "float64")  # opposite signs, past the std err
    assert "not the same update rule" in reference.agreement(1e-3, "float32")


@pytest.mark.runs
def test_epochs_to_match_is_the_first_logged_step_within_tolerance(tmp_path):
    import csv

    outcome = runner.run(load("seed002_logistic_no_bias", "train.dtype=float64", "compare.max_abs=1e-3"), tmp_path, quiet=True)
    with open(outcome.run_dir / "history.csv") as f:
        history = [(int(r["step"]), float(r["max_abs_diff_to_glm"])) for r in csv.DictReader(f)]
    tolerance = outcome.result["comparison"]["tolerance"]["max_abs"]
    first = next(step for step, gap in history if gap <= tolerance)
    assert outcome.result["comparison"]["epochs_to_match"] == first
    assert 0 < first < 1000


@pytest.mark.runs
def test_report_and_plots_exist(seed002):
    folder = seed002["float32"].run_dir
    report = (folder / "report.md").read_text()
    assert report.startswith("# seed002_logistic_no_bias")
    for picture in ("loss.png", "distance.png"):
        assert (folder / picture).read_bytes().startswith(b"\x89PNG")
        assert f"]({picture})" in report
    assert "| x1 |" in report and "P>\\|z\\|" in report


@pytest.mark.runs
def test_four_points_picture_shows_both_lines(tmp_path):
    import matplotlib.image

    outcome = runner.run(load("seed000_four_points", "train.epochs=500"), tmp_path, quiet=True)
    image = matplotlib.image.imread(outcome.run_dir / "lines.png")[..., :3]
    black = np.all(image < 0.1, axis=-1)  # the GLM's line
    orange = np.all(np.abs(image - [1.0, 0.498, 0.055]) < 0.06, axis=-1)  # the network's
    assert black.sum() > 200 and orange.sum() > 100
    assert "lines.png" in (outcome.run_dir / "report.md").read_text()


class Autodiff(families.Family):
    """The softmax family, taken through the path every other family takes (automatic differentiation)."""

    @property
    def multiclass(self) -> bool:
        return False

    @property
    def keras_activation(self) -> str:
        return "softmax"


def multinomial_curvature(n: int, k: int, C: int, use_bias: bool, autodiff: bool = False):
    from nnglm.train import backends

    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, k))
    y = rng.integers(0, C, size=n).astype(float)
    row = families.lookup("multinomial")
    if autodiff:
        row = Autodiff(row.distribution, row.link_spec, row.params)
    ds = table.Dataset(X=X, y=y, feature_names=[f"x{i}" for i in range(k)], target="y", classes=[str(c) for c in range(C)])
    curvature = inference.Curvature(backends.load("tensorflow"), row, ds, use_bias)
    return curvature, rng.normal(scale=0.5, size=k * C + C * use_bias)


@pytest.mark.runs
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
def test_closed_form_softmax_derivatives_are_autodiff_s(use_bias):
    closed, theta = multinomial_curvature(300, 3, 4, use_bias)
    auto, _ = multinomial_curvature(300, 3, 4, use_bias, autodiff=True)
    g, h = closed.derivatives(theta)
    g_auto, h_auto = auto.derivatives(theta)
    assert h.shape == (len(theta), len(theta))
    np.testing.assert_allclose(g, g_auto, rtol=0, atol=1e-10 * np.max(np.abs(g_auto)))
    np.testing.assert_allclose(h, h_auto, rtol=0, atol=1e-10 * np.max(np.abs(h_auto)))
    assert np.array_equal(h, h.T)
    chunked = inference.softmax_derivatives(closed.Z, closed.y, theta, 3, 4, use_bias, chunk=7)
    np.testing.assert_allclose(chunked[1], h, rtol=0, atol=1e-12 * np.max(np.abs(h)))


@pytest.mark.runs
def test_200_class_derivatives_hold_no_rows_x_classes_x_classes_array(monkeypatch):
    import tracemalloc

    from nnglm.train import backends

    # automatic differentiation peaks at about 5 GB here, in memory tracemalloc does not see
    monkeypatch.setattr(backends.TensorFlowEngine, "derivatives", lambda self, f: pytest.fail("softmax derivatives by autodiff"))
    n, C = 1000, 200
    curvature, theta = multinomial_curvature(n, 3, C, True)
    tracemalloc.start()
    try:
        _, h = curvature.derivatives(theta)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the Hessian (4.9 MB), one product of its size and a chunk of rows; one n x C x C array is 305 MB
    assert peak < 4 * h.nbytes < n * C * C * 8 / 10


def test_row_derivatives_assemble_to_the_direct_products_in_blocks(monkeypatch):
    # the Hessian's kernel block by syrk over blocks of rows, negative curvature (observed information) included
    monkeypatch.setattr(inference, "BLOCK_BYTES", 8 * 4 * 300)  # blocks of 300 rows
    rng = np.random.default_rng(3)
    Z, d1, d2 = rng.normal(size=(1000, 4)), rng.normal(size=1000), rng.normal(size=1000)
    g, h = inference._assemble(Z, d1, d2, use_bias=True)
    Z1 = np.column_stack([Z, np.ones(1000)])
    np.testing.assert_allclose(g, Z1.T @ d1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h, (Z1 * d2[:, None]).T @ Z1, rtol=0, atol=1e-11)
    assert np.array_equal(h, h.T)
