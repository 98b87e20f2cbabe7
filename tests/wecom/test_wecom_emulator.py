"""The WeCom emulator's admin API, state file and `kfsync emulator --provider wecom`."""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from kfsync.emulator.exceptions import EmulatorAdminError, StateFileError
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import (
    DEFAULT_CORPID,
    DEFAULT_SECRET,
    Switches,
    WeComEmulator,
)
from tests.helpers.wecom import LIST, NO_WAIT, bootstrap, people, picture


def test_default_identity() -> None:
    assert DEFAULT_CORPID.startswith("ww")
    assert len(DEFAULT_CORPID) == 18
    int(DEFAULT_CORPID[2:], 16)
    assert DEFAULT_SECRET not in repr(WeComEmulator())


@pytest.mark.parametrize(("seed", "message"), [
    ({"accounts": [{"name": "x" * 17}]}, "accounts[0].name"),
    ({"accounts": [{"name": "A", "open_kfid": "nope"}]}, "accounts[0].open_kfid"),
    ({"accounts": [{"name": "A", "servicers": [{"userid": "ghost"}]}]}, "servicers[0].userid"),
    ({"accounts": [{"name": "A", "avatar_base64": "!!"}]}, "avatar_base64"),
    ({"accounts": [{"name": "A", "manage_privilege": "yes"}]}, "manage_privilege"),
    ({"departments": [{"department_id": 2, "members": ["ghost"]}]}, "unknown userid"),
    ({"users": [{"userid": "a"}, {"userid": "a"}]}, "already exists"),
    ({"verified": "no"}, "verified"),
    ({"switches": {"get_list": "sometimes"}}, "get_list"),
    ({"switches": {"nonsense": True}}, "unknown switch"),
    ({"sessions": [{"open_kfid": "wkX", "external_userid": "wm", "service_state": 1}]},
     "not a seeded account"),
    ({"surprise": 1}, "unknown seed field"),
])
def test_bad_seeds_are_refused_whole(wecom: WeComEmulator, seed: dict[str, Any],
                                     message: str) -> None:
    with pytest.raises(EmulatorAdminError, match=re.escape(message)):
        wecom.admin.seed(**{"users": [{"userid": "fine"}], **seed})
    assert wecom.admin.state()["users"] == []


def test_seed_everything_and_read_the_state(wecom: WeComEmulator) -> None:
    result = wecom.admin.seed(
        verified=False, trusted_ips=["127.0.0.1"], switches={"duplicate_names": False},
        users=people("alice"), departments=[{"department_id": 2, "members": ["alice"]}],
        accounts=[{"open_kfid": "wkOne", "name": "One",
                   "avatar_base64": base64.b64encode(picture("PNG")).decode(),
                   "servicers": [{"userid": "alice"}, {"department_id": 2}]}],
        customers=[{"external_userid": "wm1"}],
        messages=[{"open_kfid": "wkOne", "external_userid": "wm1", "text": "hi"}])
    assert (result["accounts"], result["users"], result["messages"]) == (1, 1, 1)
    state = wecom.admin.state()
    assert state["corp"]["verified"] is False
    assert state["corp"]["switches"]["duplicate_names"] is False
    assert state["accounts"][0]["servicers"][1] == {"userid": None, "department_id": 2,
                                                     "status": 0, "stop_type": 0}
    assert state["config"]["corpid"] == DEFAULT_CORPID
    assert DEFAULT_SECRET not in json.dumps(state)
    wecom.admin.reset()
    assert wecom.admin.state()["corp"]["switches"] == Switches().to_dict()


def test_faults_latency_and_the_request_log(wecom: WeComEmulator) -> None:
    bootstrap(wecom)
    wecom.admin.fault(LIST, http_status=502)
    with WeComClient(DEFAULT_CORPID, DEFAULT_SECRET, api_base=wecom.base_url,
                     retry=NO_WAIT) as client:
        assert len(client.list_accounts()) == 1
    log = wecom.admin.requests()
    assert [(e["path"], e["status"], e["fault"]) for e in log] == [
        ("/cgi-bin/gettoken", 200, None), (LIST, 502, "http_status:502"), (LIST, 200, None)]
    assert DEFAULT_SECRET not in json.dumps(log)


