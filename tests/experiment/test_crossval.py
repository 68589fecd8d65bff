"""data.folds: K-fold cross-validation of the GLM against the hidden-layer networks (issue 36): the folds,
the held-out deviance row by row, the paired tests, the messages, and a small run's section."""

import json

import numpy as np
import pytest
from scipy import stats

from nnglm import config
from nnglm.data import folds
from nnglm.data.table import Dataset
from nnglm.foundation.errors import UserError
from nnglm.model import paired
from nnglm.train.network import NetworkSpec
from nnglm.vocabulary.families import lookup


def dataset(y, n_features=2, seed=0, **parts):
    rng = np.random.default_rng(seed)
    y = np.asarray(y, dtype=float)
    X = rng.normal(size=(len(y), n_features))
    return Dataset(X=X, y=y, feature_names=[f"x{i}" for i in range(n_features)], target="y", **parts)


BINOMIAL, POISSON, GAUSSIAN = lookup("binomial"), lookup("poisson"), lookup("gaussian")


def test_folds_are_a_seeded_partition_of_balanced_sizes():
    data = dataset(np.arange(103) % 7, n_features=1)
    split = folds.assign(data, 5, seed=3, family=POISSON, use_bias=True)
    held = [split.held_out(j) for j in range(5)]
    assert np.array_equal(np.sort(np.concatenate(held)), np.arange(103))  # every row held out exactly once
    assert {len(h) for h in held} == {20, 21}
    for j in range(5):
        assert np.array_equal(np.union1d(split.training(j), held[j]), np.arange(103))
        assert not np.intersect1d(split.training(j), held[j]).size
    assert not split.stratified
    again = folds.assign(data, 5, seed=3, family=POISSON, use_bias=True)
    assert np.array_equal(again.ids, split.ids)  # the same folds for every model, every run of the seed
    assert not np.array_equal(folds.assign(data, 5, seed=4, family=POISSON, use_bias=True).ids, split.ids)


def test_a_binary_target_is_stratified_by_class():
    y = np.r_[np.ones(13), np.zeros(87)]
    split = folds.assign(dataset(y), 4, seed=0, family=BINOMIAL, use_bias=True)
    assert split.stratified
    assert sorted(int(y[split.held_out(j)].sum()) for j in range(4)) == [3, 3, 3, 4]
    # a proportion (with trials) is not a class
    assert not folds.stratifies(dataset(np.linspace(0, 1, 10)), BINOMIAL)
    assert folds.stratifies(dataset(np.arange(30) % 3), lookup("multinomial"))
    assert not folds.stratifies(dataset(np.r_[np.ones(5), np.zeros(5)]), GAUSSIAN)


def test_multinomial_classes_are_spread_over_the_folds():
    y = np.r_[np.zeros(30), np.ones(6), np.full(9, 2)]
    split = folds.assign(dataset(y, classes=["a", "b", "c"]), 3, seed=1, family=lookup("multinomial"), use_bias=True)
    for j in range(3):
        assert np.bincount(y[split.held_out(j)].astype(int), minlength=3).tolist() == [10, 2, 3]


def test_rows_of_weight_zero_never_fill_a_fold():
    weights = np.r_[np.zeros(20), np.ones(5)]
    data = dataset(np.arange(25) % 4, var_weights=weights)
    split = folds.assign(data, 5, seed=0, family=POISSON, use_bias=True)
    assert all(weights[split.held_out(j)].sum() == 1 for j in range(5))


def test_the_inner_split_is_drawn_from_the_training_rows_by_class():
    y = np.r_[np.ones(20), np.zeros(80)]
    fitted, early = folds.inner(dataset(y), 0.2, seed=0, fold=1, stratified=True)
    assert np.array_equal(np.sort(np.r_[fitted, early]), np.arange(100))
    assert (len(early), int(y[early].sum())) == (20, 4)
    again = folds.inner(dataset(y), 0.2, seed=0, fold=1, stratified=True)
    assert np.array_equal(again[1], early)


def test_more_folds_than_rows():
    with pytest.raises(UserError) as e:
        folds.assign(dataset(np.arange(6)), 10, seed=0, family=POISSON, use_bias=True)
    assert str(e.value) == "data.folds: 10 folds of 6 rows; each fold holds at least one row out: set data.folds to at most 6"


