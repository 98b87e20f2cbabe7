"""Every exit status of plan and apply, and how apply asks for confirmation."""

from __future__ import annotations

import io
import signal
import threading
from collections.abc import Mapping

import pytest

from kfsync.apply import Applier
from kfsync.plan import Change
from kfsync.providers.wechat_mp.provider import WechatMpProvider
from tests.helpers.e2e import LIST_PATH, Shop, json_out, kf, seeded


def one_rename(shop: Shop) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}})
    shop.seed(seeded("bob", "Bobby"))


def test_detailed_exitcode_is_2_with_changes_and_0_in_sync(shop: Shop) -> None:
    one_rename(shop)
    assert shop.plan().code == 0  # without the flag, changes are not an exit status
    assert shop.plan("--detailed-exitcode").code == 2
    assert shop.apply("--auto-approve").code == 0
    assert shop.plan("--detailed-exitcode").code == 0


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("version: 1\naccounts: [\n", "kfsync.yaml:"),
        ("version: 2\nofficial_account: {wechat_id: shop_cs}\naccounts: {}\n", "must be 1"),
        ("version: 1\nofficial_account: {wechat_id: shop_cs}\n"
         "accounts: {bob: {nickname: Bob, avatar: avatars/none.png}}\n", "avatars/none.png"),
    ],
    ids=["yaml-syntax", "schema", "missing-avatar"],
)
def test_bad_config_is_exit_1_before_any_call(shop: Shop, command: str, config: str, message: str) -> None:
    shop.config.write_text(config, encoding="utf-8")
    result = shop.run(command, "-c", shop.config, "--auto-approve") if command == "apply" \
        else shop.run(command, "-c", shop.config)
    assert result.code == 1, result.text
    assert result.err.startswith("kfsync: error: ")
    assert message in result.err
    assert "Traceback" not in result.err
    assert shop.requests() == []


def test_missing_config_file_is_exit_1(shop: Shop) -> None:
    result = shop.run("plan", "-c", shop.folder / "nowhere.yaml")
    assert result.code == 1, result.text
    assert "nowhere.yaml" in result.err


@pytest.mark.parametrize("variable", ["KFSYNC_APPID", "KFSYNC_APPSECRET"])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_missing_credential_names_the_variable(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, variable: str, command: str) -> None:
    one_rename(shop)
    monkeypatch.delenv(variable)
    result = shop.run(command, "-c", shop.config, "--auto-approve") if command == "apply" \
        else shop.run(command, "-c", shop.config)
    assert result.code == 1, result.text
    assert f"{variable} is not set" in result.err
    assert shop.requests() == []


@pytest.mark.parametrize(
    ("variable", "value", "errcode"),
    [("KFSYNC_APPID", "wx0000000000000000", "40013"), ("KFSYNC_APPSECRET", "f" * 32, "40125")],
    ids=["wrong-appid", "wrong-secret"],
)
def test_wechat_refusing_the_credentials_is_exit_1(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, errcode: str) -> None:
    one_rename(shop)
    monkeypatch.setenv(variable, value)
    for result in (shop.plan(), shop.apply("--auto-approve")):
        assert result.code == 1, result.text
        assert f"errcode {errcode}" in result.err
        assert result.err.count("\n") == 1
        if variable == "KFSYNC_APPSECRET":
            assert value not in result.text  # a wrong secret is still a secret
    assert shop.writes() == []


def test_config_for_another_official_account_appid_is_exit_1(shop: Shop) -> None:
    shop.config.write_text(
        "version: 1\nofficial_account: {wechat_id: shop_cs, appid: wx0123456789abcdef}\n"
        "accounts: {bob: {nickname: Bob}}\n", encoding="utf-8")
    result = shop.plan()
    assert result.code == 1, result.text
    assert "point KFSYNC_APPID at the right Official Account" in result.err
    assert shop.calls(LIST_PATH) == []


