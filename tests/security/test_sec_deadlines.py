"""Answers trickled a byte at a time: every request ends at its total deadline, headers and body.

Read timeouts only bound the wait between two bytes, so a token, a
`getkflist` answer or a picture sent a byte every few seconds kept `plan`
alive for hours.  Each API call (retries and the token fetch it needs
included) now has `KFSYNC_HTTP_DEADLINE` seconds, and each picture download
(redirects included) `KFSYNC_PICTURE_DEADLINE`; 30 s each by default, a
fraction of a second here.  Each trickle below would last a minute or more;
the runs end within their deadlines plus a margin for the machine.
"""

from __future__ import annotations

import json
import time

import pytest

from kfsync.client.config import ClientConfig
from tests.helpers.hostile import trickled
from tests.helpers.security import (
    LIST_PATH,
    TOKEN_ANSWER,
    TOKEN_PATH,
    Route,
    Shop,
    StandIn,
    StandInHandler,
    assert_one_line_error,
    body,
    picture,
    redirect,
)

DEADLINE = 0.6  #: seconds, for both settings in these tests
MARGIN = 3.0  #: seconds the machine may add (thread start-up, a busy CI runner)
EMPTY_LIST = b'{"kf_list": []}'
PADDED_LIST = b'{"kf_list": []' + b" " * 2000 + b"}"  #: two thousand bytes to trickle


