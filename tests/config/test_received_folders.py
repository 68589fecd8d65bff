"""A received run folder is untrusted: its config reads data only from inside the folder (or from a file named on
the command line), and no file of it is read through a link out of it (config.received, safe.inside)."""

import os

import pandas as pd
import pytest
from support import bounded_nnglm, hand_run

from nnglm import cli

ENVIRON = "name: t\nmodel: {family: binomial}\ndata: {source: file, path: /proc/self/environ, delimiter: '=', target: y}\n"


def drawable(folder):
    """The files `nnglm report` draws from, for a binomial run of two features."""
    header = "term,network,network_bse,z,p,ci_low,ci_high,glm,glm_bse,diff,reference\n"
    rows = "".join(f"{t},{v},0.1,1,0.3,0,2,{v},0.1,0,\n" for t, v in (("const", 1), ("x1", 2), ("x2", 3)))
    (folder / "coefficients.csv").write_text(header + rows)
    (folder / "history.csv").write_text("step,loss,max_abs_diff_to_glm\n1,0.5,0.1\n")
    (folder / "trajectory.csv").write_text("step,const,x1,x2\n1,1,2,3\n")


@pytest.mark.runs
def test_report_of_a_received_folder_reads_no_file_outside_it(tmp_path):
    data = {"n_rows": 4, "n_features": 2, "feature_names": ["x1", "x2"], "target": "y"}
    folder = hand_run(tmp_path / "log", data=data, sweep_point={"train.epochs": 5})
    drawable(folder)
    (folder / "config.yaml").write_text(ENVIRON)
    env = dict(os.environ, NNGLM_SECRET_TOKEN="s3cr3t-t0ken-value")
    code, out, err = bounded_nnglm("report", folder, seconds=120, env=env)
    assert code == 0, err
    assert "NNGLM_SECRET_TOKEN" not in out + err and "s3cr3t" not in out + err
    assert (folder / "loss.png").exists() and not (folder / "lines.png").exists()  # the data's picture left out


def test_a_config_linked_out_of_its_run_folder_is_refused(tmp_path, cli_error):
    folder = hand_run(tmp_path / "log")
    drawable(folder)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("name: t\ndata: {source: synthetic, generator: four_points}\n")
    (folder / "config.yaml").symlink_to(elsewhere)
    message = cli_error("report", str(folder))
    assert message == (
        f"{folder / 'config.yaml'}: config.yaml is a link out of its run folder; a run folder's files are read from inside it"
    )
    assert cli_error("validate", str(folder / "config.yaml")) == message


def test_a_received_config_reads_its_data_only_from_inside_unless_named_on_the_command_line(tmp_path, capsys, monkeypatch, cli_error):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"x": [0.1, 0.5, 0.9, 1.3, 1.7, 2.1], "y": [0, 1, 0, 1, 1, 1]}).to_csv("d.csv", index=False)
    folder = hand_run(tmp_path / "log")
    (folder / "config.yaml").write_text("name: t\nmodel: {family: binomial}\ndata: {source: file, path: d.csv, target: y}\n")
    assert cli_error("validate", str(folder / "config.yaml")) == (
        f"{folder}: its config's data.path 'd.csv' lies outside the run folder; a run folder's config reads data "
        "only from inside its folder: name the data on the command line (--set data.path=FILE)"
    )
    assert cli.main(["validate", str(folder / "config.yaml"), "--set", "data.path=d.csv"]) == 0
    (folder / "d.csv").write_bytes((tmp_path / "d.csv").read_bytes())  # the file of that name inside the folder is read
    monkeypatch.chdir(tmp_path / "log")  # from anywhere
    assert cli.main(["validate", str(folder / "config.yaml")]) == 0
    assert "6 rows" in capsys.readouterr().out


def test_a_link_inside_the_folder_that_leads_out_is_not_its_data(tmp_path, cli_error):
    folder = hand_run(tmp_path / "log")
    (tmp_path / "secret.csv").write_text("TOKEN,y\n1,0\n")
    (folder / "d.csv").symlink_to(tmp_path / "secret.csv")
    (folder / "config.yaml").write_text(f"name: t\ndata: {{source: file, path: {folder / 'd.csv'}, target: y}}\n")
    message = cli_error("validate", str(folder / "config.yaml"))
    assert "lies outside the run folder" in message and "TOKEN" not in message


def test_a_fifo_named_as_data_inside_a_received_folder_is_called_a_fifo(tmp_path, cli_error):
    import os

    folder = hand_run(tmp_path / "log")
    os.mkfifo(folder / "d.csv")
    (folder / "config.yaml").write_text(f"name: t\ndata: {{source: file, path: {folder / 'd.csv'}, target: y}}\n")
    assert cli_error("validate", str(folder / "config.yaml")) == (
        f"{folder}: its config's data.path '{folder / 'd.csv'}' is a FIFO in the run folder, not a plain file"
    )
