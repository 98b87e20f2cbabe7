"""Helpers for the security tests: the CLI in a shop folder, a hostile stand-in server, pictures.

`Shop` runs `kfsync.cli.main` in-process against the emulator from a folder
holding a kfsync.yaml; every run is checked for the app secret, tracebacks and
raw terminal escapes.  `StandIn` is a tiny HTTP server on 127.0.0.1 that
answers what the emulator never would (gateway pages, endless redirects,
bombs, trickles): the transport faults the tests need.  Nothing here ever
leaves loopback.
"""

from __future__ import annotations

import gzip
import io
import os
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageDraw

from kfsync.emulator import DEFAULT_SECRET, DEFAULT_WECHAT_ID, Emulator
from kfsync.render.common import visible
from tests.helpers.cli_run import Run, run_main
from tests.helpers.gfm import assert_inert_comment

TOKEN_PATH = "/cgi-bin/stable_token"
LIST_PATH = "/cgi-bin/customservice/getkflist"
AVATAR_PATH = "/customservice/kfaccount/uploadheadimg"
DELETE_PATH = "/customservice/kfaccount/del"
WRITE_PATHS = frozenset({
    "/customservice/kfaccount/add", "/customservice/kfaccount/update", DELETE_PATH,
    "/customservice/kfaccount/inviteworker", AVATAR_PATH,
})
READ_PATHS = frozenset({TOKEN_PATH, LIST_PATH})
PICTURE_PREFIX = "/mmbiz_jpg/"
MIB = 1024 * 1024
#: a policy with an account of each kind a saved plan must not touch (see the `reviewed` fixture)
POLICY = {"protected": ["boss"], "ignore": ["temp*"], "unmanaged": "report", "max_deletes": 5}


def kf(prefix: str) -> str:
    return f"{prefix}@{DEFAULT_WECHAT_ID}"


def seeded(prefix: str, nick: str, **fields: Any) -> dict[str, Any]:
    return {"kf_account": kf(prefix), "kf_nick": nick, **fields}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ---------------------------------------------------------------------- pictures


