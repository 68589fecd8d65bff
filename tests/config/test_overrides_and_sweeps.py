"""--set and sweeps: a comma in --set is literal, the command line wins over the file's sweep, a sweep is bounded
(config.overrides)."""

import pytest
from support import FOUR

from nnglm import config
from nnglm.foundation.errors import UserError


def test_a_comma_in_set_is_literal_and_a_sweep_says_so(write_config, cli_error, run_cli, tmp_path):
    csv_path = tmp_path / "a,b.csv"
    csv_path.write_text("x,y\n1,0\n2,1\n3,0\n4,1\n")
    path = write_config("name: t\ndata: {source: csv, path: nowhere.csv, target: y}\n")
    assert run_cli("validate", path, "--set", f"data.path={csv_path}")[0] == 0
    (point, cfg), *rest = config.expand(path, [f"data.path={csv_path}", "train.learning_rate=sweep:0.1,0.2", r"description=sweep:a\,b,c"])
    assert len(rest) == 3 and point == {"train.learning_rate": 0.1, "description": "a,b"}
    assert cfg.data.path == str(csv_path)
    message = cli_error("validate", path, "--set", "train.learning_rate=0.1,0.2")
    assert message.splitlines()[-1] == (
        f"{path} (with --set train.learning_rate=0.1,0.2): note: a --set value is never split at commas; a sweep is written KEY=sweep:V1,V2"
    )
    assert cli_error("validate", path, "--set", "train.epochs=sweep:") == (
        "--set 'train.epochs=sweep:': a sweep lists values after 'sweep:' separated by commas, e.g. train.epochs=sweep:1000,5000"
    )


def test_the_command_line_wins_over_the_files_sweep_and_sweeps_are_bounded(write_config):
    path = write_config(FOUR + "sweep: {train.learning_rate: [0.1, 0.2]}\n")
    ((point, cfg),) = config.expand(path, ["train.learning_rate=0.5"])
    assert point == {} and cfg.train.learning_rate == 0.5
    big = write_config(FOUR + "sweep: {" + ", ".join(f"data.p{i}: [1, 2, 3, 4]" for i in range(6)) + "}\n", "big.yaml")
    with pytest.raises(UserError) as e:
        config.expand(big)
    assert str(e.value) == f"{big}: sweep: 4 x 4 x 4 x 4 x 4 x 4 = 4096 points; at most 1000 in one sweep (split it)"
    with pytest.raises(UserError) as e:
        config.expand(path, ["train..epochs=5"])
    assert str(e.value) == "--set 'train..epochs=5': 'train..epochs' is not a dotted key such as train.epochs"
