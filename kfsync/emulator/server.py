"""The HTTP side: a threading HTTP/1.1 server with keep-alive, and `Served`, which runs it.

`Served` runs any provider's app (`ServiceApp`) on a free loopback port in a
background thread, usable as `with served:`; closing it stops the server, ends
open keep-alive connections and joins every thread, so nothing is left behind.
Each provider's emulator subclasses it with its settings and admin client.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar

from kfsync.emulator.app import ServiceApp
from kfsync.emulator.control import ADMIN_PREFIX
from kfsync.emulator.wire import Answer, Call
from kfsync.redact import redact

log = logging.getLogger(__name__)
_S = TypeVar("_S", bound="Served")
_ANY_ADDRESS = ("", "0.0.0.0", "::")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    # Headers and body go out in two writes; without TCP_NODELAY every keep-alive
    # answer waits for the client's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    server: _Server

    def setup(self) -> None:
        threading.current_thread().name = f"{self.server.thread_name}-connection"
        # A real HTTPS connection is usable only after its handshakes: the first WeChat-side
        # answer on this one waits until then, counted from when it was opened.
        handshake = self.server.app.config.connection_latency_ms / 1000
        self._usable_at = time.monotonic() + handshake if handshake else 0.0
        super().setup()

    def _handshake(self, path: str) -> None:
        if self._usable_at and not path.startswith(ADMIN_PREFIX):
            wait, self._usable_at = self._usable_at - time.monotonic(), 0.0
            if wait > 0:
                time.sleep(wait)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        host = self.headers.get("Host")
        base_url = f"http://{host}" if host else self.server.base_url
        call = Call.build(self.command, self.path, self.headers.get("Content-Type", ""), body,
                          base_url, str(self.client_address[0]))
        self._handshake(call.path)
        try:
            answer = self.server.app.handle(call)
        except Exception:
            log.exception("emulator failure on %s %s", call.method, call.path)
            answer = Answer.json({"errcode": -1, "errmsg": "system error"}, 500)
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), redact(format % args))


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close joins the request threads
    # socketserver's backlog is 5: 32 clients connecting at once would see SYNs dropped and
    # retried a second later, which no real API server makes them pay.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: ServiceApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look up the host name (slow); the address is enough.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def thread_name(self) -> str:
        return f"kfsync-emulator-{self.server_port}"

    @property
    def base_url(self) -> str:
        host = self.server_name
        host = "127.0.0.1" if host in _ANY_ADDRESS else host
        return f"http://[{host}]:{self.server_port}" if ":" in host else (
            f"http://{host}:{self.server_port}")

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
            self.app.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def end_connections(self) -> None:
        """Wake every request thread blocked on an idle keep-alive connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class Served:
    """One provider's emulator app, served over HTTP on `base_url`; a context manager."""

    def __init__(self, app: ServiceApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self._server.base_url if self._server else "not started"
        return f"{type(self).__name__}({where}, {self.app.config!r})"

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT`, once started."""
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return self._server.base_url

    def start(self: _S) -> _S:
        if self._server is None:
            self._server = _Server(self._address, self.app)
            # A short poll interval makes close() quick; the idle cost is negligible.
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                            name=self._server.thread_name)
            self._thread.start()
            log.info("emulator serving on %s", self._server.base_url)
        return self

    def close(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        server.end_connections()
        server.server_close()
        self._server = self._thread = None

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
