"""The layers only point down: ``impl`` (bottom) <- ``models`` <- ``specs`` <- ``checker`` (top).

A module imports from its own layer and the layers below it, never from one above; this holds for
every import, at module level and inside functions, and for ``importlib.import_module`` of a
string literal (an f-string counts by its constant prefix). Between modules no import cycle
remains (module-level imports: the ones that run when a module is first imported; imports
under ``if TYPE_CHECKING:`` never run). An import inside a function is allowed only for a
measured start-up cost and then says so in a comment on its line or the line above.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("impl", "models", "specs", "checker")  # bottom to top


@dataclass(frozen=True)
class Import:
    path: Path          # the importing file
    line: int
    target: str         # the imported module (or, for ``from m import x``, ``m.x``)
    text: str           # the import as written
    in_function: bool
    type_checking: bool  # under ``if TYPE_CHECKING:`` (never runs)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["paxchain", *parts])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _string_prefix(node: ast.expr) -> str | None:
    """A string literal's value, or an f-string's constant prefix."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        prefix = ""
        for part in node.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                break
            prefix += part.value
        return prefix
    return None


def imports(path: Path, root: Path) -> list[Import]:
    """Every import of ``path``: statements anywhere in it, and ``import_module``/``__import__``
    calls whose first argument is a string literal."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    source = path.read_text(encoding="utf-8")
    found: list[Import] = []

    def add(node: ast.AST, target: str, in_function: bool, type_checking: bool) -> None:
        found.append(Import(path, node.lineno, target, ast.get_source_segment(source, node) or "",
                            in_function, type_checking))

    def walk(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name, in_function, type_checking)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            for alias in node.names:
                add(node, f"{module}.{alias.name}", in_function, type_checking)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            prefix = _string_prefix(node.args[0])
            if called in ("import_module", "__import__") and prefix is not None:
                add(node, prefix, True, type_checking)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                walk(stmt, in_function, True)
            for stmt in node.orelse:
                walk(stmt, in_function, type_checking)
            return
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                 ast.Lambda))
        for child in ast.iter_child_nodes(node):
            walk(child, inner, type_checking)

    walk(ast.parse(source, str(path)), False, False)
    return found


def layer_of(target: str) -> str | None:
    parts = target.split(".")
    if len(parts) >= 2 and parts[0] == "paxchain" and parts[1] in LAYERS:
        return parts[1]
    return None


def sources(root: Path) -> list[tuple[str, Path]]:
    """``(layer, file)`` for every module of the four layers."""
    return [(layer, p) for layer in LAYERS for p in sorted((root / layer).rglob("*.py"))]


def upward_imports(root: Path) -> list[str]:
    """One line per import of a higher layer: ``file:line: import (models imports specs)``."""
    out = []
    for layer, path in sources(root):
        for imp in imports(path, root):
            target = layer_of(imp.target)
            if target is not None and LAYERS.index(target) > LAYERS.index(layer):
                out.append(f"{path.relative_to(root)}:{imp.line}: {imp.text.strip()} "
                           f"({layer} imports {target}, a layer above it)")
    return list(dict.fromkeys(out))  # one line for ``from m import a, b``


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the paxchain modules its module-level imports load (``from m import x`` loads
    ``m.x`` when that is a module, else ``m``); ``TYPE_CHECKING`` imports are left out."""
    files = {module_name(p, root): p for _, p in sources(root)}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for m, path in files.items():
        for imp in imports(path, root):
            if imp.in_function or imp.type_checking:
                continue
            target = imp.target
            while target and target not in files:
                target = target.rpartition(".")[0]
            if target and target != m:
                graph[m].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def unexplained_function_imports(root: Path) -> list[str]:
    """Imports inside functions that say no reason: no comment on their line, nor on the line
    above them or above the run of import statements they stand in."""
    out = []
    for _, path in sources(root):
        lines = path.read_text(encoding="utf-8").splitlines()
        statements = [imp for imp in imports(path, root) if imp.in_function
                      and not imp.text.startswith(("importlib", "import_module"))]
        starts = {imp.line + imp.text.count("\n"): imp.line for imp in statements}  # end -> start
        for imp in statements:
            first = imp.line
            while first - 1 in starts:  # the statement just above is an import too
                first = starts[first - 1]
            above = lines[first - 2] if first > 1 else ""
            if "#" not in lines[imp.line - 1] and not above.strip().startswith("#"):
                out.append(f"{path.relative_to(root)}:{imp.line}: {imp.text.strip()}")
    return sorted(set(out))


# -- the repository ------------------------------------------------------------------------------

def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports(ROOT) == []


def test_no_import_cycle_between_modules():
    assert cycles(import_graph(ROOT)) == []


def test_every_import_inside_a_function_says_why_it_is_there():
    assert unexplained_function_imports(ROOT) == []


def test_the_walk_sees_the_whole_code_base():
    graph = import_graph(ROOT)
    assert len(graph) > 60
    # A module-level import of each kind is seen: checker -> models, specs -> models.
    assert "paxchain.models.model" in graph["paxchain.checker.explicit"]
    assert "paxchain.models.properties" in graph["paxchain.specs.lamport_paxos"]


# -- the checks themselves, on a small tree ------------------------------------------------------

def _tree(root: Path, files: dict[str, str]) -> Path:
    for layer in LAYERS:
        (root / layer).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_an_upward_import_is_named_with_file_line_and_import(tmp_path):
    root = _tree(tmp_path, {
        "impl/a.py": "import os\n",
        "models/m.py": ("from paxchain.impl import a\n"
                        "def f():\n"
                        "    # cheap\n"
                        "    from paxchain.specs.s import P\n"),
        "specs/s.py": ("import importlib\n"
                       "def g(name):\n"
                       "    return importlib.import_module(f'paxchain.checker.{name}')\n"),
        "checker/c.py": "from paxchain.specs import s\nfrom paxchain.models.m import f\n",
    })
    assert upward_imports(root) == [
        "models/m.py:4: from paxchain.specs.s import P (models imports specs, a layer above it)",
        "specs/s.py:3: importlib.import_module(f'paxchain.checker.{name}') "
        "(specs imports checker, a layer above it)"]


def test_a_cycle_is_found_and_type_checking_imports_are_not_followed(tmp_path):
    root = _tree(tmp_path, {
        "checker/a.py": "from paxchain.checker.b import x\n",
        "checker/b.py": "from paxchain.checker import c\nx = 1\n",
        "checker/c.py": "import paxchain.checker.a\n",
        "checker/d.py": ("from typing import TYPE_CHECKING\n"
                         "if TYPE_CHECKING:\n"
                         "    from paxchain.checker.e import y\n"),
        "checker/e.py": "from paxchain.checker.d import TYPE_CHECKING as y\n",
    })
    assert cycles(import_graph(root)) == [
        ["paxchain.checker.a", "paxchain.checker.b", "paxchain.checker.c"]]


def test_an_import_inside_a_function_needs_its_reason(tmp_path):
    root = _tree(tmp_path, {
        "checker/a.py": ("def f():\n"
                         "    import json\n"
                         "def g():\n"
                         "    import z3  # z3 costs 0.3 s to import; only g needs it\n"
                         "def h():\n"
                         "    # rich costs 20 ms to import; only a terminal needs it\n"
                         "    from rich.console import (\n"
                         "        Console)\n"
                         "    from rich.live import Live\n"
                         "    x = 1\n"
                         "    from rich.text import Text\n"),
    })
    assert unexplained_function_imports(root) == ["checker/a.py:11: from rich.text import Text",
                                                  "checker/a.py:2: import json"]
