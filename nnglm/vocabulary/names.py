"""Terms named as R names them: `(Intercept)`, `outcome2`, `sexM:ldose`, `poly(x, 2)1`, `ns(times, df = 5)3`.

The design's column names are made here and nowhere else: design_names() for a formula's
design (from the formula library's DesignInfo, term by term), level_name() for a column
dummy-coded without a formula. result.json, coefficients.csv, the console, the API and
compare carry these names as they are. r_name() maps the names older run folders hold
(statsmodels' `const`, patsy's `Intercept`, `C(x)[T.b]`, `np.log(x)`, `I(x ** 2)`) to the
same scheme where a folder is read.

A term's patsy name is the DesignInfo's column name at the same position
(`Dataset.design.column_names`), the intercept included.
"""

import ast
import itertools
import re
from collections import OrderedDict

import numpy as np

INTERCEPT = "(Intercept)"
OLD_INTERCEPTS = ("const", "Intercept")
# R's names of contrasts by the prefix patsy gives their columns: the levels R prints for them
NUMPY_PREFIX = ("np.", "numpy.")
R_SYNTACTIC = re.compile(r"^([A-Za-z]|[.][A-Za-z._]|[.]$)[A-Za-z0-9._]*$")
OPERATORS = {
    ast.Add: ("+", 1),
    ast.Sub: ("-", 1),
    ast.Mult: ("*", 2),
    ast.Div: ("/", 2),
    ast.Mod: ("%%", 2),
    ast.FloorDiv: ("%/%", 2),
    ast.Pow: ("^", 4),
}
COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
POLY_LEVELS = {".Linear": ".L", ".Quadratic": ".Q", ".Cubic": ".C"}


def design_names(design_info) -> list[str]:
    """R's name of each column of a formula's design, in the design's order."""
    names: list[str] = []
    for subterms in design_info.term_codings.values():
        for subterm in subterms:
            names += _subterm_names(design_info.factor_infos, subterm)
    return names


def in_r_order(design_info, formula_terms: list) -> tuple[object, np.ndarray]:
    """The design's terms in R's order (by degree, then as the formula lists them; the formula library
    puts the terms of factors alone first) as a DesignInfo of their own, and the permutation that
    takes the built design's columns to it. The coding (which levels each term keeps) stays the
    formula library's."""
    from patsy import DesignInfo

    position = {term: i for i, term in enumerate(formula_terms)}
    terms = list(design_info.term_codings)
    ordered = sorted(terms, key=lambda t: (len(t.factors), position.get(t, len(position))))
    if ordered == terms:
        return design_info, np.arange(len(design_info.column_names))
    slices = design_info.term_slices
    columns = np.concatenate([np.arange(len(design_info.column_names))[slices[t]] for t in ordered]).astype(int)
    codings = OrderedDict((t, design_info.term_codings[t]) for t in ordered)
    names = [design_info.column_names[i] for i in columns]
    return DesignInfo(names, factor_infos=design_info.factor_infos, term_codings=codings), columns


def _subterm_names(factor_infos, subterm) -> list[str]:
    pieces_per_factor = []
    for factor in subterm.factors:
        info = factor_infos[factor]
        code = factor.name()
        if info.type == "numerical":
            label = deparse(code)
            pieces_per_factor.append([label] if info.num_columns == 1 else [f"{label}{i + 1}" for i in range(info.num_columns)])
        else:
            label = factor_label(code)
            suffixes = subterm.contrast_matrices[factor].column_suffixes
            pieces_per_factor.append([label + level for level in _levels(suffixes)])
    if not pieces_per_factor:
        return [INTERCEPT]
    # the formula library's column order: the last factor varies fastest
    return [":".join(pieces) for pieces in itertools.product(*pieces_per_factor)]


def _levels(suffixes: list[str]) -> list[str]:
    """R's level labels for patsy's column suffixes: [T.b] and [b] -> b; Sum's and Helmert's numbered;
    Poly's .L .Q .C ^4."""
    inner = [s[1:-1] if s.startswith("[") and s.endswith("]") else s for s in suffixes]
    if inner and all(s.startswith(("S.", "H.")) for s in inner):
        return [str(i + 1) for i in range(len(inner))]
    out = []
    for s in inner:
        if s in POLY_LEVELS or s.startswith("^"):
            out.append(POLY_LEVELS.get(s, s))
        else:
            out.append(level_text(s.removeprefix("T.")))
    return out


def level_text(level: str) -> str:
    """A level as R prints it: 2.0 (a float column's level) as 2, True as TRUE."""
    if re.fullmatch(r"-?\d+\.0", level):
        return level[:-2]
    return {"True": "TRUE", "False": "FALSE"}.get(level, level)


def level_name(column: str, level: str) -> str:
    """A dummy-coded column's level without a formula, as R names it: outcome2, colourred."""
    return _column(column) + level_text(level)


def factor_label(code: str) -> str:
    """A categorical factor's label: the column for C(x, ...) or a column itself (R names a factor's
    level after its column: outcome2), else the expression as R deparses it (I(x > 2)TRUE)."""
    node = _parse(code)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C" and node.args:
        column = _column_of(node.args[0])
        if column is not None:
            return _column(column)
    return deparse(code)


def deparse(code: str) -> str:
    """A term's code (as the formula library normalizes it) as R's deparse writes the expression."""
    node = _parse(code)
    if node is None:
        return code
    try:
        return _deparse(node)
    except _Unknown:
        return code


class _Unknown(Exception):
    pass


