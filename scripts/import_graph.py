"""The import graph of derive/, read with ast: upward imports (against the flow) and import cycles.

The flow is text -> parse -> engine -> verify -> render -> cli; STAGES gives every module its stage,
and a module may import only its own stage or earlier ones. Imports inside functions count too.
Usage: python scripts/import_graph.py [PACKAGE_DIR]   (exit 1 when there is an upward arrow or a cycle)
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

# Stage of a module, by the longest matching dotted prefix (derive.X.Y -> "X.Y", then "X"); "" is
# the package's own __init__ (the public facade, so it sits with the API on top).
# 0 data model and settings every stage may use; 1 shared algebra and numerics (text-level helpers);
# 2 parse; 3 engine; 4 verify; 5 render; 6 check (an application of parse, engine, verify and
# render: its verdict carries LaTeX) and code (check-code: reads code, proves with check); 7 cli and the public API.
STAGES = {
    "model": 0, "errors": 0, "symbols": 0, "catalog": 0, "files": 0, "settings": 0,
    "algebra": 1, "numeric": 1,
    "parse": 2,
    "engine": 3, "reference": 3,
    "verify": 4,
    "render": 5,
    "check": 6, "code": 6,
    "": 7, "api": 7, "commands": 7, "cli_app": 7, "collector": 7,
}
ROOT = "derive"
# Mapped into the package at install time (pyproject.toml), holding data, not code of ours.
DATA_PACKAGES = ("derive.templates",)


def module_name(path: Path, package_dir: Path) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = current.split(".") if is_package else current.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    # `from . import engine` and `from .render import page` import those modules; `from .model
    # import Step` imports derive.model (imports() trims a name that is no module to its module).
    return [f"{base}.{alias.name}" for alias in node.names]


def imports(package_dir: Path) -> dict[str, set[str]]:
    """module -> the derive modules it imports (at module level or inside functions)."""
    files = {module_name(p, package_dir): p for p in sorted(package_dir.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                found = _resolve(node, name, path.name == "__init__.py")
            else:
                continue
            for target in found:
                # the longest prefix that is a module of ours (derive.x.y may name a function y of derive.x)
                original = target
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if original.startswith(DATA_PACKAGES):
                    continue
                if target.startswith(ROOT) and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def stage(module: str) -> int:
    parts = module.split(".")[1:]
    if not parts:
        return STAGES[""]
    for length in range(len(parts), 0, -1):
        key = ".".join(parts[:length])
        if key in STAGES:
            return STAGES[key]
    raise KeyError(f"no stage for {module}: add it to STAGES")


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) where the imported module belongs to a later stage."""
    return sorted((a, b) for a, targets in graph.items() for b in targets if stage(b) > stage(a))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted.

    A package's __init__ and its own submodules are not a cycle worth reporting when the __init__
    merely loads them lazily by name (importlib); ast sees only real import statements."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def main(argv: list[str]) -> int:
    package_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / ROOT
    graph = imports(package_dir)
    arrows, circles = upward(graph), cycles(graph)
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} import edges")
    print(f"upward imports: {len(arrows)}")
    for a, b in arrows:
        print(f"  {a} (stage {stage(a)}) -> {b} (stage {stage(b)})")
    print(f"cycles: {len(circles)}")
    for component in circles:
        print("  " + " <-> ".join(component))
    return 1 if arrows or circles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
