"""Token providers without HTTP: caching, proactive and reactive renewal, one fetch at a time."""

from __future__ import annotations

import threading
import time

import pytest

from kfsync.client.tokens import FetchedToken, StaticToken
from kfsync.errors import CredentialsError, WeChatError

EXPIRED = WeChatError(42001, "access_token expired", endpoint="/cgi-bin/customservice/getkflist")


class Fetches:
    def __init__(self, expires_in: int = 7200, pause: float = 0.0) -> None:
        self.count = 0
        self.expires_in = expires_in
        self.pause = pause

    def __call__(self) -> tuple[str, int]:
        time.sleep(self.pause)  # only in the contention test, and only milliseconds
        self.count += 1
        return f"token-number-{self.count}", self.expires_in


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_is_cached_then_renewed_five_minutes_before_expiry() -> None:
    fetch, clock = Fetches(), Clock()
    tokens = FetchedToken("stable", "wx1", fetch, clock=clock)
    assert tokens.current() == tokens.current() == "token-number-1"
    clock.now += 7200 - 301
    assert tokens.current() == "token-number-1"
    clock.now += 1
    assert tokens.current() == "token-number-2"


def test_short_lifetimes_are_renewed_at_half_life() -> None:
    fetch, clock = Fetches(expires_in=300), Clock()
    tokens = FetchedToken("stable", "wx1", fetch, clock=clock)
    tokens.current()
    clock.now += 149
    assert tokens.current() == "token-number-1"
    clock.now += 1
    assert tokens.current() == "token-number-2"


def test_invalidate_drops_only_the_current_token() -> None:
    fetch = Fetches()
    tokens = FetchedToken("classic", "wx1", fetch, clock=Clock())
    tokens.current()
    tokens.invalidate("token-number-1", EXPIRED)
    assert tokens.current() == "token-number-2"
    # A thread that failed with the old token must not throw away the new one.
    tokens.invalidate("token-number-1", EXPIRED)
    assert tokens.current() == "token-number-2"
    assert fetch.count == 2


def test_concurrent_callers_trigger_one_fetch() -> None:
    fetch = Fetches(pause=0.02)
    tokens = FetchedToken("stable", "wx1", fetch)
    seen: list[str] = []
    threads = [threading.Thread(target=lambda: seen.append(tokens.current()))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetch.count == 1
    assert seen == ["token-number-1"] * 8


def test_static_token_cannot_be_renewed() -> None:
    tokens = StaticToken("handed-in-token-value")
    assert tokens.current() == "handed-in-token-value"
    with pytest.raises(CredentialsError,
                       match=r"static access token \(KFSYNC_ACCESS_TOKEN\) is invalid or "
                             r"expired: WeChat errcode 42001"):
        tokens.invalidate("handed-in-token-value", EXPIRED)


def test_reprs_hide_the_token() -> None:
    tokens = FetchedToken("stable", "wx1", Fetches(), clock=Clock())
    tokens.current()
    assert "token-number" not in repr(tokens)
    assert "handed-in-token-value" not in repr(StaticToken("handed-in-token-value"))
