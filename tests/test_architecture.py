"""The package's shape, as docs/architecture.md draws it: layers that import only downwards, no
import circle (imports inside functions and under TYPE_CHECKING count too), nothing importing the
orchestrator, and every module listed in the document."""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pipeline"
DOCUMENT = ROOT / "docs" / "architecture.md"
ORCHESTRATOR = "pipeline.build.run"
MAY_RUN_THE_BUILD = ("pipeline.cli",)  # the command line composes the build, the push and the tools around them


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path, modules: dict[str, Path], root: Path = ROOT) -> set[str]:
    """Every pipeline module `path` imports, anywhere in the file; `from pipeline.x import y`
    counts as importing pipeline.x.y when y is a module."""
    is_package = path.name == "__init__.py"
    own = module_name(path, root).split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own if is_package else own[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules and name != module_name(path, root)}


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: imported_modules(path, modules) for name, path in modules.items()}


def documented_layers() -> list[str]:
    """The layers, lowest first, from the document's table: `| 1 | `core/` | ... |`."""
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`([a-z_]+)/`\s*\|", DOCUMENT.read_text(), re.MULTILINE)
    return [folder for _, folder in sorted(rows, key=lambda row: int(row[0]))]


def layer_of(module: str, layers: list[str]) -> int | None:
    parts = module.split(".")
    return layers.index(parts[1]) if len(parts) >= 2 and parts[1] in layers else None


def circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle (its modules, the first repeated at the end), or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return error.args[1]
    return []


def test_the_document_names_the_layers_in_order():
    assert documented_layers() == [
        "core",
        "tools",
        "content",
        "render",
        "build",
        "deliver",
        "readers",
        "authoring",
        "cli",
    ]


def test_every_module_lives_in_a_layer():
    layers = documented_layers()
    loose = [
        name
        for name in package_modules()
        if name not in ("pipeline", "pipeline.__main__") and layer_of(name, layers) is None
    ]
    assert loose == [], "modules outside every layer folder: put them in one, as docs/architecture.md says"


def test_layers_import_only_layers_below_them():
    layers = documented_layers()
    upward = []
    for module, targets in import_graph().items():
        here = layer_of(module, layers)
        for target in targets:
            there = layer_of(target, layers)
            if here is not None and there is not None and there > here:
                upward.append(f"{module} imports {target} ({layers[here]} -> {layers[there]})")
    assert upward == []


def test_no_module_takes_part_in_an_import_circle():
    assert circle(import_graph()) == []


def test_nothing_but_the_command_line_imports_the_orchestrator():
    importers = [
        module
        for module, targets in import_graph().items()
        if ORCHESTRATOR in targets and not module.startswith(MAY_RUN_THE_BUILD)
    ]
    assert importers == []


def test_every_module_is_in_the_document_and_every_listed_one_exists():
    text = DOCUMENT.read_text()
    listed = set(
        re.findall(r"^\| `((?:[a-z_]+/)*[a-z_]+\.py)` \|", text, re.MULTILINE)
    )  # first column of the module tables
    actual = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"}
    assert sorted(actual - listed) == [], "modules missing from docs/architecture.md"
    assert sorted(listed - actual) == [], "docs/architecture.md lists modules that do not exist"


@pytest.mark.parametrize(
    "graph, members",
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, {"a", "b"}),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, set()),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, {"a", "b", "c"}),
    ],
)
def test_the_circle_finder_finds_circles_and_only_circles(graph, members):
    assert set(circle(graph)) == members


def test_the_import_walk_sees_relative_imports_inside_functions(tmp_path):
    package = tmp_path / "pipeline"
    (package / "core").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core" / "__init__.py").write_text("")
    (package / "core" / "a.py").write_text("def f():\n    from . import b\n")
    (package / "core" / "b.py").write_text("from pipeline.core.a import f\n")
    modules = {module_name(path, tmp_path): path for path in package.rglob("*.py")}
    graph = {name: imported_modules(path, modules, tmp_path) for name, path in modules.items()}
    assert set(circle(graph)) == {"pipeline.core.a", "pipeline.core.b"}
