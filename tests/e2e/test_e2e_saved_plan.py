"""Saved plans: `plan --out FILE` then `apply FILE`, and every way such a file is refused."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kfsync.emulator import DEFAULT_SECRET
from kfsync.providers.wechat_mp.client import KfClient
from tests.helpers.e2e import Shop, kf, picture, seeded


def reviewed(shop: Shop) -> Path:
    """A shop with one update and one avatar to make, and its plan saved to plan.json."""
    shop.write_config({"bob": {"nickname": "Bob", "avatar": shop.avatar("bob.png", "stripes")}})
    shop.seed(seeded("bob", "Bobby"))
    return shop.save_plan()


def test_saved_plan_applies_without_a_prompt_and_converges(shop: Shop) -> None:
    saved = reviewed(shop)
    applied = shop.run("apply", saved, "-c", shop.config)
    assert applied.code == 0, applied.text
    assert "Apply complete: 0 added, 1 updated, 0 deleted, 0 invited, 1 avatar set" in applied.out
    assert shop.live()[kf("bob")]["kf_nick"] == "Bob"
    shop.assert_converged()


def test_saved_plan_file_is_written_atomically_and_holds_no_secret(shop: Shop) -> None:
    saved = reviewed(shop)
    text = saved.read_text(encoding="utf-8")
    shop.assert_no_secret(text)
    assert shop.secrets, "the spy saw the access token"
    assert "access_token" not in text
    assert DEFAULT_SECRET not in text
    document = json.loads(text)
    assert set(document["saved"]) >= {"config_digest", "avatar_digests", "live_fingerprint", "created"}
    assert [p.name for p in shop.folder.iterdir() if p.name.startswith(".")] == []


def test_saving_a_plan_that_cannot_be_written_is_a_one_line_error(shop: Shop) -> None:
    reviewed(shop)
    blocker = shop.folder / "not-a-folder"
    blocker.write_text("x")
    result = shop.plan("--out", blocker / "plan.json")
    assert result.code == 1, result.text
    assert result.err.startswith("kfsync: error: ")
    assert "cannot write the saved plan" in result.err
    assert result.err.count("\n") == 1


def test_a_failed_save_keeps_the_previous_plan_file(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = reviewed(shop)
    before = saved.read_bytes()

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kfsync.files.os.replace", refuse)
    result = shop.plan("--out", saved)
    assert result.code == 1, result.text
    assert "No space left on device" in result.err
    assert saved.read_bytes() == before
    assert sorted(p.name for p in shop.folder.iterdir()) == ["avatars", "kfsync.yaml", "plan.json"]


def _extra_account(shop: Shop, console: KfClient) -> None:
    shop.seed(seeded("zed", "Zed"))


def _nickname_in_console(shop: Shop, console: KfClient) -> None:
    console.update_account(kf("bob"), "Robert")


def _config_edit(shop: Shop, console: KfClient) -> None:
    shop.write_config({"bob": {"nickname": "Bob", "avatar": "avatars/bob.png", "wechat": "bob_wx"}})


def _avatar_edit(shop: Shop, console: KfClient) -> None:
    (shop.folder / "avatars" / "bob.png").write_bytes(picture("checker"))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_extra_account, "the live accounts changed"),
        (_nickname_in_console, "the live accounts changed"),
        (_config_edit, "the config changed"),
        (_avatar_edit, "an avatar file changed"),
    ],
    ids=["account-added-live", "nickname-changed-live", "config-changed", "avatar-changed"],
)
def test_stale_saved_plan_is_refused(shop: Shop, console: KfClient,
                                     change: Callable[[Shop, KfClient], None], reason: str) -> None:
    saved = reviewed(shop)
    change(shop, console)
    since = shop.last_seq()
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 3, result.text
    assert "saved plan is stale" in result.err
    assert reason in result.err
    assert shop.writes(since) == []


@pytest.mark.parametrize(("zone", "offset"), [("UTC", "+00:00"), ("Asia/Kolkata", "+05:30"),
                                             (None, "+08:00")])
def test_a_stale_plan_says_when_it_was_made_in_the_zone_of_the_time_rule(
        shop: Shop, console: KfClient, zone: str | None, offset: str) -> None:
    saved = reviewed(shop)
    made = json.loads(saved.read_text())["saved"]["created"]
    _config_edit(shop, console)
    result = shop.run("apply", saved, "-c", shop.config, *(("--tz", zone) if zone else ()))
    assert result.code == 3, result.text
    moment = datetime.fromisoformat(made).astimezone(ZoneInfo(zone or "Asia/Shanghai"))
    shown = moment.isoformat(sep=" ", timespec="seconds" if moment.second else "minutes")
    assert shown.endswith(offset)
    assert f"since {shown})" in result.err


def test_saved_plan_applied_with_another_config_is_stale(shop: Shop) -> None:
    saved = reviewed(shop)
    other = shop.folder / "other.yaml"
    other.write_text(shop.config.read_text(encoding="utf-8") + "# another file\n", encoding="utf-8")
    result = shop.run("apply", saved, "-c", other)
    assert result.code == 3, result.text
    assert f"it was made from {shop.config}, not {other}: pass -c {shop.config}" in result.err


def test_a_saved_plan_of_an_older_kfsync_without_its_config_name_is_stale_all_the_same(
        shop: Shop) -> None:
    saved = reviewed(shop)

    def older(document: dict[str, Any]) -> None:  # an older kfsync named no config and sealed nothing
        for key in ("config", "seal", "seal_key"):
            document["saved"].pop(key)

    _edit(saved, older)
    other = shop.folder / "other.yaml"
    other.write_text(shop.config.read_text(encoding="utf-8") + "# another file\n", encoding="utf-8")
    result = shop.run("apply", saved, "-c", other)
    assert result.code == 3, result.text
    assert "the config changed" in result.err
    assert shop.run("apply", saved, "-c", shop.config).code == 0


def _edit(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{ not json", "not a saved kfsync plan (invalid JSON"),
        ("[]", "not a saved kfsync plan (no `saved` block)"),
        ('{"format_version": 1}', "not a saved kfsync plan (no `saved` block)"),
        (b"\xff\xfe\x00".decode("latin-1"), "not a saved kfsync plan"),
    ],
    ids=["not-json", "array", "plan-without-saved-block", "binary"],
)
def test_malformed_plan_file_is_a_one_line_error(shop: Shop, content: str, message: str) -> None:
    reviewed(shop)
    bad = shop.folder / "bad.json"
    bad.write_text(content, encoding="latin-1")
    result = shop.run("apply", bad, "-c", shop.config)
    assert result.code == 1, result.text
    assert result.err.startswith("kfsync: error: ")
    assert message in result.err
    assert result.err.count("\n") == 1
    assert shop.writes() == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format_version=99), "format_version 99 is not supported"),
        (lambda d: d["changes"][0].update(action="explode"), "'explode' is not one of"),
        (lambda d: d["saved"].pop("live_fingerprint"), "saved plan is malformed"),
        (lambda d: d.update(saved="yesterday"), "no `saved` block"),
    ],
    ids=["unknown-version", "unknown-action", "saved-block-incomplete", "saved-not-an-object"],
)
def test_unknown_or_damaged_plan_file_is_a_one_line_error(
        shop: Shop, edit: Callable[[dict[str, Any]], None], message: str) -> None:
    saved = reviewed(shop)
    _edit(saved, edit)
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 1, result.text
    assert message in result.err
    assert result.err.count("\n") == 1
    assert shop.writes() == []


def test_missing_plan_file_is_a_one_line_error(shop: Shop) -> None:
    reviewed(shop)
    since = shop.last_seq()
    result = shop.run("apply", shop.folder / "nowhere.json", "-c", shop.config)
    assert result.code == 1, result.text
    assert "cannot read the saved plan" in result.err
    assert shop.requests(since) == []


def _cycle(document: dict[str, Any]) -> None:
    first, second = document["changes"][:2]
    first["depends_on"], second["depends_on"] = [second["id"]], [first["id"]]


def _nonsense(document: dict[str, Any]) -> None:
    by_id = {c["id"]: c for c in document["changes"]}
    by_id["update:cy@shop_cs"]["after"] = {}
    avatar = by_id["set_avatar:bob@shop_cs"]
    avatar["account"], avatar["id"] = kf("cy"), "set_avatar:cy@shop_cs"


@pytest.mark.parametrize(
    ("edit", "differences"),
    [
        (_cycle, ["update:bob@shop_cs differs in depends_on", "update:cy@shop_cs differs in depends_on"]),
        (_nonsense, ["it leaves out set_avatar:bob@shop_cs", "it adds set_avatar:cy@shop_cs",
                     "update:cy@shop_cs differs in after"]),
    ],
    ids=["changes-waiting-on-each-other", "changes-edited-into-nonsense"],
)
@pytest.mark.parametrize("seal", ["kept", "removed"])
def test_plan_file_edited_into_nonsense_is_refused_before_any_call(
        shop: Shop, edit: Callable[[dict[str, Any]], None], differences: list[str], seal: str) -> None:
    shop.write_config({"bob": {"nickname": "Bob", "avatar": shop.avatar("bob.png", "stripes")},
                       "cy": {"nickname": "Cy"}})
    shop.seed(seeded("bob", "Bobby"), seeded("cy", "Cyrus"))
    saved = shop.folder / "plan.json"
    assert shop.plan("--out", saved).code == 0

    def edited(document: dict[str, Any]) -> None:
        edit(document)
        if seal == "removed":
            del document["saved"]["seal"], document["saved"]["seal_key"]

    _edit(saved, edited)
    since = shop.last_seq()
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 3, result.text
    assert result.err.count("\n") == 1
    if seal == "kept":
        assert "its seal does not match" in result.err
    else:
        assert "its changes are not the ones kfsync plans now" in result.err
        for difference in differences:
            assert difference in result.err
    assert shop.writes(since) == []
    assert shop.live()[kf("bob")]["kf_nick"] == "Bobby"


def test_saved_plan_refused_by_safety_is_not_written(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}, "zed": {"state": "absent"}},
                      policy={"max_deletes": 0})
    shop.seed(seeded("bob", "Bob"), seeded("zed", "Zed"))
    saved = shop.folder / "plan.json"
    result = shop.plan("--out", saved)
    assert result.code == 3, result.text
    assert not os.path.exists(saved)
    assert shop.plan("--out", saved, "--allow-delete", "zed").code == 0
    assert json.loads(saved.read_text(encoding="utf-8"))["saved"]["allow_delete"] == [kf("zed")]
    applied = shop.run("apply", saved, "-c", shop.config)  # the consent was recorded and sealed
    assert applied.code == 0, applied.text
    assert kf("zed") not in shop.live()


def test_a_stale_plan_says_what_changed_in_the_console(shop: Shop, console: KfClient) -> None:
    saved = reviewed(shop)
    _nickname_in_console(shop, console)
    _extra_account(shop, console)
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 3, result.text
    assert ("the live accounts changed: bob@shop_cs: nickname Bobby → Robert; "
            "1 account added in the console (zed@shop_cs) since ") in result.err
    assert result.err.count("\n") == 1


@pytest.mark.parametrize("recorded", [None, "not a list", [{"kf_account": 1}], [{"kf_account": "x"}],
                                      [{"kf_account": "a", "nickname": "A", "extra": 2}]])
def test_a_plan_whose_recorded_accounts_are_missing_or_malformed_is_stale_all_the_same(
        shop: Shop, console: KfClient, recorded: object) -> None:
    saved = reviewed(shop)

    def edit(document: dict[str, Any]) -> None:  # as an older kfsync wrote it, or a hostile hand
        for key in ("seal", "seal_key"):
            document["saved"].pop(key, None)
        if recorded is None:
            document["saved"].pop("live_accounts")
        else:
            document["saved"]["live_accounts"] = recorded

    _edit(saved, edit)
    _nickname_in_console(shop, console)
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 3, result.text
    assert "(the live accounts changed since " in result.err


def test_an_account_made_again_in_the_console_makes_the_plan_stale_and_says_so(
        shop: Shop, console: KfClient) -> None:
    saved = reviewed(shop)
    recorded = json.loads(saved.read_text(encoding="utf-8"))["saved"]["live_accounts"]
    [bob] = recorded
    assert bob["kf_account"] == kf("bob")
    before = bob["kf_id"]
    console.delete_account(kf("bob"))
    console.add_account(kf("bob"), "Bobby")  # the same name and nickname: only WeChat's id differs
    after = shop.live()[kf("bob")]["kf_id"]
    assert str(after) != before
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 3, result.text
    assert f"(the live accounts changed: bob@shop_cs: kf_id {before} → {after} since " in result.err
