"""data.formula, read without running it: checked, and R's habits mapped to the formula library's.

A formula is read by the formula library statsmodels uses (patsy), which evaluates each
term as Python. Before it sees one, every term is parsed here with Python's `ast` and
only a closed language passes: column names, numbers and strings, arithmetic and
comparisons, and the functions in FUNCTIONS (with `np.` before NUMPY's). Anything else
(an attribute, a subscript, a call of another name, a dunder name, a lambda, ...) is an
error naming it, before anything is evaluated. Configs and run folders are shared:
reading one must never run its author's code.

R's habits become what nnglm has: `cbind(successes, failures) ~ ...` (binomial trials),
`factor(x)` and `relevel(x, ref = "b")` (patsy's C(x), C(x, Treatment("b")) under R's names, so that
their terms are named as R names them: factor(x)2), `offset(expr)` (summed
into the offset), `log(x)` and its siblings without `np.`, `c(...)` as a list, `^` as `**`,
`TRUE`/`FALSE` as True/False. `poly()`, `ns()` and `bs()` are R's bases (bases.py). R's `.`
(every other column) stays a placeholder in the right-hand side until the data's columns are
known (Formula.expand).
"""

import ast
from dataclasses import dataclass

# numpy's functions a term may call as np.<name> (or, as in R, by the bare name)
NUMPY = ("log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "square", "abs", "power", "sin", "cos", "tan", "arctan", "floor", "ceil")
# the formula library's own functions and contrasts
PATSY = ("C", "I", "Q", "Treatment", "Sum", "Diff", "Helmert", "Poly", "center", "standardize", "scale")
# R's names, rewritten before the formula library sees them
R_NAMES = ("factor", "relevel", "c", "cbind", "offset")
# R's bases of one numeric column (bases.py): the arguments each takes, in R's order
BASES = {"poly": ("degree", "raw"), "ns": ("df", "knots", "intercept"), "bs": ("df", "knots", "degree", "intercept")}
FUNCTIONS = PATSY + NUMPY + R_NAMES + tuple(BASES)
# what R's formulas have and nnglm has not, with what to write instead
NOT_HERE = {
    "s": "smooth terms (mgcv); write a spline basis, ns(x, df = 4) or bs(x, df = 5)",
    "strata": "strata (survival models); not a GLM term",
    "log1pexp": "no such term",
}
OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Not: "not",
    ast.Invert: "~",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.And: "and",
    ast.Or: "or",
}
MAX_DEPTH = 50  # nested calls and operators in one term
DOT = "\x00.\x00"  # R's '.' in the right-hand side until the columns are known; no formula can hold a NUL byte
R_LOGICALS = {"TRUE": True, "FALSE": False}


class FormulaError(ValueError):
    pass


@dataclass(frozen=True)
class Formula:
    text: str  # as written
    target: str  # the left-hand side's expression (the successes, with cbind)
    failures: str | None  # cbind(successes, failures): the second column's expression
    rhs: str  # the right-hand side for the formula library, offsets taken out
    offsets: tuple[str, ...]  # offset(expr)'s expressions
    names: frozenset[str]  # the bare names the formula reads: columns of the data
    left_names: frozenset[str] = frozenset()  # the names the left-hand side reads ('.' leaves them out)
    added: tuple[str, ...] = ()  # the single columns added as terms of their own (y ~ . + x names x twice)

    @property
    def dot(self) -> bool:
        """R's '.' is in the right-hand side: every column left over (expand)."""
        return DOT in self.rhs

    def expand(self, columns: list[str]) -> str:
        """The right-hand side with '.' as the sum of `columns` (the columns left after the target and the
        columns with other roles), as R's terms.formula expands it against the data."""
        if not self.dot:
            return self.rhs
        twice = [name for name in self.added if name in columns]
        if twice:
            raise FormulaError(
                f"data.formula: {_quote(self.text)}: column {twice[0]!r} is named twice, through '.' (every column "
                f"but the target) and as a term of its own; write it once: leave '+ {twice[0]}' out"
            )
        if not columns:
            raise FormulaError(f"data.formula: {_quote(self.text)}: '.' stands for no column (the data has none besides the target)")
        terms = " + ".join(c if c.isidentifier() else f"Q({c!r})" for c in columns)
        return self.rhs.replace(DOT, f"({terms})")

    @property
    def patsy(self) -> str:
        return f"{self.target} ~ {self.rhs}"

    @property
    def target_is_column(self) -> bool:
        """The left-hand side is a column as it stands (a text target's labels then stay labels)."""
        return self.failures is None and self.target in self.names and self.target.isidentifier()