def test_too_few_training_rows_in_a_fold():
    with pytest.raises(UserError) as e:
        folds.assign(dataset(np.arange(6), n_features=4), 3, seed=0, family=POISSON, use_bias=True)
    assert str(e.value) == "data.folds: 3 folds of 6 rows leave 4 rows to train on in a fold; the fits need at least 5: set fewer folds"


def test_a_class_missing_from_a_folds_training_rows():
    y = np.r_[np.zeros(20), np.ones(1)]
    with pytest.raises(UserError) as e:
        folds.assign(dataset(y), 3, seed=0, family=BINOMIAL, use_bias=True)
    assert str(e.value).startswith("data.folds: the training rows of fold ")
    assert str(e.value).endswith(
        "hold no row of class 1, which has 1 row in all: no fit of that fold could predict it; every class needs rows in at least 2 folds"
    )
    data = dataset(np.r_[np.zeros(20), np.ones(10), [2]], classes=["no", "yes", "maybe"])
    with pytest.raises(UserError, match="hold no row of class 'maybe', which has 1 row in all"):
        folds.assign(data, 3, seed=0, family=lookup("multinomial"), use_bias=True)


def test_weights_that_leave_a_fold_nothing_to_score():
    data = dataset(np.arange(10) % 3, freq_weights=np.r_[np.zeros(8), np.ones(2)])
    with pytest.raises(UserError) as e:
        folds.assign(data, 3, seed=0, family=POISSON, use_bias=True)
    assert str(e.value) == (
        "data.folds: 3 folds, but only 2 of the 10 rows have a weight above 0 (data.weights, data.trials): "
        "a fold would hold out nothing to score; set data.folds to at most 2"
    )


@pytest.mark.parametrize(
    "data, hidden, message",
    [
        ("{folds: 3}", None, "data.folds: cross-validates the GLM against hidden-layer networks; set model.hidden too (e.g. [16])"),
        (
            "{folds: 3, validation_fraction: 0.2}",
            "[4]",
            "data.folds: not with data.validation_fraction; each fold holds its own rows out (leave data.validation_fraction at 0)",
        ),
        ("{folds: 1}", "[4]", "data.folds: Input should be greater than or equal to 2 (got 1)"),
    ],
)
def test_config_messages(write_config, data, hidden, message):
    text = f"name: f\ndata: {{source: synthetic, generator: four_points, {data[1:]}\n" + (
        f"model: {{hidden: {hidden}}}\n" if hidden else ""
    )
    path = write_config(text)
    with pytest.raises(UserError) as e:
        config.load(path)
    assert str(e.value) == f"{path}: {message}"


def test_folds_stand_in_for_held_out_rows(write_config):
    cfg = config.load(write_config("name: f\ndata: {source: synthetic, generator: four_points, folds: 3}\nmodel: {hidden: [4]}\n"))
    assert cfg.data.folds == 3 and cfg.data.validation_fraction == 0
    assert "folds" not in config.load(write_config("name: g\ndata: {source: synthetic, generator: four_points}\n")).to_dict()["data"]


@pytest.mark.parametrize("family", ["poisson", "binomial"])
def test_deviance_per_row_sums_to_statsmodels_deviance(family):
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 2))
    mu = np.exp(0.3 + X @ [0.4, -0.2]) if family == "poisson" else 1 / (1 + np.exp(-(X @ [1.0, -0.5])))
    y = rng.poisson(mu) if family == "poisson" else rng.binomial(1, mu)
    weights = rng.uniform(0.5, 2, size=200)
    fam = lookup(family)
    res = sm.GLM(y, sm.add_constant(X), family=fam.sm_family(), var_weights=weights).fit()
    rows = dataset(y, var_weights=weights)
    per_row = paired.deviance_rows(fam, rows, res.fittedvalues)
    assert per_row.shape == (200,) and np.all(per_row >= 0)
    assert per_row.sum() == pytest.approx(res.deviance, rel=1e-10)
    assert paired.mean_deviance(rows, per_row) == pytest.approx(res.deviance / weights.sum(), rel=1e-10)
    freq = rng.integers(1, 4, size=200).astype(float)
    res = sm.GLM(y, sm.add_constant(X), family=fam.sm_family(), freq_weights=freq).fit()
    per_row = paired.deviance_rows(fam, dataset(y, freq_weights=freq), res.fittedvalues)
    assert per_row.sum() == pytest.approx(res.deviance, rel=1e-10)


