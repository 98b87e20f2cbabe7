"""Picture downloads carry no credential from the environment: not ~/.netrc, not across redirects.

requests, trusting the environment, reads ~/.netrc for the host of every
request and of every redirect, and sends those credentials in clear text to
an http:// host.  A hostile answer chooses the picture URLs, so it could
collect them.  kfsync's downloads never read ~/.netrc, keep no cookie from one
hop to the next, and still go through the proxy the environment names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.helpers.security import LIST_PATH, Route, Shop, StandIn, body, picture, redirect, seeded

NETRC = ("machine 127.0.0.1 login netrc-user password NETRC-PASSWORD-LOOPBACK\n"
         "machine localhost login netrc-user password NETRC-PASSWORD-LOCALHOST\n"
         "default login netrc-user password NETRC-PASSWORD-DEFAULT\n")


@pytest.fixture
def netrc(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real ~/.netrc, with passwords for every loopback name and a default, in the test's HOME."""
    home = Path.home()
    path = home / ".netrc"
    path.write_text(NETRC, encoding="utf-8")
    path.chmod(0o600)
    for variable in ("NETRC", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                     "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
    return path


def credentials(*servers: StandIn) -> list[dict[str, str]]:
    """The headers of every request the servers saw that carried a credential or a cookie."""
    return [h for server in servers for h in server.headers
            if {"authorization", "cookie", "proxy-authorization"} & {k.lower() for k in h}]


def test_requests_itself_would_send_the_netrc_password(netrc: Path, stand_in: StandIn) -> None:
    """The control: the file is read, and a session that trusts the environment sends it."""
    stand_in.routes["/p"] = body(picture(), content_type="image/png")
    requests.get(f"{stand_in.url}/p", timeout=10).close()
    assert credentials(stand_in) != []


def plan_with_picture_at(shop: Shop, url: str) -> str:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()}})
    shop.seed(seeded("alice", "Alice", kf_headimgurl=url))
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "could not be read" not in planned.out
    return planned.out


def test_a_picture_download_sends_no_netrc_password(
        netrc: Path, shop: Shop, stand_in: StandIn) -> None:
    stand_in.routes["/p"] = body(picture(), content_type="image/png")
    plan_with_picture_at(shop, f"{stand_in.url}/p")
    assert stand_in.hit_count("/p") == 1
    assert credentials(stand_in) == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_no_credential_follows_a_redirect_to_another_port(
        netrc: Path, shop: Shop, stand_in: StandIn, second_stand_in: StandIn,
        status: int, host: str) -> None:
    second_stand_in.routes["/p"] = body(picture(), content_type="image/png")
    port = second_stand_in.server_address[1]
    stand_in.routes["/r"] = redirect(f"http://{host}:{port}/p", status=status)
    plan_with_picture_at(shop, f"{stand_in.url}/r")
    assert stand_in.hit_count("/r") == second_stand_in.hit_count("/p") == 1
    assert credentials(stand_in, second_stand_in) == []


def cookie_then_redirect(location: str) -> Route:
    return lambda handler: handler.answer(302, b"", "text/plain", {
        "Location": location, "Set-Cookie": "session=from-the-first-hop; Path=/"})


def test_no_cookie_is_kept_from_one_hop_to_the_next(
        netrc: Path, shop: Shop, stand_in: StandIn) -> None:
    stand_in.routes["/r1"] = cookie_then_redirect("/r2")
    stand_in.routes["/r2"] = cookie_then_redirect(f"{stand_in.url}/p")
    stand_in.routes["/p"] = body(picture(), content_type="image/png")
    plan_with_picture_at(shop, f"{stand_in.url}/r1")
    assert stand_in.hit_count("/p") == 1
    assert credentials(stand_in) == []


def test_the_api_gets_no_netrc_password_either(
        netrc: Path, shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYNC_API_BASE", stand_in.url)
    stand_in.routes[LIST_PATH] = body(b'{"kf_list": []}')
    shop.write_config({"alice": {"nickname": "Alice"}})
    assert shop.plan().code == 0
    assert stand_in.hit_count(LIST_PATH) == 1
    assert credentials(stand_in) == []


def test_the_proxy_of_the_environment_is_still_used(
        netrc: Path, shop: Shop, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is honoured, and the hop a redirect makes goes through it too."""
    # A forward proxy is asked for the whole URL; these names are never looked up here.
    stand_in.routes["http://pictures.example.test/r"] = redirect("http://cdn.example.test/p", 307)
    stand_in.routes["http://cdn.example.test/p"] = body(picture(), content_type="image/png")
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()}})
    shop.seed(seeded("alice", "Alice", kf_headimgurl="http://pictures.example.test/r"))
    monkeypatch.setenv("HTTP_PROXY", stand_in.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the emulator, as the API
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert "could not be read" not in planned.out
    assert stand_in.hit_count("http://pictures.example.test/r") == 1
    assert stand_in.hit_count("http://cdn.example.test/p") == 1
    assert credentials(stand_in) == []


def test_a_redirect_to_a_no_proxy_host_goes_there_directly(
        netrc: Path, shop: Shop, stand_in: StandIn, second_stand_in: StandIn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in.routes["http://pictures.example.test/r"] = redirect(f"{second_stand_in.url}/p", 302)
    second_stand_in.routes["/p"] = body(picture(), content_type="image/png")
    shop.write_config({"alice": {"nickname": "Alice", "avatar": shop.avatar()}})
    shop.seed(seeded("alice", "Alice", kf_headimgurl="http://pictures.example.test/r"))
    monkeypatch.setenv("HTTP_PROXY", stand_in.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    planned = shop.plan("--detailed-exitcode")
    assert planned.code == 0, planned.text
    assert second_stand_in.hit_count("/p") == 1  # asked directly, not through the proxy
    assert credentials(stand_in, second_stand_in) == []
