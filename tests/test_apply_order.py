"""The applier's order: dependencies first, then heavy and light calls mixed rather than in bursts."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from PIL import Image

from kfsync.apply import Applier
from kfsync.cache import Cache
from kfsync.config import load_config
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from kfsync.engine import Engine, declare, judged
from kfsync.providers.wechat_mp.client import KfClient
from kfsync.providers.wechat_mp.provider import WechatMpProvider

UPLOAD = "/customservice/kfaccount/uploadheadimg"
INVITE = "/customservice/kfaccount/inviteworker"
ADD = "/customservice/kfaccount/add"


def shop(folder: Path, count: int) -> Path:
    for index in range(count):
        out = io.BytesIO()
        Image.new("RGB", (32, 32), (index * 30, 90, 200 - index * 20)).save(out, "PNG")
        (folder / f"a{index}.png").write_bytes(out.getvalue())
    accounts = {f"agent{i}": {"nickname": f"Agent {i}", "avatar": f"a{i}.png", "wechat": f"wx_agent_{i}"}
                for i in range(count)}
    document = {"version": 1, "official_account": {"wechat_id": "shop_cs"}, "accounts": accounts}
    path = folder / "kfsync.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("parallelism", [1, 4])
def test_uploads_and_invitations_are_sent_mixed_once_their_accounts_exist(
    emulator: Emulator, tmp_path: Path, parallelism: int
) -> None:
    cache = Cache(tmp_path / "cache")
    declared = declare(load_config(shop(tmp_path, 8), cache=cache), cache)
    client = KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=emulator.base_url)
    with Engine(declared.config, lambda: WechatMpProvider(client, cache=cache), cache=cache) as engine:
        prepared = engine.plan(declared=declared)
        assert [c.action.value for c in prepared.plan.changes[:9]] == ["add"] * 8 + ["set_avatar"]
        applied = engine.apply(prepared, parallelism=parallelism)
    assert applied.converged
    writes = [e for e in emulator.admin.requests() if e["path"] in (ADD, UPLOAD, INVITE)]
    assert len(writes) == 24
    for position, entry in enumerate(writes):  # no call for an account before its add
        account = entry["query"].get("kf_account") or entry["body"].get("kf_account")
        added = next(i for i, e in enumerate(writes) if e["path"] == ADD
                     and e["body"]["kf_account"] == account)
        assert added <= position
    after_adds = [e["path"] for e in writes if e["path"] != ADD]
    if parallelism == 1:  # one at a time: plan order, all uploads, then all invitations
        assert after_adds == [UPLOAD] * 8 + [INVITE] * 8
    else:  # both kinds in flight together from the start, not eight uploads in a row
        assert {UPLOAD, INVITE} <= set(after_adds[:4])


@pytest.mark.timeout(20)
def test_changes_that_wait_on_each_other_are_skipped_instead_of_waiting_for_ever(
    emulator: Emulator, tmp_path: Path
) -> None:
    """`apply` only runs plans it made itself, but the applier does not trust its order either."""
    cache = Cache(tmp_path / "cache")
    declared = declare(load_config(shop(tmp_path, 2), cache=cache), cache)
    with KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=emulator.base_url) as client:
        provider = WechatMpProvider(client, cache=cache)
        planned = judged(declared, provider.read(declared.config),
                         rules=provider.rules(declared.config)).plan
        first, second, *rest = planned.changes
        cycle = (replace(first, depends_on=(second.id,)), replace(second, depends_on=(first.id,)))
        result = Applier(provider, declared.uploads, parallelism=2).run(
            replace(planned, changes=(*cycle, *rest)))
    assert [o.status for o in result.outcomes] == ["skipped"] * len(planned.changes)
    assert not result.complete
    assert [e for e in emulator.admin.requests() if e["path"] in (ADD, UPLOAD, INVITE)] == []
