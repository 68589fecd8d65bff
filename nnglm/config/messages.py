"""pydantic's validation errors in the config's own words: the file, the key path, what is allowed."""

import difflib
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError

from nnglm.config.schema import DATA_KEYS, GENERATOR_PARAMS, SOURCES, Config, DataSource
from nnglm.foundation import safe
from nnglm.foundation.errors import MAX_VALUE, UserError, clip, short

MAX_ERRORS = 10  # validation errors shown from one config


def validate(raw: dict[str, Any], where: str) -> Config:
    """The config, or a UserError naming each wrong key."""
    try:
        problem = unfit_value(raw)
    except RecursionError:
        problem = "YAML nested too deeply; a config is a few levels deep"
    if problem:
        raise UserError(f"{where}: {problem}")
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        lines = [f"{where}: {_describe(err)}" for err in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            lines.append(f"{where}: … and {len(errors) - MAX_ERRORS} more errors")
        raise UserError("\n".join(lines)) from None


def unfit_value(value: Any, key: str = "") -> str | None:
    """What no key takes, whatever its type: a key that is not text, text with a NUL byte or a lone
    surrogate (no file can hold either), an integer past 64 bits. The first found, named by its key."""
    at = key or "the top level"
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{at}: the key {short(k)} is not a name; keys are text, such as train.epochs (quote it)"
            found = unfit_value(k, f"{key}.{k}".lstrip(".")) or unfit_value(v, f"{key}.{clip(k)}".lstrip("."))
            if found:
                return found
    elif isinstance(value, list):
        return next(filter(None, (unfit_value(v, key) for v in value)), None)
    elif isinstance(value, str):
        if "\x00" in value:
            return f"{at}: holds a NUL byte (\\x00) at character {value.index(chr(0))}; no text in a config may"
        if not safe.encodable(value):
            bad = next(c for c in value if not safe.encodable(c))
            return f"{at}: holds {ascii(bad)}, half of a UTF-16 surrogate pair, which UTF-8 cannot write; write the character itself"
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 63:
        return f"{at}: {short(value)}; no key takes an integer past 2**63"
    return None


def _describe(err: Any) -> str:
    given = [str(part) for part in err["loc"] if not isinstance(part, int)]
    # pydantic names a union's branch in the location ("int", "literal['full']"): drop it; for the data
    # section the branch is the source (data.csv.path is data.path, under data.source: csv). A top-level
    # key is the user's own, whatever it looks like ('0[')
    loc = given[:1] + [part for part in given[1:] if "[" not in part and part not in ("int", "float", "str", "bool", "list")]
    source = loc.pop(1) if loc[:1] == ["data"] and len(loc) > 1 else None
    key = ".".join(clip(part) for part in loc)
    if err["type"] == "value_error":
        return str(err["ctx"]["error"])
    if loc == ["data"] and err["type"] in ("union_tag_not_found", "union_tag_invalid", "model_attributes_type"):
        return _bad_source(err)
    if err["type"] == "extra_forbidden":
        misplaced = _misplaced(loc[-1], source) if source else None
        if misplaced:
            return misplaced
        allowed = _allowed_keys(loc[:-1], source)
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f" did you mean '{close[0]}'?" if close else ""
        return f"{key}: unknown key.{hint} Allowed here: {', '.join(allowed)}"
    if err["type"] == "missing" and source:
        return _required(loc[-1], source)
    if err["type"] == "missing":
        return f"{key}: required key is missing"
    if err["type"] == "string_type" and isinstance(err["input"], bool):
        return f"{key}: {err['msg']} (got {err['input']!r}: YAML reads yes/no/on/off/true/false as booleans; quote the name)"
    return f"{key}: {err['msg']} (got {short(err['input'], MAX_VALUE)})"


def _bad_source(err: Any) -> str:
    """pydantic's errors for the data section as a whole (it picks its model by data.source), in the config's words."""
    if err["type"] == "model_attributes_type":
        return f"data: Input should be a mapping of keys, with source: {', '.join(SOURCES)} (got {short(err['input'], MAX_VALUE)})"
    if err["type"] == "union_tag_not_found":
        return f"data.source: required key is missing; one of {', '.join(SOURCES)}"
    quoted = [repr(name) for name in SOURCES]
    return f"data.source: Input should be {', '.join(quoted[:-1])} or {quoted[-1]} (got {short(err['input']['source'], MAX_VALUE)})"


def _misplaced(key: str, source: str) -> str | None:
    """The message for a key of another data source than `source`; None for a key that no source takes."""
    if key == "generator":
        return "data.generator: only for data.source: synthetic"
    if key in GENERATOR_PARAMS:
        return f"data.{key}: a generator parameter, but data.source is {source}"
    if key not in DATA_KEYS:
        return None
    if source in ("synthetic", "dataframe"):  # neither reads a file or a dataset by name
        return f"data.{key}: not used when data.source is {source}"
    reads = next(k for k in SOURCES[source].model_fields if k not in DataSource.model_fields)
    return f"data.{key}: not used when data.source is {source} (it reads data.{reads})"


def _required(key: str, source: str) -> str:
    annotation = SOURCES[source].model_fields[key].annotation
    choices = get_args(annotation) if get_origin(annotation) is Literal else ()
    return f"data.{key}: required when data.source is {source}" + (f"; one of {', '.join(choices)}" if choices else "")


def _allowed_keys(section: list[str], source: str | None = None) -> list[str]:
    """The keys of the config section at `section` (data: the given source's)."""
    model: Any = Config
    for part in section:
        if part == "data" and source:
            model = SOURCES[source]
            continue
        annotation = model.model_fields[part].annotation
        # a section that may be left out (model.penalty) is a union with None
        model = next(a for a in (annotation, *get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel))
    return list(model.model_fields)