def test_multinomial_deviance_is_minus_twice_the_log_probability():
    rows = dataset([0, 2, 1], classes=["a", "b", "c"])
    p = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]])
    assert paired.deviance_rows(lookup("multinomial"), rows, p) == pytest.approx(-2 * np.log([0.5, 0.8, 0.5]))


def test_the_paired_tests_are_scipys_one_sided_t_test():
    glm = np.array([1.02, 0.98, 1.05, 1.01, 0.97])
    net = np.array([0.99, 0.97, 1.00, 1.00, 0.96])
    rows_glm = np.array([0.5, 1.2, 0.8, 2.0, 0.3, 0.9, 1.1])
    rows_net = np.array([0.4, 1.3, 0.7, 1.8, 0.3, 0.8, 1.0])
    versus = paired.against("at_glm", net, glm, rows_net, rows_glm)
    assert versus.p_value_folds == pytest.approx(stats.ttest_rel(net, glm, alternative="less").pvalue, rel=1e-12)
    assert versus.p_value_rows == pytest.approx(stats.ttest_rel(rows_net, rows_glm, alternative="less").pvalue, rel=1e-12)
    diff = net - glm
    assert versus.mean_difference == pytest.approx(diff.mean())
    assert versus.standard_error == pytest.approx(diff.std(ddof=1) / np.sqrt(5))
    assert versus.relative_pct == pytest.approx(-diff.mean() / glm.mean() * 100)
    assert versus.relative_se_pct == pytest.approx(versus.standard_error / glm.mean() * 100)
    assert versus.improves
    worse = paired.against("scratch", glm + 0.01 * np.arange(5), glm, rows_glm * 1.1, rows_glm)
    assert not worse.improves and worse.relative_pct < 0 and worse.p_value_folds > 0.5
    assert np.isnan(paired.p_less(rows_glm + 0.1, rows_glm))  # differences that do not vary test nothing


def test_a_fold_without_a_finite_score_is_left_out_of_the_pairs():
    glm = np.array([1.0, 1.1, np.nan, 0.9])
    net = np.array([0.9, 1.0, 0.8, 0.85])
    versus = paired.against("at_glm", net, glm, net, glm)
    assert versus.mean_difference == pytest.approx(np.mean([-0.1, -0.1, -0.05]))
    assert versus.p_value_folds == pytest.approx(stats.ttest_rel(net[[0, 1, 3]], glm[[0, 1, 3]], alternative="less").pvalue)


@pytest.mark.runs
def test_a_small_cross_validated_run_writes_its_section(tmp_path, write_config):
    from nnglm.experiment import runner

    path = write_config(
        "name: cv\nseed: 2\ndata: {source: synthetic, generator: balloons, n_rows: 300, target: count, folds: 3}\n"
        "model: {family: gaussian, link: identity, hidden: [8], hidden_start: glm}\n"
        "train: {learning_rate: 0.01, epochs: 200, log_every: 50}\n"
    )
    outcome = runner.run(config.load(path), tmp_path, quiet=True, draw_plots=False)
    section = json.loads((outcome.run_dir / "result.json").read_text())["cross_validation"]
    assert (section["folds"], section["stratified"], section["measure"], section["inner_fraction"]) == (3, False, "deviance", 0.2)
    assert [f["fold"] for f in section["per_fold"]] == [1, 2, 3]
    assert sum(f["n_held_out"] for f in section["per_fold"]) == 300
    assert all(f["n_train"] + f["n_held_out"] == 300 for f in section["per_fold"])
    assert all(
        set(f["deviance"]) == {"glm", "scratch", "at_glm"} and all(v > 0 for v in f["deviance"].values()) for f in section["per_fold"]
    )
    assert [n["model"] for n in section["networks"]] == ["scratch", "at_glm"]
    for n in section["networks"]:
        assert 0 <= n["p_value_folds"] <= 1 and 0 <= n["p_value_rows"] <= 1
        assert n["sentence"].startswith("the network ") and n["sentence"].endswith("in 3 folds")
    assert section["verdict"] and section["fallback"] is None and section["seconds"] > 0
    assert "cross_validation" in outcome.result["timings"]