def parse_formula(text: str) -> Formula:
    """The formula checked and mapped; a FormulaError (its message starts 'data.formula:') otherwise."""
    from patsy import PatsyError
    from patsy.parse_formula import parse_formula

    where = f"data.formula: {_quote(text)}"
    if "%in%" in text or "%%" in text:
        raise FormulaError(f"{where}: R's %in% (nesting) has no counterpart here; write the interaction a:b")
    if "\x00" in text:
        raise FormulaError(f"{where}: holds a NUL byte")
    powered = _powers(text)
    try:
        tree = parse_formula(powered)
    except PatsyError as e:
        raise FormulaError(f"{where}: cannot parse it: {str(e).splitlines()[0]}") from None
    except (RecursionError, MemoryError):
        raise FormulaError(f"{where}: nested too deeply") from None
    if tree.type != "~" or len(tree.args) != 2:
        raise FormulaError(f"{where}: needs a target on the left of '~', e.g. y ~ x1 + C(g)")
    names: set[str] = set()
    lhs, rhs = tree.args
    # the left-hand side is arithmetic, as in R (Menarche/Total is a proportion, not nesting)
    left = lhs.token.extra if lhs.type == "PYTHON_EXPR" else powered[lhs.origin.start : lhs.origin.end]
    if left.strip() == ".":
        raise FormulaError(f"{where}: '.' (every other column) belongs on the right of '~'")
    target, failures = _left(left, where, names)
    left_names = frozenset(names)
    offsets: list[str] = []
    added: list[str] = []
    right = _right(rhs, where, names, offsets, top=True, added=added)
    return Formula(text, target, failures, right or "1", tuple(offsets), frozenset(names), left_names, tuple(added))


def _quote(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:79] + "…")


def _powers(text: str) -> str:
    """R's ^ (interaction power; inside I() the power) as the formula library's **, outside strings."""
    out, quote = [], None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "^":
            ch = "**"
        out.append(ch)
    return "".join(out)


def _left(code: str, where: str, names: set[str]) -> tuple[str, str | None]:
    node = _expression(code, where)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "cbind":
        if len(node.args) != 2 or node.keywords:
            raise FormulaError(f"{where}: cbind takes two columns: cbind(successes, failures)")
        successes, fails = (_term(arg, where, names, "cbind") for arg in node.args)
        return ast.unparse(successes), ast.unparse(fails)
    return ast.unparse(_term(node, where, names, None)), None


def _right(node, where: str, names: set[str], offsets: list[str], top: bool, added: list[str]) -> str:
    """The right-hand side rebuilt for the formula library, each term checked and mapped."""
    kind = node.type
    if kind in ("ONE", "ZERO", "NUMBER"):
        return node.token.extra
    if kind == "PYTHON_EXPR":
        if node.token.extra.strip() == ".":
            return DOT
        tree = _expression(node.token.extra, where)
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.BitOr):
            raise FormulaError(
                f"{where}: a '|' term ({ast.unparse(tree)}) is a random effect (lme4's); nnglm fits GLMs without random effects"
            )
        if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "offset":
            if not top:
                raise FormulaError(f"{where}: offset() is a term of its own, added to the formula with +, not inside an interaction")
            if len(tree.args) != 1 or tree.keywords:
                raise FormulaError(f"{where}: offset takes one column or expression: offset(log(exposure))")
            offsets.append(ast.unparse(_term(tree.args[0], where, names, "offset")))
            return ""
        term = _term(tree, where, names, None)
        if top and isinstance(term, ast.Name):
            added.append(term.id)
        elif top and isinstance(term, ast.Call) and isinstance(term.func, ast.Name) and term.func.id == "Q":
            added.append(term.args[0].value)  # type: ignore[attr-defined]
        return ast.unparse(term)
    # an offset is a term of the sum: under + (either side) or left of a -
    tops = [top and (kind == "+" or (kind == "-" and i == 0 and len(node.args) == 2)) for i in range(len(node.args))]
    parts = [_right(arg, where, names, offsets, top=t, added=added) for arg, t in zip(node.args, tops)]
    if len(parts) == 1:
        return f"{kind}({parts[0]})" if parts[0] else ""
    left, right = parts
    if kind in ("+", "-") and not right:
        return left
    if kind == "+" and not left:
        return right
    if not (left and right):
        raise FormulaError(f"{where}: offset() is a term of its own, added to the formula with +")
    return f"({left}) {kind} ({right})"


def _expression(code: str, where: str) -> ast.expr:
    try:
        return ast.parse(code.strip(), mode="eval").body
    except SyntaxError:
        raise FormulaError(f"{where}: {_quote(code.strip())} is not a term nnglm can read") from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError(f"{where}: {_quote(code.strip()[:40])} is nested too deeply or holds a NUL byte") from None


