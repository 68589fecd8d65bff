"""Files and text from elsewhere, handled so that they cannot hang, leak or mislead.

A run folder may come from another machine or another person: its files are
read without following links out of it, only when they are plain files (a
FIFO would block the reader for ever, /dev/zero never ends), and no further
than a bound. Text from such files, from a data file's header or from a config
reaches the terminal with its control characters escaped (ESC [2J clears the
screen, an OSC sequence retitles the window) and is never read as rich markup.
"""

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from nnglm.foundation.errors import clip

if TYPE_CHECKING:
    from rich.text import Text


class Refused(Exception):
    """A file that is not read: a link out of its folder, or not a plain file. Why, in a few words;
    `what` it is instead (a FIFO, a device, a folder, a link)."""

    def __init__(self, message: str, what: str = "a link"):
        super().__init__(message)
        self.what = what


def open_file(path: Path, within: Path | None = None) -> BinaryIO:
    """path opened for reading, if it is a plain file (not a FIFO, a device or a socket) and, given
    `within`, lies inside that folder once its links are followed. OSError as open raises it."""
    path = Path(path)
    flags = os.O_RDONLY | os.O_NONBLOCK  # a FIFO opens at once instead of waiting for a writer; fstat then refuses it
    if within is not None:
        real, root = os.path.realpath(path), os.path.realpath(within)
        if os.path.commonpath([real, root]) != root:
            raise Refused(f"{path.name} is a link out of its run folder")
        path, flags = Path(real), flags | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Refused(f"{path.name} is {kind(mode)}, not a plain file", kind(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def inside(name: str, folder: Path) -> Path | None:
    """The file `name` (as a run folder's config writes it, relative to the working directory) if it lies
    inside `folder` once its links are followed, else the file of that name's last part in the folder;
    None where neither lies inside it; Refused, saying what it is, where one lies inside but is no plain
    file (a FIFO, a device, a folder). Nothing outside the folder is opened."""
    root = os.path.realpath(folder)
    what = None
    for candidate in (Path(name), Path(folder) / Path(name).name):
        try:
            real = os.path.realpath(candidate)
            if os.path.commonpath([real, root]) != root or real == root:
                continue
            if os.path.isfile(real):
                return Path(real)
            if what is None and os.path.exists(real):
                what = kind(os.stat(real).st_mode)
        except (OSError, ValueError):
            continue
    if what is not None:
        raise Refused(f"{Path(name).name} is {what}, not a plain file", what)
    return None


def read_bytes(path: Path, limit: int, within: Path | None = None) -> bytes:
    """At most limit + 1 bytes of a plain file (see open_file): more than limit means it is too large."""
    with open_file(path, within) as f:
        return f.read(limit + 1)


def kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a folder" if stat.S_ISDIR(mode) else "not a file"


# C0 and C1 controls (ESC, CSI 0x9b), DEL, the bidirectional overrides and isolates (text that reads
# differently from what it holds), line and paragraph separators, and lone surrogates (not encodable)
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_INLINE = re.compile(f"[\t\n{_UNSAFE}]")
_UNSAFE_LINES = re.compile(f"[{_UNSAFE}]")


def terminal(text: str, lines: bool = False) -> str:
    """text with every control character written as its escape (ESC as \\x1b); `lines`: keep newlines and tabs."""
    pattern = _UNSAFE_LINES if lines else _UNSAFE_INLINE
    return pattern.sub(lambda m: ascii(m.group())[1:-1], text)


def cell(value: object, limit: int | None = None) -> "Text":
    """A table cell or line for rich: escaped, cut to `limit` characters, never read as markup."""
    from rich.text import Text

    text = terminal(str(value))
    return Text(clip(text, limit) if limit else text)


def encodable(text: str) -> bool:
    """Whether text can be written as UTF-8 (a lone surrogate, from a JSON or YAML escape, cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def private_config_dirs() -> None:
    """Keras and matplotlib keep their config and caches (keras.json, the font cache) in a folder of
    ours under the temporary folder, not in the user's home; a user's own KERAS_HOME or MPLCONFIGDIR wins."""
    if "KERAS_HOME" in os.environ and "MPLCONFIGDIR" in os.environ:
        return
    base = _own_temp_folder()
    for variable, name in (("KERAS_HOME", "keras"), ("MPLCONFIGDIR", "matplotlib")):
        if variable not in os.environ:
            folder = base / name
            folder.mkdir(mode=0o700, exist_ok=True)
            os.environ[variable] = str(folder)


def _own_temp_folder() -> Path:
    """<tmp>/nnglm-<uid>, kept between runs (the font cache takes a second to build), if it is a folder
    of this user that no one else can write; a fresh one otherwise (someone made that name first)."""
    base = Path(tempfile.gettempdir()) / f"nnglm-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(base)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022:
            return base
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="nnglm-"))


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as one line, without the source line Python quotes (which reads like a crash)."""
    return terminal(f"warning: {category.__name__}: {message} ({Path(filename).name}:{lineno})") + "\n"
