"""`kfsync accounts --provider wecom` against the WeCom emulator over HTTP: every form, links, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kfsync.providers.wecom.emulator import DEFAULT_CORPID, WeComEmulator
from kfsync.providers.wecom.errcodes import CONSOLE
from tests.helpers.wecom import calls_to
from tests.helpers.wecom_cli import (
    AFTER,
    CONSOLE_ONLY,
    SALES,
    SLASH,
    account,
    fails,
    seed_corp,
)

LINK = "/cgi-bin/kf/add_contact_way"
HOSTILE = "<b>x</b>\u202e|\x1b[31m"


def rows(text: str) -> list[list[str]]:
    """The table's cells, split at the two-space gaps."""
    return [re.split(r" {2,}", line.strip()) for line in text.splitlines()]


def test_the_table_shows_managed_servicers_and_avatar(corp: WeComEmulator, run: Any) -> None:
    seed_corp(corp)
    done = run("accounts")
    assert (done.code, done.err) == (0, "")
    assert rows(done.out) == [
        ["NAME", "ID", "MANAGED", "USERS", "DEPARTMENTS", "AVATAR"],
        ["After-sales", AFTER, "yes", "-", "-", "yes"],
        ["Console only", CONSOLE_ONLY, "no", "not read", "not read", "no"],
        ["VIP/大客户", SLASH, "yes", "wang.wu", "-", "yes"],
        ["售前咨询", SALES, "yes", "lisi, zhangsan", "2, 10", "yes"],
    ]
    assert calls_to(corp, LINK) == []  # no --scene, no link made


def test_long_servicer_lists_are_counted_in_the_table(corp: WeComEmulator, run: Any) -> None:
    people = [f"user{i:02}" for i in range(8)]
    corp.admin.seed(users=[{"userid": u} for u in people], accounts=[
        account("wkMany", "Many", 1, servicers=[{"userid": u} for u in people])])
    done = run("accounts")
    assert rows(done.out)[1][3] == "user00, user01, user02, user03, user04 and 3 more"
    listed = json.loads(run("accounts", "--format", "json").out)["accounts"][0]
    assert listed["servicers"]["users"] == people


def test_json_has_every_field(corp: WeComEmulator, run: Any) -> None:
    seed_corp(corp)
    done = run("accounts", "--format", "json")
    assert done.code == 0
    document = json.loads(done.out)
    assert document["corp_id"] == DEFAULT_CORPID
    by_id = {a["id"]: a for a in document["accounts"]}
    assert [a["name"] for a in document["accounts"]] == [
        "After-sales", "Console only", "VIP/大客户", "售前咨询"]
    assert by_id[SALES]["servicers"] == {"users": ["lisi", "zhangsan"], "departments": [2, 10]}
    assert by_id[SALES]["managed"] is True
    assert by_id[SALES]["avatar"].startswith(corp.base_url + "/wwhead/")
    assert by_id[SALES]["links"] == {}
    assert by_id[CONSOLE_ONLY] == {"name": "Console only", "id": CONSOLE_ONLY, "managed": False,
                                   "servicers": None, "avatar": None, "links": {}}


def test_html_page_lists_servicers_and_links(corp: WeComEmulator, run: Any,
                                             tmp_path: Path) -> None:
    seed_corp(corp)
    done = run("accounts", "--format", "html", "-o", "page.html", "--scene", "web")
    assert done.code == 0, done.err
    assert done.err == "Wrote 4 accounts to page.html.\n"
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert f"<title>微信客服 accounts of {DEFAULT_CORPID}</title>" in page
    assert "4 accounts: 3 managed by this app." in page
    assert page.count('src="data:image/jpeg;base64,') == 3
    assert "<code>zhangsan</code>" in page
    assert "<code>department 10</code>" in page
    assert "not read: the app does not manage it" in page
    assert page.count("https://work.weixin.qq.com/kf/kfc") == 3
    assert "<script" not in page


def test_hostile_names_are_inert_in_every_form(corp: WeComEmulator, run: Any,
                                               tmp_path: Path) -> None:
    corp.admin.seed(accounts=[account("wkHostile", HOSTILE, 1)])
    table = run("accounts").out
    assert "\x1b" not in table
    assert "\u202e" not in table
    assert "<b>x</b>" in table  # text, shown as text
    assert json.loads(run("accounts", "--format", "json").out)["accounts"][0]["name"] == HOSTILE
    assert run("accounts", "--format", "html", "-o", "page.html").code == 0
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x</b>" not in page
    assert "\x1b" not in page
    assert "\u202e" not in page


# --------------------------------------------------------------------------- contact links