def _term(node: ast.expr, where: str, names: set[str], inside: str | None, depth: int = 0) -> ast.expr:
    """The term checked node by node, R's functions rewritten; names collected."""
    if depth > MAX_DEPTH:
        raise FormulaError(f"{where}: a term nested more than {MAX_DEPTH} levels deep")

    def again(child: ast.expr) -> ast.expr:
        return _term(child, where, names, inside, depth + 1)

    match node:
        case ast.Constant(value=value) if isinstance(value, (int, float, str, bool)) or value is None:
            return node
        case ast.Name(id=name) if name in R_LOGICALS:
            return ast.Constant(R_LOGICALS[name])
        case ast.Name(id=name):
            _check_name(name, where)
            names.add(name)  # a column; or a contrast passed by name (C(x, Sum))
            return node
        case ast.BinOp(left=left, op=op, right=right) if type(op) in OPERATORS:
            _check_arithmetic(node, where)
            return ast.BinOp(again(left), op, again(right))
        case ast.BinOp(op=op):
            raise FormulaError(f"{where}: the operator {type(op).__name__} is not allowed in a formula")
        case ast.UnaryOp(op=op, operand=operand) if type(op) in OPERATORS:
            return ast.UnaryOp(op, again(operand))
        case ast.Compare(left=left, ops=ops, comparators=rest) if all(type(o) in OPERATORS for o in ops):
            return ast.Compare(again(left), ops, [again(r) for r in rest])
        case ast.BoolOp(op=op, values=values):
            return ast.BoolOp(op, [again(v) for v in values])
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return ast.List([again(e) for e in elts], ast.Load())
        case ast.Call():
            return _call(node, where, names, inside, depth)
        case ast.Attribute():
            dotted = _dotted(node)
            if dotted is None:
                raise FormulaError(
                    f"{where}: attribute access ({_shown(node)}) is not allowed in a formula; only np.{'/'.join(NUMPY[:4])}/... calls"
                )
            for part in dotted.split("."):
                _check_name(part, where)
            names.add(dotted)  # R's dotted column names (Sepal.Length): read by name, never as an attribute
            return ast.Call(ast.Name("Q", ast.Load()), [ast.Constant(dotted)], [])
    raise FormulaError(f"{where}: {_construct(node)} ({_shown(node)}) is not allowed in a formula")


MAX_EXPONENT = 1000  # a number as ^'s exponent: past it a power is inf, or, of whole numbers, an integer without end


def _check_arithmetic(node: ast.BinOp, where: str) -> None:
    """Arithmetic the formula library evaluates as Python: of numbers alone it is exact integer arithmetic,
    which 10^10^10 would run for ever, and a list times a number is a list of that length."""
    if isinstance(node.left, (ast.List, ast.Tuple)) or isinstance(node.right, (ast.List, ast.Tuple)):
        raise FormulaError(f"{where}: c(...) is a list of values for an argument (levels = c(...)), not a number ({_shown(node)})")
    if isinstance(node.op, ast.Pow):
        exponent = node.right.operand if isinstance(node.right, ast.UnaryOp) and isinstance(node.right.op, ast.USub) else node.right
        value = exponent.value if isinstance(exponent, ast.Constant) else None
        literal = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(value, (int, float)) and literal and abs(value) <= MAX_EXPONENT:
            return
        if not literal and (_columns_in(node.right) or not any(isinstance(n, ast.Pow) for n in ast.walk(node.right))):
            return  # x^y, x^(1/2); not 10^10^10
        raise FormulaError(
            f"{where}: the exponent of {_shown(node)} must be a number of at most {MAX_EXPONENT} in size (x^2, x^0.5, "
            "x^(1/2)) or hold a column; a power of powers of numbers is evaluated exactly, without end"
        )


def _columns_in(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) and n.id not in R_LOGICALS for n in ast.walk(node))


