"""Data that cannot be fitted is one message at validate, before a run: the target, the path, the columns, the
memory, float32's range, offsets and weights (data.checks)."""

from support import FOUR, load

from nnglm.data import checks, table
from nnglm.model import glm


def csv_config(write_config, text, extra=""):
    path = write_config(text, "d.csv")
    return write_config(f"name: t\ndata: {{source: csv, path: {path}, target: y{extra}}}\ntrain: {{epochs: 5}}\n"), path


def test_validate_reads_the_data(write_config, cli_error, run_cli):
    path, csv_path = csv_config(write_config, "a,y\n1,0\n2,5\n3,1\n")
    assert cli_error("validate", path) == (
        f"{path}: data.target: column 'y' must be 0 or 1 for family binomial; first offending rows (0-based): 1 (5); "
        "model.family is not set, so nnglm assumed binomial, its default (R's glm assumes gaussian): set model.family: "
        'poisson (or quasipoisson, negative_binomial) for counts like these, or gaussian (as R writes it too, e.g. poisson(link = "log"))'
    )
    sweep = write_config(
        f"name: t\ndata: {{source: csv, path: {csv_path}, target: y}}\nsweep: {{model.family: [gaussian, binomial]}}\n", "s.yaml"
    )
    assert cli_error("validate", sweep).startswith(f"{sweep}: sweep point model.family=binomial: data.target: column 'y' must be 0 or 1")
    good = write_config(FOUR, "good.yaml")
    assert run_cli("validate", good)[1] == f"{good}: valid (binomial/logit, 5 steps, float32; 4 rows, 2 features)\n  features: 'x1', 'x2'\n"


def test_data_path_that_is_a_folder_a_device_or_not_utf8(write_config, tmp_path, cli_error):
    path = write_config(FOUR)
    assert cli_error("validate", path, "--set", f"data={{source: csv, path: {tmp_path}, target: y}}") == (
        f"{path}: data.path: {tmp_path} is a folder; give a data file"
    )
    assert cli_error("validate", path, "--set", "data={source: csv, path: /dev/zero, target: y}") == (
        f"{path}: data.path: /dev/zero is a device, not a regular file; nnglm reads data files only"
    )
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"caf\xe9,y\n1,0\n")
    assert cli_error("validate", path, "--set", f"data={{source: csv, path: {latin}, target: y}}") == (
        f"{path}: data.path: {latin} is not UTF-8 text (byte 0xe9 in its first lines); save it as UTF-8"
    )


def test_columns_twice_and_headers_with_spaces(write_config, cli_error):
    path, csv_path = csv_config(write_config, "a,b,a,y\n1,2,3,0\n2,3,1,1\n3,1,2,0\n4,4,4,1\n5,1,1,0\n")
    assert cli_error("validate", path) == (
        f"{path}: data.path: column 'a' appears twice in the header of {csv_path} (columns 1 and 3); rename one"
    )
    path, csv_path = csv_config(write_config, "a, b,y\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n", ", features: [a, b]")
    assert cli_error("validate", path) == (
        f"{path}: data.features: column 'b' not in {csv_path}; did you mean ' b' (with a space)?; columns are: 'a', ' b', 'y'"
    )
    path = write_config(FOUR)
    assert (
        cli_error("validate", path, "--set", "data.features=[x1, x1]") == f"{path}: data.features: 'x1' listed twice; name each column once"
    )


def test_a_file_of_more_columns_than_a_glm_can_hold_is_refused_at_its_header(tmp_path, cli_error, monkeypatch):
    monkeypatch.chdir(tmp_path)
    columns = ["y"] + [f"x{i}" for i in range(10_000)]
    (tmp_path / "wide.csv").write_text(",".join(columns) + "\n" + ",".join(["1"] * len(columns)) + "\n")
    (tmp_path / "w.yaml").write_text("name: w\ndata: {source: file, path: wide.csv, target: y}\n")
    assert cli_error("validate", "w.yaml") == (
        "w.yaml: data.path: wide.csv has 10,001 columns; nnglm reads at most 10,000 "
        "(a GLM of that many coefficients is past what its fit can hold): keep the columns you fit"
    )


def test_data_that_cannot_fit_in_memory_is_refused_before_it_is_made(write_config, cli_error):
    path = write_config(FOUR)
    message = cli_error("validate", path, "--set", "data={source: synthetic, generator: gaussian_bernoulli, n_rows: 10000000000}")
    assert message.startswith(f"{path}: data.n_rows: 10,000,000,000 rows x 12 columns need about 8,046.6 GiB for one run")
    assert message.endswith(f"this machine has {checks.available_memory() / 2**30:.1f} GiB available")
    # a categorical column with more levels than rows is refused before it is dummy-coded
    path, csv_path = csv_config(write_config, "g,x,y\n" + "".join(f"L{i},{i},{i % 2}\n" for i in range(50)), ", categorical: [g]")
    assert cli_error("validate", path) == f"{path}: data: 50 rows from {csv_path}, fewer than the 51 coefficients to estimate"


