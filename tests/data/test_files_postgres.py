"""data.url against a real server: PostgreSQL from the system's packages (make postgres), a cluster of
its own started in a temporary folder for this module and stopped after it. It listens on a Unix socket
in that folder only (no TCP port), so nothing outside the test can reach it. Skipped, saying why, where
PostgreSQL or its driver is not installed."""

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import statsmodels.api as sm
from support import ROOT

from nnglm import config
from nnglm.data import table
from nnglm.foundation.errors import UserError

PG_CTL = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
PORT = 5433


def skip_reason() -> str | None:
    if not PG_CTL:
        return "PostgreSQL is not installed (make postgres installs it from the system's packages)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the PostgreSQL driver psycopg is not installed (make install installs the test extra)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "PostgreSQL refuses to run as root, and runuser is not here to run it as its own user"
    return None


pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


def as_server_user(*args: str) -> list[str]:
    """PostgreSQL refuses to run as root: as root, its commands run as the user its package made."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@pytest.fixture(scope="module")
def server():
    bin_dir = Path(PG_CTL[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="nnglm-pg-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(
        as_server_user(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"), check=True, capture_output=True
    )
    options = f"-k {folder} -p {PORT} -c listen_addresses=''"
    start = as_server_user(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "-t", "60", "start")
    subprocess.run(start, check=True, capture_output=True)
    try:
        import psycopg

        with psycopg.connect(host=str(folder), port=PORT, user="postgres", dbname="postgres", autocommit=True) as con:
            con.execute("CREATE DATABASE survey")
        import sqlalchemy

        writer = sqlalchemy.create_engine(f"postgresql+psycopg://postgres@/survey?host={folder}&port={PORT}")
        import pyreadr

        warpbreaks = pyreadr.read_r(ROOT / "data" / "r" / "warpbreaks.rds")[None]
        with writer.begin() as con:
            warpbreaks.astype({"wool": str, "tension": str}).to_sql("warpbreaks", con, index=False)
            con.exec_driver_sql("CREATE SEQUENCE counter")
        writer.dispose()
        yield folder
    finally:
        subprocess.run(as_server_user(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def url(folder, password="s3cret-pw", database="survey"):
    return f"postgresql+psycopg://postgres:{password}@/{database}?host={folder}&port={PORT}"


def load(**keys):
    raw = {"name": "t", "data": {"source": "file", "target": "breaks", **keys}, "model": {"family": "poisson"}}
    return table.load(table.DataSpec.of(config.validate(raw, "c.yaml")))


def error(**keys):
    with pytest.raises(UserError) as e:
        load(**keys)
    return str(e.value)


@pytest.mark.runs
def test_a_table_and_a_query_from_a_server_fit_as_r_does(server):
    ds = load(url=url(server), table="warpbreaks")
    assert ds.read_as == "a database, table 'warpbreaks'"
    fit = sm.GLM(ds.y, sm.add_constant(ds.X), family=sm.families.Poisson()).fit()
    assert (round(fit.deviance, 5), int(fit.df_resid)) == (210.39189, 50)  # R: 210.39189 on 50 df
    assert load(url=url(server), query="SELECT breaks, wool FROM warpbreaks WHERE tension = 'L'").n_rows == 18


@pytest.mark.runs
def test_the_server_reads_in_a_read_only_transaction(server):
    """A SELECT that writes through a function passes the parser; the server's read-only transaction refuses it."""
    message = error(url=url(server), query="SELECT nextval('counter') AS breaks")
    assert message.startswith(
        f"data.query: cannot read postgresql+psycopg://postgres:***@/survey?host={quote(str(server), safe='')}&port={PORT} (a database): "
    )
    assert "read-only transaction" in message and "s3cret" not in message
    import psycopg

    with psycopg.connect(host=str(server), port=PORT, user="postgres", dbname="survey") as con:
        assert con.execute("SELECT is_called FROM counter").fetchone() == (False,)  # never advanced


@pytest.mark.runs
def test_a_missing_table_or_database_and_a_server_that_is_not_there(server):
    shown = f"postgresql+psycopg://postgres:***@/survey?host={quote(str(server), safe='')}&port={PORT}"
    assert error(url=url(server), table="nope") == f"data.table: {shown} has no table 'nope'; its tables: 'warpbreaks'"
    message = error(url=url(server, database="nowhere"), table="t")
    assert message.startswith("data.url: cannot connect to postgresql+psycopg://postgres:***@/nowhere") and "s3cret" not in message
    empty = Path(tempfile.mkdtemp(prefix="nnglm-nopg-"))
    started = time.monotonic()
    message = error(url=url(empty), table="t")
    assert time.monotonic() - started < 20
    assert message.startswith(
        f"data.url: cannot connect to postgresql+psycopg://postgres:***@/survey?host={quote(str(empty), safe='')}&port={PORT}: "
    )
    empty.rmdir()


@pytest.mark.runs
def test_the_written_config_keeps_the_url_without_its_password(server):
    validated = config.validate(
        {"name": "t", "data": {"source": "file", "url": url(server), "table": "warpbreaks", "target": "breaks"}}, "c.yaml"
    )
    assert validated.to_dict()["data"]["url"] == f"postgresql+psycopg://postgres@/survey?host={quote(str(server), safe='')}&port={PORT}"
    assert load(url=url(server).replace(":s3cret-pw", ""), table="warpbreaks").n_rows == 54  # the server trusts its socket
