"""`--set key=value` overrides and sweeps, applied to the raw YAML before validation so they pass the
same checks; `--set KEY=sweep:V1,V2` sweeps a key (a plain value is never split at commas)."""

import copy
import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from nnglm.config.loader import MAX_CONFIG_VALUES, TOO_LONG_NUMBER, count_values, parse_yaml, read_yaml, shown
from nnglm.config.messages import validate
from nnglm.config.schema import Config
from nnglm.foundation.errors import UserError, clip, short

MAX_SWEEP_POINTS = 1000
SWEEP_PREFIX = "sweep:"  # --set KEY=sweep:V1,V2,... ; a plain --set value is never split


def load(path: str | Path, overrides: Sequence[str] = ()) -> Config:
    """One config; a file that declares a sweep is an error here (see expand)."""
    points = expand(path, overrides)
    if len(points) > 1:
        raise UserError(f"{path}: declares a sweep of {len(points)} points; run it with `nnglm run`")
    return points[0][1]


def expand(path: str | Path, overrides: Sequence[str] = ()) -> list[tuple[dict[str, Any], Config]]:
    """Every point of the config's sweep, each validated: [(point, config), ...].

    A sweep is the grid over the file's `sweep:` block (dotted key -> list of values)
    and over `--set KEY=sweep:V1,V2,...`; without one there is a single point, {}.
    A plain `--set` on a key the file sweeps takes that key out of the sweep."""
    return expand_raw(read_yaml(Path(path)), shown(path), overrides)


def expand_raw(raw: dict[str, Any], name: str, overrides: Sequence[str] = ()) -> list[tuple[dict[str, Any], Config]]:
    """expand for a config already read (a YAML file's mapping, or the Python API's dict); `name`
    names it in messages (the file's path, cut short)."""
    raw = copy.deepcopy(raw)
    sweep = raw.pop("sweep", None) or {}
    if not isinstance(sweep, dict) or not all(isinstance(k, str) and isinstance(v, list) and v for k, v in sweep.items()):
        bad = next((k for k in sweep if not isinstance(k, str)), None) if isinstance(sweep, dict) else None
        got = f" (got the key {short(bad)}, not text)" if bad is not None else ""
        raise UserError(f"{name}: sweep: must map dotted keys to non-empty lists of values, e.g. train.learning_rate: [0.001, 0.01]{got}")
    plain = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if sep and text.startswith(SWEEP_PREFIX):
            sweep[key] = sweep_values(item, text[len(SWEEP_PREFIX) :])
        else:
            sweep.pop(key, None)
            plain.append(item)
    raw = apply_overrides(raw, plain)
    where = name + (f" (with --set {' '.join(clip(o) for o in overrides)})" if overrides else "")
    if not sweep:
        return [({}, validate_plain(raw, where, plain))]
    count = 1
    for values in sweep.values():
        count *= len(values)
    if count > MAX_SWEEP_POINTS:
        sizes = " x ".join(str(len(v)) for v in sweep.values())
        raise UserError(f"{where}: sweep: {sizes} = {count} points; at most {MAX_SWEEP_POINTS} in one sweep (split it)")
    points = []
    for values in itertools.product(*sweep.values()):
        point = dict(zip(sweep, values))
        label = describe_point(point)
        at = copy.deepcopy(raw)
        for key, value in point.items():
            set_key(at, key, value, f"sweep point {label}")
        points.append((point, validate(at, f"{where}, sweep point {label}")))
    return points


def validate_plain(raw: dict[str, Any], where: str, plain: list[str]) -> Config:
    """validate, with a note when a key that failed was --set to a value with a comma in it."""
    try:
        return validate(raw, where)
    except UserError as e:
        commas = [o.partition("=")[0] for o in plain if "," in o.partition("=")[2]]
        if not any(line.startswith(f"{where}: {key}:") for key in commas for line in str(e).splitlines()):
            raise
        note = f"{where}: note: a --set value is never split at commas; a sweep is written KEY={SWEEP_PREFIX}V1,V2"
        raise UserError(f"{e}\n{note}") from None


def sweep_values(item: str, text: str) -> list[Any]:
    """'0.001,0.01' -> [0.001, 0.01]; '\\,' is a comma inside a value."""
    parts = [part.replace("\\,", ",") for part in re.split(r"(?<!\\),", text)]
    if not text or any(part == "" for part in parts):
        raise UserError(
            f"--set {short(item)}: a sweep lists values after '{SWEEP_PREFIX}' separated by commas, e.g. train.epochs=sweep:1000,5000"
        )
    return [_parse_value(part, f"--set {short(item)}") for part in parts]


def describe_point(point: dict[str, Any]) -> str:
    return " ".join(f"{k}={_label(v)}" for k, v in point.items())


def _label(value: Any) -> str:
    try:
        return clip(str(value))
    except ValueError:  # str() of an integer past 4300 digits
        return short(value)


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UserError(f"--set {short(item)}: expected KEY=VALUE, e.g. train.epochs=5000")
        origin = f"--set {short(item)}"
        set_key(raw, key, _parse_value(text, origin), origin)
    return raw


def plain_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """The keys plain `--set KEY=VALUE`s set (not sweeps), with their values: what a run's result.json
    records as set over the config file. As in expand, the last `--set` of a key wins, a sweep included."""
    out: dict[str, Any] = {}
    for item in overrides:
        key, _, text = item.partition("=")
        out.pop(key, None)
        if not text.startswith(SWEEP_PREFIX):
            out[key] = _parse_value(text, f"--set {short(item)}")
    return out


def set_key(raw: dict[str, Any], key: str, value: Any, origin: str) -> None:
    node = raw
    parts = key.split(".")
    if not all(parts):
        raise UserError(f"{origin}: {short(key)} is not a dotted key such as train.epochs")
    for i, part in enumerate(parts[:-1]):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UserError(f"{origin}: {'.'.join(parts[: i + 1])} is not a section")
    node[parts[-1]] = value


def _parse_value(text: str, origin: str) -> Any:
    try:
        value = parse_yaml(text)
    except (yaml.YAMLError, RecursionError):
        return text  # not YAML: the text itself, as a string
    except ValueError:
        raise UserError(f"{origin}: {TOO_LONG_NUMBER}") from None
    if count_values(value) > MAX_CONFIG_VALUES:
        raise UserError(f"{origin}: the value expands to more than {MAX_CONFIG_VALUES:,} values")
    return value
