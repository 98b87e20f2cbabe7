"""`kfsync import` against the emulator: the written file plans no changes, and nothing is overwritten."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from PIL import Image

from kfsync.cli import main
from kfsync.config import load_config
from kfsync.config.resources import schema_bytes
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator
from tests.helpers.cli_run import run_from
from tests.helpers.e2e import seeded_jpeg

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def live(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Emulator:
    """The reset emulator, with the CLI's credentials pointed at it, from an empty folder."""
    run_from(monkeypatch, tmp_path, emulator.base_url,
             {"KFSYNC_APPID": DEFAULT_APPID, "KFSYNC_APPSECRET": DEFAULT_SECRET})
    return emulator


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the CLI in-process; no secret may reach its output."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert DEFAULT_SECRET not in out + err
        assert "Traceback" not in err
        return code, out, err

    return run


def later(emu: Emulator, seconds: int) -> int:
    """A time `seconds` ahead of both clocks (the emulator's may have been moved forward)."""
    return max(emu.admin.now(), int(time.time())) + seconds


def seed_shop(emu: Emulator) -> None:
    """Bound, invited (waiting, expired, rejected), unbound and avatar-less accounts."""
    emu.admin.seed(accounts=[
        {"kf_account": "alice@shop_cs", "kf_nick": "小美", "kf_wx": "alice_wx2024",
         "headimg_base64": seeded_jpeg(1)},
        {"kf_account": "bob@shop_cs", "kf_nick": "Bob: the #1", "invite_wx": "bob_wx99",
         "invite_expire_time": later(emu, 3600), "headimg_base64": seeded_jpeg(2)},
        {"kf_account": "carol@shop_cs", "kf_nick": "true", "invite_wx": "carol_wx",
         "invite_status": "expired", "invite_expire_time": 1_700_000_000},
        {"kf_account": "dan@shop_cs", "kf_nick": "Dan", "invite_wx": "dan_wx12",
         "invite_status": "rejected", "invite_expire_time": later(emu, 3600)},
        {"kf_account": "007@shop_cs", "kf_nick": "陈师傅·售后", "headimg_base64": seeded_jpeg(3)},
        {"kf_account": "eve@shop_cs", "kf_nick": "Eve", "kf_wx": "eve-wx-01"},
        {"kf_account": "zed@shop_cs", "kf_nick": "Zed"},
    ])


def plan_is_empty(run: Run, *argv: str) -> str:
    code, out, err = run("plan", "--detailed-exitcode", *argv)
    assert code == 0, out + err
    assert "No changes" in out
    return out


def picture_path(emu: Emulator, kf_account: str) -> str:
    account = next(a for a in emu.admin.state()["accounts"] if a["kf_account"] == kf_account)
    return f"/mmbiz_jpg/{account['media_id']}/0"


# --------------------------------------------------------------------------- the contract


