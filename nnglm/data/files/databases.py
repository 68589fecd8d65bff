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

from nnglm.data.files.base import Table, reason
from nnglm.data.files.text import check_columns
from nnglm.errors import UserError, short

CONNECT_SECONDS = 15  # how long a server may take to answer before nnglm gives up on it
# SQLite's actions a SELECT needs: read a table's column, run a function, the SELECT itself, a recursive CTE
READ_ONLY = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
# the pragmas SQLAlchemy reads on its own (the isolation level, a table's columns), each read, never set
PRAGMAS_READ = {"read_uncommitted", "table_info", "table_xinfo", "index_list", "foreign_key_list"}
WRITING = {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER", "TRUNCATE", "INTO"}


# --- the query, before any connection ---


def check_query(query: str) -> None:
    """Raises unless the query is one SELECT (WITH ... SELECT counts) that writes nothing."""
    import sqlparse
    import sqlparse.exceptions
    from sqlparse import tokens

    try:
        statements = [s for s in sqlparse.split(query) if s.strip().rstrip(";").strip()]
        if len(statements) != 1:
            raise UserError(f"data.query: holds {len(statements)} statements; give one SELECT")
        statement = sqlparse.parse(statements[0])[0]
    except sqlparse.exceptions.SQLParseError as e:  # its bounds on tokens and nesting: nothing unchecked is let through
        raise UserError(
            f"data.query: too long or too deeply nested to be checked ({reason(e).rstrip('.')}); "
            "write a shorter SELECT, or make it a view in the database and name it in data.table"
        ) from None
    kind = statement.get_type()
    if kind != "SELECT":
        first = statement.token_first(skip_cm=True)
        said = kind if kind != "UNKNOWN" else (first.value.upper()[:40] if first else "it")
        raise UserError(f"data.query: {said} is not a SELECT; nnglm reads with one SELECT (or WITH ... SELECT) and writes nothing")
    for token in statement.flatten():
        if token.ttype in (tokens.Keyword.DML, tokens.Keyword.DDL, tokens.Keyword) and token.normalized in WRITING:
            raise UserError(
                f"data.query: holds {token.normalized}, which writes; nnglm reads with one SELECT and writes nothing "
                f'(a column or table of that name: write it in double quotes, "{token.value}")'
            )


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
    return connection


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


def _connect(engine: Any, key: str, shown: str, secret: str | None) -> Any:
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
        raise UserError(f"{key}: cannot connect to {shown}: {_hidden(reason(_original(outcome['error'])), secret)}")
    return outcome["connection"]


def _original(e: BaseException) -> BaseException:
    """The driver's own error: pandas and SQLAlchemy wrap it (the statement, a link to their docs)."""
    while (inner := getattr(e, "orig", None) or e.__cause__) is not None and inner is not e:
        e = inner
    return e


def _hidden(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def parse_url(url: str) -> Any:
    """The URL as SQLAlchemy reads it; one message (the password hidden) when it cannot."""
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(url)
    except Exception:  # noqa: BLE001 (SQLAlchemy's ArgumentError and ValueError from a bad port)
        raise UserError(
            "data.url: not an SQLAlchemy URL; write dialect+driver://user@host:port/database, e.g. postgresql://me@db.example/survey "
            "or sqlite:///data/r/R_datasets.sqlite"
        ) from None


def shown(url: str) -> str:
    """The URL with its password hidden, for messages and the console."""
    try:
        return parse_url(url).render_as_string(hide_password=True)
    except UserError:
        return "the data.url given"


def without_password(url: str) -> str:
    """The URL as a run's config keeps it: no password (the driver finds it where it keeps them: PGPASSWORD, ~/.pgpass)."""
    try:
        parsed = parse_url(url)
    except UserError:
        return url
    if parsed.password is None:
        return url
    kept = type(parsed).create(parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query)
    return kept.render_as_string(hide_password=False)


# --- reading ---


def _read_sql(statement: Any, connection: Any) -> pd.DataFrame:
    """pandas' read_sql; on SQLite through the driver's own connection, which pandas reads 3 times faster
    than through SQLAlchemy's result rows (the statement compiled by SQLAlchemy, its quoting kept)."""
    if connection.dialect.name == "sqlite":
        compiled = str(statement.compile(dialect=connection.dialect))
        return pd.read_sql_query(compiled, connection.connection.driver_connection)
    return pd.read_sql_query(statement, connection)


def read_sqlite(path: str, table: str | None, query: str | None) -> Table:
    return _read(_engine(None, path), "data.path", path, "an SQLite database", table, query, None)


def read_url(url: str, table: str | None, query: str | None) -> Table:
    parsed = parse_url(url)
    name = parsed.render_as_string(hide_password=True)
    secret = parsed.password
    sqlite_path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if sqlite_path in (None, "", ":memory:") and parsed.get_backend_name() == "sqlite":
        raise UserError(f"data.url: {name} names no database file; write sqlite:///path/to/file.sqlite")
    if sqlite_path is not None and not Path(sqlite_path).is_file():
        raise UserError(f"data.url: {name}: no database file {short(sqlite_path)}")
    try:
        engine = _engine(parsed, sqlite_path)
    except ModuleNotFoundError as e:
        raise UserError(f"data.url: {name} needs the driver {e.name}, which is not installed (pip install {e.name})") from None
    except Exception as e:  # noqa: BLE001 (an unknown dialect, a bad argument)
        raise UserError(f"data.url: {name}: {_hidden(reason(e), secret)}") from None
    return _read(engine, "data.url", name, "a database", table, query, secret)


def _read(engine: Any, key: str, where: str, what: str, table: str | None, query: str | None, secret: str | None) -> Table:
    import sqlalchemy

    if query is not None:
        check_query(query)
    connection = _connect(engine, key, where, secret)
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
            frame = _read_sql(statement, connection)
        else:
            frame = _read_sql(sqlalchemy.text(query), connection)
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 (the driver's words: a malformed file, a refused statement, a bad column)
        said = "data.query" if query is not None else key
        raise UserError(f"{said}: cannot read {where} ({what}): {_hidden(reason(_original(e)), secret)}") from None
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