def _parse(code: str) -> ast.expr | None:
    try:
        return ast.parse(code.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _column_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Q" and len(node.args) == 1:
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


def _column(name: str) -> str:
    """A column as R writes it in a term: backquoted where it is not a syntactic name."""
    return name if R_SYNTACTIC.match(name) else f"`{name}`"


def _precedence(node: ast.expr) -> int:
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)][1]
    if isinstance(node, ast.UnaryOp):
        return 3
    if isinstance(node, (ast.Compare, ast.BoolOp)):
        return 0
    return 9


def _deparse(node: ast.expr) -> str:
    match node:
        case ast.Constant(value=bool() as value):
            return "TRUE" if value else "FALSE"
        case ast.Constant(value=str() as value):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        case ast.Constant(value=int() | float() as value):
            return f"{value:.15g}"
        case ast.Constant(value=None):
            return "NULL"
        case ast.Name(id=name):
            return _column(name)
        case ast.Call() if (column := _column_of(node)) is not None and not isinstance(node, ast.Name):
            return _column(column)  # Q('Sepal.Length') -> Sepal.Length
        case ast.Call(func=func, args=args, keywords=keywords):
            name = _function_name(func)
            parts = [_deparse(a) for a in args] + [f"{k.arg} = {_deparse(k.value)}" for k in keywords]
            return f"{name}({', '.join(parts)})"
        case ast.BinOp(left=left, op=op, right=right) if type(op) in OPERATORS:
            symbol, rank = OPERATORS[type(op)]
            # ^ is right-associative; the others left-associative
            lhs = _wrap(left, rank, strict=symbol == "^")
            rhs = _wrap(right, rank, strict=symbol != "^")
            return f"{lhs}{symbol}{rhs}" if symbol == "^" else f"{lhs} {symbol} {rhs}"
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return f"-{_wrap(operand, 3, strict=False)}"
        case ast.UnaryOp(op=ast.UAdd(), operand=operand):
            return f"+{_wrap(operand, 3, strict=False)}"
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return f"!{_wrap(operand, 3, strict=False)}"
        case ast.Compare(left=left, ops=[op], comparators=[right]) if type(op) in COMPARISONS:
            return f"{_wrap(left, 0, strict=True)} {COMPARISONS[type(op)]} {_wrap(right, 0, strict=True)}"
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return f"c({', '.join(_deparse(e) for e in elts)})"
    raise _Unknown


def _wrap(node: ast.expr, rank: int, strict: bool) -> str:
    text = _deparse(node)
    inner = _precedence(node)
    return f"({text})" if inner < rank or (strict and inner == rank) else text


def _function_name(func: ast.expr) -> str:
    match func:
        case ast.Name(id=name):
            return name
        case ast.Attribute(value=ast.Name(id=module), attr=attr) if f"{module}." in NUMPY_PREFIX:
            return attr  # np.log -> log
    raise _Unknown


# --- names older run folders hold ---


def r_name(name: str) -> str:
    """A coefficient's name as an older run folder wrote it, in R's scheme: const and Intercept as
    (Intercept), C(x)[T.b] and x[T.b] as xb, np.log(x) as log(x). A name already in R's scheme, or
    one this cannot read, comes back as it is."""
    if name in OLD_INTERCEPTS:
        return INTERCEPT
    pieces = _split(name)
    if pieces is None:
        return name
    return ":".join(_old_piece(p) for p in pieces)


def _split(name: str) -> list[str] | None:
    """The name's pieces at the ':' outside brackets and quotes (an interaction's factors)."""
    pieces, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(name):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == ":" and depth == 0:
            pieces.append(name[start:i])
            start = i + 1
    if depth or quote:
        return None
    return pieces + [name[start:]]


def _old_piece(piece: str) -> str:
    match = re.fullmatch(r"(?P<code>.+?)\[(?P<level>[^\[\]]*)\]", piece)
    if match and _parse(match["code"]) is not None:
        code, level = match["code"], match["level"]
        if level.isdigit() and _is_call(code):  # a numeric factor's column k (from 0): R counts from 1
            return f"{deparse(code)}{int(level) + 1}"
        return factor_label(code) + _levels([f"[{level}]"])[0]
    if piece.startswith(INTERCEPT) or _parse(piece) is None:
        return piece
    return deparse(piece)


def _is_call(code: str) -> bool:
    node = _parse(code)
    return isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id == "C")


RENAMED_SECTIONS = ("network", "glm", "reference")
SCHEMA_WITH_R_NAMES = 2  # result.json's schema from which terms carry R's names


def renamed_record(raw: dict) -> dict:
    """An older result.json (schema 1) with its terms in R's scheme: the coefficient and standard-error
    maps of the fits (nested by class for a multinomial fit), the GLM's aliased terms and the data's
    feature names. A record of the current schema comes back as it is."""
    schema = raw.get("schema")
    if isinstance(schema, int) and schema >= SCHEMA_WITH_R_NAMES:
        return raw
    out = dict(raw)
    for key in RENAMED_SECTIONS:
        section = out.get(key)
        if isinstance(section, dict):
            section = dict(section)
            for field in ("coefficients", "bse"):
                if isinstance(section.get(field), dict):
                    section[field] = _renamed_map(section[field])
            if isinstance(section.get("aliased"), list):
                section["aliased"] = [r_name(n) if isinstance(n, str) else n for n in section["aliased"]]
            out[key] = section
    data = out.get("data")
    if isinstance(data, dict) and isinstance(data.get("feature_names"), list):
        out["data"] = {**data, "feature_names": [r_name(n) if isinstance(n, str) else n for n in data["feature_names"]]}
    return out


def _renamed_map(by_term: dict) -> dict:
    """Keys renamed; a nested map (a multinomial fit's class -> terms) renamed inside, its class kept."""
    return {
        (key if isinstance(value, dict) else r_name(key)): (_renamed_map(value) if isinstance(value, dict) else value)
        for key, value in by_term.items()
    }
