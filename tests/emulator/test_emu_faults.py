"""Injected faults: errcode, HTTP status, dropped connections, latency; counts and order."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from kfsync.emulator import Emulator
from kfsync.emulator.exceptions import EmulatorAdminError
from tests.helpers.emu_wire import OK, Wx, kf

ADD = "/customservice/kfaccount/add"
LIST = "/cgi-bin/customservice/getkflist"


@pytest.fixture
def wx(emulator: Emulator) -> Wx:
    wx = Wx(emulator.base_url)
    wx.token  # noqa: B018 - fetch the token before faults are queued
    return wx


def add_alice(wx: Wx) -> requests.Response:
    return wx.response("POST", ADD, json={"kf_account": kf("alice"), "nickname": "a"})


def last_logged(emulator: Emulator, path: str = ADD) -> dict[str, Any]:
    return [entry for entry in emulator.admin.requests() if entry["path"] == path][-1]


def test_errcode_fault_answers_without_processing(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.fault(ADD, errcode=45009)
    assert add_alice(wx).json() == {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
    assert wx.accounts() == {}
    assert add_alice(wx).json() == OK
    emulator.admin.fault(LIST, errcode=-1)
    assert wx.get(LIST) == {"errcode": -1, "errmsg": "system error"}
    emulator.admin.fault(LIST, errcode=12345)
    assert wx.get(LIST)["errcode"] == 12345


def test_http_status_fault_answers_a_gateway_page(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.fault(ADD, http_status=502)
    response = add_alice(wx)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    assert "502 Bad Gateway" in response.text
    assert wx.accounts() == {}
    entry = last_logged(emulator)
    assert (entry["status"], entry["errcode"], entry["fault"]) == (502, None, "http_status:502")


def test_drop_before_closes_without_processing(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.fault(ADD, drop="before")
    with pytest.raises(requests.ConnectionError):
        add_alice(wx)
    assert wx.accounts() == {}
    entry = last_logged(emulator)
    assert (entry["status"], entry["errcode"], entry["fault"]) == (None, None, "drop:before")


def test_drop_after_applies_the_change_then_closes(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.fault(ADD, drop="after")
    with pytest.raises(requests.ConnectionError):
        add_alice(wx)
    assert kf("alice") in wx.accounts()
    entry = last_logged(emulator)
    assert (entry["status"], entry["errcode"], entry["fault"]) == (None, 0, "drop:after")


def test_drop_on_a_kept_alive_connection(wx: Wx, emulator: Emulator) -> None:
    with requests.Session() as session:
        url = emulator.base_url + LIST
        params = {"access_token": wx.token}
        assert "kf_list" in session.get(url, params=params, timeout=10).json()
        emulator.admin.fault(LIST, drop="before")
        with pytest.raises(requests.ConnectionError):
            session.get(url, params=params, timeout=10)
        assert "kf_list" in session.get(url, params=params, timeout=10).json()


def test_latency_fault_delays_then_processes(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.fault(ADD, latency_ms=20)
    assert add_alice(wx).json() == OK
    assert last_logged(emulator)["fault"] == "latency_ms:20"


def test_faults_count_down_in_fifo_order(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.fault(LIST, count=2, errcode=45011)
    emulator.admin.fault("*", errcode=-1)
    emulator.admin.fault(LIST, errcode=45009)
    assert emulator.admin.state()["faults"] == [
        {"path": LIST, "errcode": 45011, "count": 2}, {"path": "*", "errcode": -1, "count": 1},
        {"path": LIST, "errcode": 45009, "count": 1}]
    codes = [wx.get(LIST).get("errcode") for _ in range(5)]
    assert codes == [45011, 45011, -1, 45009, None]


def test_any_route_fault_spares_the_admin_api(wx: Wx, emulator: Emulator) -> None:
    emulator.admin.fault("*", errcode=-1)
    emulator.admin.seed(accounts=[{"kf_account": kf("alice"), "kf_nick": "a"}])
    assert emulator.admin.state()["faults"] != []
    assert wx.fetch_token()["errcode"] == -1


@pytest.mark.parametrize("payload", [
    {"path": LIST},
    {"path": LIST, "errcode": 1, "drop": "before"},
    {"path": LIST, "drop": "sideways"},
    {"path": LIST, "http_status": 200},
    {"path": LIST, "errcode": "1"},
    {"path": LIST, "latency_ms": -1},
    {"path": "getkflist", "errcode": 1},
    {"path": LIST, "count": 0, "errcode": 1},
    {"path": LIST, "errcode": 1, "colour": "red"},
])
def test_bad_faults_are_refused(emulator: Emulator, payload: dict[str, Any]) -> None:
    with pytest.raises(EmulatorAdminError, match="400"):
        emulator.admin._call("POST", "faults", payload)
    assert emulator.admin.state()["faults"] == []
