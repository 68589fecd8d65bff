"""The foundation's safe reads and escapes: a read is bounded, text reaches the terminal escaped, a warning is one
line (foundation.safe)."""

import warnings
from pathlib import Path

import pytest
from support import CLEAR

from nnglm.foundation import safe


def test_safe_read_is_bounded(tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * 5000)
    assert len(safe.read_bytes(big, 100)) == 101  # one more than the bound: too large, and read no further
    with pytest.raises(safe.Refused, match="is a device"):
        safe.read_bytes(Path("/dev/zero"), 100)


def test_escaping_keeps_text_and_newlines_where_asked():
    assert safe.terminal(f"a{CLEAR}b\tc\nd\x9be\ud800") == "a\\x1b[2Jb\\tc\\nd\\x9be\\ud800"
    assert safe.terminal("line 1\nline\t2", lines=True) == "line 1\nline\t2"
    assert safe.terminal("café ∑ 😀") == "café ∑ 😀"


def test_warnings_are_one_line():
    message = warnings.WarningMessage(RuntimeWarning(f"overflow in exp {CLEAR}"), RuntimeWarning, "/x/y/families.py", 12)
    line = safe.one_line_warning(message.message, message.category, message.filename, message.lineno, "    return np.exp(eta)")
    assert line == "warning: RuntimeWarning: overflow in exp \\x1b[2J (families.py:12)\n"