def test_apply_without_a_terminal_refuses_instead_of_waiting(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    one_rename(shop)
    stdin = io.StringIO("yes\n")
    monkeypatch.setattr("sys.stdin", stdin)
    result = shop.apply()
    assert result.code == 1, result.text
    assert "no terminal to confirm on: pass --auto-approve, or apply a reviewed plan file" in result.err
    assert stdin.tell() == 0  # nothing was read
    assert shop.requests() == []


@pytest.mark.parametrize(
    ("answer", "code", "applied"),
    [("yes\n", 0, True), ("  yes  \n", 0, True), ("no\n", 1, False), ("y\n", 1, False),
     ("", 130, False)],
    ids=["yes", "yes-padded", "no", "y-is-not-yes", "end-of-input"],
)
def test_interactive_apply_asks_for_yes(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, applied: bool) -> None:
    one_rename(shop)
    monkeypatch.setattr("kfsync.commands.apply._interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    result = shop.apply()
    assert result.code == code, result.text
    assert "Do you want to make these changes? Only 'yes' will be accepted" in result.err
    assert 'nickname "Bobby" → "Bob"' in result.out  # the plan is shown before the question
    assert (shop.live()[kf("bob")]["kf_nick"] == "Bob") is applied
    if code == 1:
        assert "Apply cancelled." in result.err
    if not applied:
        assert shop.writes() == []


def test_interactive_apply_in_sync_asks_nothing(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.write_config({"bob": {"nickname": "Bob"}})
    shop.seed(seeded("bob", "Bob"))
    monkeypatch.setattr("kfsync.commands.apply._interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    result = shop.apply()
    assert result.code == 0, result.text
    assert "Do you want" not in result.err


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_interrupt_while_reading_is_exit_130(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    one_rename(shop)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kfsync.providers.wechat_mp.provider.fetch_pictures", interrupted)
    result = shop.run(command, "-c", shop.config, "--auto-approve") if command == "apply" \
        else shop.run(command, "-c", shop.config)
    assert result.code == 130, result.text
    assert "kfsync: interrupted" in result.err
    assert "Traceback" not in result.err


def test_interrupt_during_apply_is_exit_130(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    one_rename(shop)

    def interrupted(self: WechatMpProvider, change: Change, uploads: Mapping[str, bytes]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(WechatMpProvider, "execute", interrupted)
    result = shop.apply("--auto-approve")
    assert result.code == 130, result.text
    assert "kfsync: interrupted" in result.err
    assert shop.writes() == []


def test_ctrl_c_during_apply_waits_for_the_calls_sent_and_reports_every_change(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.write_config({f"agent{i}": {"nickname": f"Agent {i}"} for i in range(6)})
    real = WechatMpProvider.execute
    started: list[str] = []
    waiting_for_calls_sent = threading.Event()  # the applier has taken the interruption
    real_stop = Applier._stop

    def stop(self: Applier) -> None:
        real_stop(self)
        waiting_for_calls_sent.set()

    def interrupting(self: WechatMpProvider, change: Change, uploads: Mapping[str, bytes]) -> None:
        started.append(change.account)
        if len(started) == 3:  # Ctrl-C reaches the main thread while this call is under way
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            assert waiting_for_calls_sent.wait(30)
        real(self, change, uploads)

    monkeypatch.setattr(Applier, "_stop", stop)
    monkeypatch.setattr(WechatMpProvider, "execute", interrupting)
    result = shop.apply("--auto-approve", "--parallelism", "2", "--format", "json")
    assert result.code == 130, result.text
    assert result.err.endswith("kfsync: interrupted; run `kfsync plan` to see what is left\n")
    document = json_out(result)
    assert document["interrupted"] is True
    assert document["stopped"] == "interrupted by Ctrl-C"
    assert document["verify"] is None
    done = {o["account"] for o in document["outcomes"] if o["status"] == "done"}
    skipped = [o for o in document["outcomes"] if o["status"] == "skipped"]
    assert started[2] in done  # the call under way was waited for, not guessed
    assert done == set(shop.live())  # what is reported done is exactly what was made
    assert len(done) + len(skipped) == 6
    assert skipped
    assert all(o["message"] == "interrupted by Ctrl-C" for o in skipped)
    monkeypatch.setattr(WechatMpProvider, "execute", real)
    assert shop.apply("--auto-approve").code == 0
    shop.assert_converged()


def test_ctrl_c_during_the_verification_still_reports_what_was_applied(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    one_rename(shop)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kfsync.engine.Engine.verify", interrupted)
    result = shop.apply("--auto-approve", "--format", "json")
    assert result.code == 130, result.text
    document = json_out(result)
    assert document["interrupted"] is True
    assert [o["status"] for o in document["outcomes"]] == ["done"]
    assert document["verify"] is None
    assert result.err.endswith("kfsync: interrupted; run `kfsync plan` to see what is left\n")
