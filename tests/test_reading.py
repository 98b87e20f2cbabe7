"""`Engine.start`: the live side read in the background, its outcome handed to `Engine.plan`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kfsync.cache import Cache
from kfsync.config import Config, load_config
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.engine import Engine, declare
from kfsync.errors import CredentialsError, UsageError
from kfsync.providers import open_provider


def shop(folder: Path, appid: str | None = None) -> Path:
    official: dict[str, str] = {"wechat_id": "shop_cs"}
    if appid:
        official["appid"] = appid
    document = {"version": 1, "official_account": official,
                "accounts": {"alice": {"nickname": "Alice"}}}
    path = folder / "kfsync.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.fixture
def connected(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    for name in ("KFSYNC_ACCESS_TOKEN", "KFSYNC_TOKEN_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KFSYNC_APPID", DEFAULT_APPID)
    monkeypatch.setenv("KFSYNC_APPSECRET", DEFAULT_SECRET)
    monkeypatch.setenv("KFSYNC_API_BASE", emulator.base_url)
    return emulator


def engine(config: Config, cache: Cache, now: int | None = None) -> Engine:
    return Engine(config, lambda: open_provider(config, cache=cache), cache=cache, now=now)


def test_the_live_side_read_in_the_background_plans_as_read_and_plan(
    connected: Emulator, tmp_path: Path
) -> None:
    connected.admin.seed(accounts=[{"kf_account": "bob@shop_cs", "kf_nick": "Bob"}])
    cache = Cache(tmp_path / "cache")
    config = load_config(shop(tmp_path), cache=cache)
    with engine(config, cache, now=1_800_000_000).start() as reading:
        declared = declare(config, cache)
        prepared = reading.plan(declared=declared)
        live = prepared.live
        assert reading.read().accounts == live.accounts  # the provider stays open in the block
    assert [a.kf_account for a in live.accounts] == ["bob@shop_cs"]
    assert live.now == 1_800_000_000
    assert sorted(c.account for c in prepared.plan.changes) == ["alice@shop_cs"]
    paths = [entry["path"] for entry in connected.admin.requests()]
    assert paths.count("/cgi-bin/customservice/getkflist") == 2


def test_a_missing_credential_is_raised_by_result(
    connected: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KFSYNC_APPSECRET")
    cache = Cache(None)
    config = load_config(shop(tmp_path))
    with engine(config, cache).start() as reading, \
            pytest.raises(CredentialsError, match="KFSYNC_APPSECRET"):
        reading.plan()
    assert connected.admin.requests() == []


def test_an_appid_that_is_not_the_configs_is_refused_before_any_request(
    connected: Emulator, tmp_path: Path
) -> None:
    config = load_config(shop(tmp_path, appid="wx0000000000000000"))
    with engine(config, Cache(None)).start() as reading, \
            pytest.raises(UsageError, match=r"official_account\.appid is wx0000000000000000"):
        reading.plan()
    assert connected.admin.requests() == []


def test_leaving_before_the_result_lets_the_reading_end_on_its_own(
    connected: Emulator, tmp_path: Path
) -> None:
    config = load_config(shop(tmp_path))
    with engine(config, Cache(None)).start() as reading:
        pass  # an error elsewhere, say: the block is left without waiting
    assert reading._finished is not None
    reading._finished.wait(30)
    assert reading._provider is None  # closed by the thread, once it was done
