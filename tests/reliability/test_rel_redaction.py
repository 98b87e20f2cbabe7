"""Redaction audit: the app secret and the access tokens appear nowhere kfsync writes, at any log level.

Every command that talks to WeChat runs at -vv or --debug, through the happy
paths and the failing ones (lost answers, a superseded token, a wrong secret,
an expired static token), against an emulator subprocess logging at debug level
with a secret of our own.  Then every byte of output, logs, plan files, cache
files, the imported config and the Markdown is searched for the secret, every
token the emulator issued (read from its state file) and every token the
clients sent, and for any 12 characters in a row of any of them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import pytest
import requests
import yaml

from kfsync.emulator import DEFAULT_APPID
from tests.helpers.cli_run import Run, run_main
from tests.helpers.reliability import (
    ADD_PATH,
    LIST_PATH,
    TOKEN_PATH,
    EmulatorProcess,
    free_port,
    kf,
    picture,
)

SECRET = "5ec7e7c0ffee0000c0ffee0000c0ffee"
WRONG_SECRET = "0badc0de0badc0de0badc0de0badc0de"
WINDOW = 12  #: this many characters of a secret in a row count as a leak


def leaks(secrets: Iterable[str], text: str) -> list[str]:
    """The pieces of secrets found in `text`."""
    found = []
    for secret in secrets:
        for start in range(len(secret) - WINDOW + 1):
            if secret[start:start + WINDOW] in text:
                found.append(secret[start:start + WINDOW])
                break
    return found


def issued_tokens(state: Path) -> set[str]:
    """Every token the emulator issued, from its state file (which holds them by design)."""
    saved = json.loads(state.read_text(encoding="utf-8"))
    return {t["value"] for t in saved["state"]["tokens"]["tokens"]}


def write_config(folder: Path, nickname: str) -> Path:
    (folder / "avatars").mkdir(parents=True, exist_ok=True)
    (folder / "avatars" / "alice.png").write_bytes(picture(1))
    config = folder / "kfsync.yaml"
    document = {"version": 1, "official_account": {"wechat_id": "shop_cs", "appid": DEFAULT_APPID},
                "accounts": {"alice": {"nickname": nickname, "avatar": "avatars/alice.png",
                                       "wechat": "alice_wx"},
                             "bob": {"nickname": "Bob"}, "carol": {"state": "absent"}}}
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return config


def test_no_secret_or_token_in_any_output_log_or_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        sent_tokens: set[str]) -> None:
    work = tmp_path / "work"  # everything kfsync writes; the emulator's state lives apart
    shop = work / "shop"
    state = tmp_path / "emulator" / "state.json"
    state.parent.mkdir()
    emulator = EmulatorProcess(port=free_port(), state=state, verbose=True,
                               args=["--secret", SECRET])
    for variable in ("KFSYNC_ACCESS_TOKEN", "KFSYNC_TOKEN_MODE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("KFSYNC_APPID", DEFAULT_APPID)
    monkeypatch.setenv("KFSYNC_APPSECRET", SECRET)
    monkeypatch.setenv("KFSYNC_API_BASE", emulator.base_url)
    monkeypatch.setenv("KFSYNC_CACHE_DIR", str(work / "cache"))
    monkeypatch.setenv("HOME", str(work / "home"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(work / "step_summary.md"))
    config = write_config(shop, "Alice")
    runs: list[Run] = []

    def kfsync(*args: str | Path) -> Run:
        run = run_main(capsys, *args)
        runs.append(run)
        return run

    try:
        emulator.start()
        admin = emulator.admin
        now = admin.now()
        admin.seed(accounts=[{"kf_account": kf("carol"), "kf_nick": "Carol"},
                             {"kf_account": kf("dave"), "kf_nick": "Dave", "kf_wx": "dave_wx"}],
                   records=[{"openid": f"o{i:027d}", "opercode": 2002, "text": f"hello {i}",
                             "time": now - 600 + i, "worker": kf("dave")} for i in range(5)])
        since = dt.datetime.fromtimestamp(now - 3600, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        until = dt.datetime.fromtimestamp(now + 60, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        assert kfsync("-vv", "validate", "-c", config).code == 0
        assert kfsync("-vv", "plan", "-c", config).code == 0
        assert kfsync("--debug", "plan", "-c", config, "--format", "json").code == 0
        assert kfsync("-vv", "plan", "-c", config, "--format", "markdown").code == 0
        assert kfsync("--debug", "plan", "-c", config, "--out", work / "plan.json").code == 0
        admin.fault(ADD_PATH, drop="after")  # a lost answer, logged as such
        admin.fault(LIST_PATH, errcode=40001)  # a token refused, and fetched again
        assert kfsync("--debug", "apply", work / "plan.json", "-c", config).code == 0
        write_config(shop, "Alice 2")
        assert kfsync("-vv", "apply", "-c", config, "--auto-approve", "--format", "json").code == 0
        assert kfsync("--debug", "accounts").code == 0
        assert kfsync("-vv", "accounts", "--format", "json").code == 0
        assert kfsync("--debug", "online").code == 0
        assert kfsync("-vv", "records", "--since", since, "--until", until,
                      "-o", work / "records.jsonl").code == 0
        assert kfsync("--debug", "records", "--since", since, "--until", until, "--format", "csv",
                      "--legacy").code == 0
        assert kfsync("-vv", "import", "-o", work / "imported" / "kfsync.yaml").code == 0

        monkeypatch.setenv("KFSYNC_TOKEN_MODE", "classic")
        assert kfsync("--debug", "plan", "-c", config).code == 0
        monkeypatch.setenv("KFSYNC_APPSECRET", WRONG_SECRET)
        wrong = kfsync("--debug", "accounts")
        assert wrong.code == 1
        assert "40125" in wrong.err

        # A static token from a central token service: ours, fetched by hand.
        static = requests.post(emulator.base_url + TOKEN_PATH, timeout=10, json={
            "grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": SECRET,
            "force_refresh": False}).json()["access_token"]
        monkeypatch.setenv("KFSYNC_TOKEN_MODE", "static")
        monkeypatch.setenv("KFSYNC_ACCESS_TOKEN", static)
        monkeypatch.delenv("KFSYNC_APPSECRET")
        assert kfsync("--debug", "accounts").code == 0
        assert kfsync("-vv", "plan", "-c", config, "--format", "markdown").code == 0
        admin.advance_clock(7300)
        expired = kfsync("--debug", "accounts")
        assert expired.code == 1
        assert "static access token" in expired.err
    finally:
        emulator.stop()

    tokens = issued_tokens(state)
    assert static in tokens
    assert sent_tokens <= tokens
    assert len(tokens) >= 2  # a stable one (also used as the static one), a classic one
    secrets = {SECRET, WRONG_SECRET, *tokens}
    for run in runs:
        assert leaks(secrets, run.out + run.err) == [], run.text
    assert any("DEBUG kfsync" in run.err for run in runs)  # the logs were on
    assert leaks(secrets, "".join(emulator.output)) == []
    # It logged the URLs, with the token and the secret masked.
    assert any("GET /cgi-bin/customservice/getkflist?access_token=*** " in line
               for line in emulator.output)
    assert any("secret=***" in line for line in emulator.output)
    written = sorted(p for p in work.rglob("*") if p.is_file())
    names = {p.relative_to(work).as_posix() for p in written}
    assert {"plan.json", "records.jsonl", "step_summary.md", "imported/kfsync.yaml"} <= names
    assert any(name.startswith("cache/") for name in names)
    for path in written:
        assert leaks(secrets, path.read_bytes().decode("latin-1")) == [], path
