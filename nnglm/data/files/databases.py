"""Databases, read and never written: an SQLite file (data.path) or a database at an SQLAlchemy URL
(data.url), a table (data.table) or one SELECT (data.query), through SQLAlchemy and pandas' read_sql.

Three locks, each enough alone for SQLite: the query is parsed (sqlparse) and anything but one SELECT
is refused before a connection is made; an SQLite file is opened read-only (the sqlite3 URI mode=ro),
and an authorizer lets its statements only read (SQLite refuses anything else while preparing it,
before it runs); a server database reads in a read-only transaction where the dialect has one
(PostgreSQL, MySQL), and every transaction is rolled back. A password in a URL never appears in a
message (URLs are shown with it hidden) and is dropped from the config a run writes (schema.py).
"""

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from nnglm.data.files.base import Table, available_memory
from nnglm.data.files.text import check_columns
from nnglm.foundation.errors import UserError, reason, short
from nnglm.vocabulary import urls

CONNECT_SECONDS = 15  # how long a server may take to answer before nnglm gives up on it
PROGRESS_STEPS = 100_000  # SQLite's virtual machine steps between two calls of its progress handler (a few ms)
CHUNK_ROWS = 100_000  # rows fetched at a time, each chunk counted before the next is read
MAX_ROWS = 50_000_000  # the most rows read from a database (a table or a query); past it the read stops, refused
FEWER = "select fewer rows (WHERE, LIMIT) or aggregate them in the query (GROUP BY), or fit a sample of them"
# SQLite's actions a SELECT needs: read a table's column, run a function, the SELECT itself, a recursive CTE
READ_ONLY = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
# the pragmas SQLAlchemy reads on its own (the isolation level, a table's columns), each read, never set
PRAGMAS_READ = {"read_uncommitted", "table_info", "table_xinfo", "index_list", "foreign_key_list"}


# --- connections ---


def _sqlite_read_only(path: str) -> sqlite3.Connection:
    """An SQLite file opened read-only; its statements may only read."""
    # mode=ro alone still makes a -wal and a -shm file beside a database in WAL mode, and leaves them;
    # immutable=1 makes none. Where a -wal file is already there a writer has the database open (or
    # crashed), and its pages must be read: then mode=ro alone, which writes nothing new
    unchanging = "&immutable=1" if not Path(f"{path}-wal").exists() else ""
    uri = Path(path).resolve().as_uri() + "?mode=ro" + unchanging
    connection = sqlite3.connect(uri, uri=True, timeout=CONNECT_SECONDS, check_same_thread=False)
    connection.set_authorizer(_authorize)
    # SQLite runs a statement in C, where Python's signal handlers wait: this handler, called every
    # PROGRESS_STEPS of its virtual machine's steps, lets them run, and a Ctrl-C's KeyboardInterrupt ends the
    # statement ('interrupted', which _read says as the KeyboardInterrupt it was)
    connection.set_progress_handler(_progress, PROGRESS_STEPS)
    return connection


def _progress() -> int:
    return 0  # go on; a signal's handler that raises (KeyboardInterrupt) runs as this is called, and stops it


def _authorize(action: int, first: str | None, second: str | None, *_: Any) -> int:
    reading_a_pragma = action == sqlite3.SQLITE_PRAGMA and first in PRAGMAS_READ and second is None
    return sqlite3.SQLITE_OK if action in READ_ONLY or reading_a_pragma else sqlite3.SQLITE_DENY


def _engine(url: Any, sqlite_path: str | None) -> Any:
    import sqlalchemy

    if sqlite_path is not None:
        return sqlalchemy.create_engine("sqlite://", creator=lambda: _sqlite_read_only(sqlite_path), poolclass=sqlalchemy.pool.NullPool)
    timeouts = {"postgresql": "connect_timeout", "mysql": "connect_timeout", "mariadb": "connect_timeout"}
    arg = timeouts.get(url.get_backend_name())
    return sqlalchemy.create_engine(url, connect_args={arg: CONNECT_SECONDS} if arg else {}, poolclass=sqlalchemy.pool.NullPool)


def _connect(engine: Any, key: str, shown: str, secrets: list[str]) -> Any:
    """A connection, or one message within CONNECT_SECONDS; a driver that ignores its timeout is left behind."""
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["connection"] = engine.connect()
        except Exception as e:  # noqa: BLE001 (every driver's own error, said once below)
            outcome["error"] = e

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(CONNECT_SECONDS + 5)
    if worker.is_alive():
        raise UserError(f"{key}: {shown} did not answer within {CONNECT_SECONDS} s")
    if "error" in outcome:
        raise UserError(f"{key}: cannot connect to {shown}: {_hidden(reason(_original(outcome['error'])), secrets)}")
    return outcome["connection"]


def _original(e: BaseException) -> BaseException:
    """The driver's own error: pandas and SQLAlchemy wrap it (the statement, a link to their docs)."""
    while (inner := getattr(e, "orig", None) or e.__cause__) is not None and inner is not e:
        e = inner
    return e


def _hidden(text: str, secrets: list[str]) -> str:
    """The text with each of the URL's secrets (as written, and as a URL encodes it) shown as ***."""
    from urllib.parse import quote, quote_plus

    forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""), quote_plus(secret))}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


# --- reading ---