def picture(size: int = 96, fmt: str = "PNG", *, stripes: bool = True) -> bytes:
    """A small picture with a pattern (a plain colour hashes like any other plain colour):
    vertical stripes, or else a dark left half, which the perceptual hash tells apart."""
    image = Image.new("RGB", (size, size), (240, 240, 230))
    draw = ImageDraw.Draw(image)
    step = size // 8
    if not stripes:
        draw.rectangle((0, 0, size // 2, size), fill=(30, 40, 90))
    for x in range(0, size if stripes else 0, 2 * step):
        draw.rectangle((x, 0, x + step - 1, size), fill=(30, 40, 90))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def claimed_png(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes that claims to be `width` x `height` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------- Markdown

#: Nicknames a pull request may declare: at most 16 characters, no line breaks.
DECLARED_NICKNAMES = {
    "a1": "@all 注意",
    "a2": "<img src=x>",
    "a3": "**bold**|x",
    "a4": "[x](http://e)",
    "a5": "</details>",
    "a6": "#1 `code`",
    "a7": "<!-- x -->",
    "a8": "| --- | --- |",
    "b1": "<script>",
    "b2": "_em_ ~~s~~",
    "b3": "![i](http://e)",
    "b4": "&#64;all",
    "b5": "www.e.com :+1:",
    "b6": "@everyone",
}
#: What WeChat may report (the emulator keeps WeChat's 16 characters), line breaks included.
LIVE_NICKNAMES = {
    "a1": "@here <b>x</b>",
    "a2": "[c](javascript:)",
    "a3": "\n# H\n- @all\n",
    "a4": "<details open>",
    "a5": "| a |\n| - |",
    "a6": "<!-- kfsync: -->",
    "a7": "```\nfence",
    "a8": "\u202eevil\r\n\x1b[31mred",
    "d1": "@octocat #12",
}


def assert_inert_markdown(markdown: str, *names: str) -> None:
    """Rendered as GitHub does, nothing the comment holds pings, links, injects or breaks out,
    and each of `names` copies exactly (controls written visibly)."""
    rendered = assert_inert_comment(markdown)
    for name in names:
        assert visible(name) in rendered.text, name
    for line in markdown.splitlines():
        assert not line.startswith(("#", "    ", "```")) or line.startswith("### "), line
    for raw in ("\x1b", "\u202e", "\r"):
        assert raw not in markdown



# ---------------------------------------------------------------------- the CLI




def assert_one_line_error(run: Run, *, code: int = 1) -> str:
    """The run failed with `code` and said so in exactly one line on stderr, no traceback."""
    assert run.code == code, run.text
    assert "Traceback" not in run.text
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("kfsync: error: "), run.err
    assert "internal error" not in lines[0]
    return lines[0]


class Shop:
    """A folder with a kfsync.yaml (and avatars), the emulator it plans against, and the CLI."""

    def __init__(self, folder: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.emulator = emulator
        self.admin = emulator.admin
        self.capsys = capsys
        self.config = folder / "kfsync.yaml"
        self.secrets: set[str] = {DEFAULT_SECRET}

    def write_config(self, accounts: dict[str, dict[str, Any]], *,
                     policy: dict[str, Any] | None = None, **extra: Any) -> Path:
        document: dict[str, Any] = {"version": 1,
                                    "official_account": {"wechat_id": DEFAULT_WECHAT_ID}}
        if policy is not None:
            document["policy"] = policy
        document.update(extra)
        document["accounts"] = accounts
        self.config.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                               encoding="utf-8")
        return self.config

    def avatar(self, name: str = "a.png", data: bytes | None = None) -> str:
        path = self.folder / "avatars" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(picture() if data is None else data)
        return f"avatars/{name}"

    def seed(self, *accounts: dict[str, Any]) -> None:
        self.admin.seed(accounts=list(accounts))

    def requests(self) -> list[dict[str, Any]]:
        return self.admin.requests()

    def paths(self) -> set[str]:
        """The paths WeChat was asked for, pictures folded into one prefix."""
        return {PICTURE_PREFIX if e["path"].startswith(PICTURE_PREFIX) else e["path"]
                for e in self.requests()}

    def writes(self) -> list[dict[str, Any]]:
        return [e for e in self.requests() if e["path"] in WRITE_PATHS]

    def run(self, *args: str | os.PathLike[str]) -> Run:
        """`kfsync ARGS` in-process; no secret, no traceback, no raw escape in what it printed."""
        run = run_main(self.capsys, *args)
        for secret in self.secrets:
            assert secret not in run.text
        assert "Traceback" not in run.text
        assert "\x1b" not in run.text  # --no-color is not needed: output is not a terminal
        return run

    def plan(self, *args: str | os.PathLike[str]) -> Run:
        return self.run("plan", "-c", self.config, *args)

    def apply(self, *args: str | os.PathLike[str]) -> Run:
        return self.run("apply", "-c", self.config, *args)


# ---------------------------------------------------------------------- the stand-in

Route = Callable[["StandInHandler"], None]


class StandIn(ThreadingHTTPServer):
    """A local server whose answer to each path is a function of the handler."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.headers: list[dict[str, str]] = []  #: each request's headers, as hits
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up on a bomb is the point; the default prints a traceback

    def hit_count(self, path: str) -> int:
        with self.lock:
            return sum(1 for hit in self.hits if hit.split("?")[0] == path)


class StandInHandler(BaseHTTPRequestHandler):
    server: StandIn
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.hits.append(self.path)
            self.server.headers.append(dict(self.headers))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        route = self.server.routes.get(self.path.split("?")[0])
        try:
            if route is None:
                self.answer(404, b"not here", "text/plain")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should

    do_POST = do_GET

    def answer(self, status: int, body: bytes, content_type: str = "application/json",
               headers: dict[str, str] | None = None, repeat: int = 1) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) * repeat))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        for _ in range(repeat):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def body(data: bytes, *, status: int = 200, content_type: str = "application/json",
         repeat: int = 1, headers: dict[str, str] | None = None) -> Route:
    """A route answering `data` (`repeat` times over)."""
    return lambda handler: handler.answer(status, data, content_type, headers, repeat)


def redirect(location: str, status: int = 302) -> Route:
    return lambda handler: handler.answer(status, b"", "text/plain", {"Location": location})


def gzip_bomb(megabytes: int) -> Route:
    """`megabytes` MiB of zeros, sent gzip-compressed (about a thousandth of that on the wire)."""
    packed = gzip.compress(b"\x00" * (megabytes * MIB), compresslevel=9)
    return body(packed, content_type="image/png", headers={"Content-Encoding": "gzip"})


def chunked_gzip(data: bytes, piece: int = 100) -> Route:
    """`data` gzip-compressed and sent in chunks of `piece` bytes (Transfer-Encoding: chunked)."""
    packed = gzip.compress(data)

    def route(handler: StandInHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(packed), piece):
            chunk = packed[start:start + piece]
            handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    return route


def trickle(pieces: int = 10_000, every: float = 0.02) -> Route:
    """A 200 that sends one byte at a time, for as long as anyone listens."""

    def route(handler: StandInHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(pieces))
        handler.end_headers()
        for _ in range(pieces):
            handler.wfile.write(b"\x89")
            handler.wfile.flush()
            time.sleep(every)

    return route


TOKEN_ANSWER = b'{"access_token": "stand-in-access-token-0123456789", "expires_in": 7200}'


@contextmanager
def serving() -> Iterator[StandIn]:
    server = StandIn()
    server.routes[TOKEN_PATH] = body(TOKEN_ANSWER)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- file opens


@dataclass
class OpenLog:
    """Paths the process opened while `recording`; fed by one audit hook for the session."""

    recording: bool = False
    paths: list[str] = field(default_factory=list)

    def opened(self, fragment: str) -> list[str]:
        return [p for p in self.paths if fragment in p]


OPENS = OpenLog()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and OPENS.recording and args and isinstance(args[0], (str, bytes)):
        OPENS.paths.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records when asked
