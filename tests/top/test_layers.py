"""The package's layers, read from its own imports (every import, at the top or inside a function):
a module imports only its own layer and those below it, nothing imports in a circle, and the run log
and the pictures never reach the training layer or TensorFlow."""

import ast
import sys
from pathlib import Path

import pytest
from support import ROOT

PACKAGE = ROOT / "nnglm"

# bottom first: each layer is one folder of the package (the top: the modules beside them)
LAYERS = [
    ("foundation", ["nnglm.foundation"]),
    ("vocabulary", ["nnglm.vocabulary"]),  # what a config is checked against: families and links, formats, formulas
    ("config", ["nnglm.config"]),
    ("log", ["nnglm.log"]),  # the record: result.json's schema (which the fits' sections are), the run folder
    ("data", ["nnglm.data"]),
    ("model", ["nnglm.model"]),
    ("train", ["nnglm.train"]),
    ("show", ["nnglm.show"]),
    ("experiment", ["nnglm.experiment"]),
    ("top", ["nnglm.api", "nnglm.cli", "nnglm.__main__", "nnglm"]),
]
HEAVY = ("tensorflow", "keras", "torch", "jax")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every module path imports: `from nnglm.x import y` counts nnglm.x.y when that is a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            found.update(submodules or {node.module})
    return found


def layer_of(name: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{name} belongs to no layer; add it to LAYERS")


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: {m for m in imports_of(path, known) if m in known and m != name} for name, path in found.items()}


def test_every_module_belongs_to_a_layer():
    for name in modules():
        layer_of(name)


def test_each_layer_is_a_folder_and_each_folder_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    named = {prefix.split(".")[1] for _, prefixes in LAYERS[:-1] for prefix in prefixes}
    assert named == folders
    assert all(len(prefixes) == 1 for _, prefixes in LAYERS[:-1])


def test_no_two_folders_import_each_other():
    def folder(name: str) -> str:
        return name.split(".")[1] if name.count(".") >= 1 and (PACKAGE / name.split(".")[1]).is_dir() else "top"

    edges = {(folder(a), folder(b)) for a, deps in graph().items() for b in deps if folder(a) != folder(b)}
    assert sorted(f"{a} <-> {b}" for a, b in edges if (b, a) in edges and a < b) == []


def test_no_module_imports_a_layer_above_its_own():
    wrong = [
        f"{name} ({LAYERS[layer_of(name)][0]}) imports {dep} ({LAYERS[layer_of(dep)][0]})"
        for name, deps in graph().items()
        for dep in deps
        if layer_of(dep) > layer_of(name) and not name.endswith("__init__")
    ]
    assert wrong == []


def test_no_imports_in_a_circle():
    edges = {name: {d for d in deps if d != "nnglm"} for name, deps in graph().items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(path[path.index(dep) :] + [dep]))
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("layer", ["nnglm.log", "nnglm.show"])
def test_the_run_log_and_the_pictures_never_reach_training(layer):
    edges = graph()
    reached, stack = set(), [m for m in edges if m == layer or m.startswith(layer + ".")]
    while stack:
        name = stack.pop()
        if name not in reached:
            reached.add(name)
            stack.extend(edges[name])
    assert sorted(m for m in reached if m.startswith("nnglm.train")) == []
    heavy = sorted(f"{m} imports {i}" for m in reached for i in imports_of(modules()[m], set()) if i.split(".")[0] in HEAVY)
    assert heavy == []


def test_reading_runs_loads_no_training_code():
    """`nnglm runs` and `compare` start fast: importing what they use loads no TensorFlow."""
    import subprocess

    code = "import sys, nnglm.log.logbook, nnglm.show.summary; print(sorted(m for m in sys.modules if m.split('.')[0] in %r or m.startswith('nnglm.train')))"
    out = subprocess.run([sys.executable, "-c", code % (HEAVY,)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_subpackage_hides_a_name_of_the_python_api():
    """`import nnglm.x.y` sets nnglm.x: a subpackage named as an API function (nnglm.run) would replace it."""
    import nnglm

    assert [name for name in nnglm.__all__ if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()] == []
