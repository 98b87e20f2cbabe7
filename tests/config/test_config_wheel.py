"""The wheel carries the very schema and examples of the repository, and the loader finds them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DATA = "kfsync/_data/"


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build once: offline when hatchling is importable here, else with pip's build isolation."""
    if pip("--version").returncode != 0:
        pytest.skip("pip is not available to this interpreter")
    out = tmp_path_factory.mktemp("wheel")
    command = ["wheel", "--no-deps", "-w", str(out), str(ROOT)]
    offline = importlib.util.find_spec("hatchling") is not None
    result = pip(*command, "--no-build-isolation") if offline else pip(*command)
    if result.returncode != 0:
        if not offline:  # isolation must download hatchling: no network, no build
            pytest.skip(f"cannot build with build isolation here: {result.stderr[-300:]}")
        pytest.fail(f"pip wheel failed:\n{result.stdout}\n{result.stderr}")
    [built] = out.glob("kfsync-*.whl")
    return built


def test_the_wheel_holds_the_schema_byte_for_byte(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(DATA + "schemas/kfsync.schema.json")
    assert shipped == (ROOT / "schemas" / "kfsync.schema.json").read_bytes()


def test_the_wheel_holds_every_example(wheel: Path) -> None:
    examples = [p for p in (ROOT / "examples").rglob("*") if p.is_file()]
    assert {p.name for p in examples} >= {"kfsync.yaml", "README.md", "alice.jpg", "default.png"}
    with zipfile.ZipFile(wheel) as archive:
        for path in examples:
            name = DATA + "examples/" + path.relative_to(ROOT / "examples").as_posix()
            assert archive.read(name) == path.read_bytes(), name


def test_an_installed_wheel_loads_its_own_schema_and_example(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    script = (
        "from kfsync.config import load_config\n"
        "from kfsync.config.resources import data_path\n"
        "schema = data_path('schemas', 'kfsync.schema.json')\n"
        "config = load_config(data_path('examples', 'kfsync.yaml'))\n"
        "print(schema)\n"
        "print(config.accounts[0].avatar)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    schema, avatar = result.stdout.splitlines()
    assert schema == str(site / "kfsync" / "_data" / "schemas" / "kfsync.schema.json")
    assert avatar == str(
        (site / "kfsync" / "_data" / "examples" / "avatars" / "alice.jpg").resolve()
    )