def test_each_scene_is_a_column_and_a_json_key(corp: WeComEmulator, run: Any) -> None:
    seed_corp(corp)
    done = run("accounts", "--scene", "web", "--scene", "poster", "--scene", "web")
    assert done.code == 0, done.err
    table = rows(done.out)
    assert table[0][-2:] == ["LINK web", "LINK poster"]
    assert table[2][:3] == ["Console only", CONSOLE_ONLY, "no"]
    assert table[2][-2:] == ["-", "-"]  # no link asked for an account the app does not manage
    links = {row[1]: row[-2:] for row in table[1:] if row[2] == "yes"}
    assert all(url.startswith("https://work.weixin.qq.com/kf/") for pair in links.values()
               for url in pair)
    assert len(calls_to(corp, LINK)) == 6  # 3 managed accounts, 2 scenes: web once
    document = json.loads(run("accounts", "--format", "json", "--scene", "web",
                              "--scene", "poster").out)
    by_id = {a["id"]: a["links"] for a in document["accounts"]}
    assert by_id[CONSOLE_ONLY] == {}
    assert by_id[SALES] == {"web": links[SALES][0], "poster": links[SALES][1]}  # stable links


def test_fresh_links_when_wecom_makes_one_per_call(corp: WeComEmulator, run: Any) -> None:
    seed_corp(corp)
    corp.admin.switch(stable_contact_url=False)

    def link() -> str:
        document = json.loads(run("accounts", "--format", "json", "--scene", "web").out)
        return str({a["id"]: a for a in document["accounts"]}[SALES]["links"]["web"])

    first, second = link(), link()
    assert first != second  # each run asks again; nothing is cached
    assert len(calls_to(corp, LINK)) == 6


def test_a_malformed_scene_is_refused_before_any_call(corp: WeComEmulator, run: Any) -> None:
    for bad in ("has space", "x" * 33, ""):
        assert fails(run, "accounts", "--scene", bad) == (
            f"--scene {bad!r}: a scene is 1 to 32 of 0-9 a-z A-Z _ -")
    assert corp.admin.requests() == []


def test_the_help_says_a_scene_makes_a_link(run: Any) -> None:
    text = " ".join(run("accounts", "--help").out.split())
    assert "makes the link or returns the one made before" in text
    assert "--provider [wechat_mp|wecom]" in text


def test_scene_is_for_wecom_only(corp: WeComEmulator, run: Any) -> None:
    assert fails(run, "accounts", "--provider", "wechat_mp", "--scene", "web") == (
        "--scene is for WeCom (--provider wecom): an Official Account's kf accounts have no "
        "contact links")


# --------------------------------------------------------------------------- errors and choices


def test_an_app_that_manages_no_account_says_where_to_assign_one(corp: WeComEmulator,
                                                                 run: Any) -> None:
    expected = (f"this app manages no 微信客服 account yet: assign one in the console "
                f"({CONSOLE})\n")
    done = run("accounts")
    assert (done.code, done.out, done.err) == (0, "", expected)
    seed_corp(corp, account(CONSOLE_ONLY, "Console only", 1, manage_privilege=False))
    done = run("accounts", "--scene", "web")
    assert done.code == 0
    assert done.err == expected
    assert rows(done.out)[1][:3] == ["Console only", CONSOLE_ONLY, "no"]
    assert calls_to(corp, LINK) == []


def test_an_untrusted_ip_is_named(corp: WeComEmulator, run: Any) -> None:
    seed_corp(corp)
    corp.admin.seed(trusted_ips=["203.0.113.9"])
    message = fails(run, "accounts")
    assert message.startswith("WeCom errcode 60020 from /cgi-bin/kf/account/list: not allow to "
                              "access from your ip")
    assert "企业可信IP" in message
    assert message.endswith("the IP WeCom saw is 127.0.0.1)")


def test_the_provider_is_guessed_from_the_credentials(corp: WeComEmulator, run: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seed_corp(corp)
    assert rows(run("accounts").out)[0][0] == "NAME"  # KFSYNC_CORPID without KFSYNC_APPID
    monkeypatch.setenv("KFSYNC_APPID", "wx0123456789abcdef")
    monkeypatch.setenv("KFSYNC_APPSECRET", "not-shown-either-0001")
    assert fails(run, "accounts") == "HTTP 404 from /cgi-bin/stable_token"  # the MP's client
    assert rows(run("accounts", "--provider", "wecom").out)[0][0] == "NAME"


def test_an_output_that_cannot_be_written_is_refused_before_any_call(
        corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("theirs")
    (tmp_path / "link.json").symlink_to(tmp_path / "elsewhere")
    assert fails(run, "accounts", "--format", "json", "-o", "link.json").startswith(
        "cannot write link.json: ")
    assert corp.admin.requests() == []
    assert (tmp_path / "elsewhere").read_text() == "theirs"


def test_json_to_a_file(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    seed_corp(corp)
    done = run("accounts", "--format", "json", "-o", "accounts.json")
    assert (done.code, done.out, done.err) == (0, "", "Wrote 4 accounts to accounts.json.\n")
    assert len(json.loads((tmp_path / "accounts.json").read_text())["accounts"]) == 4
