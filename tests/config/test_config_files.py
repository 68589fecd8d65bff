"""A config file nnglm cannot read is one message: its encoding, its size, YAML bombs, keys given twice or not
text, numbers past what Python reads, NUL bytes and lone surrogates, FIFOs and devices (config.reading)."""

import os

import pytest
from support import FOUR, bounded_nnglm, hand_run

from nnglm import cli, config
from nnglm.log import logbook


def test_config_that_is_not_utf8_or_is_utf16(write_config, tmp_path, cli_error, run_cli):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: t\ndescription: caf\xe9\n")
    assert cli_error("validate", latin) == f"{latin}: not UTF-8 text: byte 0xe9 at line 2; save the file as UTF-8"
    utf16 = tmp_path / "u16.yaml"
    utf16.write_bytes(FOUR.encode("utf-16"))
    assert cli_error("validate", utf16) == f"{utf16}: is UTF-16 text; save it as UTF-8"
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + FOUR.encode())  # as some editors save UTF-8: accepted
    assert run_cli("validate", bom)[0] == 0


def test_utf32_and_long_paths(tmp_path, cli_error):
    utf32 = tmp_path / "u32.yaml"
    utf32.write_bytes(FOUR.encode("utf-32"))
    assert cli_error("validate", utf32) == f"{utf32}: is UTF-32 text; save it as UTF-8"
    long = tmp_path / ("d" * 250) / ("e" * 250) / "c.yaml"
    long.parent.mkdir(parents=True)
    long.write_text(FOUR + "seed: -1\n")
    message = cli_error("validate", long)
    assert len(message) < 300 and message.endswith("…: seed: Input should be greater than or equal to 0 (got -1)")


def test_config_size_nesting_and_alias_bombs_are_bounded(write_config, cli_error):
    lines = ["name: t", "data: {source: synthetic, generator: four_points}", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]  # 9^10 values when expanded
    bomb = write_config("\n".join(lines) + "\n", "bomb.yaml")
    expected = (
        f"{bomb}: more than 100,000 values once its YAML aliases are expanded "
        "(aliases nested in aliases, or a node that contains itself); a config has a few dozen"
    )
    assert cli_error("validate", bomb) == expected
    cycle = write_config("name: t\nx: &x [*x]\n", "cycle.yaml")
    assert cli_error("validate", cycle).startswith(f"{cycle}: more than 100,000 values")
    deep = write_config("name: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")
    assert cli_error("validate", deep) == f"{deep}: YAML nested too deeply; a config is a few levels deep"
    big = write_config("name: t\n" + "#" * 2_000_000 + "\n", "big.yaml")
    assert cli_error("validate", big) == f"{big}: more than 1,000,000 bytes; a config is a few kilobytes of YAML"
    folder = bomb.parent
    assert cli_error("validate", folder) == f"{folder}: is a folder; give a YAML config file"


def test_a_key_given_twice_is_an_error_not_the_last_one(write_config, cli_error):
    path = write_config(FOUR + "train: {epochs: 50}\n")
    assert cli_error("validate", path) == (
        f"{path}: malformed YAML at line 4, column 1: key 'train' given twice in one mapping (first at line 3)"
    )


def test_keys_that_are_not_text(write_config, cli_error):
    sweep = write_config(FOUR + "sweep: {1: [2, 3]}\n")
    assert cli_error("validate", sweep) == (
        f"{sweep}: sweep: must map dotted keys to non-empty lists of values, e.g. train.learning_rate: [0.001, 0.01] (got the key 1, not text)"
    )
    top = write_config(FOUR + "yes: 1\n", "top.yaml")
    assert cli_error("validate", top) == f"{top}: the top level: the key True is not a name; keys are text, such as train.epochs (quote it)"


