"""The NumPy reference by default: run, except for a float32 run past REFERENCE_CELLS design cells,
where its float64 steps cost more than the network's training (Benchmarks); compare.reference says
otherwise when set."""

import pytest
from support import load

from nnglm.experiment import runner
from nnglm.train import reference as numpy_reference


@pytest.mark.runs
@pytest.mark.parametrize(
    "dtype, reference, runs",
    [("float32", None, False), ("float64", None, True), ("float32", True, True), ("float64", False, False)],
)
def test_the_reference_runs_by_default_except_for_large_float32_runs(tmp_path, monkeypatch, dtype, reference, runs):
    monkeypatch.setattr(numpy_reference, "REFERENCE_CELLS", 1000)  # seed 002: 1000 rows x 10 coefficients
    overrides = [f"train.dtype={dtype}", "train.epochs=20"] + ([] if reference is None else [f"compare.reference={str(reference).lower()}"])
    section = runner.run(load("seed002_logistic_no_bias", *overrides), tmp_path, quiet=True).record.reference
    assert section is not None and (section.skipped is None) == runs
    if reference is None and not runs:
        assert section.skipped == (
            "off by default for a float32 run of more than 1,000 design cells (10,000 here), where its float64 NumPy steps "
            "cost more than the network's training; compare.reference: true runs it"
        )
