"""The package's import rules (docs/architecture.md, "Layers"), read from the source.

Every ``import vae_genomics…`` and ``from vae_genomics… import`` statement counts, those inside
functions too (a lazy import is still a dependency). A package may import only itself and the
packages of the layers below it; modules form no cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vae_genomics"

#: Lowest first. Packages in one layer do not import each other.
LAYERS: list[set[str]] = [
    {"common"},
    {"config"},
    {"data", "models"},
    {"generate"},
    {"evaluation"},
    {"train"},
    {"run"},
    {"report"},
    {"commands"},
    {"cli", "api"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The vae_genomics modules a file imports (``from pkg import mod`` resolved to ``pkg.mod``)."""
    found: set[str] = set()
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("vae_genomics"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("vae_genomics"):
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_top_level_entry_has_a_layer():
    entries = {
        p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()
    }
    assert entries - {"__init__"} == set(RANK)
    assert len(entries) <= 13  # __init__.py and twelve packages or modules


def test_packages_import_only_lower_layers():
    broken = []
    for module, imported in _graph().items():
        source = _top(module)
        if source is None:  # vae_genomics/__init__.py: the lazy load_run of api
            assert imported <= {"vae_genomics.api"}, imported
            continue
        for target in imported:
            dest = _top(target)
            if dest is None or dest == source:
                continue
            if RANK[dest] >= RANK[source]:
                broken.append(f"{module} imports {target} ({source} may not import {dest})")
    assert not broken, "\n".join(sorted(broken))


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Import cycles of a module graph (depth-first search), each as ``a -> b -> a``; a package
    and its own modules (``__init__`` re-exports) are not a cycle."""
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_modules_form_no_cycle():
    cycles = _cycles(_graph())
    assert not cycles, "\n".join(cycles)


def test_the_cycle_check_finds_a_cycle():
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p": {"p.a"}}
    assert _cycles(graph) == ["p.a -> p.b -> p.c -> p.a"]
    assert _cycles({"p.a": {"p.b"}, "p.b": set()}) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [("vae_genomics.generate.guard", "vae_genomics.evaluation.privacy"),
     ("vae_genomics.data.vcf", "vae_genomics.cli.main"),
     ("vae_genomics.run.load", "vae_genomics.commands.sample")],
)  # fmt: skip
def test_the_rule_catches_an_upward_import(monkeypatch, source, target):
    """The check itself: an upward import added to a module's imports is reported."""
    real = _imports

    def with_extra(path: Path) -> set[str]:
        found = real(path)
        return found | {target} if _module_name(path) == source else found

    monkeypatch.setitem(globals(), "_imports", with_extra)
    with pytest.raises(AssertionError, match=f"{source} imports {target}"):
        test_packages_import_only_lower_layers()


def test_architecture_doc_names_every_module_and_no_missing_one():
    """docs/architecture.md's module tables list every module of the package (package faces that
    only re-export are exempt), and name no module that does not exist."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    faces = {m for m in modules if m.endswith("__init__.py") and len(Path(m).parts) > 1}
    missing = sorted(m for m in modules - faces - {"__init__.py"} if f"`{m}`" not in doc)
    assert not missing, f"docs/architecture.md does not describe: {missing}"
    named = set(re.findall(r"^\| `([a-z_]+/[a-z_]+\.py)` \|", doc, flags=re.M))
    assert named and not named - modules, f"docs/architecture.md names: {sorted(named - modules)}"
