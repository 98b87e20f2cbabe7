"""The README's security model, one test per claim (each named after its claim).

The attacker is the author of a pull request from a branch of the repository:
their kfsync.yaml and avatars run in a CI job that holds KFSYNC_APPID and
KFSYNC_APPSECRET, while the workflow file, the command line and the
environment come from the reviewed default branch (what kfsync cannot protect
when a pull request edits the workflow itself is stated in the README).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import signal
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from kfsync import pictures
from kfsync.client import tokens
from kfsync.client.config import ClientConfig
from kfsync.config.schema import load_schema
from kfsync.emulator import DEFAULT_SECRET
from tests.helpers.comment_stand_ins import WORKFLOW_BOT, GitHubStandIn
from tests.helpers.hostile import DISGUISED, bomb, trickled
from tests.helpers.security import (
    AVATAR_PATH,
    DECLARED_NICKNAMES,
    DELETE_PATH,
    LIST_PATH,
    LIVE_NICKNAMES,
    MIB,
    PICTURE_PREFIX,
    TOKEN_ANSWER,
    TOKEN_PATH,
    OpenLog,
    Shop,
    StandIn,
    assert_inert_markdown,
    assert_one_line_error,
    body,
    kf,
    picture,
    redirect,
    seeded,
)


def sent(monkeypatch: pytest.MonkeyPatch) -> list[requests.PreparedRequest]:
    """Every request any requests adapter sends from now on (API calls and picture downloads)."""
    requests_sent: list[requests.PreparedRequest] = []
    send = requests.adapters.HTTPAdapter.send

    def spy(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest,
            *args: Any, **kwargs: Any) -> requests.Response:
        assert kwargs.get("timeout") is not None, f"no timeout for {request.url}"
        requests_sent.append(request)
        return send(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", spy)
    return requests_sent


def busy_shop(shop: Shop) -> None:
    """Every kind of change pending: update, avatar, add, invite, delete, rebind, unmanaged delete."""
    other = base64.b64encode(picture(size=64, fmt="JPEG", stripes=False)).decode()
    shop.write_config({
        "alice": {"nickname": "Alice", "avatar": shop.avatar("a.png")},
        "bob": {"nickname": "Bob", "avatar": "avatars/a.png", "wechat": "bob_wx1"},
        "carol": {"state": "absent"},
        "dave": {"nickname": "Dave", "wechat": "dave_new"},
    }, policy={"unmanaged": "delete", "max_deletes": 5})
    shop.seed(seeded("alice", "Old name", headimg_base64=other),
              seeded("carol", "Carol"), seeded("dave", "Dave", kf_wx="dave_old"),
              seeded("erin", "Erin"))


def test_claim_1_plan_never_writes_to_wechat(shop: Shop, tmp_path: Path) -> None:
    busy_shop(shop)
    for fmt in ("text", "json", "markdown"):
        result = shop.plan("--format", fmt, "--detailed-exitcode", "--out", tmp_path / "p.json")
        assert result.code == 2, result.text
    assert shop.writes() == []
    assert shop.paths() == {TOKEN_PATH, LIST_PATH, PICTURE_PREFIX}
    planned = json.loads(shop.plan("--format", "json").out)["summary"]
    assert planned == {"add": 2, "change": 1, "delete": 3, "invite": 2, "avatar": 2, "rebind": 1}
    # The same config applied does write: the plan above was not empty for lack of work.
    assert shop.apply("--auto-approve").code == 0
    assert {e["path"] for e in shop.writes()} >= {AVATAR_PATH, DELETE_PATH}


@pytest.mark.parametrize("way", ["absolute", "dotdot", "link-to-file", "link-to-folder"])
def test_claim_2_a_pull_request_cannot_make_kfsync_read_or_upload_a_runner_file_as_an_avatar(
        shop: Shop, opens: OpenLog, way: str) -> None:
    runner_file = shop.folder.parent / "runner-file.png"
    runner_file.write_bytes(picture())
    (shop.folder / "pics").mkdir()
    avatar = {
        "absolute": str(runner_file),
        "dotdot": "../runner-file.png",
        "link-to-file": "pics/a.png",
        "link-to-folder": "outside/runner-file.png",
    }[way]
    (shop.folder / "pics" / "a.png").symlink_to(runner_file)
    (shop.folder / "outside").symlink_to(shop.folder.parent)
    shop.write_config({"alice": {"nickname": "Alice", "avatar": avatar}})
    opens.paths.clear()
    for args in (("plan",), ("apply", "--auto-approve")):
        line = assert_one_line_error(shop.run(*args, "-c", shop.config))
        assert ":7:13: accounts.alice.avatar: " in line
    assert opens.opened("runner-file.png") == []
    assert shop.requests() == []


def test_claim_3_a_pull_request_cannot_make_kfsync_read_a_runner_file_as_its_config(
        shop: Shop, opens: OpenLog) -> None:
    shop.config.symlink_to("/proc/self/environ")  # the job's environment: the app secret
    opens.paths.clear()
    for args in (("validate",), ("plan",), ("apply", "--auto-approve")):
        line = assert_one_line_error(shop.run(*args, "-c", shop.config))
        assert "a symbolic link leading outside its folder; refused" in line
    assert opens.opened("environ") == []
    assert shop.requests() == []


def _keys(schema: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            yield key, value
            yield from _keys(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _keys(item)


def test_claim_4_the_config_cannot_choose_where_kfsync_connects(
        shop: Shop, stand_in: StandIn) -> None:
    schema = load_schema()
    properties = {name for key, value in _keys(schema) if key == "properties" for name in value}
    for word in ("url", "uri", "host", "base", "endpoint", "proxy", "server", "api"):
        assert not [p for p in properties if word in p.lower()], word
    assert not [v for k, v in _keys(schema) if k == "format" and v in ("uri", "url", "hostname")]
    # An API base written in the config is an unknown key; nothing is contacted.
    shop.write_config({"alice": {"nickname": "Alice"}}, api_base=stand_in.url)
    line = assert_one_line_error(shop.plan())
    assert "api_base: unknown key" in line
    # A URL as a value is only text: never fetched.
    shop.write_config({"alice": {"nickname": "Alice", "avatar": f"{stand_in.url}/x.png"}})
    assert shop.plan().code == 1
    assert stand_in.hits == []
    assert shop.requests() == []


def test_claim_5_the_secret_and_token_go_only_to_the_configured_api(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    requests_sent = sent(monkeypatch)
    base = shop.emulator.base_url
    netrc = Path.home() / ".netrc"  # requests, trusting the environment, would send these
    netrc.write_text("default login netrc-user password NETRC-PASSWORD\n", encoding="utf-8")
    netrc.chmod(0o600)
    for mode, token_path in (("stable", TOKEN_PATH), ("classic", "/cgi-bin/token")):
        monkeypatch.setenv("KFSYNC_TOKEN_MODE", mode)
        shop.admin.reset()
        busy_shop(shop)
        requests_sent.clear()
        assert shop.plan().code == 0
        assert shop.apply("--auto-approve").code == 0
        carrying_secret = set()
        for request in requests_sent:
            assert request.url is not None
            raw = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
            if DEFAULT_SECRET.encode() in raw or DEFAULT_SECRET in request.url:
                carrying_secret.add(request.url.split("?")[0])
            assert "Authorization" not in request.headers  # nothing from ~/.netrc, anywhere
            if request.url.startswith(f"{base}{PICTURE_PREFIX}"):
                assert "access_token" not in request.url  # picture downloads carry no credential
        assert carrying_secret == {f"{base}{token_path}"}
    # A picture redirected elsewhere takes no credential along either.
    stand_in.routes["/r"] = redirect(f"{stand_in.url}/p", status=307)
    stand_in.routes["/p"] = body(picture(), content_type="image/png")
    shop.admin.reset()
    plan_with_live_picture(shop, stand_in, f"{stand_in.url}/r")
    assert shop.plan().code == 0
    assert stand_in.hit_count("/p") == 1
    assert [h for h in stand_in.headers if "Authorization" in h or "Cookie" in h] == []
    # A token endpoint that answers with a redirect does not get the secret sent on.
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    monkeypatch.setenv("KFSYNC_TOKEN_MODE", "stable")
    stand_in.routes[TOKEN_PATH] = redirect(f"{stand_in.url}/steal", status=307)
    line = assert_one_line_error(shop.plan())
    assert f"HTTP 307 from {TOKEN_PATH}" in line
    assert stand_in.hit_count("/steal") == 0


def test_claim_6_the_secret_never_reaches_output_logs_or_files(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[str] = []
    parse = tokens.parse_token

    def spy(answer: dict[str, object]) -> tuple[str, int]:
        token, expires_in = parse(answer)
        seen.append(token)
        return token, expires_in

    monkeypatch.setattr(tokens, "parse_token", spy)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    busy_shop(shop)
    saved = tmp_path / "plan.json"
    runs: list[tuple[str | Path, ...]] = [
        ("plan", "--format", "json", "--out", saved), ("plan", "--format", "markdown"),
        ("-vv", "--debug", "plan"), ("-vv", "--debug", "apply", saved)]
    texts = [shop.run(*args, "-c", shop.config).text for args in runs]
    monkeypatch.setenv("KFSYNC_APPSECRET", "wrong-secret-value-0123456789abc")
    shop.secrets.add("wrong-secret-value-0123456789abc")
    texts.append(shop.run("-vv", "--debug", "plan", "-c", shop.config).text)
    assert seen, "a token was fetched"
    files = [saved, summary, *(p for p in (tmp_path / "cache").rglob("*") if p.is_file())]
    assert any(p.suffix == ".jpg" for p in files)  # the cache keeps pictures too: read them as bytes
    texts += [p.read_bytes().decode("latin-1") for p in files]
    for text in texts:
        for secret in (DEFAULT_SECRET, "wrong-secret-value-0123456789abc", *seen):
            assert secret not in text


def test_claim_7_a_pull_request_cannot_inject_into_the_pull_request_comment_or_the_ci_log(
        shop: Shop) -> None:
    accounts: dict[str, dict[str, str]] = {p: {"nickname": n} for p, n in DECLARED_NICKNAMES.items()}
    accounts["c1"] = {"nickname": "::warning::pwn"}
    shop.write_config(accounts)
    shop.seed(*(seeded(p, n) for p, n in LIVE_NICKNAMES.items() if p != "d1"),
              seeded("c2", "::add-mask::x"))
    result = shop.plan("--format", "markdown")
    assert result.code == 0, result.text
    assert_inert_markdown(result.out)
    # GitHub runs lines of the log that start with :: as workflow commands.
    for args in (("plan",), ("apply", "--auto-approve")):
        text = shop.run(*args, "-c", shop.config).text
        assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]
    shop.config.write_text('version: 1\n"x\\n::add-mask::y": 1\n"%0A::warning::z": 2\n',
                           encoding="utf-8")
    annotations = shop.run("validate", "-c", shop.config, "--format", "github").out.splitlines()
    assert annotations
    assert all(line.startswith("::error file=") for line in annotations), annotations


def test_claim_8_more_deletes_than_max_deletes_need_allow_delete_on_the_command_line(
        shop: Shop, tmp_path: Path) -> None:
    shop.write_config({"alice": {"nickname": "Alice"}, "bob": {"state": "absent"},
                       "carol": {"state": "absent"}}, policy={"max_deletes": 1})
    shop.seed(seeded("alice", "Alice"), seeded("bob", "Bob"), seeded("carol", "Carol"))
    planned = shop.plan("--format", "markdown")
    assert planned.code == 3, planned.text
    assert "### Destructive changes" in planned.out
    applied = shop.apply("--auto-approve")
    assert applied.code == 3, applied.text
    assert "name each with --allow-delete bob,carol" in applied.err
    # A name that matches no delete is refused, with the names the plan accepts.
    for run in (shop.plan("--allow-delete", "bob,carol,alice"),
                shop.apply("--auto-approve", "--allow-delete", "bob,carol,alice")):
        assert run.code == 3, run.text
        assert ("names alice@shop_cs, which the plan does not delete or rebind; "
                "it accepts bob,carol") in run.err
    # Consent given to `plan --out` is recorded in the sealed file; forged consent is refused.
    saved = tmp_path / "plan.json"
    assert shop.plan("--out", saved, "--allow-delete", "bob").code == 3  # a partial list
    assert not saved.exists()
    unsealed = tmp_path / "forged.json"
    assert shop.plan("--out", saved, "--allow-delete", "bob,carol").code == 0
    document = json.loads(saved.read_text(encoding="utf-8"))
    del document["saved"]["seal"], document["saved"]["seal_key"]
    unsealed.write_text(json.dumps(document), encoding="utf-8")
    forged = shop.run("apply", unsealed, "-c", shop.config)
    assert forged.code == 3, forged.text
    assert "records --allow-delete consent but has no seal" in forged.err
    assert shop.writes() == []
    assert shop.run("apply", saved, "-c", shop.config).code == 0


def test_claim_9_protected_accounts_are_never_deleted_or_rebound(shop: Shop, tmp_path: Path) -> None:
    policy = {"protected": ["boss"], "unmanaged": "delete", "max_deletes": 5}
    shop.seed(seeded("boss", "Boss", kf_wx="boss_wx1"), seeded("alice", "Alice"))
    shop.write_config({"alice": {"nickname": "Alice"}, "boss": {"state": "absent"}}, policy=policy)
    assert shop.apply("--auto-approve", "--allow-delete", "boss").code == 1  # a config error
    shop.write_config({"alice": {"nickname": "Alice"}}, policy=policy)  # boss left undeclared
    refused = shop.apply("--auto-approve", "--allow-delete", "boss")
    assert refused.code == 3, refused.text  # the plan does not delete boss: the consent is refused
    assert "it deletes nothing, so it accepts none" in refused.err
    assert shop.apply("--auto-approve").code == 0
    shop.write_config({"alice": {"nickname": "Alice"}, "boss": {"nickname": "Boss", "wechat": "thief_wx"}},
                      policy=policy)
    assert shop.apply("--auto-approve", "--allow-delete", "boss").code == 3
    # Even a saved plan edited to delete the protected account is refused, sealed or not.
    shop.write_config({"alice": {"nickname": "Alice 2"}}, policy=policy)
    saved = tmp_path / "plan.json"
    assert shop.plan("--out", saved).code == 0
    for strip_seal in (False, True):
        document = json.loads(saved.read_text(encoding="utf-8"))
        document["changes"].append({"id": f"delete:{kf('boss')}", "action": "delete",
                                    "account": kf("boss"), "before": {"nickname": "Boss"},
                                    "after": None, "reason": "edited in", "depends_on": [],
                                    "rebind": False})
        document["summary"]["delete"] += 1
        if strip_seal:
            del document["saved"]["seal"], document["saved"]["seal_key"]
        edited = tmp_path / "edited.json"
        edited.write_text(json.dumps(document), encoding="utf-8")
        applied = shop.run("apply", edited, "-c", shop.config)
        assert applied.code == 3, applied.text
        assert ("it adds delete:boss@shop_cs" if strip_seal else "its seal does not match") in applied.err
    assert [e for e in shop.requests() if e["path"] == DELETE_PATH] == []
    assert kf("boss") in {a["kf_account"] for a in shop.admin.state()["accounts"]}


def test_claim_10_a_saved_plan_is_applied_only_if_it_is_exactly_what_kfsync_plans_now(
        shop: Shop, tmp_path: Path) -> None:
    shop.write_config({"alice": {"nickname": "Alice"}})
    shop.seed(seeded("alice", "Old"))
    saved = tmp_path / "plan.json"
    assert shop.plan("--out", saved).code == 0
    shop.write_config({"alice": {"nickname": "Alice"}, "zed": {"nickname": "Zed"}})  # pushed later
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 3, result.text
    assert "saved plan is stale (the config changed" in result.err
    shop.write_config({"alice": {"nickname": "Alice"}})
    shop.seed(seeded("yan", "Yan"))  # someone used the console meanwhile
    result = shop.run("apply", saved, "-c", shop.config)
    assert result.code == 3, result.text
    assert "saved plan is stale (the live accounts changed" in result.err
    # The file's changes must be the plan made now, sealed or not: here it invites a stranger.
    assert shop.plan("--out", saved).code == 0
    document = json.loads(saved.read_text(encoding="utf-8"))
    document["changes"].append({"id": f"invite:{kf('alice')}", "action": "invite",
                                "account": kf("alice"), "before": None,
                                "after": {"invite_wx": "stranger_wx"}, "reason": "not bound",
                                "depends_on": [], "rebind": False})
    document["summary"]["invite"] += 1
    for strip_seal in (False, True):
        if strip_seal:
            del document["saved"]["seal"], document["saved"]["seal_key"]
        saved.write_text(json.dumps(document), encoding="utf-8")
        result = shop.run("apply", saved, "-c", shop.config)
        assert result.code == 3, result.text
        assert ("it adds invite:alice@shop_cs" if strip_seal else "its seal does not match") in result.err
    assert shop.writes() == []
    # --out replaces only a regular file: never a FIFO, nor what a symbolic link leads to.
    fifo, link = tmp_path / "fifo", tmp_path / "stdout"
    os.mkfifo(fifo)
    link.symlink_to("/dev/stdout")
    for out, kind in ((fifo, "a named pipe (FIFO)"), (link, "a symbolic link")):
        line = assert_one_line_error(shop.plan("--out", out))
        assert f"{out}: cannot write the saved plan: it is {kind}" in line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.readlink(link) == "/dev/stdout"


def test_claim_11_kfsync_never_waits_for_ever(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    busy_shop(shop)
    requests_sent = sent(monkeypatch)  # asserts every request has a timeout
    assert shop.plan().code == 0
    assert any(r.url and PICTURE_PREFIX in r.url for r in requests_sent)
    config = ClientConfig.resolve(access_token="deadline-test-static-token", api_base="http://127.0.0.1:9")
    assert (config.deadline, config.picture_deadline) == (30, 30)
    # Answers trickled a byte at a time end at the total deadline, headers or body, API or picture.
    monkeypatch.setenv("KFSYNC_HTTP_DEADLINE", "0.5")
    monkeypatch.setenv("KFSYNC_PICTURE_DEADLINE", "0.5")
    shop.admin.reset()
    plan_with_live_picture(shop, stand_in, f"{stand_in.url}/p")
    stand_in.routes["/p"] = trickled(picture(), headers_too=True, content_type="image/png")
    assert "not downloaded within the 0.5 s of KFSYNC_PICTURE_DEADLINE" in shop.plan().out
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    for route in (trickled(TOKEN_ANSWER, headers_too=True), trickled(TOKEN_ANSWER + b" " * 999)):
        stand_in.routes[TOKEN_PATH] = route
        line = assert_one_line_error(shop.plan())
        assert f"no complete answer from {TOKEN_PATH} within the 0.5 s" in line
    # No terminal, no --auto-approve, no plan file: refused at once, nothing read from stdin.
    stdin = io.StringIO("yes\n")
    monkeypatch.setattr("sys.stdin", stdin)
    line = assert_one_line_error(shop.apply())
    assert "no terminal to confirm on" in line
    assert stdin.tell() == 0


def test_claim_12_huge_inputs_are_refused_before_they_fill_memory(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.write_config({"alice": {"nickname": "Alice"}})
    with shop.config.open("a", encoding="utf-8") as handle:
        handle.write("#" * 2 * MIB + "\n")
    assert "the limit is 1 MiB" in assert_one_line_error(shop.plan())
    huge = shop.folder / "huge.png"
    huge.write_bytes(picture())
    huge.chmod(0o644)
    with huge.open("r+b") as handle:
        handle.truncate(30 * MIB)
    shop.write_config({"alice": {"nickname": "Alice", "avatar": "huge.png"}})
    assert "over 20 MiB" in assert_one_line_error(shop.plan())
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    stand_in.routes[LIST_PATH] = body(b" " * MIB, repeat=10)
    shop.write_config({"alice": {"nickname": "Alice"}})
    assert "larger than 8 MiB" in assert_one_line_error(shop.plan())
    # Five formats only, whatever the name; each picture's decoding memory from its header.
    monkeypatch.setattr(pictures, "BUDGET", pictures.MemoryBudget(32 * MIB))
    for data, refusal in ((DISGUISED["eps"], "not a JPEG, PNG, GIF, WebP or BMP picture"),
                          (DISGUISED["psd"], "not a JPEG, PNG, GIF, WebP or BMP picture"),
                          (bomb("png-rgba16", 3000), "decoding the 3000x3000 picture would take"),
                          (bomb("jpeg-progressive", 3000), "kfsync decodes pictures within 32 MiB")):
        shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar("a.png", data)}})
        assert refusal in assert_one_line_error(shop.plan())


def test_claim_13_live_picture_urls_are_fetched_only_over_http_within_caps(
        shop: Shop, stand_in: StandIn, opens: OpenLog) -> None:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()},
                       "bob": {"nickname": "Bob", "avatar": "avatars/a.png"},
                       "carol": {"nickname": "Carol", "avatar": "avatars/a.png"},
                       "dave": {"nickname": "Dave", "avatar": "avatars/a.png"}})
    stand_in.routes["/loop"] = redirect("/loop")
    stand_in.routes["/big"] = body(b"\x89" * MIB, repeat=10, content_type="image/png")
    stand_in.routes["/eps"] = body(DISGUISED["eps"], content_type="image/png")
    shop.seed(seeded("alice", "Alice", kf_headimgurl="file:///etc/passwd"),
              seeded("bob", "Bob", kf_headimgurl=f"{stand_in.url}/loop"),
              seeded("carol", "Carol", kf_headimgurl=f"{stand_in.url}/big"),
              seeded("dave", "Dave", kf_headimgurl=f"{stand_in.url}/eps"))
    opens.paths.clear()
    result = shop.plan("--detailed-exitcode")
    assert result.code == 0, result.text
    assert result.out.count("live avatar could not be read") == 4
    assert "(not a JPEG, PNG, GIF, WebP or BMP picture; kfsync reads no other format)" in result.out
    assert opens.opened("/etc/passwd") == []
    assert stand_in.hit_count("/loop") == 4


def test_claim_14_the_config_cannot_run_code_or_expand(shop: Shop) -> None:
    marker = shop.folder / "PWNED"
    for document in (f"x: !!python/object/apply:os.system ['touch {marker}']\n",
                     "a: &a [x, x]\nb: [*a, *a]\n"):
        shop.config.write_text(document, encoding="utf-8")
        assert_one_line_error(shop.plan())
    assert not marker.exists()
    assert shop.requests() == []


@pytest.mark.parametrize("base", ["http://api.weixin.qq.com", "https://api.weixin.qq.com@127.0.0.1",
                                  "https://api.weixin.qq.com/cgi-bin?x="])
def test_claim_15_a_mistyped_api_base_cannot_send_the_secret_anywhere(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("KFSYNC_API_BASE", base)
    requests_sent = sent(monkeypatch)
    shop.write_config({"alice": {"nickname": "Alice"}})
    line = assert_one_line_error(shop.plan())
    assert f"KFSYNC_API_BASE {base!r} is refused" in line
    assert requests_sent == []


def plan_with_live_picture(shop: Shop, stand_in: StandIn, url: str) -> None:
    """alice declared with an avatar, live with her picture at `url`."""
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()}})
    shop.seed(seeded("alice", "Alice", kf_headimgurl=url))


def test_claim_16_no_error_or_log_line_can_forge_an_annotation_or_rewrite_the_terminal(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    shop.write_config({"alice": {"nickname": "Alice"}})
    hostile = "x\n::error::forged\r\x1b[2K\x1b]0;t\x07\u202e\x9b"
    stand_in.routes[LIST_PATH] = body(json.dumps({"errcode": -1, "errmsg": hostile}).encode())
    run = shop.run("-vv", "plan", "-c", shop.config)  # retries log the errmsg, then the error
    assert "kfsync: error: " in run.err
    assert "retry 1/3" in run.err
    for line in run.err.splitlines():
        assert line.startswith(("DEBUG ", "INFO ", "kfsync: error: ")), line
    for raw in ("\r", "\x1b", "\u202e", "\x9b"):
        assert raw not in run.text
    assert "\\x0a::error::forged\\x0d\\x1b[2K" in run.err


def test_claim_17_text_no_output_can_encode_is_refused_or_replaced_never_a_crash(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.config.write_text('version: 1\nofficial_account:\n  wechat_id: shop_cs\naccounts:\n'
                           '  alice:\n    nickname: "A\\ud83d"\n', encoding="utf-8")
    assert ":6:15: accounts.alice.nickname: \\ud83d is half a character" in \
        assert_one_line_error(shop.apply("--auto-approve", "--format", "json"))
    shop.write_config({"alice": {"nickname": "Alice", "avatar": "a\0.png"}})
    assert "holds the control character \\x00" in assert_one_line_error(shop.plan())
    shop.seed(seeded("bob", "Bob\ud83d"))
    shop.write_config({"bob": {"nickname": "Bob"}})
    applied = shop.apply("--auto-approve", "--format", "json")
    assert applied.code == 0, applied.text
    assert json.loads(applied.out)["outcomes"][0]["status"] == "done"
    assert "replaced by U+FFFD" in applied.err
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    stand_in.routes[LIST_PATH] = body(b'{"kf_list": [{"kf_account": "bob@shop_cs", "kf_nick": '
                                      b'"Bob", "kf_id": 1, "invite_wx": "bob_wx", '
                                      b'"invite_status": "waiting", "invite_expire_time": 1e20}]}')
    planned = shop.plan()
    assert planned.code == 0, planned.text
    assert "expiry is taken as unknown" in planned.err


def test_claim_18_ctrl_c_never_starts_anything(
        shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    shop.write_config({f"agent{i}": {"nickname": f"Agent {i}"} for i in range(3)})
    stand_in.routes[LIST_PATH] = body(b'{"kf_list": []}')

    def ctrl_c_then_lose_the_answer(handler: Any) -> None:
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        time.sleep(0.3)
        handler.close_connection = True  # no answer: was the account added?

    stand_in.routes["/customservice/kfaccount/add"] = ctrl_c_then_lose_the_answer
    run = shop.apply("--auto-approve", "--parallelism", "1", "--format", "json")
    assert run.code == 130, run.text
    outcomes = json.loads(run.out)["outcomes"]
    assert outcomes[0]["message"].startswith("maybe made: its answer was lost")
    assert [o["status"] for o in outcomes] == ["failed", "skipped", "skipped"]
    assert stand_in.hit_count("/customservice/kfaccount/add") == 1  # not repeated, no other
    assert stand_in.hit_count(LIST_PATH) == 1  # not even re-read


def test_claim_19_chat_records_exported_as_csv_cannot_run_in_a_spreadsheet(shop: Shop) -> None:
    formulas = ['=HYPERLINK("http://e","x")', "+1", "-1", "@A1", "\t=1", "＝1"]
    shop.admin.seed(records=[{"openid": "o", "opercode": 2003, "text": text,
                              "time": 1_790_000_000 + i, "worker": kf("alice")}
                             for i, text in enumerate(formulas)])
    args = ("records", "--since", "2026-09-01", "--until", "2026-10-01", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(shop.run(*args).out)))
    assert [r["text"] for r in rows] == ["'" + text for text in formulas]
    rows = list(csv.DictReader(io.StringIO(shop.run(*args, "--raw").out)))
    assert [r["text"] for r in rows] == formulas


def test_claim_20_kfsync_never_works_on_another_official_account_in_silence(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.seed(seeded("alice", "Alice"), seeded("bob", "Bob"))
    shop.write_config({"alice": {"nickname": "Alice"}}, official_account={"wechat_id": "shop_sc"})
    assert "WeChat uses @shop_cs" in assert_one_line_error(shop.apply("--auto-approve"))
    appid = {"wechat_id": "shop_cs", "appid": "wx0123456789abcdef"}
    shop.write_config({"alice": {"nickname": "Alice"}}, official_account=appid)
    assert "the credentials are for" in assert_one_line_error(shop.plan())
    from kfsync.providers.wechat_mp.client import KfClient

    with KfClient() as client:
        token = client.tokens.current()
    shop.secrets.add(token)
    monkeypatch.setenv("KFSYNC_TOKEN_MODE", "static")
    monkeypatch.setenv("KFSYNC_ACCESS_TOKEN", token)
    monkeypatch.delenv("KFSYNC_APPID")
    assert "set KFSYNC_APPID" in assert_one_line_error(shop.plan())
    assert shop.writes() == []


PLATFORM_TOKEN = "ghs_claim21platformtoken0123456789ABCDEF"


def test_claim_21_the_ci_platform_token_goes_only_to_its_api_and_never_into_output(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    github, elsewhere = GitHubStandIn(), GitHubStandIn()
    try:
        github.tokens[PLATFORM_TOKEN] = WORKFLOW_BOT
        github.integrations.add(PLATFORM_TOKEN)
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 1, "head": {"sha": "0" * 40}}}))
        for variable, value in {
            "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": "octo/shop", "GITHUB_API_URL": github.base_url,
            "GITHUB_SERVER_URL": "https://github.example", "GITHUB_WORKSPACE": str(shop.folder),
            "GITHUB_TOKEN": PLATFORM_TOKEN,
        }.items():
            monkeypatch.setenv(variable, value)
        requests_sent = sent(monkeypatch)
        shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar("alice.png")}})
        runs = [shop.run("-vv", "--debug", "plan", "-c", shop.config, "--comment")]
        shop.write_config({PLATFORM_TOKEN: {"nickname": PLATFORM_TOKEN}})  # a failure that quotes it
        runs.append(shop.run("-vv", "--debug", "plan", "-c", shop.config, "--comment"))
        next_page = f"{elsewhere.base_url}/repos/octo/shop/issues/1/comments"
        github.fault("/comments", 200, method="GET", body=[], headers={"Link": f'<{next_page}>; rel="next"'})
        runs.append(shop.run("plan", "-c", shop.config, "--comment"))
        assert [run.code for run in runs] == [0, 1, 1]
        assert "pointed to a page outside" in runs[2].err
        texts = [run.text for run in runs] + [str(c["body"]) for c in github.comments.values()]
        assert len(github.comments) == 1
        for text in texts:
            assert PLATFORM_TOKEN not in text
        carrying = [r for r in requests_sent if PLATFORM_TOKEN in str(r.headers)]
        assert carrying
        assert all(str(r.url).startswith(github.base_url + "/") for r in carrying)
        assert not elsewhere.requests
    finally:
        github.close()
        elsewhere.close()