def test_integers_past_the_digit_limit(write_config, cli_error, tmp_path):
    decimal = write_config(FOUR + "seed: " + "1" * 5000 + "\n", "decimal.yaml")
    assert (
        cli_error("validate", decimal)
        == f"{decimal}: malformed YAML at line 4, column 7: 'seed': a number of more than 4300 digits, past what Python reads; no key takes one"
    )
    hexadecimal = write_config(FOUR + "seed: 0x" + "f" * 5000 + "\n", "hex.yaml")  # read without the limit, shown with it
    assert (
        cli_error("validate", hexadecimal) == f"{hexadecimal}: seed: an integer of about 6,021 digits; no key takes an integer past 2**63"
    )
    plain = write_config(FOUR)
    message = cli_error("validate", plain, "--set", "seed=" + "9" * 5000)
    assert message.endswith(": a number of more than 4300 digits, past what Python reads; no key takes one")
    message = cli_error("validate", plain, "--set", "seed=sweep:1,0x" + "f" * 4000)
    assert message.endswith(
        "sweep point seed=an integer of about 4,817 digits: seed: an integer of about 4,817 digits; no key takes an integer past 2**63"
    )
    folder = hand_run(tmp_path / "log")
    text = (folder / "result.json").read_text().replace('"epochs_run": 7', '"epochs_run": ' + "7" * 5000)
    (folder / "result.json").write_text(text)
    assert logbook.read(folder).problem == "unreadable result.json (a number of more than 4300 digits)"
    assert cli_error("export", folder, "--mlflow", f"sqlite:///{tmp_path}/m.db") == (
        f"{folder}: cannot export it: unreadable result.json (a number of more than 4300 digits)"
    )


def test_a_yaml_integer_past_what_python_reads_names_its_key(tmp_path, cli_error, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.yaml").write_text("name: t\ndata: {source: synthetic, generator: four_points}\ntrain:\n  epochs: " + "9" * 5000 + "\n")
    assert cli_error("validate", "big.yaml") == (
        "big.yaml: malformed YAML at line 4, column 11: 'epochs': a number of more than 4300 digits, past what Python reads; no key takes one"
    )


def test_nul_bytes_and_lone_surrogates(write_config, capsys, tmp_path, cli_error):
    nul = write_config('name: t\ndata: {source: csv, path: "d\\0.csv", target: y}\n')
    assert cli_error("validate", nul) == f"{nul}: data.path: holds a NUL byte (\\x00) at character 1; no text in a config may"
    assert cli.main(["validate", "c\x00.yaml"]) == 2  # through the Python API: a shell cannot pass a NUL
    assert capsys.readouterr().err == "error: an argument holds a NUL byte, which no path or value can\n"
    surrogate = write_config(FOUR + 'description: "caf\\ud800"\n', "s.yaml")
    assert cli_error("validate", surrogate) == (
        f"{surrogate}: description: holds '\\ud800', half of a UTF-16 surrogate pair, which UTF-8 cannot write; write the character itself"
    )
    folder = hand_run(tmp_path / "log", error="caf\\ud800")
    (folder / "result.json").write_text((folder / "result.json").read_text().replace("caf\\\\ud800", "caf\\ud800"))
    assert logbook.read(folder).problem == "result.json holds a lone surrogate (\\ud800 to \\udfff), which is no character"


def test_config_unfit_values_are_found_anywhere():
    assert config.unfit_value({"a": [{"b": "x\x00"}]}) == "a.b: holds a NUL byte (\\x00) at character 1; no text in a config may"
    assert config.unfit_value({"a": {"b": 2**70}}) == "a.b: an integer of about 22 digits; no key takes an integer past 2**63"
    assert config.unfit_value({"a": [1, "ok", {"c": 2**62}]}) is None


@pytest.mark.runs
def test_a_config_that_is_a_fifo_or_a_device(tmp_path):
    fifo = tmp_path / "c.yaml"
    os.mkfifo(fifo)
    assert bounded_nnglm("validate", fifo, seconds=30)[2] == f"error: {fifo}: a FIFO, not a plain file; give a YAML config file\n"
    assert bounded_nnglm("run", "/dev/zero", seconds=30)[2] == "error: /dev/zero: a device, not a plain file; give a YAML config file\n"