def _read_sql(statement: Any, connection: Any, said: str) -> pd.DataFrame:
    """pandas' read_sql, in chunks of CHUNK_ROWS, refused past MAX_ROWS rows or a third of the memory available;
    on SQLite through the driver's own connection, which pandas reads 3 times faster than through SQLAlchemy's
    result rows (the statement compiled by SQLAlchemy, its quoting kept). A server streams its rows where the
    driver can (a server-side cursor), so that they are counted as they come."""
    if connection.dialect.name == "sqlite":
        compiled = str(statement.compile(dialect=connection.dialect))
        chunks = pd.read_sql_query(compiled, connection.connection.driver_connection, chunksize=CHUNK_ROWS)
    else:
        chunks = pd.read_sql_query(statement, connection.execution_options(stream_results=True), chunksize=CHUNK_ROWS)
    read: list[pd.DataFrame] = []
    rows = size = 0
    available = available_memory()
    memory = available // 3  # pandas' concatenation of the chunks holds them twice for a moment
    for chunk in chunks:
        rows += len(chunk)
        size += int(chunk.memory_usage(index=False, deep=True).sum())
        if rows > MAX_ROWS:
            raise UserError(f"{said} more than {MAX_ROWS:,} rows; nnglm reads at most {MAX_ROWS:,} rows of a database; {FEWER}")
        if size > memory:
            raise UserError(
                f"{said} {rows:,} rows before it was stopped, {size / 2**30:.3g} GiB, more than a third of the "
                f"{available / 2**30:.3g} GiB this machine has available; {FEWER}"
            )
        read.append(chunk)
    if len(read) == 1:
        return read[0]
    frame = pd.concat(read, ignore_index=True)
    # each chunk's types are pandas' guess from its rows alone (a chunk of NULLs is objects): guessed once more
    # where they differ, as pandas guesses them from all the rows read at once
    mixed = [i for i in range(frame.shape[1]) if len({str(c.dtypes.iloc[i]) for c in read}) > 1]
    for i in mixed:
        frame.isetitem(i, frame.iloc[:, i].infer_objects())
    return frame


def read_sqlite(path: str, table: str | None, query: str | None) -> Table:
    return _read(_engine(None, path), "data.path", path, "an SQLite database", table, query, [])


def read_url(url: str, table: str | None, query: str | None) -> Table:
    parsed = urls.parse_url(url)
    name = urls.shown(url)
    secrets = urls.secrets(parsed)
    sqlite_path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if sqlite_path in (None, "", ":memory:") and parsed.get_backend_name() == "sqlite":
        raise UserError(f"data.url: {name} names no database file; write sqlite:///path/to/file.sqlite")
    if sqlite_path is not None and not Path(sqlite_path).is_file():
        raise UserError(f"data.url: {name}: no database file {_hidden(short(sqlite_path), secrets)}")
    try:
        engine = _engine(parsed, sqlite_path)
    except ModuleNotFoundError as e:
        raise UserError(f"data.url: {name} needs the driver {e.name}, which is not installed (pip install {e.name})") from None
    except Exception as e:  # noqa: BLE001 (an unknown dialect, a bad argument)
        raise UserError(f"data.url: {name}: {_hidden(reason(e), secrets)}") from None
    return _read(engine, "data.url", name, "a database", table, query, secrets)


def _read(engine: Any, key: str, where: str, what: str, table: str | None, query: str | None, secrets: list[str]) -> Table:
    import sqlalchemy

    if query is not None:
        urls.check_query(query)
    connection = _connect(engine, key, where, secrets)
    try:
        if engine.dialect.name in ("postgresql", "mysql", "mariadb"):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        if query is None:
            names = sorted(set(sqlalchemy.inspect(connection).get_table_names()) | set(sqlalchemy.inspect(connection).get_view_names()))
            listing = ", ".join(short(n) for n in names[:50]) + (f" and {len(names) - 50} more" if len(names) > 50 else "")
            if table is None:
                raise UserError(
                    f"data.table: {where} is a database; name its table (data.table) or give one SELECT (data.query); its tables: {listing or 'none'}"
                )
            if table not in names:
                raise UserError(f"data.table: {where} has no table {short(table)}; its tables: {listing or 'none'}")
            statement = sqlalchemy.select(sqlalchemy.text("*")).select_from(sqlalchemy.table(table))
            frame = _read_sql(statement, connection, f"data.table: table {short(table)} of {where} holds")
        else:
            frame = _read_sql(sqlalchemy.text(query), connection, "data.query: returned")
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 (the driver's words: a malformed file, a refused statement, a bad column)
        if _interrupted(e):
            raise KeyboardInterrupt from None
        said = "data.query" if query is not None else key
        raise UserError(f"{said}: cannot read {where} ({what}): {_hidden(reason(_original(e)), secrets)}") from None
    finally:
        with contextlib.suppress(Exception):  # nothing was written; a connection that is gone needs no rollback
            connection.rollback()
            connection.close()
        engine.dispose()
    if frame.empty:
        said = f"table {short(table)} of {where} has no rows" if query is None else f"the query returned no rows from {where}"
        raise UserError(f"{'data.table' if query is None else 'data.query'}: {said}; there is nothing to fit")
    check_columns(list(frame.columns), where)
    how = f"table {short(table)}" if query is None else "one SELECT"
    return Table(frame, f"{what}, {how}")


def _interrupted(e: BaseException) -> bool:
    """SQLite's 'interrupted': its progress handler raised, which only a signal's handler does (Ctrl-C,
    SIGTERM: a KeyboardInterrupt that SQLite's module swallows, ending the statement with this error)."""
    return isinstance(original := _original(e), sqlite3.OperationalError) and str(original) == "interrupted"
