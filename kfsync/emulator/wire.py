"""HTTP-level values shared by every route: the request (`Call`), the answer (`Answer`),
and the parsing of query strings, JSON and multipart bodies.

The server builds one `Call` per request and sends one `Answer`; endpoint code never
looks at raw bytes except through the helpers here.
"""

from __future__ import annotations

import http
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kfsync.emulator.exceptions import EmulatorError
from kfsync.textsafe import json_escapes

JSON_TYPE = "application/json; encoding=utf-8"  # sic: what WeChat sends
#: A `\uXXXX` escape that is not itself an escaped backslash followed by `u`.
_UNICODE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[0-9A-Fa-f]{4}")


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    def summary(self) -> dict[str, Any]:
        return {"filename": self.filename, "size": len(self.data),
                "content_type": self.content_type}


@dataclass(frozen=True)
class Call:
    """One HTTP request as the emulator sees it."""

    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    content_type: str
    body: bytes = field(repr=False)
    base_url: str  #: where this client reaches the emulator; picture URLs are built on it
    client_ip: str = ""  #: the caller's address (WeCom checks it against the trusted IPs)

    @classmethod
    def build(cls, method: str, target: str, content_type: str, body: bytes,
              base_url: str, client_ip: str = "") -> Call:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return cls(method, parts.path, parts.query, query, content_type, body, base_url,
                   client_ip)

    def raw_query_value(self, name: str) -> str | None:
        """A query value exactly as sent (still percent-encoded)."""
        for pair in self.raw_query.split("&"):
            key, _, value = pair.partition("=")
            if key == name:
                return value
        return None

    @property
    def is_multipart(self) -> bool:
        return self.content_type.lower().startswith("multipart/form-data")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, or a connection to drop instead of answering."""

    status: int
    body: bytes = field(repr=False)
    content_type: str = JSON_TYPE
    drop: bool = False
    errcode: int | None = None  #: the errcode in a JSON body, for the request log

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Answer:
        code = value.get("errcode") if isinstance(value, dict) else None
        # A nickname cut mid-emoji holds half a character, which only a JSON escape can carry.
        text = json_escapes(json.dumps(value, ensure_ascii=False))
        return cls(status, text.encode("utf-8"),
                   errcode=code if isinstance(code, int) else None)

    @classmethod
    def html(cls, status: int) -> Answer:
        """A gateway-like error page."""
        title = f"{status} {http.HTTPStatus(status).phrase}"
        page = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
                f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n")
        return cls(status, page.encode("ascii"), "text/html")


def json_object(body: bytes, *, strict: bool) -> dict[str, Any]:
    """A JSON object body: 44002 when empty, 40033 for `\\u` escapes in strict mode, else 47001."""
    if not body.strip():
        raise EmulatorError(44002)
    if strict and _UNICODE_ESCAPE.search(body):
        raise EmulatorError(40033)
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EmulatorError(47001) from exc
    if not isinstance(value, dict):
        raise EmulatorError(47001)
    return value


def multipart_parts(content_type: str, body: bytes) -> dict[str, Part]:
    """The parts of a multipart/form-data body by name; 44002 when empty, 40097 when malformed."""
    if not body:
        raise EmulatorError(44002)
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise EmulatorError(40097)
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts: dict[str, Part] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise EmulatorError(40097)
        headers = _part_headers(head.decode("utf-8", "replace"))
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        if name is None:
            raise EmulatorError(40097)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        parts[name.group(1)] = Part(name.group(1), filename.group(1) if filename else None,
                                    headers.get("content-type"), data.removesuffix(b"\r\n"))
    return parts


def _part_headers(text: str) -> dict[str, str]:
    headers = {}
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return headers
