"""A config file read as YAML, bounded: its size, its values once aliases are expanded, its nesting,
its text (UTF-8). Nothing in it is run: PyYAML's safe loader, and a key given twice is an error."""

import re
from pathlib import Path
from typing import Any

import yaml

from nnglm.foundation import safe
from nnglm.foundation.errors import UserError, clip, short

MAX_CONFIG_BYTES = 1_000_000  # a config is a few kilobytes
MAX_CONFIG_VALUES = 100_000  # values after YAML aliases are expanded
TOO_LONG_NUMBER = "a number of more than 4300 digits, past what Python reads; no key takes one"


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads 1e-4 as a string; read it as the number everyone means (as YAML 1.2 does).
    A key given twice in one mapping is an error (PyYAML would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:int" and _too_long(value_node.value):
                raise yaml.constructor.ConstructorError(None, None, f"{short(key)}: {TOO_LONG_NUMBER}", value_node.start_mark)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {short(key)} given twice in one mapping (first at line {seen[key].line + 1})", key_node.start_mark
                )
            if isinstance(key, (str, int, float, bool)):
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


def _too_long(text: str) -> bool:
    """A decimal integer that int() refuses (more than 4300 digits); a hexadecimal one it reads."""
    digits = text.lstrip("+-").replace("_", "")
    return len(digits) > 4300 and digits.isdigit()


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def count_values(raw: Any, limit: int = MAX_CONFIG_VALUES) -> int:
    """The number of values in raw with every YAML alias expanded, counting no further than limit + 1.
    A few lines of nested aliases expand into billions of values (and a shared node into a cycle)."""
    count, stack = 0, [raw]
    while stack and count <= limit:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            stack.extend(value.values())
            stack.extend(value.keys())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def read_yaml(file: Path, within: Path | None = None) -> dict[str, Any]:
    """The config file's mapping; `within`: a run folder, out of which no link is followed."""
    path = shown(file)
    try:
        data = safe.read_bytes(file, MAX_CONFIG_BYTES, within)
    except FileNotFoundError:
        raise UserError(f"config file not found: {path}") from None
    except safe.Refused as e:
        if e.what == "a link":
            raise UserError(f"{path}: {e}; a run folder's files are read from inside it") from None
        what = "is a folder" if e.what == "a folder" else f"{e.what}, not a plain file"
        raise UserError(f"{path}: {what}; give a YAML config file") from None
    except OSError as e:
        raise UserError(f"cannot read config file {path}: {e.strerror}") from None
    except ValueError:  # a NUL byte in the path (from the Python API; a shell cannot pass one)
        raise UserError(f"config path {short(str(file))}: holds a NUL byte; no file name can") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UserError(f"{path}: more than {MAX_CONFIG_BYTES:,} bytes; a config is a few kilobytes of YAML")
    raw = parse_text(decode(data, path), path)
    if not isinstance(raw, dict):
        raise UserError(f"{path}: the config must be a mapping of keys (name, data, model, train, ...)")
    if count_values(raw) > MAX_CONFIG_VALUES:
        raise UserError(
            f"{path}: more than {MAX_CONFIG_VALUES:,} values once its YAML aliases are expanded "
            "(aliases nested in aliases, or a node that contains itself); a config has a few dozen"
        )
    return raw


def shown(path: str | Path) -> str:
    """A config's path as messages show it: cut short (a path may be thousands of characters)."""
    return clip(str(path), 200)


def decode(data: bytes, path: str) -> str:
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise UserError(f"{path}: is UTF-32 text; save it as UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UserError(f"{path}: is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is dropped
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UserError(f"{path}: not UTF-8 text: byte 0x{data[e.start]:02x} at line {line}; save the file as UTF-8") from None


def parse_text(text: str, path: str) -> Any:
    try:
        return parse_yaml(text)
    except RecursionError:
        raise UserError(f"{path}: YAML nested too deeply; a config is a few levels deep") from None
    except ValueError:  # int() of a number past Python's 4300-digit limit, inside the YAML constructor
        raise UserError(f"{path}: {TOO_LONG_NUMBER}") from None
    except yaml.YAMLError as e:
        mark, context = getattr(e, "problem_mark", None), getattr(e, "context_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        if context and mark and context.line != mark.line:
            problem += f" ({getattr(e, 'context', None) or 'in a construct'} that began at line {context.line + 1})"
        raise UserError(f"{path}: malformed YAML{line}: {problem}") from None