def test_import_then_plan_shows_no_changes(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    code, out, err = run("import")
    assert (code, out) == (0, "")
    assert err.strip() == (
        "Imported 7 accounts (2 bound, 1 invitation pending, 3 avatars) into kfsync.yaml"
    )
    config = load_config(tmp_path / "kfsync.yaml")  # what `kfsync validate` checks, avatars too
    assert config.scope == "shop_cs"
    assert config.official_account is not None
    assert config.official_account.appid == DEFAULT_APPID
    assert (config.policy.unmanaged, config.policy.max_deletes) == ("report", 1)
    declared = {a.prefix: (a.nickname, a.wechat, a.avatar) for a in config.accounts}
    pictures = tmp_path / "avatars"
    assert declared == {
        "007": ("陈师傅·售后", None, pictures / "007.jpg"),
        "alice": ("小美", "alice_wx2024", pictures / "alice.jpg"),
        "bob": ("Bob: the #1", "bob_wx99", pictures / "bob.jpg"),
        "carol": ("true", None, None),
        "dan": ("Dan", None, None),
        "eve": ("Eve", "eve-wx-01", None),
        "zed": ("Zed", None, None),
    }
    for path in pictures.iterdir():
        with Image.open(path) as image:
            assert image.format == "JPEG"
    out = plan_is_empty(run)
    assert "bob@shop_cs" in out  # shown as a pending invitation, not an invite
    assert run("validate")[0] == 0


def test_file_is_sorted_commented_and_free_of_secrets(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    assert run("import")[0] == 0
    text = (tmp_path / "kfsync.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# yaml-language-server: $schema=kfsync.schema.json"
    assert (tmp_path / "kfsync.schema.json").read_bytes() == schema_bytes()
    keys = [line.strip().rstrip(":") for line in lines if line.startswith("  ") and line.endswith(":")
            and not line.startswith("   ")]
    assert keys == ["'007'", "alice", "bob", "carol", "dan", "eve", "zed"]
    assert "nickname: 小美" in text
    assert "陈师傅·售后" in text
    assert "\\u" not in text
    assert "nickname: 'Bob: the #1'" in text
    assert "nickname: 'true'" in text
    assert "unmanaged: report" in text
    assert "max_deletes: 1" in text
    assert "defaults" not in text
    assert "# invitation pending until 20" in text
    assert "# invitation to carol_wx expired; add `wechat: carol_wx` to invite again" in text
    assert "# invitation to dan_wx12 was rejected; add `wechat: dan_wx12` to invite again" in text
    assert DEFAULT_SECRET not in text
    assert "access_token" not in text
    assert yaml.safe_load(text)["accounts"]["007"]["nickname"] == "陈师傅·售后"


def test_into_another_folder_with_its_own_avatars_dir(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    code, _, err = run("import", "-o", "shop/kf.yaml", "--avatars-dir", "pics/kf")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "shop/pics/kf").iterdir()) == [
        "007.jpg", "alice.jpg", "bob.jpg"]
    assert "avatar: pics/kf/alice.jpg" in (tmp_path / "shop/kf.yaml").read_text(encoding="utf-8")
    assert (tmp_path / "shop/kfsync.schema.json").is_file()
    plan_is_empty(run, "-c", "shop/kf.yaml")


# --------------------------------------------------------------------------- overwriting


def test_refuses_to_overwrite_the_config_before_any_call(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    (tmp_path / "kfsync.yaml").write_text("mine\n")
    code, _, err = run("import")
    assert code == 1
    assert err == "kfsync: error: refusing to overwrite kfsync.yaml; pass --force to replace\n"
    assert (tmp_path / "kfsync.yaml").read_text() == "mine\n"
    assert live.admin.requests() == []


def test_refuses_to_overwrite_an_avatar(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    (tmp_path / "avatars").mkdir()
    (tmp_path / "avatars/bob.jpg").write_bytes(b"mine")
    code, _, err = run("import")
    assert code == 1
    assert "refusing to overwrite avatars/bob.jpg" in err
    assert not (tmp_path / "kfsync.yaml").exists()
    assert (tmp_path / "avatars/bob.jpg").read_bytes() == b"mine"
    assert sorted(p.name for p in (tmp_path / "avatars").iterdir()) == ["bob.jpg"]


def test_force_overwrites_the_config_and_avatars(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    (tmp_path / "avatars").mkdir()
    (tmp_path / "avatars/bob.jpg").write_bytes(b"mine")
    (tmp_path / "kfsync.yaml").write_text("mine\n")
    (tmp_path / "kfsync.schema.json").write_text("{}")
    assert run("import", "--force")[0] == 0
    assert (tmp_path / "kfsync.yaml").read_text(encoding="utf-8").startswith("# yaml-language-server")
    assert (tmp_path / "kfsync.schema.json").read_bytes() == schema_bytes()
    plan_is_empty(run)


def test_an_identical_schema_file_is_no_overwrite(live: Emulator, run: Run, tmp_path: Path) -> None:
    live.admin.seed(accounts=[{"kf_account": "zed@shop_cs", "kf_nick": "Zed"}])
    assert run("import")[0] == 0
    (tmp_path / "kfsync.yaml").unlink()
    assert run("import")[0] == 0
    (tmp_path / "kfsync.yaml").unlink()
    (tmp_path / "kfsync.schema.json").write_text("{}")
    code, _, err = run("import")
    assert code == 1
    assert "refusing to overwrite" in err
    assert "kfsync.schema.json" in err


# --------------------------------------------------------------------------- WeChat ID


def test_no_live_accounts_needs_a_wechat_id(live: Emulator, run: Run, tmp_path: Path) -> None:
    code, _, err = run("import")
    assert code == 1
    assert "no live kf accounts to infer the WeChat ID from; pass --wechat-id" in err
    assert not (tmp_path / "kfsync.yaml").exists()
    code, _, err = run("import", "--wechat-id", "shop_cs")
    assert code == 0, err
    assert "accounts: {}" in (tmp_path / "kfsync.yaml").read_text(encoding="utf-8")
    plan_is_empty(run)


def test_accounts_of_another_wechat_id_are_skipped(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    code, _, err = run("import", "--wechat-id", "other_cs")
    assert code == 0
    assert "kfsync: warning: alice@shop_cs is not an account of other_cs; skipped" in err
    assert "Imported 0 accounts (0 bound, 0 invitations pending, 0 avatars)" in err
    assert load_config(tmp_path / "kfsync.yaml").accounts == ()
    assert not (tmp_path / "avatars").exists()
    code, out, err = run("plan")  # the live accounts all say the wechat_id is mistyped
    assert code == 1, out + err
    assert "WeChat uses @shop_cs (7 of them)" in err


@pytest.mark.parametrize("bad", ["9shop", "shop cs", "a" * 31])
def test_an_invalid_wechat_id_is_refused(live: Emulator, run: Run, bad: str) -> None:
    live.admin.seed(accounts=[{"kf_account": "zed@shop_cs", "kf_nick": "Zed"}])
    code, _, err = run("import", "--wechat-id", bad)
    assert code == 1
    assert err.startswith("kfsync: error: cannot use ")
    assert "pass a valid --wechat-id" in err


# --------------------------------------------------------------------------- avatars


def test_an_avatar_that_404s_is_left_undeclared(live: Emulator, run: Run, tmp_path: Path) -> None:
    seed_shop(live)
    live.admin.fault(picture_path(live, "alice@shop_cs"), http_status=404)
    code, _, err = run("import")
    assert code == 0
    assert "kfsync: warning: alice@shop_cs: avatar not imported (HTTP 404); written without it" in err
    assert "2 avatars)" in err
    assert not (tmp_path / "avatars/alice.jpg").exists()
    text = (tmp_path / "kfsync.yaml").read_text(encoding="utf-8")
    assert "# live avatar not imported (HTTP 404); add avatar: to manage it" in text
    assert load_config(tmp_path / "kfsync.yaml").account("alice").avatar is None  # type: ignore[union-attr]
    plan_is_empty(run)  # an undeclared avatar is left alone


def test_only_http_pictures_are_downloaded(live: Emulator, run: Run, tmp_path: Path) -> None:
    live.admin.seed(accounts=[
        {"kf_account": "zed@shop_cs", "kf_nick": "Zed", "kf_headimgurl": "file:///etc/passwd"}])
    code, _, err = run("import")
    assert code == 0
    assert "zed@shop_cs: avatar not imported (not an http(s) URL)" in err
    assert not (tmp_path / "avatars").exists()


def test_the_bomb_guard_is_on(live: Emulator, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    live.admin.seed(accounts=[{"kf_account": "zed@shop_cs", "kf_nick": "Zed",
                               "headimg_base64": seeded_jpeg(1)}])
    monkeypatch.setattr("kfsync.pictures.MAX_PIXELS", 100)
    code, _, err = run("import")
    assert code == 0
    assert "zed@shop_cs: avatar not imported (the picture is 640x640 pixels" in err


# --------------------------------------------------------------------------- live values the file cannot hold


def test_a_nickname_the_schema_refuses_is_an_error(live: Emulator, run: Run, tmp_path: Path) -> None:
    live.admin.seed(accounts=[{"kf_account": "bob@shop_cs", "kf_nick": " Bob",
                               "headimg_base64": seeded_jpeg(1)}])
    code, _, err = run("import")
    assert code == 1
    assert err.startswith("kfsync: error: cannot import bob@shop_cs: accounts.bob.nickname: ")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_wechat_id_the_schema_refuses_is_left_out(live: Emulator, run: Run, tmp_path: Path) -> None:
    live.admin.seed(accounts=[{"kf_account": "bob@shop_cs", "kf_nick": "Bob", "kf_wx": "bob"}])
    code, _, err = run("import")
    assert code == 0
    assert 'bob@shop_cs: works with WeChat ID bob, which kfsync.yaml cannot hold (must be' in err
    assert load_config(tmp_path / "kfsync.yaml").account("bob").wechat is None  # type: ignore[union-attr]
    plan_is_empty(run)


def test_one_wechat_id_declared_once(live: Emulator, run: Run, tmp_path: Path) -> None:
    live.admin.seed(accounts=[
        {"kf_account": "amy@shop_cs", "kf_nick": "Amy", "invite_wx": "same_wx1",
         "invite_expire_time": later(live, 3600)},
        {"kf_account": "bob@shop_cs", "kf_nick": "Bob", "kf_wx": "Same_wx1"},
    ])
    code, _, err = run("import")
    assert code == 0
    assert "amy@shop_cs: same_wx1 also works bob@shop_cs" in err
    config = load_config(tmp_path / "kfsync.yaml")
    assert [(a.prefix, a.wechat) for a in config.accounts] == [("amy", None), ("bob", "Same_wx1")]
    plan_is_empty(run)


# --------------------------------------------------------------------------- errors and output


def test_avatars_dir_must_stay_inside_the_folder(live: Emulator, run: Run) -> None:
    for bad, why in (("../pics", "remove .."), ("/tmp/pics", "not absolute")):
        code, _, err = run("import", "--avatars-dir", bad)
        assert code == 1
        assert err.startswith(f"kfsync: error: --avatars-dir {bad}: ")
        assert why in err
    assert live.admin.requests() == []


def test_missing_credentials_is_one_line(live: Emulator, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_APPSECRET")
    code, _, err = run("import")
    assert code == 1
    assert err.startswith("kfsync: error: ")
    assert err.count("\n") == 1


def test_an_unwritable_output_is_one_line(live: Emulator, run: Run, tmp_path: Path) -> None:
    live.admin.seed(accounts=[{"kf_account": "zed@shop_cs", "kf_nick": "Zed"}])
    (tmp_path / "afile").write_text("")
    code, _, err = run("import", "-o", "afile/kfsync.yaml")
    assert code == 1
    assert err.startswith("kfsync: error: cannot write ")
    assert err.count("\n") == 1


def test_the_schema_file_name_is_not_an_output(live: Emulator, run: Run) -> None:
    code, _, err = run("import", "-o", "kfsync.schema.json")
    assert code == 1
    assert "is where the JSON Schema goes" in err


def test_quiet_says_nothing(live: Emulator, run: Run, tmp_path: Path) -> None:
    live.admin.seed(accounts=[{"kf_account": "zed@shop_cs", "kf_nick": "Zed",
                               "kf_headimgurl": "file:///x"}])
    assert run("-q", "import") == (0, "", "")
    assert (tmp_path / "kfsync.yaml").is_file()
