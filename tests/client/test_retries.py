"""Retries and lost answers against faults injected into the emulator."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from kfsync.client.transport import Call, wechat_error
from kfsync.emulator import Emulator
from kfsync.errors import (
    OutcomeUnknownError,
    QuotaError,
    TransportError,
    UsageError,
    WeChatError,
)
from kfsync.providers.wechat_mp.client import KfClient, RetryPolicy
from kfsync.providers.wechat_mp.errcodes import MP
from tests.helpers.client import ClientFactory, calls_to, kf

LIST = "/cgi-bin/customservice/getkflist"
ADD = "/customservice/kfaccount/add"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.mark.parametrize("fault", [
    {"errcode": -1}, {"errcode": 45011}, {"http_status": 502}, {"http_status": 503},
    {"drop": "before"}, {"drop": "after"},
])
def test_reads_are_retried(emulator: Emulator, make_client: ClientFactory,
                           fault: dict[str, Any]) -> None:
    sleeps = Sleeps()
    client = make_client(retry=RetryPolicy(attempts=4, base_delay=1, max_delay=3, sleep=sleeps))
    client.list_accounts()  # the token first
    emulator.admin.fault(LIST, count=3, **fault)
    assert client.list_accounts() == ()
    assert len(calls_to(emulator, LIST)) == 5
    # exponential backoff, half fixed and half jitter, capped at max_delay
    assert [0.5 <= sleeps.delays[0] <= 1, 1 <= sleeps.delays[1] <= 2,
            1.5 <= sleeps.delays[2] <= 3] == [True] * 3


@pytest.mark.parametrize(("errcode", "error"), [(-1, WeChatError), (45011, QuotaError)])
def test_retries_run_out(emulator: Emulator, client: KfClient, errcode: int,
                         error: type[WeChatError]) -> None:
    emulator.admin.fault(LIST, count=10, errcode=errcode)
    with pytest.raises(error) as caught:
        client.list_accounts()
    assert caught.value.errcode == errcode
    assert len(calls_to(emulator, LIST)) == RetryPolicy().attempts


def test_daily_quota_is_never_retried(emulator: Emulator, client: KfClient) -> None:
    emulator.admin.fault(LIST, errcode=45009)
    with pytest.raises(QuotaError, match="45009") as caught:
        client.list_accounts()
    assert "daily API quota" in str(caught.value)
    assert len(calls_to(emulator, LIST)) == 1


@pytest.mark.parametrize("fault", [{"drop": "after"}, {"drop": "before"}])
def test_lost_answer_to_a_write_is_outcome_unknown(emulator: Emulator, client: KfClient,
                                                   fault: dict[str, Any]) -> None:
    client.list_accounts()  # the token first
    emulator.admin.fault(ADD, **fault)
    with pytest.raises(OutcomeUnknownError) as caught:
        client.add_account(kf("anna"), "Anna")
    assert str(caught.value).startswith(f"{kf('anna')}: ")
    assert "may or may not have been made" in str(caught.value)
    assert len(calls_to(emulator, ADD)) == 1  # never resent
    exists = [a.kf_account for a in client.list_accounts()] == [kf("anna")]
    assert exists == (fault == {"drop": "after"})


def test_write_timeout_is_outcome_unknown(emulator: Emulator, make_client: ClientFactory) -> None:
    client = make_client(timeout=0.05)
    client.list_accounts()
    emulator.admin.fault(ADD, latency_ms=150)
    with pytest.raises(OutcomeUnknownError, match=r"no answer within 0\.05 s"):
        client.add_account(kf("anna"), "Anna")
    # The emulator carries on after the client gave up: the write is made (once).
    deadline = time.monotonic() + 10
    while not calls_to(emulator, ADD):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert [a.kf_account for a in client.list_accounts()] == [kf("anna")]
    assert len(calls_to(emulator, ADD)) == 1


@pytest.mark.parametrize(("fault", "first"), [({"errcode": -1}, -1), ({"http_status": 502}, None)])
def test_refused_write_is_retried(emulator: Emulator, client: KfClient,
                                  fault: dict[str, Any], first: int | None) -> None:
    emulator.admin.fault(ADD, **fault)
    client.add_account(kf("anna"), "Anna")
    assert [e["errcode"] for e in calls_to(emulator, ADD)] == [first, 0]


def test_idempotent_write_is_repeated_after_a_lost_answer(emulator: Emulator,
                                                          client: KfClient) -> None:
    client.add_account(kf("anna"), "Anna")
    emulator.admin.fault("/customservice/kfaccount/update", drop="after")
    client.update_account(kf("anna"), "Anne")
    assert client.list_accounts()[0].nickname == "Anne"


def test_connection_refused_is_retried_even_for_writes() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    with KfClient(access_token="some-static-token", api_base=f"http://127.0.0.1:{port}",
                  retry=RetryPolicy(attempts=3, sleep=sleeps)) as client, \
            pytest.raises(TransportError, match="cannot connect"):
        client.add_account(kf("anna"), "Anna")
    assert len(sleeps.delays) == 2


def test_retry_policy_is_checked() -> None:
    with pytest.raises(UsageError, match="attempts >= 1"):
        RetryPolicy(attempts=0)


def test_ip_whitelist_hint_shows_the_ip() -> None:
    errmsg = "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist rid: 1-2-3"
    error = wechat_error(Call("GET", "/cgi-bin/token"), 40164, errmsg, MP)
    assert error.hint is not None
    assert "the IP WeChat saw is 203.0.113.9" in error.hint
    assert "IP whitelist" in str(error)


EVERY_METHOD: list[tuple[str, tuple[object, ...], str, str | None]] = [
    ("list_accounts", (), LIST, None),
    ("list_online", (), "/cgi-bin/customservice/getonlinekflist", None),
    ("add_account", (kf("anna"), "Anna"), ADD, kf("anna")),
    ("update_account", (kf("anna"), "Anna"), "/customservice/kfaccount/update", kf("anna")),
    ("delete_account", (kf("anna"),), "/customservice/kfaccount/del", kf("anna")),
    ("invite_worker", (kf("anna"), "anna_wechat"), "/customservice/kfaccount/inviteworker",
     kf("anna")),
    ("set_avatar", (kf("anna"), b"\xff\xd8\xff"), "/customservice/kfaccount/uploadheadimg",
     kf("anna")),
    ("create_session", (kf("anna"), "c1"), "/customservice/kfsession/create", kf("anna")),
    ("close_session", (kf("anna"), "c1"), "/customservice/kfsession/close", kf("anna")),
    ("get_session", ("c1",), "/customservice/kfsession/getsession", None),
    ("list_sessions", (kf("anna"),), "/customservice/kfsession/getsessionlist", kf("anna")),
    ("list_waiting", (), "/customservice/kfsession/getwaitcase", None),
    ("get_msg_page", (0, 1), "/customservice/msgrecord/getmsglist", None),
    ("get_legacy_records", (0, 1), "/customservice/msgrecord/getrecord", None),
]


@pytest.mark.parametrize(("method", "args", "path", "account"), EVERY_METHOD)
def test_every_method_reports_errcodes(emulator: Emulator, client: KfClient, method: str,
                                       args: tuple[object, ...], path: str,
                                       account: str | None) -> None:
    client.tokens.current()
    emulator.admin.fault("*", errcode=65400)
    with pytest.raises(WeChatError) as caught:
        getattr(client, method)(*args)
    assert (caught.value.errcode, caught.value.endpoint, caught.value.account) == (
        65400, path, account)
    assert "enable the new customer service" in str(caught.value)
    assert [entry["path"] for entry in emulator.admin.requests()][-1] == path


def test_iterators_report_errcodes(emulator: Emulator, client: KfClient) -> None:
    client.tokens.current()
    emulator.admin.fault("*", count=2, errcode=65400)
    with pytest.raises(WeChatError, match="65400"):
        next(client.iter_records(0, 10))
    with pytest.raises(WeChatError, match="65400"):
        next(client.iter_legacy_records(0, 10))
