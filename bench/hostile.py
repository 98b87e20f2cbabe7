"""Scenario 6, hostile input: peak memory for 100 hostile pictures, and the longest wait.

Memory: a config of 100 accounts, each with its own hostile avatar: 16-bit
RGBA, 16-bit RGB, 16-bit grey, palette and grey+alpha PNGs of 7000x7000 (a few
hundred KB each), progressive and CMYK JPEGs, WebP, GIF and 1-bit BMP, PNGs
full of compressed text, pictures over the pixel guard and formats kfsync
does not read.  `kfsync validate` (which decodes every avatar, with no cache)
and a cold `kfsync plan` run as subprocesses; the peak RSS of each is read
from `os.wait4`, for that one child.

Wait: a stand-in for WeChat on 127.0.0.1 that trickles its answers a byte at
a time, for ever: the token; then `getkflist`; then 16 live pictures (two
rounds of eight downloads).  `kfsync plan` is timed against each, with the
default deadlines (30 s; `--quick` sets 1 s), and compared with what the
deadlines allow.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from bench import harness
from bench.harness import Settings, say
from bench.report import Row, Table, secs, verdict
from kfsync.emulator import DEFAULT_WECHAT_ID

MIB = 1024 * 1024
MEMORY_TARGET = 1024 * MIB
TOKEN = b'{"access_token": "hostile-bench-token-0123456789", "expires_in": 7200}'
LIST_PATH = "/cgi-bin/customservice/getkflist"


# ---------------------------------------------------------------------- hostile pictures


def _png(side: int, depth: int, colour: int, *, text: int = 0) -> bytes:
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = b"\x00" + b"\x00" * (side * channels * depth // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    extra = b"".join(chunk(b"zTXt", b"k%d\x00\x00" % i + zlib.compress(b"x" * MIB, 9))
                     for i in range(text))
    palette = chunk(b"PLTE", b"\x00\x00\x00" * 256) if colour == 3 else b""
    header = struct.pack(">IIBBBBB", side, side, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + palette
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def _pillow(mode: str, side: int, fmt: str, **params: object) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, (side, side)).save(out, fmt, **params)
    return out.getvalue()


def kinds(side: int) -> dict[str, Callable[[], bytes]]:
    """Hostile picture makers by name; each is made once and then varied by a trailing byte."""
    return {
        "png-rgba16": lambda: _png(side, 16, 6),
        "png-rgb16": lambda: _png(side, 16, 2),
        "png-grey16": lambda: _png(side, 16, 0),
        "png-palette": lambda: _png(side, 8, 3),
        "png-la": lambda: _png(side, 8, 4),
        "png-text": lambda: _png(64, 8, 2, text=64),
        "png-over-guard": lambda: _png(8000, 8, 0),
        "jpeg-progressive": lambda: _pillow("RGB", side, "JPEG", quality=1, progressive=True),
        "jpeg-cmyk": lambda: _pillow("CMYK", side, "JPEG", quality=1),
        "webp": lambda: _pillow("RGBA", side * 4 // 7, "WEBP", quality=1),
        "gif": lambda: _pillow("P", side, "GIF"),
        "bmp": lambda: _pillow("1", side, "BMP"),
        "eps": lambda: _pillow("RGB", 64, "EPS"),
        "tiff": lambda: _pillow("RGB", side, "TIFF", compression="tiff_deflate"),
    }


def hostile_shop(folder: Path, count: int, side: int) -> Path:
    """A config of `count` accounts with hostile avatars, all different files."""
    makers = kinds(side)
    made = {name: make() for name, make in makers.items()}
    names = sorted(made)
    (folder / "avatars").mkdir(parents=True)
    accounts = {}
    for index in range(count):
        name = names[index % len(names)]
        path = folder / "avatars" / f"{index:03d}.png"
        path.write_bytes(made[name] + index.to_bytes(2, "big"))  # other bytes: decoded again
        accounts[f"h{index:03d}"] = {"nickname": f"h{index}", "avatar": f"avatars/{path.name}"}
    config = folder / "kfsync.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "official_account": {"wechat_id": DEFAULT_WECHAT_ID},
                                      "accounts": accounts}), encoding="utf-8")
    return config


#: Runs its arguments and prints their peak RSS (KiB) and exit status.  A child's peak counts
#: the memory of the process it was started from (Linux carries it over fork and exec), so
#: the command is started from this small process, not from the bench with its pictures.
_MEASURE = ("import resource, subprocess, sys; "
            "code = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def peak_rss(argv: list[str], env: dict[str, str]) -> tuple[int, float, int]:
    """Exit status, wall seconds and peak RSS (bytes) of one command."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], env=env, capture_output=True,
                          text=True, check=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    kib, code = done.stdout.split()
    return int(code), wall, int(kib) * 1024


# ---------------------------------------------------------------------- a trickling WeChat


