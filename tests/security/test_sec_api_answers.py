"""Hostile API answers through the CLI: one clean error line and exit 1, never a traceback.

tests/client/test_malformed.py checks the client's errors for such answers; here
the same answers (and a few nastier ones) go through `kfsync plan` and
`kfsync accounts`, with the credentials in the environment as in CI, against
a local stand-in for WeChat.
"""

from __future__ import annotations

import pytest

from tests.helpers.security import (
    LIST_PATH,
    MIB,
    TOKEN_PATH,
    Route,
    Shop,
    StandIn,
    assert_one_line_error,
    body,
    gzip_bomb,
    redirect,
)

GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

#: name -> (route for getkflist, what the error line says)
HOSTILE: dict[str, tuple[Route, str]] = {
    "html-200": (body(GATEWAY, content_type="text/html"),
                 f"the answer from {LIST_PATH} is not JSON (it starts '<html><head>"),
    "html-502": (body(GATEWAY, status=502, content_type="text/html"), f"HTTP 502 from {LIST_PATH}"),
    "redirect": (redirect("http://127.0.0.1:9/elsewhere"), f"HTTP 302 from {LIST_PATH}"),
    "truncated": (body(b'{"kf_list": [{"kf_account": "a@shop_cs", "kf_ni'),
                  f"the answer from {LIST_PATH} is not JSON"),
    "not-utf8": (body(b'{"kf_list": "\xff\xfe"}'), f"the answer from {LIST_PATH} is not JSON"),
    "array": (body(b"[]"), f"the answer from {LIST_PATH} is JSON but not an object"),
    "account-number": (body(b'{"kf_list": [{"kf_account": 7, "kf_nick": "a", "kf_id": 1}]}'),
                       "field kf_list[0].kf_account must be a string, got number"),
    "list-object": (body(b'{"kf_list": {"a": 1}}'), "field kf_list must be an array"),
    "item-string": (body(b'{"kf_list": ["a@shop_cs"]}'),
                    "kf_list[0] must be a JSON object, got string"),
    "errcode-array": (body(b'{"errcode": [40001]}'), "field errcode must be a whole number"),
    "errcode-float": (body(b'{"errcode": 1e999}'), "field errcode must be a whole number"),
    "errcode-superscript": (body('{"errcode": "²"}'.encode()),
                            "field errcode must be a whole number"),
    "errcode-5000-digits": (body(b'{"errcode": "' + b"9" * 5000 + b'"}'),
                            "field errcode must be a whole number"),
    "nested-deep": (body(b'{"kf_list": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
                    f"the answer from {LIST_PATH} is JSON nested too deeply"),
    "ten-mib": (body(b" " * MIB, repeat=10), f"the answer from {LIST_PATH} is larger than 8 MiB"),
    "gzip-bomb": (gzip_bomb(64), f"the answer from {LIST_PATH} is larger than 8 MiB"),
}


@pytest.fixture
def hostile_shop(shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> Shop:
    """The shop with KFSYNC_API_BASE pointing at the stand-in, and one account declared."""
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    shop.write_config({"alice": {"nickname": "Alice"}})
    return shop


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["plan", "accounts"])
def test_a_hostile_answer_is_one_error_line(hostile_shop: Shop, stand_in: StandIn,
                                            command: str, case: str) -> None:
    route, message = HOSTILE[case]
    stand_in.routes[LIST_PATH] = route
    args = ("plan", "-c", hostile_shop.config) if command == "plan" else ("accounts",)
    line = assert_one_line_error(hostile_shop.run(*args))
    assert message in line
    assert stand_in.hit_count(TOKEN_PATH) == 1
    assert stand_in.hit_count("/elsewhere") == 0  # redirects from the API are never followed


def test_a_hostile_token_answer_is_one_error_line(hostile_shop: Shop, stand_in: StandIn) -> None:
    stand_in.routes[TOKEN_PATH] = body(b'{"access_token": "", "expires_in": "soon"}')
    line = assert_one_line_error(hostile_shop.plan())
    assert f"malformed answer from {TOKEN_PATH}" in line
    assert stand_in.hit_count(LIST_PATH) == 0
