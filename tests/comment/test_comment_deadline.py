"""A code host's answer trickled a byte at a time ends at the request's total deadline.

Read timeouts only bound the wait between two bytes: a GitHub or GitLab API (or a
proxy in front of one) sending its headers or its body a byte at a time kept
`plan --comment` alive for as long as it liked.  Each request has `DEADLINE`
seconds in all, headers and body together, a fraction of a second here; each
trickle below would last a minute or more.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kfsync.client.transport import RetryPolicy
from kfsync.comment.rest import CommentError, Host, Rest
from tests.helpers.hostile import trickled
from tests.helpers.security import Route, StandIn, serving

DEADLINE = 0.6  #: seconds
MARGIN = 3.0  #: seconds the machine may add
COMMENTS = b"[" + b" " * 3000 + b"]"  #: three thousand bytes to trickle
HOST = Host("GitHub", "GITHUB_API_URL", "GITHUB_TOKEN", "grant `pull-requests: write`",
            "check the repository")

TRICKLES: dict[str, Route] = {
    "headers": trickled(COMMENTS, headers_too=True),
    "body": trickled(COMMENTS),
    "body-without-length": trickled(COMMENTS, length=False),
    "after-a-pause": trickled(b"[]", pause=60),
    "body-in-slow-pieces": trickled(COMMENTS, every=0.2),
}


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    monkeypatch.setattr("kfsync.comment.rest.DEADLINE", DEADLINE)
    with serving() as server:
        yield server


@pytest.mark.parametrize("name", list(TRICKLES))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_trickled_answer_ends_at_the_deadline(stand_in: StandIn, name: str, method: str) -> None:
    stand_in.routes["/repos/octo/shop/issues/7/comments"] = TRICKLES[name]
    sleeps: list[float] = []
    rest = Rest(stand_in.url, HOST, {}, token="ghs_trickle-token-0123456789",
                retry=RetryPolicy(attempts=3, base_delay=0.0, sleep=sleeps.append))
    started = time.monotonic()
    try:
        with pytest.raises(CommentError) as raised:
            rest.request(method, "/repos/octo/shop/issues/7/comments", what="read the comments",
                         body={"body": "plan"} if method == "POST" else None)
    finally:
        rest.close()
    took = time.monotonic() - started
    tries = 3 if method == "GET" else 1  # a POST that may have made a comment is not sent again
    assert took < tries * DEADLINE + MARGIN, took
    assert raised.value.message == f"cannot read the comments: the answer took more than {DEADLINE:g} s"
    assert "ghs_trickle" not in raised.value.message
    assert stand_in.hit_count("/repos/octo/shop/issues/7/comments") == tries
