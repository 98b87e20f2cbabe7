"""The emulator's random fault mode: a share of the requests faulted, reproducible from a seed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, Emulator, EmulatorAdmin
from kfsync.emulator.exceptions import EmulatorAdminError
from tests.helpers.reliability import CHAOS_KINDS, CLASSIC_TOKEN_PATH, TOKEN_PATH


def fetch_tokens(emulator: Emulator, count: int, path: str = TOKEN_PATH) -> None:
    """`count` token requests, one after the other, whatever becomes of them."""
    for _ in range(count):
        try:
            if path == TOKEN_PATH:
                requests.post(emulator.base_url + path, timeout=10, json={
                    "grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET})
            else:
                requests.get(emulator.base_url + path, timeout=10, params={
                    "grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET})
        except requests.ConnectionError:
            pass  # a drop


def fault_labels(admin: EmulatorAdmin, path: str = TOKEN_PATH) -> list[str | None]:
    return [e["fault"] for e in admin.requests() if e["path"] == path]


def test_a_seed_replays_the_same_faults(emulator: Emulator) -> None:
    runs = []
    for _ in range(2):
        emulator.admin.reset()
        emulator.admin.random_faults("*", rate=0.3, seed=42, kinds=CHAOS_KINDS)
        fetch_tokens(emulator, 120)
        runs.append(fault_labels(emulator.admin))
    assert runs[0] == runs[1]
    drawn = Counter(label for label in runs[0] if label)
    assert set(drawn) == set(CHAOS_KINDS)
    assert 15 < sum(drawn.values()) < 60  # about 36 of 120
    emulator.admin.reset()
    emulator.admin.random_faults("*", rate=0.3, seed=43, kinds=CHAOS_KINDS)
    fetch_tokens(emulator, 120)
    assert fault_labels(emulator.admin) != runs[0]


def test_the_state_shows_random_faults_and_rate_zero_or_reset_ends_them(emulator: Emulator) -> None:
    admin = emulator.admin
    admin.random_faults(TOKEN_PATH, rate=1, seed=7, kinds=["errcode:-1"])
    fetch_tokens(emulator, 3)
    assert admin.state()["random_faults"] == [
        {"path": TOKEN_PATH, "rate": 1.0, "seed": 7, "kinds": ["errcode:-1"], "injected": 3}]
    assert fault_labels(admin) == ["errcode:-1"] * 3
    admin.random_faults(TOKEN_PATH, rate=0)
    fetch_tokens(emulator, 1)
    assert fault_labels(admin)[-1] is None
    assert admin.state()["random_faults"] == []
    admin.random_faults(rate=1, seed=7)
    admin.reset()
    fetch_tokens(emulator, 1)
    assert fault_labels(admin) == [None]


def test_default_kinds_and_queued_faults_first(emulator: Emulator) -> None:
    admin = emulator.admin
    admin.random_faults(rate=1, seed=1)
    admin.fault(TOKEN_PATH, latency_ms=0)
    fetch_tokens(emulator, 30)
    labels = fault_labels(admin)
    assert labels[0] == "latency_ms:0"  # the queued fault, then the random ones
    assert set(labels[1:]) == set(CHAOS_KINDS)
    assert admin.state()["random_faults"][0]["kinds"] == CHAOS_KINDS


def test_random_faults_hit_only_their_path(emulator: Emulator) -> None:
    admin = emulator.admin
    admin.random_faults(CLASSIC_TOKEN_PATH, rate=1, seed=3, kinds=["http_status:502"])
    fetch_tokens(emulator, 2, TOKEN_PATH)
    fetch_tokens(emulator, 2, CLASSIC_TOKEN_PATH)
    assert fault_labels(admin, TOKEN_PATH) == [None, None]
    assert fault_labels(admin, CLASSIC_TOKEN_PATH) == ["http_status:502"] * 2
    admin.random_faults(rate=1, seed=3)
    assert admin.state()["requests"] == 4  # admin routes are never faulted, nor logged


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"path": "*", "rate": 1.5}, "rate must be a number from 0 to 1"),
        ({"path": "*", "rate": -0.1}, "rate must be a number from 0 to 1"),
        ({"path": "*", "rate": True}, "rate must be a number from 0 to 1"),
        ({"path": "*", "rate": 0.5, "seed": "x"}, "seed must be an integer"),
        ({"path": "cgi-bin", "rate": 0.5}, 'path must be "*"'),
        ({"path": "*", "rate": 0.5, "kinds": []}, "kinds must be a non-empty list"),
        ({"path": "*", "rate": 0.5, "kinds": "errcode:-1"}, "kinds must be a non-empty list"),
        ({"path": "*", "rate": 0.5, "kinds": ["timeout:5"]}, "a fault kind must be KIND:VALUE"),
        ({"path": "*", "rate": 0.5, "kinds": [7]}, "a fault kind must be KIND:VALUE"),
        ({"path": "*", "rate": 0.5, "kinds": ["errcode:x"]}, "errcode must be an integer"),
        ({"path": "*", "rate": 0.5, "kinds": ["drop:during"]}, 'drop must be "before" or "after"'),
        ({"path": "*", "rate": 0.5, "kinds": ["http_status:200"]}, "http_status must be 400 to 599"),
        ({"path": "*", "rate": 0.5, "count": 3}, "unknown field(s) count next to rate"),
    ],
)
def test_malformed_random_faults_are_refused(emulator: Emulator, payload: dict[str, Any],
                                             message: str) -> None:
    with pytest.raises(EmulatorAdminError, match="HTTP 400") as refused:
        emulator.admin._call("POST", "faults", payload)
    assert message in str(refused.value)
    assert emulator.admin.state()["random_faults"] == []
