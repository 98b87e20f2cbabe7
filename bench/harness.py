"""Processes under measurement: the emulator as a subprocess, and the real `kfsync` CLI.

The emulator and every measured kfsync command run as their own processes, so
what is timed is what a user's shell would see: interpreter start-up, imports,
the work, and the exit.  The CPU time and peak memory of one command are those
`os.wait4` reports for that child.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfsync.emulator import DEFAULT_APPID, DEFAULT_SECRET, EmulatorAdmin
from kfsync.emulator.admin import EmulatorAdmin as AnyAdmin
from kfsync.providers.wecom.emulator import DEFAULT_CORPID
from kfsync.providers.wecom.emulator import DEFAULT_SECRET as WECOM_SECRET

TOKEN_PATH = "/cgi-bin/stable_token"
LIST_PATH = "/cgi-bin/customservice/getkflist"
PICTURE_PREFIX = "/mmbiz_jpg/"
START_TIMEOUT = 30.0


def launcher() -> list[str]:
    """How to start `kfsync`: the console script of this interpreter's environment, else `-m`."""
    script = Path(sys.executable).parent / "kfsync"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "kfsync"]


def describe_launcher() -> str:
    command = launcher()
    return " ".join(["python", *(Path(part).name for part in command[1:])])


@dataclass(frozen=True)
class Settings:
    """What every scenario is run with."""

    work: Path  #: scratch folder, removed afterwards
    latency_ms: int = 150  #: the network's round trip, for apply, the cold plan and records
    short_latency_ms: int = 50  #: where CPU counts: apply against the minimal client, warm plan
    quick: bool = False
    picture: Path = Path(__file__).resolve().parent / "apply-parallelism.png"

    def reps(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    @property
    def latency(self) -> float:
        return self.latency_ms / 1000

    @property
    def short_latency(self) -> float:
        return self.short_latency_ms / 1000


def say(message: str) -> None:
    """Progress, on stderr."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Timed:
    """One finished command: exit status, wall and CPU seconds, peak memory, what it printed."""

    code: int
    wall: float
    cpu: float  #: user + system time of the child process
    out: str
    err: str
    peak_rss: int = 0  #: bytes: the most resident memory the child had at once


def base_env() -> dict[str, str]:
    """The environment of every process started here: no KFSYNC_* settings from outside.

    PYTHONDONTWRITEBYTECODE is dropped too: with it, every process would compile
    kfsync from source again, which an installed kfsync (its .pyc written at
    install time) never does.
    """
    return {k: v for k, v in os.environ.items()
            if not k.startswith("KFSYNC_") and k != "PYTHONDONTWRITEBYTECODE"}


def run_timed(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
              cwd: Path | None = None, timeout: float = 600.0) -> Timed:
    """Run a command to the end; its wall time, and the CPU time and peak memory of the child.

    The child is reaped with `os.wait4`, whose CPU times are that child's alone.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), env=dict(env) if env is not None else base_env(),
                                   cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        ended = threading.Event()
        peak = [0]
        watcher = threading.Thread(target=_watch_memory, args=(process.pid, ended, peak))
        watcher.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            ended.set()
            killer.cancel()
        wall = time.perf_counter() - started
        watcher.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Timed(process.returncode, wall, usage.ru_utime + usage.ru_stime,
                     out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                     peak[0])


def _watch_memory(pid: int, ended: threading.Event, peak: list[int]) -> None:
    """The child's peak resident memory (VmHWM), read every few milliseconds until it ends.

    Not wait4's ru_maxrss: Linux carries the high-water mark of the process that forked
    the child across its exec, so ru_maxrss reports at least this harness's own memory.
    """
    path = f"/proc/{pid}/status"
    while not ended.is_set():
        try:
            with open(path, encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) * 1024)
                        break
        except (OSError, ValueError):
            pass
        ended.wait(0.005)


