"""Text from outside that no output can encode or that would break one: clean errors, never exit 70.

Lone UTF-16 surrogates (half characters, which JSON-style `\\ud83d` escapes
spell in YAML and in WeChat's JSON) in the config, in live nicknames and in
chat records; control characters in avatar paths; times from WeChat that are
no time at all.  Each boundary deals with them once: the config reports them
at FILE:LINE:COL, API answers replace them with a warning, and every report
(plan and apply, text, JSON and Markdown) is still printed, and valid.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers.security import LIST_PATH, Shop, StandIn, assert_one_line_error, body, kf, seeded

#: Half characters as a YAML double-quoted string spells them, and what the problem names.
LONE = {
    "high": ("\\ud83d", "\\ud83d"),
    "low": ("\\ude00", "\\ude00"),
    "two-highs": ("\\ud83d\\ud83d", "\\ud83d"),
    "inside": ("x\\ud800y", "\\ud800"),
    "pair-then-half": ("\\ud83d\\ude00\\udbff", "\\udbff"),
}
#: Where in the config: (YAML text with HOLE for the escape, line, column, field).
PLACES = {
    "nickname": ('  alice:\n    nickname: "A{}"\n', 6, 15, "accounts.alice.nickname"),
    "key": ('  "b{}":\n    nickname: Bob\n', 5, 3, "accounts."),
    "avatar": ('  alice:\n    nickname: A\n    avatar: "a{}.png"\n', 7, 13, "accounts.alice.avatar"),
    "wechat": ('  alice:\n    nickname: A\n    wechat: "w{}"\n', 7, 13, "accounts.alice.wechat"),
}
HEAD = "version: 1\nofficial_account:\n  wechat_id: shop_cs\naccounts:\n"
SURROGATE = re.compile("[\ud800-\udfff]")


def assert_clean_text(text: str) -> None:
    """Encodable as UTF-8, with no raw escape or lone surrogate."""
    text.encode("utf-8")
    assert not SURROGATE.search(text)
    assert "\x1b" not in text


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("lone", sorted(LONE))
def test_a_lone_surrogate_in_the_config_is_a_problem_at_its_place(
        shop: Shop, place: str, lone: str) -> None:
    escape, named = LONE[lone]
    template, line, column, field = PLACES[place]
    shop.config.write_text(HEAD + template.format(escape), encoding="utf-8")
    where = f"{shop.config}:{line}:{column}: {field}"
    for args in (("plan",), ("plan", "--format", "json"), ("plan", "--format", "markdown"),
                 ("apply", "--auto-approve", "--format", "json"), ("validate",)):
        run = shop.run(*args, "-c", shop.config)
        if args[0] == "validate":
            assert run.code == 1, run.text
            assert run.out.startswith(where), run.out
        else:
            error = assert_one_line_error(run)
            assert error.startswith(f"kfsync: error: {where}"), error
            assert run.out == ""
        assert f"{named} is half a character" in run.text
        assert_clean_text(run.text)
    validated = shop.run("validate", "-c", shop.config, "--format", "json")
    [problem] = json.loads(validated.out)["problems"]
    assert (problem["line"], problem["column"]) == (line, column)
    assert shop.writes() == []


def test_a_surrogate_pair_in_the_config_is_the_character_it_spells(shop: Shop) -> None:
    shop.config.write_text(HEAD + '  alice:\n    nickname: "A\\ud83d\\ude00"\n', encoding="utf-8")
    assert shop.apply("--auto-approve").code == 0
    assert shop.admin.state()["accounts"][0]["kf_nick"] == "A😀"
    assert shop.plan("--detailed-exitcode").code == 0


@pytest.mark.parametrize("path", [
    "a\\0.png", "a\\x1b[2J.png", "a\\r\\n::error::x.png", "\\x85.png", "a\\x7f.png", "a\\tb.png",
])
@pytest.mark.parametrize("where", ["account", "defaults"])
def test_a_control_character_in_an_avatar_path_is_a_problem_at_its_place(
        shop: Shop, path: str, where: str) -> None:
    shop.avatar("a.png")
    if where == "defaults":
        text = f'version: 1\nofficial_account:\n  wechat_id: shop_cs\ndefaults:\n  avatar: "{path}"\n' \
               "accounts:\n  alice:\n    nickname: A\n"
        place = f"{shop.config}:5:11: defaults.avatar: holds the control character"
    else:
        text = HEAD + f'  alice:\n    nickname: A\n    avatar: "{path}"\n'
        place = f"{shop.config}:7:13: accounts.alice.avatar: holds the control character"
    shop.config.write_text(text, encoding="utf-8")
    for args in (("plan",), ("apply", "--auto-approve", "--format", "json")):
        error = assert_one_line_error(shop.run(*args, "-c", shop.config))
        assert error.startswith(f"kfsync: error: {place}"), error
    validated = shop.run("validate", "-c", shop.config, "--format", "github")
    assert validated.code == 1
    assert [line for line in validated.out.splitlines() if not line.startswith("::error ")] == []
    assert shop.requests() == []


#: Live nicknames WeChat may hold: one cut in the middle of an emoji, and worse.
LIVE_HALVES = {"a1": "Al\ud83d", "a2": "\udc00", "a3": "\ud83d\ud83d x", "a4": "ok\ud83d\ude00"}


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_a_lone_surrogate_in_a_live_nickname_is_replaced_with_one_warning(
        shop: Shop, fmt: str) -> None:
    shop.seed(*(seeded(prefix, nick) for prefix, nick in LIVE_HALVES.items()))
    shop.write_config({prefix: {"nickname": f"Agent {prefix}"} for prefix in (*LIVE_HALVES, "b1")})
    planned = shop.plan("--format", fmt)
    assert planned.code == 0, planned.text
    assert_clean_text(planned.text)
    warnings = planned.err.splitlines()
    assert len(warnings) == 1, warnings
    assert "holds 4 lone UTF-16 surrogate(s)" in warnings[0]
    assert "U+FFFD" in warnings[0]
    if fmt == "json":
        before = {c["account"]: c["before"] for c in json.loads(planned.out)["changes"]
                  if c["action"] == "update"}
        assert before[kf("a1")] == {"nickname": "Al\ufffd"}
        assert before[kf("a4")] == {"nickname": "ok😀"}  # a whole pair is the character
    applied = shop.apply("--auto-approve", "--format", "json" if fmt == "json" else "text")
    assert applied.code == 0, applied.text
    assert_clean_text(applied.text)
    if fmt == "json":
        document = json.loads(applied.out)
        assert document["complete"] is True
        assert len(document["outcomes"]) == 5
    assert shop.plan("--detailed-exitcode").code == 0


def test_lone_surrogates_in_chat_records_are_replaced_in_jsonl_and_csv(shop: Shop) -> None:
    texts = ["hi \ud83d", "\udc00", "ok \ud83d\ude00", "plain"]
    shop.admin.seed(records=[{"openid": f"o{i}\ud800", "opercode": 2002, "text": text,
                              "time": 1_790_000_000 + i, "worker": kf("alice")}
                             for i, text in enumerate(texts)])
    for fmt in ("jsonl", "csv"):
        run = shop.run("records", "--since", "2026-09-01", "--until", "2026-10-01", "--format", fmt)
        assert run.code == 0, run.text
        assert_clean_text(run.text)
        assert "lone UTF-16 surrogate" in run.err
        assert "Exported 4 records" in run.err
        if fmt == "jsonl":
            rows = [json.loads(line) for line in run.out.splitlines()]
            assert [r["text"] for r in rows] == ["hi \ufffd", "\ufffd", "ok 😀", "plain"]
            assert all(r["openid"].endswith("\ufffd") for r in rows)
        else:
            assert "hi \ufffd" in run.out
            assert "ok 😀" in run.out


#: invite_expire_time values that are no time: negative, huge, fractional, text, NaN, infinite.
ABSURD_EXPIRY = ["-1", "1e20", "100000000000000000000", "1.5", '"soon"', "NaN", "Infinity",
                 '"\u00b9\u00b2"', '"-5"', "true", "[1]", "{}"]


@pytest.mark.parametrize("expiry", ABSURD_EXPIRY)
def test_an_absurd_invite_expire_time_is_an_unknown_expiry_and_a_warning(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, expiry: str) -> None:
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    answer = ('{"kf_list": [{"kf_account": "alice@shop_cs", "kf_nick": "Alice", "kf_id": 1, '
              f'"invite_wx": "alice_wx", "invite_status": "waiting", "invite_expire_time": {expiry}}}]}}')
    stand_in.routes[LIST_PATH] = body(answer.encode())
    shop.write_config({"alice": {"nickname": "Alice", "wechat": "alice_wx"}})
    for args in (("plan", "-c", shop.config), ("plan", "-c", shop.config, "--format", "json"),
                 ("plan", "-c", shop.config, "--format", "markdown"), ("accounts",),
                 ("accounts", "--format", "json")):
        run = shop.run(*args)
        assert run.code == 0, run.text
        [warning] = run.err.splitlines()
        assert "kf_list[0].invite_expire_time must be a unix time" in warning
        assert "expiry is taken as unknown" in warning
        if args[-1] == "json" and args[0] == "plan":
            [invite] = json.loads(run.out)["changes"]
            assert invite["reason"] == "invitation expiry unknown"


@pytest.mark.parametrize("when", ["1e20", "-1", '"9999999999999999999"', "1.5"])
def test_a_record_time_that_is_no_time_is_one_error_line(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    page = ('{"recordlist": [{"openid": "o", "opercode": 2002, "text": "t", "worker": "a", '
            f'"time": {when}}}], "number": 1, "msgid": 1}}')
    stand_in.routes["/customservice/msgrecord/getmsglist"] = body(page.encode())
    error = assert_one_line_error(shop.run("records", "--since", "2026-09-01", "--until",
                                           "2026-09-02"))
    assert "recordlist[0].time must be a unix time" in error


@pytest.mark.parametrize("broken", [UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed"),
                                    RecursionError("maximum recursion depth exceeded"),
                                    ValueError("Out of range float values are not JSON compliant")])
def test_an_apply_report_whose_format_fails_is_printed_as_text(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, broken: Exception) -> None:
    import kfsync.render

    real = kfsync.render.render_apply

    def render_apply(result: object, fmt: str, **kwargs: object) -> str:
        if fmt == "json":
            raise broken
        return real(result, fmt, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kfsync.render, "render_apply", render_apply)
    shop.write_config({"alice": {"nickname": "Alice"}, "bob": {"nickname": "Bob"}})
    run = shop.apply("--auto-approve", "--format", "json")
    assert run.code == 0, run.text
    assert f"the json report could not be written ({type(broken).__name__}" in run.err
    assert "Apply complete: 2 added" in run.out
    assert "internal error" not in run.text