@pytest.fixture
def hurried(shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> Shop:
    """The shop with small deadlines and KFSYNC_API_BASE pointing at the stand-in."""
    monkeypatch.setenv("KFSYNC_HTTP_DEADLINE", str(DEADLINE))
    monkeypatch.setenv("KFSYNC_PICTURE_DEADLINE", str(DEADLINE))
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    stand_in.routes[LIST_PATH] = body(EMPTY_LIST)
    return shop


#: name -> (path, its trickled route)
API_TRICKLES: dict[str, tuple[str, Route]] = {
    "token-headers": (TOKEN_PATH, trickled(TOKEN_ANSWER, headers_too=True)),
    "token-body": (TOKEN_PATH, trickled(TOKEN_ANSWER + b" " * 2000)),
    "list-headers": (LIST_PATH, trickled(EMPTY_LIST, headers_too=True)),
    "list-body": (LIST_PATH, trickled(PADDED_LIST)),
    "list-body-without-length": (LIST_PATH, trickled(PADDED_LIST, length=False)),
    "list-after-a-pause": (LIST_PATH, trickled(EMPTY_LIST, pause=60)),
}


@pytest.mark.parametrize("case", sorted(API_TRICKLES))
@pytest.mark.parametrize("command", ["plan", "accounts"])
def test_a_trickled_api_answer_ends_at_the_deadline(
        hurried: Shop, stand_in: StandIn, case: str, command: str) -> None:
    path, route = API_TRICKLES[case]
    stand_in.routes[path] = route
    hurried.write_config({"alice": {"nickname": "Alice"}})
    args = ("plan", "-c", hurried.config) if command == "plan" else ("accounts",)
    started = time.monotonic()
    line = assert_one_line_error(hurried.run(*args))
    elapsed = time.monotonic() - started
    assert f"no complete answer from {path} within the {DEADLINE:g} s of KFSYNC_HTTP_DEADLINE" in line
    # The token is fetched within the deadline of the call that needs it: one deadline in all.
    assert elapsed < DEADLINE + MARGIN
    assert stand_in.hit_count(path) == 1  # out of time: not retried


#: name -> the route serving the picture at /p
PICTURE_TRICKLES: dict[str, Route] = {
    "headers": trickled(picture(), headers_too=True, content_type="image/png"),
    "body": trickled(picture(), content_type="image/png"),
    "body-without-length": trickled(picture(), length=False, content_type="image/png"),
    "after-a-pause": trickled(picture(), pause=60, content_type="image/png"),
}


@pytest.mark.parametrize("case", sorted(PICTURE_TRICKLES))
@pytest.mark.parametrize("hops", [0, 2])
def test_a_trickled_picture_ends_at_the_deadline_redirects_included(
        hurried: Shop, stand_in: StandIn, case: str, hops: int) -> None:
    stand_in.routes["/p"] = PICTURE_TRICKLES[case]
    for hop in range(hops):  # /r0 -> /r1 -> /p, each hop slow, all in one deadline
        stand_in.routes[f"/r{hop}"] = slow_redirect(f"/r{hop + 1}" if hop + 1 < hops else "/p")
    stand_in.routes[LIST_PATH] = body(live_list(f"{stand_in.url}/{'r0' if hops else 'p'}"))
    hurried.write_config({"alice": {"nickname": "Alice", "avatar": hurried.avatar()}})
    started = time.monotonic()
    planned = hurried.plan("--detailed-exitcode")
    elapsed = time.monotonic() - started
    assert planned.code == 0, planned.text
    assert ("alice@shop_cs: live avatar could not be read (not downloaded within the "
            f"{DEADLINE:g} s of KFSYNC_PICTURE_DEADLINE); left as it is") in planned.out
    assert elapsed < DEADLINE + MARGIN


def slow_redirect(location: str) -> Route:
    def route(handler: StandInHandler) -> None:
        time.sleep(DEADLINE / 4)
        redirect(location)(handler)

    return route


def live_list(url: str, count: int = 1) -> bytes:
    accounts = [{"kf_account": "alice@shop_cs" if i == 0 else f"a{i}@shop_cs", "kf_nick": "Alice",
                 "kf_id": 1000 + i, "kf_headimgurl": f"{url}?{i}"} for i in range(count)]
    return json.dumps({"kf_list": accounts}).encode()


def test_a_trickled_write_is_an_unknown_outcome_resent_only_after_reading_the_live_state(
        hurried: Shop, stand_in: StandIn) -> None:
    add = "/customservice/kfaccount/add"
    stand_in.routes[add] = trickled(b'{"errcode": 0, "errmsg": "ok"}', headers_too=True)
    hurried.write_config({"alice": {"nickname": "Alice"}})
    started = time.monotonic()
    applied = hurried.apply("--auto-approve")
    elapsed = time.monotonic() - started
    assert applied.code not in (0, 70), applied.text
    assert (f"no complete answer within the {DEADLINE:g} s of KFSYNC_HTTP_DEADLINE after POST "
            f"{add} was sent; the change may or may not have been made") in applied.text
    calls = [hit.split("?")[0] for hit in stand_in.hits if hit.split("?")[0] in (add, LIST_PATH)]
    adds = calls.count(add)
    assert adds >= 1
    # Never sent again blindly: each resend comes after getkflist showed alice still missing.
    for index, call in enumerate(calls):
        if call == add and index > 1:
            assert calls[index - 1] == LIST_PATH, calls
    assert elapsed < (2 + 2 * adds) * DEADLINE + MARGIN


def test_the_longest_wait_is_one_api_deadline_per_call_and_one_picture_deadline_per_round(
        hurried: Shop, stand_in: StandIn) -> None:
    """A token just inside its deadline, then nine pictures that never end.

    Eight pictures download at once, so nine take two rounds: the run lasts at
    most one API deadline (the token is fetched within the list call's) and two
    picture deadlines, whatever the servers do.
    """
    stand_in.routes[TOKEN_PATH] = trickled(TOKEN_ANSWER, every=DEADLINE / 4 / len(TOKEN_ANSWER))
    stand_in.routes[LIST_PATH] = body(live_list(f"{stand_in.url}/p", count=9))
    stand_in.routes["/p"] = trickled(picture(), headers_too=True, content_type="image/png")
    declared = ["alice", *(f"a{i}" for i in range(1, 9))]
    hurried.write_config({prefix: {"nickname": "Alice", "avatar": hurried.avatar()}
                          for prefix in declared})
    started = time.monotonic()
    planned = hurried.plan()
    elapsed = time.monotonic() - started
    assert planned.code == 0, planned.text
    assert planned.out.count("could not be read (not downloaded within") == 9
    assert stand_in.hit_count("/p") == 9
    assert 2 * DEADLINE <= elapsed < DEADLINE + 2 * DEADLINE + MARGIN


@pytest.mark.parametrize("variable", ["KFSYNC_HTTP_DEADLINE", "KFSYNC_PICTURE_DEADLINE"])
@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf", "3601", "1e400", "30s"])
def test_a_bad_deadline_is_one_error_before_any_request(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    shop.write_config({"alice": {"nickname": "Alice"}})
    line = assert_one_line_error(shop.plan())
    assert f"{variable} must be a number of seconds above 0 and at most 3600, got {value!r}" in line
    assert shop.requests() == []


def test_the_deadlines_are_30_seconds_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KFSYNC_HTTP_DEADLINE", raising=False)
    monkeypatch.setenv("KFSYNC_PICTURE_DEADLINE", "")  # empty counts as unset
    config = ClientConfig.resolve(access_token="deadline-test-static-token", token_mode="static",
                                  api_base="http://127.0.0.1:9")
    assert (config.deadline, config.picture_deadline) == (30, 30)
    monkeypatch.setenv("KFSYNC_HTTP_DEADLINE", " 12.5 ")
    monkeypatch.setenv("KFSYNC_PICTURE_DEADLINE", "3600")
    config = ClientConfig.resolve(access_token="deadline-test-static-token", token_mode="static",
                                  api_base="http://127.0.0.1:9")
    assert (config.deadline, config.picture_deadline) == (12.5, 3600)