def test_float32_overflow_is_a_data_error_not_rank_deficiency(write_config, cli_error, tmp_path):
    rows = "".join(f"{i}e38,{(i * 7) % 5},{i % 2}\n" for i in range(1, 21))
    path, csv_path = csv_config(write_config, "a,b,y\n" + rows)
    assert cli_error("validate", path) == (
        f"{path}: data: column 'a' of {csv_path} holds 2e+39 in magnitude, beyond float32's largest number (3.4e+38), "
        "which the network trains in; set train.dtype: float64, train.standardize: true (features only) or rescale the column"
    )
    ds = table.load(table.DataSpec.of(load(path, "train.dtype=float64")))
    assert glm.aliased_columns(glm.design(ds, True), ["const", "a", "b"]) == []  # the scale of a column is no aliasing


def test_checks_that_need_the_data(write_config, cli_error, tmp_path, monkeypatch):
    def message(csv_text, data_keys, model="{family: poisson}", train="{epochs: 5}"):
        data = tmp_path / "d.csv"
        data.write_text(csv_text)
        path = write_config(f"name: t\ndata: {{source: csv, path: {data}, {data_keys}}}\nmodel: {model}\ntrain: {train}\n")
        return cli_error("validate", path).removeprefix(f"{path}: ")

    rows = "x,y,o,e,w\n1,0,-1e5,1e-300,.25\n2,1,0,1,.25\n3,0,0,1,.25\n4,1,0,1,.25\n5,1,0,1e-320,0\n"
    assert message(rows, 'formula: "y ~ 0"', "{use_bias: false}") == (
        "data.formula: 'y ~ 0' leaves no terms, and the model has no intercept: there is nothing to fit"
    )
    assert message("x,y\n1,0\n2,1e308\n3,0\n4,1\n5,1\n", "target: y", "{family: gaussian}", "{epochs: 5, dtype: float64}") == (
        "data.target: column 'y' holds 1e+308 in magnitude; beyond 6e+153 the loss, which sums its square over 5 rows, "
        "is infinite in float64 (largest number 1.8e+308); rescale the column"
    )
    assert message(rows, "target: y, features: [x], offset: o") == (
        "data.offset: column 'o': the offset at row 0 (-1e+05) is beyond ±88.72, where the log link's mean exp(offset) is 0 "
        "in float32; rescale the column, or set train.dtype: float64"
    )
    assert message(rows, "target: y, features: [x], exposure: e") == (
        "data.exposure: column 'e' holds 1e-320 at row 4, whose log (-736.8) is beyond ±88.72, where the log link's mean "
        "exp(offset) is 0 in float32; rescale the column, or set train.dtype: float64"
    )
    assert message(rows.replace("1e-320", "1"), "target: y, features: [x], exposure: e") == (
        "data.exposure: column 'e' holds 1e-300 at row 0, whose log (-690.8) is beyond ±88.72, where the log link's mean "
        "exp(offset) is 0 in float32; rescale the column, or set train.dtype: float64"
    )
    assert message(rows.replace("1e-300", "1"), "target: y, features: [x], exposure: e", train="{epochs: 5, dtype: float64}") == (
        "data.exposure: column 'e' holds 1e-320 at row 4, whose log (-736.8) is beyond ±709.8, where the log link's mean "
        "exp(offset) is 0 in float64; rescale the column"
    )
    assert message(rows, "target: y, features: [x], weights: w, weights_kind: freq", "{family: binomial}") == (
        "data.weights: frequency weights (column 'w') sum to 1 observations, no more than the 2 coefficients to estimate: no "
        "degrees of freedom are left for the standard errors; for weights that are not counts, set data.weights_kind: var"
    )
    huge = "x,y\n1e200,0\n-1e200,1\n3,0\n4,1\n5,1\n"  # its square overflows the information matrix (a LinAlgError, exit 3)
    assert message(huge, "target: y", "{family: binomial}", "{epochs: 5, dtype: float64}") == (
        "data: column 'x' holds 1e+200 in magnitude; beyond 6e+153 the GLM's information matrix, which sums its squares over "
        "5 rows, is infinite in float64; rescale the column"
    )
    monkeypatch.setattr("nnglm.data.checks.available_memory", lambda: 2**30)
    assert message(rows, "target: y, validation_fraction: 0.4", "{family: binomial, hidden: [2000000000]}") == (
        "model.hidden: widths [2000000000] on 5 rows need about 581.1 GiB (12,000,000,001 weights); this machine has 1.0 GiB available"
    )
