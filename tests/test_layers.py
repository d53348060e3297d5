"""The layers of esc, enforced on its import graph (every import, at any depth).

    cli → commands → report → store → config → ticketfile → domain

A module imports modules of its own package or of a package to the right, never to the
left; the graph has no cycles, also counting imports inside functions (a lazy import
may save time, never hide a cycle); the domain does no I/O; only the cli uses click.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ESC = Path(__file__).resolve().parent.parent / "esc"
LAYERS = ["domain", "ticketfile", "config", "store", "report", "commands", "cli"]
RANK = {name: rank for rank, name in enumerate(LAYERS)}
# What a pure domain may not touch: files, processes, the network, the clock's source.
IO_MODULES = {
    "os", "io", "pathlib", "shutil", "tempfile", "subprocess", "socket", "sqlite3", "sys",
    "fcntl", "multiprocessing", "threading", "secrets", "random", "time", "glob", "urllib",
    "http", "email", "mailbox", "signal", "ctypes",
}  # fmt: skip
IO_CALLS = {"open", "print", "input"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ESC.rglob("*.py")):
        parts = path.relative_to(ESC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports (absolute names), at any depth, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:  # `from esc.store import lock` imports esc.store.lock
                yield f"{node.module}.{alias.name}", node.lineno


def esc_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imports(path):
            if target in known and target != name and target != "esc":
                graph[name].add(target)
    return graph


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else None


def test_every_module_is_in_a_layer() -> None:
    loose = [m for m in modules() if m.count(".") == 1 and layer(m) is None]
    assert sorted(loose) == ["esc.__main__"], "modules outside the layers: " + ", ".join(loose)


def test_no_module_imports_a_layer_above_its_own() -> None:
    wrong = []
    for module, targets in esc_graph().items():
        here = layer(module)
        if here is None:
            continue
        for target in targets:
            there = layer(target)
            if there is not None and RANK[there] > RANK[here]:
                wrong.append(f"{module} imports {target} ({here} < {there})")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_import_graph_has_no_cycles() -> None:
    graph = esc_graph()
    for package in ("esc." + name for name in LAYERS):  # a package's __init__ imports nothing
        graph[package] = set()
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" → ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("module", sorted(m for m in modules() if layer(m) == "domain"))
def test_the_domain_does_no_io(module: str) -> None:
    path = modules()[module]
    used = {name.split(".")[0] for name, _ in imports(path)}
    assert used & IO_MODULES == set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert calls & IO_CALLS == set()


def test_only_the_cli_uses_click() -> None:
    users = [
        m
        for m, path in modules().items()
        if layer(m) != "cli" and any(t.split(".")[0] == "click" for t, _ in imports(path))
    ]
    assert not users, ", ".join(users)


def test_the_check_sees_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: a domain module that imports the store is caught."""
    package = tmp_path / "esc"
    for name in ("domain", "store"):
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("")
    (package / "domain" / "a.py").write_text("def f():\n    from esc.store import b\n")
    (package / "store" / "b.py").write_text("from esc.domain import a\nimport os\n")
    monkeypatch.setattr(sys.modules[__name__], "ESC", package)
    with pytest.raises(AssertionError, match=r"esc\.domain\.a imports esc\.store\.b"):
        test_no_module_imports_a_layer_above_its_own()
    with pytest.raises(AssertionError, match=r"esc\.domain\.a → esc\.store\.b → esc\.domain\.a"):
        test_the_import_graph_has_no_cycles()