def test_the_state_file_keeps_everything(tmp_path: Path) -> None:
    state = tmp_path / "wecom.json"
    with WeComEmulator(state_file=state) as first:
        bootstrap(first, users=people("alice"))
        with WeComClient(DEFAULT_CORPID, DEFAULT_SECRET, api_base=first.base_url) as client:
            media = client.upload_image(picture())
            open_kfid = client.add_account("Kept", media.media_id)
            client.add_servicers(open_kfid, ["alice"])
    with WeComEmulator(state_file=state) as second, \
            WeComClient(DEFAULT_CORPID, DEFAULT_SECRET, api_base=second.base_url) as client:
        kept = {a.name: a for a in client.list_accounts()}["Kept"]
        assert client.list_servicers(kept.open_kfid)[0].userid == "alice"
        assert kept.avatar is not None
        assert requests.get(kept.avatar, timeout=10).status_code == 200
    state.write_text(json.dumps({"format": 1, "state": {"pictures": {}}}))
    with pytest.raises(StateFileError, match="damaged"):
        WeComEmulator(state_file=state)


def run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kfsync", "emulator", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_command_serves_wecom_with_switches(tmp_path: Path) -> None:
    with run("--provider", "wecom", "--corpid", "ww00000000000000aa", "--secret", "s3cret",
             "--switch", "get_list=refused", "--switch", "token_reuse=false",
             "--latency-ms", "1", "--state", str(tmp_path / "s.json")) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            token = requests.get(f"{url}/cgi-bin/gettoken", timeout=10, params={
                "corpid": "ww00000000000000aa", "corpsecret": "s3cret"}).json()["access_token"]
            answer = requests.get(f"{url}{LIST}", params={"access_token": token}, timeout=10)
            assert answer.json()["errcode"] == 40058
            state = requests.get(f"{url}/_emulator/state", timeout=10).json()
            assert state["config"]["switches"]["token_reuse"] is False
            assert state["config"]["latency_ms"] == 1
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert (tmp_path / "s.json").exists()


@pytest.mark.parametrize("args", [("--provider", "wecom", "--switch", "get_list=sometimes"),
                                  ("--provider", "wecom", "--switch", "nothing=1"),
                                  ("--provider", "wecom", "--switch", "novalue"),
                                  ("--switch", "get_list=paged"), ("--corpid", "ww1")])
def test_bad_switches_are_one_line_errors(args: tuple[str, ...]) -> None:
    with run(*args) as proc:
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert out == ""
    assert err.startswith("kfsync: ")
    assert "--switch" in err
    assert "Traceback" not in err


def test_the_official_account_stays_the_default() -> None:
    with run() as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            answer = requests.get(f"{url}/cgi-bin/gettoken", timeout=10).json()
            assert answer["errcode"] == 40066  # not a route of the Official Account's API
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)


def test_the_command_seeds_from_a_file_and_prints_wecom_variables(tmp_path: Path) -> None:
    seed = tmp_path / "corp.yaml"
    seed.write_text("users:\n  - userid: alice\naccounts:\n  - name: Desk\n"
                    "    servicers:\n      - userid: alice\n", encoding="utf-8")
    with run("--provider", "wecom", "--seed", str(seed)) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().strip()
            with WeComClient(DEFAULT_CORPID, DEFAULT_SECRET, api_base=url) as client:
                assert [a.name for a in client.list_accounts()] == ["Desk"]
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=10)
    assert "# seeded with 1 account, 1 user, 0 departments, 0 customers, 0 messages" in err
    assert f"export KFSYNC_CORPID={DEFAULT_CORPID}" in err
    assert f"export KFSYNC_CORPSECRET={DEFAULT_SECRET}" in err
    assert "KFSYNC_APPID" not in err


def test_a_bad_seed_file_names_the_field(tmp_path: Path) -> None:
    seed = tmp_path / "corp.json"
    seed.write_text(json.dumps({"accounts": [{"name": "x" * 17}]}), encoding="utf-8")
    with run("--provider", "wecom", "--seed", str(seed)) as proc:
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1
    assert out == ""
    assert err.strip() == (f"kfsync: error: --seed {seed}: accounts[0].name: must be at most 16 "
                           "characters")


@pytest.mark.parametrize(("switches", "message"), [
    ({"get_list": "sometimes"}, "get_list must be one of"),
    ({"unmanaged_errcode": 40001}, "unmanaged_errcode must be one of"),
    ({"duplicate_names": "no"}, "switch duplicate_names must be a bool"),
    ({"image_max_mb": 5}, "image_max_mb must be one of"),
    ({"list_order": "random"}, "list_order must be one of"),
    ({"colour": "red"}, "unknown switch 'colour'"),
])
def test_bad_switches_are_refused(wecom: WeComEmulator, switches: dict[str, Any],
                                  message: str) -> None:
    with pytest.raises(EmulatorAdminError, match=re.escape(message)):
        wecom.admin.switch(**switches)
    assert wecom.admin.state()["corp"]["switches"] == Switches().to_dict()
