"""Saved plans under attack: edited files, forged consent and forged seals; over real HTTP to the
emulator.

An edited file is tried twice: with its seal kept (the seal no longer matches) and with
the seal removed (the changes are compared with the plan made now).  Either way nothing
is written to WeChat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from kfsync import __version__
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET
from kfsync.seal import seal, seal_key
from tests.helpers.security import POLICY, TOKEN_PATH, Shop, assert_one_line_error, kf

Edit = Callable[[dict[str, Any]], None]
PLAN_SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text("utf-8"))


def change(action: str, prefix: str, *, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, reason: str = "edited in") -> dict[str, Any]:
    account = kf(prefix)
    return {"id": f"{action}:{account}", "action": action, "account": account, "before": before,
            "after": after, "reason": reason, "depends_on": [], "rebind": False}


def adding(*changes: dict[str, Any]) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        for item in changes:
            document["changes"].append(item)
            kind = {"update": "change", "set_avatar": "avatar"}.get(item["action"], item["action"])
            document["summary"][kind] += 1

    return edit


def _retarget(document: dict[str, Any]) -> None:
    document["changes"][0]["after"] = {"nickname": "Mallory"}


def _reason(document: dict[str, Any]) -> None:
    document["changes"][0]["reason"] = "looks harmless"


def _left_out(document: dict[str, Any]) -> None:
    document["changes"].clear()
    document["summary"]["change"] = 0


def _unmanaged_hidden(document: dict[str, Any]) -> None:
    document["unmanaged"] = []


EDITS: dict[str, tuple[Edit, str]] = {
    "delete-an-ignored-account": (
        adding(change("delete", "temp1", before={"nickname": "Temp", "kf_wx": None})),
        "it adds delete:temp1@shop_cs"),
    "delete-an-unmanaged-account-under-report": (
        adding(change("delete", "zed", before={"nickname": "Zed", "kf_wx": None})),
        "it adds delete:zed@shop_cs"),
    "invite-a-stranger": (
        adding(change("invite", "alice", after={"invite_wx": "stranger_wx"})),
        "it adds invite:alice@shop_cs"),
    "rename-a-protected-account": (
        adding(change("update", "boss", before={"nickname": "Boss"}, after={"nickname": "Pwned"})),
        "it adds update:boss@shop_cs"),
    "add-an-undeclared-account": (
        adding(change("add", "mallory", after={"nickname": "Mallory"})),
        "it adds add:mallory@shop_cs"),
    "change-a-reviewed-value": (_retarget, "update:alice@shop_cs differs in after"),
    "change-only-a-reason": (_reason, "update:alice@shop_cs differs in reason"),
    "leave-out-the-reviewed-change": (_left_out, "it leaves out update:alice@shop_cs"),
    "hide-the-unmanaged-list": (_unmanaged_hidden, "its unmanaged accounts differ"),
}


def rewrite(path: Path, edit: Edit, *, strip_seal: bool) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    if strip_seal:
        del document["saved"]["seal"], document["saved"]["seal_key"]
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def live(shop: Shop) -> dict[str, dict[str, Any]]:
    return {a["kf_account"]: a for a in shop.admin.state()["accounts"]}


def assert_nothing_written(shop: Shop) -> None:
    assert shop.writes() == []
    accounts = live(shop)
    assert {kf("temp1"), kf("zed"), kf("boss")} <= set(accounts)
    assert accounts[kf("boss")]["kf_nick"] == "Boss"
    assert accounts[kf("alice")]["kf_nick"] == "Old"


@pytest.mark.parametrize("strip_seal", [False, True], ids=["seal-kept", "seal-removed"])
@pytest.mark.parametrize("name", list(EDITS))
def test_an_edited_plan_file_is_refused_before_any_write(
        shop: Shop, reviewed: Path, name: str, strip_seal: bool) -> None:
    edit, difference = EDITS[name]
    rewrite(reviewed, edit, strip_seal=strip_seal)
    line = assert_one_line_error(shop.run("apply", reviewed, "-c", shop.config), code=3)
    assert line.startswith(f"kfsync: error: {reviewed}: refused: ")
    if strip_seal:
        assert "its changes are not the ones kfsync plans now" in line
        assert difference in line
        assert "; it was edited: run `kfsync plan --out` again and review it" in line
    else:
        assert "its seal does not match" in line
    assert_nothing_written(shop)


def test_the_unedited_file_applies_and_a_reordered_unsealed_one_is_the_same_plan(
        shop: Shop, reviewed: Path, tmp_path: Path) -> None:
    shop.write_config({"alice": {"nickname": "Alice"}, "bob": {"nickname": "Bob", "wechat": "bob_wx1"},
                       "boss": {"nickname": "Boss", "wechat": "boss_wx1"}, "cy": {"nickname": "Cy"}},
                      policy=POLICY)
    two = tmp_path / "two.json"
    assert shop.plan("--out", two).code == 0
    rewrite(two, lambda d: d["changes"].reverse(), strip_seal=True)
    applied = shop.run("apply", two, "-c", shop.config)
    assert applied.code == 0, applied.text
    assert live(shop)[kf("alice")]["kf_nick"] == "Alice"
    assert kf("cy") in live(shop)
    assert kf("zed") in live(shop)


def test_a_plan_of_another_kfsync_version_that_plans_otherwise_says_so(shop: Shop, reviewed: Path) -> None:
    def older(document: dict[str, Any]) -> None:
        document["saved"]["kfsync_version"] = "0.0.1"
        _reason(document)  # what an older planner might have said

    rewrite(reviewed, older, strip_seal=True)
    line = assert_one_line_error(shop.run("apply", reviewed, "-c", shop.config), code=3)
    assert f"; it was made by kfsync 0.0.1, this is {__version__}: run `kfsync plan --out` again" in line
    assert_nothing_written(shop)


def test_text_from_a_stale_plan_file_is_escaped_and_cut_short(shop: Shop, reviewed: Path) -> None:
    def hostile(document: dict[str, Any]) -> None:
        document["saved"]["created"] = "\x1b[2J::error::" + "t" * 10_000
        document["saved"]["config"] = "other\u202e.yaml"
        document["saved"]["config_digest"] = "sha256:0"

    rewrite(reviewed, hostile, strip_seal=True)
    line = assert_one_line_error(shop.run("apply", reviewed, "-c", shop.config), code=3)
    assert "it was made from other\\u202e.yaml, not " in line
    assert "since \\x1b[2J::error::" + "t" * 67 + "…);" in line
    assert len(line) < 600
    assert_nothing_written(shop)


def test_a_plan_file_without_its_summary_is_a_malformed_plan(shop: Shop, reviewed: Path) -> None:
    rewrite(reviewed, lambda d: d.pop("summary"), strip_seal=True)
    line = assert_one_line_error(shop.run("apply", reviewed, "-c", shop.config), code=1)
    assert "missing summary" in line
    assert_nothing_written(shop)


# --------------------------------------------------------------------------- consent and seal


def resealed(path: Path, edit: Edit, environ: dict[str, str]) -> None:
    """Edit the file and seal it again with the key a job holding `environ` has (a forger with the key)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    key = seal_key(environ)
    assert key is not None
    document["saved"]["seal"] = seal(document, key)
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.mark.usefixtures("deleting")
def test_consent_given_at_plan_time_is_recorded_sealed_and_needs_no_flag_again(
        shop: Shop, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    planned = shop.plan("--out", saved, "--allow-delete", "yan,zed@shop_cs")
    assert planned.code == 0, planned.text
    text = saved.read_text(encoding="utf-8")
    assert DEFAULT_SECRET not in text
    document = json.loads(text)
    jsonschema.Draft202012Validator(PLAN_SCHEMA).validate(document)
    saved_block = document["saved"]
    assert saved_block["allow_delete"] == [kf("yan"), kf("zed")]
    assert saved_block["seal_key"] == "KFSYNC_APPSECRET"
    assert saved_block["seal"].startswith("hmac-sha256:")
    applied = shop.run("apply", saved, "-c", shop.config)
    assert applied.code == 0, applied.text
    assert set(live(shop)) == {kf("bob")}


def _consent(*names: str) -> Edit:
    return lambda d: d["saved"].__setitem__("allow_delete", list(names))


@pytest.mark.usefixtures("deleting")
@pytest.mark.parametrize(
    ("edit", "how", "message"),
    [
        (_consent(kf("yan"), kf("zed"), kf("bob")), "seal-kept", "its seal does not match"),
        (lambda d: None, "seal-removed", "records --allow-delete consent but has no seal"),
        (lambda d: d["saved"].pop("seal"), "seal-kept", "records --allow-delete consent but has no seal"),
        (_consent(kf("yan"), kf("zed"), kf("bob")), "resealed",
         "recorded --allow-delete names bob@shop_cs, which the plan does not delete or rebind"),
        (_consent("yan", kf("nobody")), "resealed",
         "recorded --allow-delete names nobody@shop_cs, yan, which the plan does not delete"),
        (lambda d: d["saved"].update(seal_key="KFSYNC_APPID"), "seal-kept",
         "its seal names KFSYNC_APPID as its key, which is not KFSYNC_PLAN_KEY or KFSYNC_APPSECRET"),
        (lambda d: d["saved"].update(seal_key="KFSYNC_PLAN_KEY"), "seal-kept",
         "sealed with a key from KFSYNC_PLAN_KEY, which is not set here"),
        (lambda d: d["saved"].update(seal_key="::error::x\u202e" + "y" * 500), "seal-kept",
         "its seal names ::error::x\\u202e" + "y" * 69 + "…"),
        (lambda d: d["saved"].update(seal="hmac-sha256:" + "0" * 64), "seal-kept", "its seal does not match"),
        (lambda d: d["saved"].update(seal="md5:whatever"), "seal-kept", "its seal does not match"),
        (lambda d: d["saved"].update(created="2020-01-01T00:00:00+00:00"), "seal-kept",
         "its seal does not match"),
    ],
    ids=["consent-widened", "seal-and-its-key-removed", "seal-removed", "consent-beyond-the-plan",
         "consent-for-no-account", "seal-key-another-variable", "seal-key-unset-variable",
         "seal-key-hostile-text", "seal-zeroed", "seal-of-another-algorithm", "only-the-date-changed"],
)
def test_forged_consent_or_seal_is_refused(
        shop: Shop, tmp_path: Path, edit: Edit, how: str, message: str) -> None:
    saved = tmp_path / "plan.json"
    assert shop.plan("--out", saved, "--allow-delete", "yan").code == 3  # a partial list: no file
    assert not saved.exists()
    assert shop.plan("--out", saved, "--allow-delete", "yan,zed").code == 0
    if how == "resealed":  # only a job holding the key can do this; the consent is checked all the same
        resealed(saved, edit, {"KFSYNC_APPSECRET": DEFAULT_SECRET})
    else:
        rewrite(saved, edit, strip_seal=how == "seal-removed")
    line = assert_one_line_error(shop.run("apply", saved, "-c", shop.config), code=3)
    assert message in line
    assert shop.writes() == []


def test_a_plan_without_consent_whose_seal_alone_was_removed_is_refused(
        shop: Shop, reviewed: Path) -> None:
    assert "allow_delete" not in json.loads(reviewed.read_text(encoding="utf-8"))["saved"]
    rewrite(reviewed, lambda d: d["saved"].pop("seal"), strip_seal=False)
    line = assert_one_line_error(shop.run("apply", reviewed, "-c", shop.config), code=3)
    assert "its seal was removed" in line
    assert_nothing_written(shop)


@pytest.mark.usefixtures("deleting")
def test_a_plan_sealed_with_kfsync_plan_key_needs_that_key_to_apply(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "plan.json"
    monkeypatch.setenv("KFSYNC_PLAN_KEY", "plan-key-of-the-pipeline-0123")
    shop.secrets.add("plan-key-of-the-pipeline-0123")
    assert shop.plan("--out", saved, "--allow-delete", "yan,zed").code == 0
    assert json.loads(saved.read_text(encoding="utf-8"))["saved"]["seal_key"] == "KFSYNC_PLAN_KEY"
    monkeypatch.delenv("KFSYNC_PLAN_KEY")
    line = assert_one_line_error(shop.run("apply", saved, "-c", shop.config), code=3)
    assert "sealed with a key from KFSYNC_PLAN_KEY, which is not set here" in line
    monkeypatch.setenv("KFSYNC_PLAN_KEY", "another-key-entirely-4567")
    line = assert_one_line_error(shop.run("apply", saved, "-c", shop.config), code=3)
    assert "its seal does not match" in line
    assert shop.writes() == []
    monkeypatch.setenv("KFSYNC_PLAN_KEY", "plan-key-of-the-pipeline-0123")
    assert shop.run("apply", saved, "-c", shop.config).code == 0


@pytest.fixture
def static_token(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> str:
    """Static token mode: a token handed in, and no AppSecret in the job."""
    token = str(requests.post(shop.emulator.base_url + TOKEN_PATH, timeout=10, json={
        "grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET,
        "force_refresh": False}).json()["access_token"])
    monkeypatch.setenv("KFSYNC_TOKEN_MODE", "static")
    monkeypatch.setenv("KFSYNC_ACCESS_TOKEN", token)
    monkeypatch.delenv("KFSYNC_APPSECRET")
    shop.secrets.add(token)
    return token


@pytest.mark.usefixtures("deleting", "static_token")
def test_in_static_token_mode_consent_is_recorded_only_with_kfsync_plan_key(
        shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "plan.json"
    planned = shop.plan("--out", saved, "--allow-delete", "yan,zed")
    assert planned.code == 0, planned.text
    assert ("The --allow-delete consent is not recorded in "
            f"{saved}: there is no key to seal it (set KFSYNC_PLAN_KEY or KFSYNC_APPSECRET)") in planned.err
    block = json.loads(saved.read_text(encoding="utf-8"))["saved"]
    assert {"allow_delete", "seal", "seal_key"}.isdisjoint(block)
    assert shop.run("apply", saved, "-c", shop.config).code == 3  # the flag is needed again
    monkeypatch.setenv("KFSYNC_PLAN_KEY", "static-mode-plan-key-89ab")
    shop.secrets.add("static-mode-plan-key-89ab")
    assert shop.plan("--out", saved, "--allow-delete", "yan,zed").code == 0
    assert json.loads(saved.read_text(encoding="utf-8"))["saved"]["allow_delete"] == [kf("yan"), kf("zed")]
    applied = shop.run("apply", saved, "-c", shop.config)
    assert applied.code == 0, applied.text
    assert set(live(shop)) == {kf("bob")}
