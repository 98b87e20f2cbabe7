"""Helpers for the reliability tests: shop folders, subprocess runs, the request log's verdicts.

The tests of the applier itself plan and apply in-process (`judge_now`, `apply_now`), without the CLI.

Subprocesses run the real CLI through `rel_launch.py`, which only swaps the
client's retry delays for milliseconds; each one is killed in a `finally` so
that no emulator or apply outlives its test.
"""

from __future__ import annotations

import io
import os
import random
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from PIL import Image

from kfsync.apply import Applier, ApplyResult
from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_WECHAT_ID, Emulator, EmulatorAdmin
from kfsync.engine import Declared, Prepared, judged
from kfsync.providers.base import Provider
from kfsync.providers.wecom.emulator import WeComEmulator
from tests.helpers.cli_run import run_main

LAUNCHER = Path(__file__).with_name("rel_launch.py")
TOKEN_PATH = "/cgi-bin/stable_token"
CLASSIC_TOKEN_PATH = "/cgi-bin/token"
LIST_PATH = "/cgi-bin/customservice/getkflist"
ADD_PATH = "/customservice/kfaccount/add"
INVITE_PATH = "/customservice/kfaccount/inviteworker"
AVATAR_PATH = "/customservice/kfaccount/uploadheadimg"
#: Every kind of fault the chaos tests draw from.
CHAOS_KINDS = ["errcode:-1", "errcode:45011", "http_status:502", "drop:before", "drop:after"]


def kf(prefix: str) -> str:
    return f"{prefix}@{DEFAULT_WECHAT_ID}"


@dataclass(frozen=True)
class Wanted:
    """One declared account: its prefix, nickname and the WeChat user to invite."""

    prefix: str
    nickname: str
    wechat: str

    @property
    def kf_account(self) -> str:
        return kf(self.prefix)


def wanted_accounts(count: int) -> list[Wanted]:
    return [Wanted(f"agent{i:03d}", f"客服 {i:03d}", f"worker_{i:03d}") for i in range(count)]


def picture(seed: int, size: int = 48) -> bytes:
    """A PNG of random dark and light blocks: each seed is its own picture to the perceptual hash."""
    rng = random.Random(seed)
    cells = 8
    image = Image.new("RGB", (cells, cells))
    image.putdata([(20, 30, 80) if rng.random() < 0.5 else (235, 235, 225)
                   for _ in range(cells * cells)])
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.NEAREST).save(out, "PNG")
    return out.getvalue()


def write_shop(folder: Path, wanted: Sequence[Wanted]) -> Path:
    """A kfsync.yaml declaring every account with a nickname, its own avatar and a binding."""
    (folder / "avatars").mkdir(parents=True, exist_ok=True)
    accounts: dict[str, Any] = {}
    for index, account in enumerate(wanted):
        (folder / "avatars" / f"{account.prefix}.png").write_bytes(picture(index))
        accounts[account.prefix] = {"nickname": account.nickname,
                                    "avatar": f"avatars/{account.prefix}.png",
                                    "wechat": account.wechat}
    document = {"version": 1, "official_account": {"wechat_id": DEFAULT_WECHAT_ID},
                "policy": {"unmanaged": "report"}, "accounts": accounts}
    config = folder / "kfsync.yaml"
    config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return config


# --------------------------------------------------------------------------- verdicts