def test_the_sentences_and_the_verdict():
    from nnglm.experiment import crossval
    from nnglm.log.result import NetworkAgainstGlm

    worse = NetworkAgainstGlm(model="scratch", relative_pct=-1.234, relative_se_pct=0.5, p_value_folds=0.9999, improves=False)
    within = NetworkAgainstGlm(model="at_glm", relative_pct=0.31, relative_se_pct=0.4, p_value_folds=0.25, improves=False)
    better = NetworkAgainstGlm(model="at_glm", relative_pct=2.13, relative_se_pct=0.41, p_value_folds=0.0031, improves=True)
    assert crossval.sentence(worse, 5) == (
        "the network from scratch does not lower the held-out deviance: it raises it by 1.2 % ± 0.5 %, p > 0.999, in 5 folds"
    )
    assert crossval.sentence(within, 5) == (
        "the network started at the GLM lowers the held-out deviance by 0.31 % ± 0.4 %, p = 0.25, in 5 folds: "
        "no evidence of a real improvement"
    )
    assert (
        crossval.sentence(better, 5)
        == "the network started at the GLM improves the held-out deviance by 2.1 % ± 0.41 %, p = 0.0031, in 5 folds"
    )
    assert crossval.verdict([worse, within], 5) == (
        "no evidence that a hidden layer helps here (the network from scratch: deviance +1.2 %, p > 0.999; "
        "the network started at the GLM: deviance -0.31 %, p = 0.25; in 5 folds)"
    )
    better = better.model_copy(update={"sentence": crossval.sentence(better, 5)})
    assert crossval.verdict([worse, better], 5) == better.sentence
    assert crossval.fallback([]) is None
    assert crossval.fallback(["fold 2 (PerfectSeparationError)"]) == (
        "the GLM failed in fold 2 (PerfectSeparationError): the network started at the GLM fell back to the network from scratch there"
    )


@pytest.mark.runs
def test_where_the_glm_fails_in_a_fold_the_network_started_at_it_falls_back(monkeypatch):
    from nnglm.data import table
    from nnglm.experiment import crossval
    from nnglm.model import glm
    from nnglm.train import backends

    raw = {
        "name": "fb",
        "data": {"source": "synthetic", "generator": "glm", "n_rows": 150, "n_features": 2, "coefficients": [0.3, -0.2], "folds": 3},
        "model": {"family": "poisson", "hidden": [4], "hidden_start": "glm"},
        "train": {"epochs": 100, "log_every": 50},
    }
    cfg = config.validate(raw, "fb")
    data = table.load(table.DataSpec.of(cfg))
    fits, fit_glm = [], glm.fit

    def failing_second(rows, family, options):
        fit = fit_glm(rows, family, options)
        fits.append(fit)
        if len(fits) == 2:
            return fit.model_copy(update={"failed": "no fit converged", "coefficients": dict.fromkeys(fit.coefficients, float("nan"))})
        return fit

    monkeypatch.setattr(crossval.glm, "fit", failing_second)
    engine = backends.load(cfg.train.backend, cfg.train.dtype)
    split = folds.assign(data, cfg.data.folds, cfg.seed, cfg.family, cfg.model.use_bias)
    spec, options = NetworkSpec.of(cfg), crossval.glm.GlmOptions.of(cfg)
    section = crossval.run(cfg, data, split, engine, engine.device(cfg.train.device), spec, options)
    assert section.fallback == (
        "the GLM failed in fold 2 (no fit converged): the network started at the GLM fell back to the network from scratch there"
    )
    second = section.per_fold[1].deviance
    assert second["at_glm"] == second["scratch"] and np.isnan(second["glm"])
    assert all(np.isfinite(v) for f in (section.per_fold[0], section.per_fold[2]) for v in f.deviance.values())
    assert [n.sentence.endswith("in 2 folds") for n in section.networks] == [True, True]  # the failed fold is left out of the pairs


def test_a_sweep_of_cross_validated_points_shows_their_cv():
    from nnglm.experiment import sweep
    from nnglm.experiment.point import PointOutcome, PointStatus

    done = [
        PointOutcome({"data.folds": k}, PointStatus.COMPLETED, run_dir=f"o/n/r{k}", cross_validation=cv)
        for k, cv in ((3, "no gain"), (5, "dev -2.1% p=0.003"))
    ]
    table = sweep.table(done)
    assert [c.header for c in table.columns] == ["data.folds", "status", "steps", "max rel diff", "max abs diff", "verdict", "cv", "run"]
    assert [str(c) for c in table.columns[6].cells] == ["no gain", "dev -2.1% p=0.003"]
    plain = sweep.table([PointOutcome({"seed": 1}, PointStatus.COMPLETED)])
    assert "cv" not in [c.header for c in plain.columns]
