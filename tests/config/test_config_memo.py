"""Data already known to satisfy the schema is not validated again; anything else is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kfsync.cache import Cache
from kfsync.config import load_config, schema
from kfsync.errors import ConfigError

GOOD = """\
version: 1
official_account:
  wechat_id: shop_cs
accounts:
  alice:
    nickname: Alice
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "kfsync.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def count_validations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = schema.schema_problems

    def counted(data: object, *args: object, **kwargs: object) -> object:
        seen.append(data)
        return real(data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(schema, "schema_problems", counted)
    return seen


def test_unchanged_data_is_validated_once_however_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = count_validations(monkeypatch)
    cache = Cache(tmp_path / "cache")
    config = write(tmp_path, GOOD)
    first = load_config(config, cache=cache)
    assert len(seen) == 1
    relaid = GOOD.replace("  alice:\n    nickname: Alice", "  alice: {nickname: Alice}")
    write(tmp_path, "# the same data, written another way\n" + relaid)
    again = load_config(config, cache=cache)
    assert len(seen) == 1
    assert [(a.prefix, a.nickname) for a in again.accounts] == [("alice", "Alice")]
    assert again.digest != first.digest
    write(tmp_path, GOOD.replace("Alice", "Alicia"))
    assert load_config(config, cache=cache).accounts[0].nickname == "Alicia"
    assert len(seen) == 2


def test_invalid_data_is_never_remembered_as_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = count_validations(monkeypatch)
    cache = Cache(tmp_path / "cache")
    config = write(tmp_path, GOOD.replace("nickname: Alice", "nickname: 7"))
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"accounts\.alice\.nickname"):
            load_config(config, cache=cache)
    assert len(seen) == 2


def test_without_a_cache_every_load_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = count_validations(monkeypatch)
    config = write(tmp_path, GOOD)
    load_config(config)
    load_config(config)
    assert len(seen) == 2


def test_a_remembered_config_loads_without_importing_jsonschema(tmp_path: Path) -> None:
    config = write(tmp_path, GOOD)
    load_config(config, cache=Cache(tmp_path / "cache"))
    code = (
        "import sys; from pathlib import Path; from kfsync.config import load_config; "
        "from kfsync.cache import Cache; "
        f"load_config({str(config)!r}, cache=Cache(Path({str(tmp_path / 'cache')!r}))); "
        "print('jsonschema' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
