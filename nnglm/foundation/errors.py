"""The one error type a user can cause: bad config, bad data or bad arguments.

The command line prints its message and exits with code 2; anything else is
a bug and keeps its traceback. Messages are bounded: a value or a list of
names quoted in one is cut short, so that a huge input never makes a huge
message.
"""

import math

import numpy as np

MAX_MESSAGE = 2000  # characters of one error message, all lines together
MAX_VALUE = 80  # characters of one value quoted in a message
MAX_NAMES = 20  # names listed in a message, e.g. the columns of a file


class UserError(Exception):
    pass


def from_path(e: OSError) -> UserError | None:
    """A path the user gave that no file system takes (a name of more than 255 bytes, a path longer
    than PATH_MAX), as the user's error; None for any other OSError."""
    import errno

    if e.errno != errno.ENAMETOOLONG:
        return None
    name = str(e.filename) if e.filename is not None else "a path"
    return UserError(f"{clip(name, 120)}: a name in this path is too long for the file system (at most 255 bytes a name)")


class ConfigError(UserError):
    """What the Python API raises for a bad config, bad data or bad arguments: the command line's message
    (which answers the same with exit code 2)."""


def short(value: object, limit: int = MAX_VALUE) -> str:
    """repr(value), cut to `limit` characters."""
    if isinstance(value, (float, np.floating)):
        value = float(value)  # 'nan', not 'np.float64(nan)'
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of about {digits(value):,} digits"  # str() of one past 4300 digits raises
    try:
        text = repr(value) if not isinstance(value, str) else repr(value[: limit + 1])
    except ValueError:  # a list holding such an integer
        return "a value too large to show"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def digits(value: int) -> int:
    """The decimal digits of an integer, without converting it to text."""
    return max(1, math.floor(abs(value).bit_length() * math.log10(2)) + 1) if value else 1


def clip(text: str, limit: int = MAX_VALUE) -> str:
    """text itself, cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(names: list[str], limit: int = MAX_NAMES) -> str:
    """'a', 'b', ' c' (quoted, so that a stray space shows), at most `limit` of them."""
    shown = ", ".join(short(str(n)) for n in names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


def bounded(message: str, limit: int = MAX_MESSAGE) -> str:
    if len(message) <= limit:
        return message
    return message[:limit] + f" … ({len(message) - limit} more characters)"


def reason(e: BaseException) -> str:
    """A library's error in one bounded line."""
    text = str(e).strip()
    return short(text.splitlines()[0] if text else type(e).__name__, 300)[1:-1]
