"""`start_reading`: the live side read in the background, its outcome handed to the caller."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from kfsync.config import load_config
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.errors import ConfigError, CredentialsError, UsageError
from kfsync.live import PictureCache
from kfsync.reconcile import Reading, declare, loading_and_reading, planned, start_reading


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


def test_the_live_side_read_in_the_background_plans_as_read_and_plan(
    connected: Emulator, tmp_path: Path
) -> None:
    connected.admin.seed(accounts=[{"kf_account": "bob@shop_cs", "kf_nick": "Bob"}])
    cache = PictureCache(tmp_path / "cache")
    config = load_config(shop(tmp_path), cache=cache)
    with start_reading(config, cache, now=1_800_000_000) as reading:
        declared = declare(config, cache)
        client, live = reading.result()
        assert client.list_accounts() == live.accounts  # the client stays open in the block
    assert [a.kf_account for a in live.accounts] == ["bob@shop_cs"]
    assert live.now == 1_800_000_000
    prepared = planned(declared, live)
    assert sorted(c.account for c in prepared.plan.changes) == ["alice@shop_cs"]
    paths = [entry["path"] for entry in connected.admin.requests()]
    assert paths.count("/cgi-bin/customservice/getkflist") == 2


def test_a_missing_credential_is_raised_by_result(
    connected: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KFSYNC_APPSECRET")
    cache = PictureCache(None)
    config = load_config(shop(tmp_path))
    with start_reading(config, cache) as reading, pytest.raises(CredentialsError, match="KFSYNC_APPSECRET"):
        reading.result()
    assert connected.admin.requests() == []


def test_an_appid_that_is_not_the_configs_is_refused_before_any_request(
    connected: Emulator, tmp_path: Path
) -> None:
    config = load_config(shop(tmp_path, appid="wx0000000000000000"))
    with start_reading(config, PictureCache(None)) as reading, \
            pytest.raises(UsageError, match=r"official_account\.appid is wx0000000000000000"):
        reading.result()
    assert connected.admin.requests() == []


def test_leaving_before_the_result_lets_the_reading_end_on_its_own(
    connected: Emulator, tmp_path: Path
) -> None:
    config = load_config(shop(tmp_path))
    with start_reading(config, PictureCache(None)) as reading:
        pass  # an error elsewhere, say: the block is left without waiting
    reading._finished.wait(30)
    assert reading._client is None  # closed by the thread, once it was done


def test_connections_open_while_the_config_loads_but_no_call_before_it_is_valid(
    connected: Emulator, tmp_path: Path
) -> None:
    before = connected.admin.state()["connections"]
    with Reading(PictureCache(None), None, 4, 3) as reading:
        time.sleep(0.3)
        assert connected.admin.requests() == []
        # three opened ahead, and each admin call opens its own (two so far)
        assert connected.admin.state()["connections"] == before + 3 + 2
        reading.begin(load_config(shop(tmp_path), cache=PictureCache(None)))
        _, live = reading.result()
    assert live.accounts == ()
    assert [e["path"] for e in connected.admin.requests()] == [
        "/cgi-bin/stable_token", "/cgi-bin/customservice/getkflist"]


def test_a_config_with_a_problem_makes_no_call(connected: Emulator, tmp_path: Path) -> None:
    path = shop(tmp_path)
    path.write_text("version: 1\naccounts: [\n", encoding="utf-8")
    with pytest.raises(ConfigError), loading_and_reading(lambda: load_config(path), PictureCache(None),
                                                         connections=2):
        pass
    time.sleep(0.2)
    assert connected.admin.requests() == []
