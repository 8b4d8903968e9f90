"""The shape of the code (issue #13): no import circles, and modules that stay readable.

Both checks read the source with `ast`; nothing is imported. Imports under
`if TYPE_CHECKING:` are left out: they exist for the type checker only and cannot make a
circle at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "callcenter"
#: A module past this many lines is a sign it does several jobs (migrations excepted).
MAX_LINES = 600
#: Modules already past MAX_LINES, with their size when this check came in: each is to be
#: split (docs/architecture.md, "Still to move") and may only shrink meanwhile.
OVERSIZE = {
    "callcenter/acd/acd.py": 679,
    "callcenter/api/cmdb.py": 649,
    "callcenter/api/websocket/hub.py": 823,
    "callcenter/calls/service.py": 1349,
    "callcenter/ivr/flowfile.py": 730,
    "callcenter/simulator/engine.py": 625,
    "callcenter/softphone_bridge/pjsua_thread.py": 1028,
    "callcenter/cmdb/asset_import.py": 705,
    "callcenter/cmdb/store.py": 673,
    "callcenter/db/models.py": 716,
    "callcenter/tickets/store.py": 1079,
    "callcenter/tickets/ticket_repo.py": 790,
}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def runtime_imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports when it runs."""
    tree = ast.parse(path.read_text())
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            found.update(sub for sub in submodules if sub in known)
            if any(sub not in known for sub in submodules):
                found.add(base)  # names defined in the module itself
    return {other for other in found if other in known and other != name}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_imports_itself_in_a_circle() -> None:
    known = modules()
    graph = {name: runtime_imports(name, path, known) for name, path in known.items()}
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_modules_stay_readable() -> None:
    too_long = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        where = str(path.relative_to(ROOT))
        lines = len(path.read_text().splitlines())
        if lines > OVERSIZE.get(where, MAX_LINES):
            too_long[where] = lines
    assert too_long == {}, f"split these (or shrink them below {MAX_LINES} lines)"