class Trickler(ThreadingHTTPServer):
    """WeChat as a hostile host: each path in `slow` answers a byte every `every` seconds."""

    daemon_threads = True

    def __init__(self, *, pictures: int, every: float = 2.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow: set[str] = set()
        self.every = every
        self.pictures = pictures
        self.served: list[bytes] = []  #: the live pictures, by number; a plain one when empty

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str) -> bytes:
        if path.startswith("/cgi-bin/stable_token"):
            return TOKEN
        if path.startswith(LIST_PATH):
            return json.dumps({"kf_list": [
                {"kf_account": f"h{i:03d}@{DEFAULT_WECHAT_ID}", "kf_nick": f"h{i}", "kf_id": 1000 + i,
                 "kf_headimgurl": f"{self.url}/p/{i}"} for i in range(self.pictures)]}).encode()
        number = int(path.split("?")[0].rsplit("/", 1)[-1] or 0)
        return self.served[number % len(self.served)] if self.served else b"\x89PNG" + b"\x00" * 99

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # kfsync hanging up on a trickle is the point


class _Handler(BaseHTTPRequestHandler):
    server: Trickler
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        data = self.server.answer(self.path)
        raw = (f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
               .encode() + data)
        try:
            if not any(self.path.startswith(slow) for slow in self.server.slow):
                self.wfile.write(raw)
                return
            for index in range(len(raw)):
                self.wfile.write(raw[index:index + 1])
                self.wfile.flush()
                time.sleep(self.server.every)
        except OSError:
            pass
        self.close_connection = True

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def trickling(pictures: int) -> Iterator[Trickler]:
    server = Trickler(pictures=pictures)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- the scenario


def run(settings: Settings) -> Table:
    table = Table("6. Hostile input: memory for 100 hostile pictures, and the longest wait")
    count, side = (14, 2000) if settings.quick else (100, 7000)
    with harness.scratch(settings.work, "hostile") as folder:
        say(f"hostile: making {count} hostile pictures of up to {side}x{side}")
        config = hostile_shop(folder / "shop", count, side)
        files = sorted((folder / "shop" / "avatars").iterdir())
        size = sum(p.stat().st_size for p in files)
        env = harness.kfsync_env("http://127.0.0.1:9", folder / "cache")
        measured = [(f"`kfsync {command}` of {count} hostile avatars", command, config, {1})
                    for command in ("validate", "plan")]
        with trickling(count) as server:
            server.served = [p.read_bytes() for p in files if p.stat().st_size <= 6 * MIB]
            measured.append((f"`kfsync plan` of {count} live hostile pictures", "plan",
                             _picture_shop(folder / "live" / "kfsync.yaml", count), {0, 2}))
            env["KFSYNC_API_BASE"] = server.url
            for name, command, path, codes in measured:
                say(f"hostile: {name}")
                code, wall, peak = peak_rss([*harness.launcher(), command, "-c", str(path)], env)
                table.add(Row(f"{name}: peak RSS", f"{peak / MIB:.0f} MiB", "< 1024 MiB",
                              f"{peak / MEMORY_TARGET:.2f}×",
                              verdict(peak < MEMORY_TARGET and code in codes)))
                table.note(f"{name}: exit status {code} in {secs(wall)}.")
        table.note(f"The hostile avatars take {size / MIB:.1f} MiB on disk; exit status 1 means "
                   "they are refused, each in its own line; the live ones are warnings, and the "
                   "accounts are left as they are (exit 0).")
        deadline = 1.0 if settings.quick else 30.0
        for row in waits(folder, deadline):
            table.add(row)
    table.note("Pictures: " + ", ".join(sorted(kinds(side))) + f", {side}x{side} where a size "
               "applies; every file differs, so none is taken from another's cache entry.")
    table.note(f"Waits: a stand-in on 127.0.0.1 sends each slow answer a byte every 2 s, headers "
               f"included; KFSYNC_HTTP_DEADLINE = KFSYNC_PICTURE_DEADLINE = {deadline:g} s.")
    return table


def waits(folder: Path, deadline: float) -> list[Row]:
    """How long `kfsync plan` lasts against each trickle, beside what the deadlines allow."""
    rows = []
    pictures = 16
    cases = [("a trickled token", ("/cgi-bin/stable_token",), deadline),
             ("a trickled getkflist", (LIST_PATH,), deadline),
             (f"{pictures} trickled pictures (8 at a time)", ("/p/",), deadline + 2 * deadline)]
    with trickling(pictures) as server:
        config = _picture_shop(folder / "wait" / "kfsync.yaml", pictures)
        env = harness.kfsync_env(server.url, folder / "wait-cache")
        env.update({"KFSYNC_HTTP_DEADLINE": str(deadline), "KFSYNC_PICTURE_DEADLINE": str(deadline)})
        for name, slow, allowed in cases:
            server.slow = set(slow)
            say(f"hostile: plan against {name}")
            done = harness.run_timed([*harness.launcher(), "plan", "-c", str(config)], env=env)
            rows.append(Row(f"`kfsync plan` against {name}: wall", secs(done.wall),
                            f"≤ {allowed:g} s + 2 s", f"{done.wall / allowed:.2f}×",
                            verdict(done.wall <= allowed + 2 and done.code in (0, 1, 2))))
    return rows


def _picture_shop(config: Path, pictures: int) -> Path:
    """A config declaring the trickler's accounts with one plain avatar each."""
    from PIL import Image

    folder = config.parent / "plain"
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), (200, 30, 30)).save(folder / "a.png")
    accounts = {f"h{i:03d}": {"nickname": f"h{i}", "avatar": "plain/a.png"} for i in range(pictures)}
    config.write_text(yaml.safe_dump({"version": 1, "official_account": {"wechat_id": DEFAULT_WECHAT_ID},
                                      "accounts": accounts}), encoding="utf-8")
    return config
