"""The layering, read from the source: the generic core imports no provider but the seam."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "kfsync"
#: The generic core: what may know a provider only through `kfsync.providers.base`.
CORE = ("kfsync.model", "kfsync.plan", "kfsync.apply", "kfsync.engine", "kfsync.safety",
        "kfsync.planfile", "kfsync.render")
SEAM = "kfsync.providers.base"


def module_file(name: str) -> Path | None:
    path = ROOT.parent / Path(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def modules_under(name: str) -> list[str]:
    found = module_file(name)
    if found is None:
        return []
    if found.name != "__init__.py":
        return [name]
    inside = sorted(path.stem for path in found.parent.glob("*.py") if path.name != "__init__.py")
    return [name, *(f"{name}.{stem}" for stem in inside)]


def imports_of(name: str) -> set[str]:
    """Every kfsync module `name` imports, wherever the import is (functions, TYPE_CHECKING)."""
    path = module_file(name)
    assert path is not None, name
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if module_file(f"{base}.{alias.name}") is not None)
    return {m for m in found if m.startswith("kfsync") and module_file(m) is not None}


def reached_from(start: str) -> dict[str, str]:
    """Every kfsync module `start` imports, directly or not, with the module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        current = todo.pop()
        for imported in imports_of(current):
            if imported in (SEAM, start) or imported in seen:
                continue
            seen[imported] = current
            if imported != "kfsync.providers":  # the package of the seam: its __init__ is the factory
                todo.append(imported)
    return seen


@pytest.mark.parametrize("module", [m for name in CORE for m in modules_under(name)])
def test_the_core_imports_no_provider_but_the_seam(module: str) -> None:
    reached = reached_from(module)
    providers = {m: by for m, by in reached.items()
                 if m.startswith("kfsync.providers.") and m != SEAM}
    assert providers == {}, f"{module} reaches a provider: {providers}"


@pytest.mark.parametrize("module", [m for m in modules_under("kfsync.emulator")
                                    if m != "kfsync.emulator"])
def test_the_emulator_machinery_imports_no_provider(module: str) -> None:
    reached = reached_from(module)
    assert not [m for m in reached if m.startswith("kfsync.providers")], module


def test_the_check_sees_imports_inside_functions_and_through_other_modules() -> None:
    """The check itself can fail: it finds the imports a command makes in its body, and beyond."""
    assert SEAM in imports_of("kfsync.apply")
    assert "kfsync.providers.wechat_mp.provider" in imports_of("kfsync.providers")
    reached = reached_from("kfsync.commands.demo")  # imports the provider inside `command`
    assert reached["kfsync.providers.wechat_mp.provider"] == "kfsync.commands.demo"
    assert "kfsync.client.transport" in reached  # through the client


def test_the_core_modules_exist() -> None:
    for name in CORE:
        assert module_file(name) is not None, name


@pytest.mark.parametrize("module", modules_under("kfsync.client"))
def test_the_shared_client_machinery_imports_no_provider(module: str) -> None:
    assert not [m for m in reached_from(module) if m.startswith("kfsync.providers")], module


@pytest.mark.parametrize(("provider", "other"), [("wechat_mp", "wecom"), ("wecom", "wechat_mp")])
def test_no_provider_imports_another(provider: str, other: str) -> None:
    package = f"kfsync.providers.{provider}"
    modules = [m for name in modules_under(package) for m in modules_under(name)]
    for module in modules:
        reached = reached_from(module)
        assert not [m for m in reached if m.startswith(f"kfsync.providers.{other}")], module


#: What renderers are for: showing values; nothing below them may need one to do its work.
BELOW_THE_RENDERERS = ("kfsync.model", "kfsync.plan", "kfsync.apply", "kfsync.engine",
                       "kfsync.safety", "kfsync.planfile")


@pytest.mark.parametrize("module", [m for name in BELOW_THE_RENDERERS for m in modules_under(name)])
def test_the_plan_encoding_and_the_flow_import_no_renderer(module: str) -> None:
    """The plan document is `kfsync.planfile.document`: renderers print it, they do not define it."""
    renderers = {m: by for m, by in reached_from(module).items() if m.startswith("kfsync.render")}
    assert renderers == {}, f"{module} reaches a renderer: {renderers}"
