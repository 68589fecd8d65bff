"""Names and values from files reach the terminal escaped, through every command, and a bug's traceback too (show,
cli)."""

import os

import pytest
from support import CLEAR, ESC, TITLE, bounded_nnglm, hand_run

from nnglm import cli


def test_names_and_values_reach_the_terminal_escaped(tmp_path, cli_error, run_cli):
    log = tmp_path / "log"
    hand_run(log, name="t", run_id=f"20260101-000000-{CLEAR}x", environment={"device": f"{TITLE}[/x] [bold]", "dtype": "float64"})
    hand_run(log, name="t", run_id="20260101-000000-\u202eevil")  # a right-to-left override reverses what follows
    code, out, _ = run_cli("runs", log)
    assert code == 0 and ESC not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "\\x1b]0;pwned\\x07[/x] [bold]" in out and "\\u202eevil" in out
    message = cli_error("report", log / "t" / f"nothing{CLEAR}")
    assert message == f"{log}/t/nothing\\x1b[2J: no such run folder"


def test_validate_lists_a_header_escaped(tmp_path, run_cli):
    data = tmp_path / "d.csv"
    data.write_text(f"a{CLEAR},b\u202e,y\n1,2,0\n2,1,1\n3,3,0\n4,1,1\n5,2,1\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: t\ndata: {{source: csv, path: {data}, target: y}}\ntrain: {{epochs: 5}}\n")
    code, out, err = run_cli("validate", cfg)
    assert code == 0, err
    assert ESC not in out and "\u202e" not in out and "a\\x1b[2J" in out and "b\\u202e" in out


@pytest.mark.runs
def test_a_header_with_escapes_and_markup_leaves_the_home_untouched(tmp_path):
    """One real run in a child process with an empty home: the summary shows the header escaped and its
    markup as written (it crashed with exit 3), and nothing is written into the home (keras.json, font cache)."""
    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "d.csv"
    data.write_text(f'a{CLEAR}{TITLE},[/x] [bold]b,"new\nline",y\n1,2,1,0\n2,1,3,1\n3,3,2,0\n4,1,1,1\n5,2,2,1\n1,3,3,0\n')
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"name: t\ndata: {{source: csv, path: {data}, target: y}}\ntrain: {{epochs: 5}}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "MPLCONFIGDIR")} | {"HOME": str(home)}
    code, out, err = bounded_nnglm("run", cfg, "--out", tmp_path / "runs", seconds=300, env=env)
    assert code == 0, err
    assert ESC not in out + err and "\x07" not in out + err
    assert "a\\x1b[2J" in out and "[/x] [bold]b" in out and "new\\nline" in out
    assert list(home.iterdir()) == []


def test_a_bugs_traceback_is_escaped(capsys):
    try:
        raise ValueError(f"column {CLEAR}")  # str(), not repr(): the escape as it is
    except ValueError as e:
        cli.escaped_traceback(type(e), e, e.__traceback__)
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n") and ESC not in err
    assert err.endswith("ValueError: column \\x1b[2J\n")