def effective_adds(entries: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Adds the emulator made, by kf_account: accepted (errcode 0), answered or not (drop:after)."""
    return Counter(str(e["body"]["kf_account"]) for e in entries
                   if e["path"] == ADD_PATH and e["errcode"] == 0
                   and e["fault"] in (None, "drop:after"))


def write_target(entry: Mapping[str, Any]) -> tuple[str, str]:
    """(path, kf_account) of a logged write: the account is in the JSON body, or the query (avatars)."""
    body = entry["body"] if isinstance(entry["body"], dict) else {}
    return str(entry["path"]), str(entry["query"].get("kf_account") or body.get("kf_account"))


def assert_no_duplicates(entries: Iterable[Mapping[str, Any]], wanted: Sequence[Wanted]) -> None:
    """Each declared account was added exactly once, and nothing else was added."""
    adds = effective_adds(entries)
    assert adds == Counter(w.kf_account for w in wanted), {a: n for a, n in adds.items() if n != 1}


def assert_live_matches(state: Mapping[str, Any], wanted: Sequence[Wanted]) -> None:
    """The emulator has exactly the declared accounts: nickname, an avatar, and the invitation."""
    live = {a["kf_account"]: a for a in state["accounts"]}
    assert sorted(live) == sorted(w.kf_account for w in wanted)
    for account in wanted:
        got = live[account.kf_account]
        assert got["kf_nick"] == account.nickname, got
        assert got["media_id"], f"{account.kf_account} has no avatar"
        invitation = got["invitation"] or {}
        assert got["kf_wx"] == account.wechat or (
            invitation.get("invite_wx") == account.wechat
            and invitation.get("invite_status") == "waiting"), got


def assert_faults_met(entries: Sequence[Mapping[str, Any]], kinds: Sequence[str], rate: float) -> None:
    """A chaos run met every kind of fault, on between half and one and a half times `rate` of its calls."""
    faults = Counter(e["fault"] for e in entries if e["fault"])
    assert set(faults) == set(kinds), faults
    assert rate / 2 < sum(faults.values()) / len(entries) < rate * 1.5


def assert_plan_in_sync(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    """`kfsync plan` of `config`, run in-process, finds nothing left to change."""
    again = run_main(capsys, "plan", "-c", config, "--detailed-exitcode")
    assert again.code == 0, again.text
    assert "No changes." in again.out


# --------------------------------------------------------------------------- the engine in-process


def assert_lost_add_settled(result: ApplyResult, entries: Sequence[Mapping[str, Any]], add_path: str,
                            drops: Sequence[str]) -> None:
    """An add whose answers were lost (`drops`, in order) was settled by re-reading each time, sent
    once more only if the last was lost before it was made, and the change after it followed."""
    assert [o.status for o in result.outcomes] == ["done", "done"], result.outcomes
    assert result.outcomes[0].note == ("answer lost; confirmed by re-reading" if drops[-1] == "after"
                                       else "answer lost; not made; made again")
    assert [e["fault"] for e in entries if e["path"] == add_path] == [
        f"drop:{d}" for d in drops] + ([None] if drops[-1] == "before" else [])




def judge_now(declared: Declared, provider: Provider) -> Prepared:
    """The plan of `declared` against what `provider` reads now, judged by its rules."""
    return judged(declared, provider.read(declared.config), rules=provider.rules(declared.config))


def apply_now(declared: Declared, provider: Provider) -> ApplyResult:
    """That plan applied through `provider` one change at a time, as `kfsync apply` would."""
    return Applier(provider, declared.uploads, parallelism=1).run(judge_now(declared, provider).plan)


# --------------------------------------------------------------------------- subprocesses


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli_env(base_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: credentials, the emulator, a private cache and home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KFSYNC_")}
    env.update(KFSYNC_APPID=DEFAULT_APPID, KFSYNC_APPSECRET=DEFAULT_SECRET, KFSYNC_API_BASE=base_url,
               KFSYNC_CACHE_DIR=str(home / "cache"), HOME=str(home),
               XDG_CACHE_HOME=str(home / ".cache"), NO_COLOR="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def kfsync_argv(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, str(LAUNCHER), *(os.fspath(a) for a in args)]


def run_cli(env: Mapping[str, str], *args: str | os.PathLike[str],
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`kfsync ARGS` in a subprocess, to the end."""
    return subprocess.run(kfsync_argv(*args), env=dict(env), cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=90, check=False)


class Proc:
    """A subprocess whose output lines are collected as they come; a context manager that kills it."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(
            list(argv), env=None if env is None else dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        self._open = 2
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [threading.Thread(target=self._drain, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self.out),
                                               (self.process.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    def _drain(self, stream: io.TextIOWrapper, into: list[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._changed:
                into.append(line)
                self._changed.notify_all()
        with self._changed:
            self._open -= 1
            self._changed.notify_all()

    def wait_for(self, ready: Callable[[], bool], timeout: float = 60) -> bool:
        """Wait until `ready()` (checked as lines come); False if the output ended first."""
        with self._changed:
            self._changed.wait_for(lambda: ready() or self._open == 0, timeout)
            return ready()

    def progress(self) -> list[str]:
        """The apply progress lines (`[3/7] add …`) printed so far."""
        with self._changed:
            return [line for line in self.err if line.startswith("[")]

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self.out) + "".join(self.err)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        if self.process.poll() is None:
            self.process.kill()

    def terminate(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def finish(self, timeout: float = 90) -> int:
        """Wait for the end (killing it after `timeout`), read the rest of its output: the status."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> Proc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        self.finish()


class EmulatorProcess:
    """`kfsync emulator` in a subprocess, on a fixed port so that it can be restarted there."""

    def __init__(self, *, port: int, state: Path | None = None, latency_ms: int = 0,
                 verbose: bool = False, args: Sequence[str] = ()) -> None:
        self.port = port
        self.args = list(args)
        self.state = state
        self.latency_ms = latency_ms
        self.verbose = verbose
        self.base_url = f"http://127.0.0.1:{port}"
        self.admin = EmulatorAdmin(self.base_url)
        self.proc: Proc | None = None
        self.output: list[str] = []  #: everything it printed, over all its runs

    def start(self) -> EmulatorProcess:
        args = [*(["--debug"] if self.verbose else []), "emulator", "--port", str(self.port),
                "--latency-ms", str(self.latency_ms), *self.args]
        if self.state is not None:
            args += ["--state", str(self.state)]
        proc = self.proc = Proc(kfsync_argv(*args), env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if not proc.wait_for(lambda: bool(proc.out), timeout=30) or \
                proc.out[0].strip() != self.base_url:
            self.kill()
            raise AssertionError(f"the emulator did not start: {self.output}")
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to save or say goodbye."""
        self._end(graceful=False)

    def stop(self) -> None:
        """SIGTERM, as a user's Ctrl-C would."""
        self._end(graceful=True)

    def _end(self, *, graceful: bool) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if graceful:
            proc.terminate()
        else:
            proc.kill()
        proc.finish()
        self.output += proc.out + proc.err

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


#: Either product's emulator: the Official Account's or WeCom's.
AnyEmulator = TypeVar("AnyEmulator", Emulator, WeComEmulator)


def served_frozen(emulator: AnyEmulator) -> Iterator[AnyEmulator]:
    """`emulator` (one of a test's own, slowed so that its applies overlap or can be killed) served
    with its clock frozen, and closed when the test ends; a fixture's `yield from`."""
    with emulator as started:
        started.admin.freeze_clock()
        yield started


# --------------------------------------------------------------------------- the CLI in-process


#: Attempts per call in the chaos tests: a call faulted that many times in a row (0.2**10) never happens.
PATIENT_ATTEMPTS = 10


@dataclass(frozen=True)
class Workspace:
    """A folder for the config, a cache directory, and the emulator the environment points at."""

    folder: Path
    cache: Path
    emulator: Emulator