def kfsync_env(api_base: str, cache_dir: Path, *, provider: str = "wechat_mp") -> dict[str, str]:
    """The environment of a measured kfsync command: the emulator's credentials, no colour."""
    env = base_env()
    env.pop("GITHUB_STEP_SUMMARY", None)
    if provider == "wecom":
        env.update({"KFSYNC_CORPID": DEFAULT_CORPID, "KFSYNC_CORPSECRET": WECOM_SECRET})
    else:
        env.update({"KFSYNC_APPID": DEFAULT_APPID, "KFSYNC_APPSECRET": DEFAULT_SECRET})
    env.update({
        "KFSYNC_API_BASE": api_base,
        "KFSYNC_CACHE_DIR": str(cache_dir),
        "NO_COLOR": "1",
    })
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


class EmulatorProcess:
    """`kfsync emulator` in its own process, on a free loopback port (`provider`'s API)."""

    def __init__(self, *, latency_ms: int = 0, max_accounts: int = 100,
                 connection_latency_ms: int = 0, provider: str = "wechat_mp") -> None:
        self.latency_ms = latency_ms
        self.connection_latency_ms = connection_latency_ms
        self.max_accounts = max_accounts
        self.provider = provider
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self) -> EmulatorProcess:
        argv = [*launcher(), "emulator", "--provider", self.provider, "--port", "0",
                "--latency-ms", str(self.latency_ms),
                "--connection-latency-ms", str(self.connection_latency_ms)]
        if self.provider == "wechat_mp":
            argv += ["--max-accounts", str(self.max_accounts)]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   stdin=subprocess.DEVNULL, text=True, env=base_env())
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the emulator did not start (first line {line!r})")
        self.base_url = line
        return self

    @property
    def admin(self) -> EmulatorAdmin:
        return EmulatorAdmin(self.base_url)

    def cpu(self) -> float:
        """CPU seconds the emulator has used so far (Linux /proc; NaN elsewhere)."""
        if self._process is None:
            return float("nan")
        try:
            with open(f"/proc/{self._process.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RequestLog:
    """The emulator's request log (any provider's), read as what happened since a mark."""

    def __init__(self, admin: AnyAdmin) -> None:
        self.admin = admin

    def mark(self) -> int:
        entries = self.admin.requests()
        return int(entries[-1]["seq"]) if entries else 0

    def since(self, mark: int) -> list[dict[str, Any]]:
        return [e for e in self.admin.requests() if int(e["seq"]) > mark]


@dataclass(frozen=True)
class Counts:
    """Requests one command made, by kind."""

    total: int
    token: int
    listing: int
    pictures: int
    writes: int

    @classmethod
    def of(cls, entries: Sequence[Mapping[str, Any]]) -> Counts:
        paths = [str(e["path"]) for e in entries]
        pictures = sum(p.startswith(PICTURE_PREFIX) for p in paths)
        token = paths.count(TOKEN_PATH)
        listing = paths.count(LIST_PATH)
        return cls(len(paths), token, listing, pictures, len(paths) - pictures - token - listing)

    def show(self) -> str:
        return (f"{self.total} (token {self.token}, list {self.listing}, "
                f"pictures {self.pictures}, writes {self.writes})")


@contextmanager
def scratch(root: Path, name: str) -> Iterator[Path]:
    """A fresh folder under `root`, removed afterwards."""
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


REFERENCE = Path(__file__).resolve().parent / "reference.py"


def reference(job: str, api_base: str, *args: str) -> list[str]:
    """The command line of `bench/reference.py`: the script users write instead of kfsync."""
    return [sys.executable, str(REFERENCE), job, "--api-base", api_base, *args]


def connections(emulator: EmulatorProcess) -> int:
    """Connections the emulator has accepted so far (each admin call opens one of its own)."""
    return int(emulator.admin.state()["connections"])


def live_accounts(api_base: str) -> dict[str, tuple[str | None, ...]]:
    """What an apply leaves: each account's nickname, binding, invitation and picture hash."""
    from kfsync.cache import Cache
    from kfsync.downloads import fetch_pictures
    from kfsync.providers.wechat_mp.client import KfClient

    with KfClient(appid=DEFAULT_APPID, secret=DEFAULT_SECRET, api_base=api_base) as client:
        accounts = client.list_accounts()
        urls = [a.headimgurl for a in accounts if a.headimgurl]
        pictures = fetch_pictures(urls, Cache(None).live, adapter=client.adapter)
    return {a.kf_account: (a.nickname, a.kf_wx, a.invite_wx,
                           pictures[a.headimgurl].phash if a.headimgurl else None)
            for a in accounts}