def _call(node: ast.Call, where: str, names: set[str], inside: str | None, depth: int) -> ast.expr:
    func = _function(node.func, where)
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise FormulaError(f"{where}: *args and **kwargs ({_shown(node)}) are not allowed in a formula")
    if func in ("cbind", "offset"):
        place = "the left of '~'" if func == "cbind" else "its own term on the right of '~'"
        raise FormulaError(f"{where}: {func}() belongs at {place}, not inside another term ({_shown(node)})")
    args = [_term(a, where, names, inside, depth + 1) for a in node.args]
    keywords = [ast.keyword(k.arg, _term(k.value, where, names, inside, depth + 1)) for k in node.keywords]
    if func == "c":
        if keywords:
            raise FormulaError(f"{where}: c() takes values only ({_shown(node)})")
        return ast.List(args, ast.Load())
    if func == "factor":
        # factor(x, levels = c(...)) is C(x, levels=[...]); R's labels and ordered have no counterpart
        bad = [k.arg for k in keywords if k.arg != "levels"]
        if bad or len(args) != 1:
            raise FormulaError(f"{where}: factor() takes a column and levels = c(...) only ({_shown(node)})")
        return ast.Call(ast.Name("factor", ast.Load()), args, keywords)  # C(x, levels=...), named as R names it
    if func == "relevel":
        ref = [k.value for k in keywords if k.arg == "ref"] or args[1:2]
        if len(args) < 1 or len(ref) != 1 or len(args) + len(keywords) != 2:
            raise FormulaError(f'{where}: relevel() takes a column and ref = "level" ({_shown(node)})')
        return ast.Call(ast.Name("relevel", ast.Load()), args, keywords)  # C(x, Treatment(ref)), named as R names it
    if func in BASES:
        _check_basis(func, node, args, keywords, where)
    target: ast.expr = ast.Name(func, ast.Load())
    if func in NUMPY:
        target = ast.Attribute(ast.Name("np", ast.Load()), func, ast.Load())
    return ast.Call(target, args, keywords)


def _check_basis(func: str, node: ast.Call, args: list[ast.expr], keywords: list[ast.keyword], where: str) -> None:
    """poly/ns/bs of one column, with R's arguments by position or name."""
    allowed = BASES[func]
    usage = f"{func}(x, {', '.join(f'{a} = ...' for a in allowed)})"
    if not args:
        raise FormulaError(f"{where}: {func}() needs a column: {usage} ({_shown(node)})")
    unknown = [k.arg for k in keywords if k.arg not in allowed]
    if unknown:
        hint = "; a basis of several columns is not supported, write one term per column" if func == "poly" else ""
        raise FormulaError(f"{where}: {func}() takes {', '.join(allowed)}; not {unknown[0]} ({_shown(node)}){hint}")
    if func == "poly" and len(args) > 2:
        raise FormulaError(f"{where}: poly() of several columns is not supported; write one poly() per column ({_shown(node)})")
    if len(args) - 1 > len(allowed):
        raise FormulaError(f"{where}: {func}() takes one column and {', '.join(allowed)} ({_shown(node)})")
    by_position = allowed[: len(args) - 1]
    twice = [k.arg for k in keywords if k.arg in by_position]
    if twice:
        raise FormulaError(f"{where}: {func}() is given {twice[0]} twice ({_shown(node)})")


def _function(func: ast.expr, where: str) -> str:
    """The called function's name, if it is one a formula may call."""
    match func:
        case ast.Name(id=name) if name in FUNCTIONS:
            return name
        case ast.Name(id=name) if name in NOT_HERE:
            raise FormulaError(f"{where}: R's {name}() has no counterpart here ({NOT_HERE[name]})")
        case ast.Name(id=name):
            _check_name(name, where)
            raise FormulaError(f"{where}: the function {name}() is not allowed in a formula; allowed: {', '.join(sorted(FUNCTIONS))}")
        case ast.Attribute(value=ast.Name(id="np" | "numpy"), attr=attr) if attr in NUMPY:
            return attr
        case ast.Attribute():
            raise FormulaError(
                f"{where}: attribute access ({_shown(func)}) is not allowed in a formula; of numpy, only np.{', np.'.join(NUMPY)}"
            )
    raise FormulaError(f"{where}: {_construct(func)} ({_shown(func)}) cannot be called in a formula")


def _dotted(node: ast.Attribute) -> str | None:
    """'Sepal.Length' for a chain of plain names that is not numpy's; None for anything else."""
    parts = [node.attr]
    value = node.value
    while isinstance(value, ast.Attribute):
        parts.append(value.attr)
        value = value.value
    if not isinstance(value, ast.Name) or value.id in ("np", "numpy"):
        return None
    return ".".join([value.id, *reversed(parts)])


def _check_name(name: str, where: str) -> None:
    if name.startswith("__") or name.endswith("__"):
        raise FormulaError(f"{where}: the name {name!r} is not allowed in a formula (dunder names)")


def _construct(node: ast.AST) -> str:
    names = {
        ast.Subscript: "a subscript",
        ast.Lambda: "a lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a generator expression",
        ast.NamedExpr: "an assignment (:=)",
        ast.IfExp: "a conditional expression",
        ast.JoinedStr: "an f-string",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.Starred: "a starred value",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.Slice: "a slice",
        ast.Call: "a call's result",
    }
    return names.get(type(node), f"the construct {type(node).__name__}")


def _shown(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # unparse of an odd tree: its kind is enough
        text = type(node).__name__
    return text if len(text) <= 60 else text[:59] + "…"
