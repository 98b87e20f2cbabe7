"""Hostile nicknames, declared and live, come out inert in the pull-request comment.

tests/render/test_markdown.py checks the escaping and the renderer on a
built Plan; here the strings travel the real path: a kfsync.yaml a pull
request wrote, accounts WeChat reports (the emulator, and a stand-in for what
the emulator refuses to store), `kfsync plan --format markdown` and the GitHub
step summary.  Both are checked on the HTML GitHub's renderer makes of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.security import (
    DECLARED_NICKNAMES,
    LIST_PATH,
    LIVE_NICKNAMES,
    Shop,
    StandIn,
    assert_inert_markdown,
    body,
    seeded,
)


def test_hostile_nicknames_are_inert_in_the_pull_request_comment(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    accounts: dict[str, dict[str, str]] = {p: {"nickname": n} for p, n in DECLARED_NICKNAMES.items()}
    accounts["d1"] = {"state": "absent"}
    shop.write_config(accounts, policy={"max_deletes": 1})
    shop.seed(*(seeded(prefix, nick) for prefix, nick in LIVE_NICKNAMES.items()))
    result = shop.plan("--format", "markdown", "--detailed-exitcode")
    assert result.code == 2, result.text
    assert_inert_markdown(result.out, *DECLARED_NICKNAMES.values(), *LIVE_NICKNAMES.values())
    assert summary.read_text(encoding="utf-8") == result.out
    # The JSON plan keeps the strings exactly, for machines.
    document = json.loads(shop.plan("--format", "json").out)
    afters = {c["after"]["nickname"] for c in document["changes"] if c["after"] and "nickname" in c["after"]}
    assert afters == set(DECLARED_NICKNAMES.values())


def test_hostile_live_names_from_wechat_are_inert(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """Account names the emulator would refuse to store, as a hostile answer could carry them."""
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    hostile = ["[x](http://e)@shop_cs", "<img src=x>@shop_cs", "a|b@shop_cs", "@all",
               "x@<!-- y -->", "w@shop_cs\n# Heading"]
    items = [{"kf_account": a, "kf_nick": a * 50, "kf_id": i, "kf_headimgurl": "",
              "invite_wx": "@all|x", "invite_status": "waiting", "invite_expire_time": 4102444800}
             for i, a in enumerate(hostile)]
    stand_in.routes[LIST_PATH] = body(json.dumps({"kf_list": items}).encode())
    shop.write_config({"alice": {"nickname": "Alice", "wechat": "alice_wx"}},
                      policy={"unmanaged": "report"})
    result = shop.plan("--format", "markdown")
    assert result.code == 0, result.text
    assert_inert_markdown(result.out, *hostile)
