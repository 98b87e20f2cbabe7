"""`kfsync import --provider wecom` against the WeCom emulator over HTTP: the file, avatars, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from kfsync.config.resources import schema_bytes
from kfsync.errors import UsageError
from kfsync.model import LiveAccount
from kfsync.providers.wecom.emulator import DEFAULT_CORPID, DEFAULT_SECRET, WeComEmulator
from kfsync.providers.wecom.errcodes import CONSOLE
from kfsync.providers.wecom.importer import (
    UnimportableError,
    avatar_stems,
    build_import,
    render_config,
    select_accounts,
    unwritable,
)
from tests.helpers.wecom_cli import (
    AFTER,
    CONSOLE_ONLY,
    SALES,
    SLASH,
    account,
    fails,
    seed_corp,
)


def written(folder: Path, name: str = "kfsync.yaml") -> dict[str, Any]:
    data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# --------------------------------------------------------------------------- the file


def test_the_file_pins_ids_saves_avatars_and_lists_servicers(corp: WeComEmulator, run: Any,
                                                             tmp_path: Path) -> None:
    seed_corp(corp)
    done = run("import")
    assert (done.code, done.out) == (0, ""), done.err
    assert done.err.splitlines()[-1] == (
        "Imported 3 accounts (3 avatars, 1 not managed by this app) into kfsync.yaml")
    assert (f"kfsync: warning: Console only ({CONSOLE_ONLY}) is not managed by this app; "
            "not imported") in done.err
    assert written(tmp_path) == {
        "version": 1,
        "wecom": {"corp_id": DEFAULT_CORPID},
        "policy": {"unmanaged": "report", "max_deletes": 1},
        "accounts": {
            "After-sales": {"id": AFTER, "avatar": "avatars/After-sales.jpg",
                            "servicers": {"users": [], "departments": []}},
            "VIP/大客户": {"id": SLASH, "avatar": f"avatars/{SLASH}.jpg",
                          "servicers": {"users": ["wang.wu"], "departments": []}},
            "售前咨询": {"id": SALES, "avatar": "avatars/售前咨询.jpg",
                      "servicers": {"users": ["lisi", "zhangsan"], "departments": [2, 10]}},
        },
    }
    pictures = sorted(p.name for p in (tmp_path / "avatars").iterdir())
    assert pictures == ["After-sales.jpg", f"{SLASH}.jpg", "售前咨询.jpg"]
    for path in (tmp_path / "avatars").iterdir():
        with Image.open(path) as image:
            assert image.format == "JPEG"
    assert (tmp_path / "kfsync.schema.json").read_bytes() == schema_bytes()


def test_the_file_loads_with_the_config_loader(corp: WeComEmulator, run: Any,
                                               tmp_path: Path) -> None:
    """What `kfsync validate` reads (the `wecom:` schema comes with the WeCom config)."""
    from kfsync.config import load_config

    seed_corp(corp)
    assert run("import").code == 0
    config = load_config(tmp_path / "kfsync.yaml")
    assert config.wecom is not None
    assert config.wecom.corp_id == DEFAULT_CORPID
    declared = {a.prefix: (a.id, a.avatar, a.servicer_users, a.servicer_departments)
                for a in config.accounts}
    assert declared == {
        "After-sales": (AFTER, tmp_path / "avatars/After-sales.jpg", (), ()),
        "VIP/大客户": (SLASH, tmp_path / f"avatars/{SLASH}.jpg", ("wang.wu",), ()),
        "售前咨询": (SALES, tmp_path / "avatars/售前咨询.jpg", ("lisi", "zhangsan"), ("2", "10")),
    }


def test_plan_on_the_written_file_shows_no_changes(corp: WeComEmulator, run: Any) -> None:
    """The import's contract (needs the WeCom config and provider)."""
    seed_corp(corp)
    assert run("import").code == 0
    done = run("plan", "--detailed-exitcode")
    assert done.code == 0, done.text
    assert "No changes" in done.out


