"""A database as a config names it: data.url (an SQLAlchemy URL, its passwords never shown or kept) and
data.query (one SELECT that writes nothing), checked before any connection (the reader: data/files/databases.py)."""

import re
from typing import Any

from nnglm.foundation.errors import UserError, reason

WRITING = {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER", "TRUNCATE", "INTO"}


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


def parse_url(url: str) -> Any:
    """The URL as SQLAlchemy reads it; one message (the URL not repeated: it may hold a password) when it cannot."""
    import sqlalchemy

    try:
        parsed = sqlalchemy.engine.make_url(url)
    except Exception:  # noqa: BLE001 (SQLAlchemy's ArgumentError and ValueError from a bad port)
        raise UserError(
            "data.url: not an SQLAlchemy URL; write dialect+driver://user@host:port/database, e.g. postgresql://me@db.example/survey "
            "or sqlite:///data/r/R_datasets.sqlite (an '@' or ':' in a user name or password written %40, %3A)"
        ) from None
    if parsed.host is not None and "@" in parsed.host:
        # SQLAlchemy ends the password at its first '@' and reads the rest as the host: the password's tail
        # would be shown as a host name, and the connection would go to no such host
        raise UserError(
            "data.url: its password (or user name) holds an '@' that is not written %40; SQLAlchemy would read the "
            "rest of it as the host name. Write each '@' in it as %40, e.g. postgresql://analyst:p%40ss@db/survey"
        )
    return parsed


SECRET_KEYS = {"password", "passwd", "pwd", "pass"}  # a query string's keys that carry a password (any case)
SECRET_PARTS = ("password", "secret", "token")  # and any key that holds one of these words: sslpassword, access_token
HIDDEN = "nnglmhiddenvalue"  # a stand-in, rendered and then replaced by ***; SQLAlchemy would encode *** itself


def _secret_keys(parsed: Any) -> list[str]:
    return [k for k in parsed.query if k.lower() in SECRET_KEYS or any(part in k.lower() for part in SECRET_PARTS)]


def secrets(parsed: Any) -> list[str]:
    """Every secret the URL holds: the password of its user information and those of its query string."""
    found = [parsed.password] if parsed.password else []
    for key in _secret_keys(parsed):
        value = parsed.query[key]
        found.extend([value] if isinstance(value, str) else list(value))
    return [str(secret) for secret in found if secret]


def _scheme_only(url: str) -> str:
    """What is shown of a URL that cannot be read: its scheme alone, the rest (where a password may be) ***."""
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]{0,40})://", url)
    return f"{scheme.group(1)}://***" if scheme else "***"


def shown(url: str) -> str:
    """The URL with its passwords hidden (the user information's and a query string's: ***), for messages and the console."""
    try:
        parsed = parse_url(url)
    except UserError:
        return _scheme_only(url)
    keys = _secret_keys(parsed)
    masked = parsed.update_query_dict(dict.fromkeys(keys, HIDDEN)) if keys else parsed
    return masked.render_as_string(hide_password=True).replace(HIDDEN, "***")


def without_password(url: str) -> str:
    """The URL as a run's config keeps it: no password, in the user information or the query string (the driver
    finds it where it keeps them: PGPASSWORD, ~/.pgpass); a URL that cannot be read keeps its scheme alone."""
    try:
        parsed = parse_url(url)
    except UserError:
        return _scheme_only(url)
    keys = _secret_keys(parsed)
    if parsed.password is None and not keys:
        return url
    query = {k: v for k, v in parsed.query.items() if k not in keys}
    kept = type(parsed).create(parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database, query)
    return kept.render_as_string(hide_password=False)
