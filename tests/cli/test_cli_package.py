"""The shape of `ui/cli/`: plumbing in `base`, one module per area registering the same way,
no import cycle between its modules."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from tests.cli.conftest import ROOT

PACKAGE = ROOT / "ui" / "cli"
NOT_AREAS = {"__init__", "__main__", "base", "runner"}


def module_name(path: Path) -> str:
    return "ui.cli" if path.stem == "__init__" else f"ui.cli.{path.stem}"


def local_imports(path: Path) -> set[str]:
    """The ui.cli modules `path` imports (anywhere in it, functions included)."""
    modules = {module_name(p) for p in PACKAGE.glob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module in modules and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            found.update(subs or {node.module})
    return found


def test_no_import_cycle_in_the_cli() -> None:
    graph = {module_name(p): local_imports(p) for p in PACKAGE.glob("*.py")}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in graph.get(start, set())
        )

    assert [m for m in graph if reaches(m, m, set())] == []
    assert graph["ui.cli.base"] == set()


def test_every_area_registers_through_commands_and_is_listed() -> None:
    from ui.cli.runner import AREAS

    areas = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in NOT_AREAS)
    assert areas == [
        "backup",
        "counter",
        "operators",
        "participants",
        "payments",
        "reports",
        "sync",
    ]
    registers = [importlib.import_module(f"ui.cli.{name}").register for name in areas]
    assert sorted(AREAS, key=lambda f: f.__module__) == registers
    for name in areas:
        assert local_imports(PACKAGE / f"{name}.py") == {"ui.cli.base"}, name
