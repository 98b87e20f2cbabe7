"""The HTTP server and `Emulator` lifecycle: keep-alive, clean close, latency, --state files."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

import pytest
import requests

from kfsync.emulator import Emulator
from kfsync.emulator.exceptions import StateFileError
from tests.helpers.emu_wire import OK, Wx, jpeg, kf

LIST = "/cgi-bin/customservice/getkflist"


def test_keep_alive_serves_several_requests_on_one_connection(emulator: Emulator) -> None:
    token = Wx(emulator.base_url).token
    host, port = emulator.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for _ in range(3):
            connection.request("GET", f"{LIST}?access_token={token}")
            response = connection.getresponse()
            assert response.version == 11
            assert json.loads(response.read()) == {"kf_list": []}
        body = json.dumps({"kf_account": kf("a"), "nickname": "n"})
        connection.request("POST", f"/customservice/kfaccount/add?access_token={token}", body)
        assert json.loads(connection.getresponse().read()) == OK
    finally:
        connection.close()


def test_chunked_bodies_are_read(emulator: Emulator) -> None:
    wx = Wx(emulator.base_url)
    chunks = iter([b'{"kf_account": "a@shop_cs", ', b'"nickname": "n"}'])
    assert wx.post("/customservice/kfaccount/add", data=chunks) == OK


def test_close_ends_idle_keep_alive_connections() -> None:
    with Emulator() as emu:
        host, port = emu.base_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", LIST)
        assert json.loads(connection.getresponse().read())["errcode"] == 41001
        assert any(t.name == f"kfsync-emulator-{port}-connection" for t in threading.enumerate())
    try:
        assert not [t for t in threading.enumerate()
                    if t.name.startswith(f"kfsync-emulator-{port}")]
        assert connection.sock.recv(1) == b""  # the server closed its end
    finally:
        connection.close()
    with pytest.raises(RuntimeError, match="not started"):
        _ = emu.base_url


def test_latency_option_still_answers() -> None:
    with Emulator(latency_ms=5) as emu:
        assert Wx(emu.base_url).add("alice") == OK


def _timed_get(connection: http.client.HTTPConnection, path: str) -> float:
    started = time.monotonic()
    connection.request("GET", path)
    connection.getresponse().read()
    return time.monotonic() - started


def test_connection_latency_is_charged_once_per_connection_from_when_it_opened() -> None:
    handshake = 0.4
    with Emulator(connection_latency_ms=int(handshake * 1000)) as emu:
        path = f"{LIST}?access_token={Wx(emu.base_url).token}"
        host, port = emu.base_url.removeprefix("http://").split(":")
        fresh = http.client.HTTPConnection(host, int(port), timeout=10)
        warm = http.client.HTTPConnection(host, int(port), timeout=10)
        admin = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            warm.connect()  # opened now, used only after its handshake would be over
            admin_time = _timed_get(admin, "/_emulator/state")  # the admin API is not charged
            time.sleep(handshake)
            assert _timed_get(fresh, path) >= handshake  # the first answer waits for it
            again = _timed_get(fresh, path)  # the same connection again: no handshake
            opened_earlier = _timed_get(warm, path)
        finally:
            for connection in (fresh, warm, admin):
                connection.close()
    assert again < handshake
    assert opened_earlier < handshake
    assert admin_time < handshake


def test_the_state_counts_the_connections_opened(emulator: Emulator) -> None:
    before = emulator.admin.state()["connections"]  # each admin call opens one of its own
    with requests.Session() as session:
        for _ in range(3):  # keep-alive: one connection
            session.get(emulator.base_url + LIST, timeout=10)
    requests.get(emulator.base_url + LIST, timeout=10)
    assert emulator.admin.state()["connections"] == before + 3


def test_unparsable_requests_get_http_errors(emulator: Emulator) -> None:
    response = requests.request("PUT", emulator.base_url + LIST, timeout=10)
    assert response.status_code == 501


def test_state_file_keeps_accounts_and_avatars_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "emulator.json"
    with Emulator(state_file=state) as first:
        wx = Wx(first.base_url)
        wx.add("alice", "客服")
        wx.upload(kf("alice"), jpeg())
        wx.add("bob")
        wx.invite(kf("bob"), "worker_bob")
        first.admin.advance_clock(1000)
        first_now = first.admin.now()
        old_picture = requests.get(wx.accounts()[kf("alice")]["kf_headimgurl"], timeout=10)
        token = wx.token
    assert json.loads(state.read_text())["format"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["emulator.json"]
    with Emulator(state_file=state) as second:
        wx = Wx(second.base_url)
        items = wx.get(LIST, token=token)["kf_list"]
        assert [(i["kf_account"], i["kf_nick"]) for i in items] == [
            (kf("alice"), "客服"), (kf("bob"), "nick")]
        assert items[1]["invite_status"] == "waiting"
        url = items[0]["kf_headimgurl"]
        assert url.startswith(second.base_url)
        assert requests.get(url, timeout=10).content == old_picture.content
        assert second.admin.now() - first_now in (0, 1, 2)
        assert wx.add("carol") == OK
        assert wx.accounts()[kf("carol")]["kf_id"] == 1003


def test_a_missing_or_empty_state_file_starts_empty(tmp_path: Path) -> None:
    state = tmp_path / "new.json"
    state.write_text("")
    with Emulator(state_file=state) as emu:
        assert emu.admin.state()["accounts"] == []
        Wx(emu.base_url).add("alice")
    assert "alice@shop_cs" in state.read_text()


@pytest.mark.parametrize("content", ["{", "[]", '{"format": 1}', '{"format": 9, "state": {}}',
                                     '{"format": 1, "state": {"pictures": {}}}'])
def test_a_damaged_state_file_is_refused(tmp_path: Path, content: str) -> None:
    state = tmp_path / "bad.json"
    state.write_text(content)
    with pytest.raises(StateFileError, match="state file"):
        Emulator(state_file=state)


def test_an_unwritable_state_file_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="cannot write state file"):
        Emulator(state_file=tmp_path / "missing-dir" / "state.json")


def test_a_state_file_that_becomes_unwritable_is_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    with Emulator(state_file=folder / "state.json") as emu:
        (folder / "state.json").unlink()
        folder.rmdir()
        assert Wx(emu.base_url).add("alice") == OK
    assert "cannot write state file" in caplog.text