def test_the_text_is_ordered_and_commented(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    seed_corp(corp)
    assert run("import").code == 0
    text = (tmp_path / "kfsync.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# yaml-language-server: $schema=kfsync.schema.json"
    assert f"# The 微信客服 accounts of the WeCom corp {DEFAULT_CORPID}, written by" in text
    assert [line for line in lines if line[:1].isalpha()] == [
        "version: 1", "wecom:", "policy:", "accounts:"]
    keys = [line.strip().rstrip(":") for line in lines
            if line.startswith("  ") and not line.startswith("   ") and line.endswith(":")]
    assert keys == ["After-sales", "VIP/大客户", "售前咨询"]
    assert "\\u" not in text
    assert f"    id: {SALES}" in text
    assert "# the live account: a rename keeps it" in text
    assert "        - 2\n        - 10\n" in text  # departments numerically, as numbers
    assert "users: []" in text
    assert "WeCom cannot list the links already made" in text
    assert "scenes: [website, poster]" in text
    assert "\nscenes:" not in text  # only a comment
    assert "    scenes:" not in text
    assert "# Not imported: this app does not manage these accounts; to manage one, assign it" in text
    assert f"# under {CONSOLE}, then import again." in text
    assert f"#   Console only ({CONSOLE_ONLY})" in text
    assert "Console only:" not in text
    assert DEFAULT_SECRET not in text


def test_into_another_folder_with_its_own_avatars_dir(corp: WeComEmulator, run: Any,
                                                      tmp_path: Path) -> None:
    seed_corp(corp)
    done = run("import", "-o", "corp/kf.yaml", "--avatars-dir", "pics/kf")
    assert done.code == 0, done.err
    assert (tmp_path / "corp/pics/kf/售前咨询.jpg").is_file()
    assert written(tmp_path / "corp", "kf.yaml")["accounts"]["售前咨询"]["avatar"] == (
        "pics/kf/售前咨询.jpg")
    assert (tmp_path / "corp/kfsync.schema.json").is_file()


def test_names_that_differ_in_case_alone_save_by_id(corp: WeComEmulator, run: Any,
                                                    tmp_path: Path) -> None:
    seed_corp(corp, account("wkUpper1", "Sales", 1), account("wkLower2", "sales", 2))
    assert run("import").code == 0
    assert sorted(p.name for p in (tmp_path / "avatars").iterdir()) == ["wkLower2.jpg",
                                                                        "wkUpper1.jpg"]
    accounts = written(tmp_path)["accounts"]
    assert (accounts["Sales"]["id"], accounts["sales"]["id"]) == ("wkUpper1", "wkLower2")


def test_hostile_names_stay_data(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    names = ["true", "#1: yes", "- item", "'quoted'", "..", "a: {b}"]
    seed_corp(corp, *(account(f"wkHostile{i}", name, i) for i, name in enumerate(names)))
    assert run("import").code == 0
    accounts = written(tmp_path)["accounts"]
    assert sorted(accounts) == sorted(names)
    assert accounts[".."]["avatar"] == "avatars/wkHostile4.jpg"  # never a file named ..
    assert all((tmp_path / accounts[name]["avatar"]).resolve().parent == tmp_path / "avatars"
               for name in names)


# --------------------------------------------------------------------------- what is not imported


def test_an_avatar_not_downloaded_leaves_the_entry_as_a_comment(corp: WeComEmulator, run: Any,
                                                                tmp_path: Path) -> None:
    seed_corp(corp)
    picture = {a["open_kfid"]: a["picture"] for a in corp.admin.state()["accounts"]}[AFTER]
    corp.admin.fault(f"/wwhead/{picture}/0", http_status=404)
    done = run("import")
    assert done.code == 0, done.err
    assert (f"kfsync: warning: After-sales ({AFTER}): avatar not imported (HTTP 404); written as "
            "a comment: add avatar: and uncomment it to manage it") in done.err
    assert "Imported 2 accounts (2 avatars, 1 left as a comment, 1 not managed" in done.err
    assert "After-sales" not in written(tmp_path)["accounts"]
    text = (tmp_path / "kfsync.yaml").read_text(encoding="utf-8")
    assert "  # live avatar not imported (HTTP 404): add avatar: and uncomment" in text
    assert f"  # After-sales:\n  #   id: {AFTER}" in text
    assert not (tmp_path / "avatars/After-sales.jpg").exists()


def test_an_account_without_a_live_avatar_is_a_comment(corp: WeComEmulator, run: Any,
                                                       tmp_path: Path) -> None:
    seed_corp(corp, account("wkBare", "Bare", None))
    done = run("import")
    assert done.code == 0
    assert "Bare (wkBare): avatar not imported (no live avatar)" in done.err
    assert written(tmp_path)["accounts"] == {}
    assert "accounts: {}\n  # live avatar not imported (no live avatar)" in (
        tmp_path / "kfsync.yaml").read_text(encoding="utf-8")


def test_two_managed_accounts_of_one_name_are_refused(corp: WeComEmulator, run: Any,
                                                      tmp_path: Path) -> None:
    """Either key would plan a rename nobody asked for: the console is where one is renamed."""
    seed_corp(corp, account("wkTwinA", "售后", 1), account("wkTwinB", "售后", 2),
              account("wkOther", "Other", 3))
    message = fails(run, "import")
    assert message == (
        "live accounts share a name (售后: wkTwinA, wkTwinB); kfsync.yaml names each account "
        "once: rename all but one in the console (微信客服 → 客服账号), then import again")
    assert list(tmp_path.iterdir()) == []


def test_an_unmanaged_namesake_does_not_block_the_import(corp: WeComEmulator, run: Any,
                                                         tmp_path: Path) -> None:
    seed_corp(corp, account("wkMine", "售后", 1),
              account("wkTheirs", "售后", None, manage_privilege=False))
    assert run("import").code == 0
    assert written(tmp_path)["accounts"] == {"售后": {
        "id": "wkMine", "avatar": "avatars/售后.jpg",
        "servicers": {"users": [], "departments": []}}}
    assert "#   售后 (wkTheirs)" in (tmp_path / "kfsync.yaml").read_text(encoding="utf-8")


def test_a_name_the_file_cannot_hold_is_refused(corp: WeComEmulator, run: Any,
                                                tmp_path: Path) -> None:
    seed_corp(corp, account("wkAt", "sales@shop", 1))
    message = fails(run, "import")
    assert message.startswith("cannot import sales@shop (wkAt): its name holds '@'")
    assert message.endswith("rename it in the console, then import again")
    assert list(tmp_path.iterdir()) == []


def test_an_app_that_manages_no_account_says_where_to_assign_one(corp: WeComEmulator, run: Any,
                                                                 tmp_path: Path) -> None:
    expected = f"this app manages no 微信客服 account yet: assign one in the console ({CONSOLE})"
    assert fails(run, "import") == expected
    seed_corp(corp, account(CONSOLE_ONLY, "Console only", 1, manage_privilege=False))
    assert fails(run, "import") == expected
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- overwriting, as the MP's


def test_refuses_to_overwrite_the_config_before_any_call(corp: WeComEmulator, run: Any,
                                                         tmp_path: Path) -> None:
    seed_corp(corp)
    (tmp_path / "kfsync.yaml").write_text("mine\n")
    assert fails(run, "import") == "refusing to overwrite kfsync.yaml; pass --force to replace"
    assert (tmp_path / "kfsync.yaml").read_text() == "mine\n"
    assert corp.admin.requests() == []


def test_refuses_to_overwrite_an_avatar(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    seed_corp(corp)
    (tmp_path / "avatars").mkdir()
    (tmp_path / "avatars/售前咨询.jpg").write_bytes(b"mine")
    assert "refusing to overwrite avatars/售前咨询.jpg" in fails(run, "import")
    assert not (tmp_path / "kfsync.yaml").exists()
    assert [p.name for p in (tmp_path / "avatars").iterdir()] == ["售前咨询.jpg"]
    assert (tmp_path / "avatars/售前咨询.jpg").read_bytes() == b"mine"


def test_force_overwrites(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    seed_corp(corp)
    (tmp_path / "avatars").mkdir()
    (tmp_path / "avatars/售前咨询.jpg").write_bytes(b"mine")
    (tmp_path / "kfsync.yaml").write_text("mine\n")
    (tmp_path / "kfsync.schema.json").write_text("{}")
    assert run("import", "--force").code == 0
    assert written(tmp_path)["wecom"] == {"corp_id": DEFAULT_CORPID}
    assert (tmp_path / "avatars/售前咨询.jpg").read_bytes() != b"mine"
    assert (tmp_path / "kfsync.schema.json").read_bytes() == schema_bytes()


def test_never_a_link_even_with_force(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    seed_corp(corp)
    (tmp_path / "elsewhere.yaml").write_text("theirs\n")
    (tmp_path / "kfsync.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    assert fails(run, "import", "--force").startswith("cannot write kfsync.yaml: ")
    assert (tmp_path / "elsewhere.yaml").read_text() == "theirs\n"
    assert corp.admin.requests() == []


def test_output_rules_before_any_call(corp: WeComEmulator, run: Any) -> None:
    assert "is where the JSON Schema goes" in fails(run, "import", "-o", "kfsync.schema.json")
    assert fails(run, "import", "--avatars-dir", "../pics").startswith("--avatars-dir ../pics: ")
    assert fails(run, "import", "--wechat-id", "shop_cs") == (
        "--wechat-id is for an Official Account; a WeCom file names its corp by KFSYNC_CORPID")
    assert corp.admin.requests() == []


# --------------------------------------------------------------------------- provider and credentials


def test_the_provider_is_guessed_from_the_credentials(corp: WeComEmulator, run: Any,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    seed_corp(corp)
    monkeypatch.setenv("KFSYNC_APPID", "")  # empty is unset
    assert run("import").code == 0
    assert "wecom" in written(tmp_path)
    monkeypatch.setenv("KFSYNC_APPID", "wx0123456789abcdef")
    monkeypatch.setenv("KFSYNC_APPSECRET", DEFAULT_SECRET)
    # With an AppID the Official Account's client is used: WeCom has no stable_token.
    assert fails(run, "import", "-o", "mp.yaml") == "HTTP 404 from /cgi-bin/stable_token"
    assert run("import", "--provider", "wecom", "-o", "again.yaml", "--avatars-dir", "b").code == 0
    assert "wecom" in written(tmp_path, "again.yaml")


def test_a_static_token_without_a_corp_id_is_refused(corp: WeComEmulator, run: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_CORPID")
    monkeypatch.delenv("KFSYNC_CORPSECRET")
    monkeypatch.setenv("KFSYNC_TOKEN_MODE", "static")
    monkeypatch.setenv("KFSYNC_ACCESS_TOKEN", "static-token-never-shown")
    message = fails(run, "import", "--provider", "wecom")
    assert message == "set KFSYNC_CORPID: the written file names the corp (wecom.corp_id)"
    assert corp.admin.requests() == []


def test_missing_secret_is_one_line(corp: WeComEmulator, run: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_CORPSECRET")
    assert "KFSYNC_CORPSECRET" in fails(run, "import")


def test_an_untrusted_ip_is_named(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    seed_corp(corp)
    corp.admin.seed(trusted_ips=["203.0.113.9"])
    message = fails(run, "import")
    assert "60020" in message
    assert "企业可信IP" in message
    assert "the IP WeCom saw is 127.0.0.1" in message
    assert list(tmp_path.iterdir()) == []


def test_quiet_says_nothing(corp: WeComEmulator, run: Any, tmp_path: Path) -> None:
    seed_corp(corp)
    done = run("-q", "import")
    assert (done.code, done.out, done.err) == (0, "", "")
    assert (tmp_path / "kfsync.yaml").is_file()


# --------------------------------------------------------------------------- the pure parts, no HTTP


def live(name: str, kf_id: str, *, managed: bool = True, users: tuple[str, ...] = (),
         departments: tuple[str, ...] = ()) -> LiveAccount:
    return LiveAccount(kf_account=name, nickname=name, kf_id=kf_id, manage_privilege=managed,
                       servicer_users=users if managed else None,
                       servicer_departments=departments if managed else None)


@pytest.mark.parametrize(("name", "why"), [
    ("售前咨询", None),
    ("x" * 16, None),
    ("", "is not 1 to 16 characters"),
    ("x" * 17, "is not 1 to 16 characters"),
    ("a@b", "holds '@'"),
    ("tab\there", "holds a control or unprintable character"),
    ("bidi\u202e", "holds a control or unprintable character"),
])
def test_which_names_the_file_can_hold(name: str, why: str | None) -> None:
    found = unwritable(name)
    assert (found if found is None else found[:len(why or "")]) == why


@pytest.mark.parametrize(("names", "stems"), [
    (["售前", "a b"], ["售前", "a b"]),
    (["a/b", "a\\b", "a:b", "x?", ".hidden", " pad"], ["wk0", "wk1", "wk2", "wk3", "wk4", "wk5"]),
    (["Sales", "sales", "Other"], ["wk0", "wk1", "Other"]),
])
def test_avatar_file_names(names: list[str], stems: list[str]) -> None:
    accounts = [live(name, f"wk{i}") for i, name in enumerate(names)]
    assert list(avatar_stems(accounts).values()) == stems


def test_the_rendered_file_reads_back_as_the_document() -> None:
    managed, unmanaged = select_accounts([
        live("true", "wkB", users=("lisi",), departments=("2", "10")),
        live("#x: y", "wkA"),
        live("Theirs\nline", "wkC", managed=False),
    ])
    imported = build_import("ww0123456789abcdef", managed, unmanaged=unmanaged,
                            avatars={"wkB": "avatars/true.jpg", "wkA": "avatars/wkA.jpg"})
    text = render_config(imported)
    assert yaml.safe_load(text) == imported.to_dict()
    assert '#   "Theirs\\nline" (wkC)' in text  # a line break never ends a comment early
    assert imported.to_dict()["accounts"] == {
        "#x: y": {"id": "wkA", "avatar": "avatars/wkA.jpg",
                  "servicers": {"users": [], "departments": []}},
        "true": {"id": "wkB", "avatar": "avatars/true.jpg",
                 "servicers": {"users": ["lisi"], "departments": [2, 10]}},
    }


def test_selection_refusals() -> None:
    with pytest.raises(UsageError, match="this app manages no 微信客服 account yet"):
        select_accounts([live("Theirs", "wkC", managed=False)])
    with pytest.raises(UnimportableError, match=r"\(a: wkA, wkB; b: wkC, wkD\)"):
        select_accounts([live("a", "wkA"), live("b", "wkC"), live("a", "wkB"), live("b", "wkD")])
