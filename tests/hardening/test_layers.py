"""Issue 13.8: every import arrow between the packages points down (docs/architecture.md's layers).

The check reads every module's imports, function-level ones included (heavy imports live inside
functions here, so a lazy import is as much a dependency as a top-level one)."""

from __future__ import annotations

import ast
from pathlib import Path

import pensioncert

ROOT = Path(pensioncert.__file__).parent
# Lower number = lower layer. A package may import its own layer and any layer below.
LAYERS: dict[str, int] = {
    # shared plumbing every layer may use
    "errors": 0, "settings": 0, "messages": 0, "logging_setup": 0, "tls": 0, "keys": 0, "clientaddr": 0,
    "domain": 1, "clock": 1,
    "storage": 2,
    "media": 3, "biometrics": 3, "liveness": 3, "documents": 3, "synth": 3, "registry": 3,
    "certification": 4,
    "jobs": 5, "notify": 5,
    "api": 6, "admin": 6, "web": 6,
    "cli": 7, "demo": 7, "loadtest": 7, "evaluation": 7,
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name.split(".")[1] for name in found if name.startswith("pensioncert.") and name.count(".") >= 1}


def test_every_package_has_a_layer() -> None:
    packages = {path.name.removesuffix(".py") for path in ROOT.iterdir()
                if (path.is_dir() and (path / "__init__.py").exists()) or (path.suffix == ".py"
                                                                             and path.name != "__init__.py")}
    assert packages - set(LAYERS) == set()


def test_imports_point_down() -> None:
    upward: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        package = path.relative_to(ROOT).parts[0].removesuffix(".py")
        if package == "__init__":
            continue
        for target in _imports(path):
            if target in LAYERS and LAYERS[target] > LAYERS[package]:
                upward.append(f"{path.relative_to(ROOT)} imports pensioncert.{target}")
    assert upward == []
