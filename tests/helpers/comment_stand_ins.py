"""Local stand-ins of GitHub's and GitLab's REST APIs on 127.0.0.1, for `kfsync plan --comment`.

Each serves the few endpoints kfsync uses, with the hosts' own shapes: GitHub's
issue comments paged by `Link` headers, `GET /user` refused (403 "Resource not
accessible by integration") to the workflow's token; GitLab's merge request
notes paged by `X-Next-Page`, `GET /user` and project uploads.  Both check the
token, log every request (headers included, for leak checks), and take faults:
the next N requests to a path answer a given status, headers and body.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WORKFLOW_BOT = "github-actions[bot]"
#: The status of a fault that closes the connection without answering.
DROP = 0


class _Server(ThreadingHTTPServer):
    """A client that gives up mid-answer (a deadline test) is normal here: no traceback on stderr."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Fault:
    path: str  #: a substring of the request path
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  #: sent as JSON, or as it is if bytes
    times: int = 1
    method: str | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class StandIn:
    """A REST API on 127.0.0.1: requests logged, faults injected, `handle` answering the rest."""

    prefix = ""  #: the API's path prefix, e.g. /api/v4

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.next_id = 1000
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                request = Request(self.command, parts.path, query, dict(self.headers.items()), body)
                reply = stand_in.answer(request)
                if reply.status == DROP:
                    self.close_connection = True  # no answer at all: the request may have been done
                    return
                data = reply.body if isinstance(reply.body, bytes) else (
                    b"" if reply.body is None else json.dumps(reply.body).encode("utf-8"))
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _serve

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + self.prefix

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fault(self, path: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
              body: Any = None, method: str | None = None) -> None:
        """The next `times` requests whose path contains `path` answer `status` (DROP: none) instead."""
        with self.lock:
            self.faults.append(Fault(path, status, headers or {}, body, times, method))

    def answer(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            for fault in self.faults:
                if fault.times > 0 and fault.path in request.path and fault.method in (None, request.method):
                    fault.times -= 1
                    return Reply(fault.status, fault.body, fault.headers)
            if not request.path.startswith(self.prefix + "/"):
                return Reply(404, {"message": "Not Found"})
            return self.handle(request, request.path[len(self.prefix):])

    def handle(self, request: Request, path: str) -> Reply:
        raise NotImplementedError

    def calls(self, method: str, pattern: str) -> list[Request]:
        """The requests so far with `method` whose path (after the prefix) matches `pattern`."""
        with self.lock:
            return [r for r in self.requests
                    if r.method == method and re.fullmatch(pattern, r.path[len(self.prefix):])]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


def _json(request: Request) -> Any:
    return json.loads(request.body.decode("utf-8"))


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> tuple[list[dict[str, Any]], int, int]:
    """One page of `items`, with the page number and the number of pages."""
    per_page = min(int(query.get("per_page", "30")), 100)
    page = max(int(query.get("page", "1")), 1)
    pages = max(1, -(-len(items) // per_page))
    return items[(page - 1) * per_page:page * per_page], page, pages


class GitHubStandIn(StandIn):
    """Issue comments of pull requests, by repository and number; tokens by their login."""

    def __init__(self) -> None:
        super().__init__()
        self.comments: dict[int, dict[str, Any]] = {}  #: id -> comment, with "issue"
        self.tokens: dict[str, str] = {}  #: token -> the login it writes as
        #: tokens of integrations (the workflow's, a GitHub App's), which `GET /user` refuses
        self.integrations: set[str] = set()
        self.max_body = 65_536

    def accept_workflow_token(self, token: str) -> None:
        """Take `token` as the workflow's own: it writes as github-actions[bot], and GET /user refuses it."""
        self.tokens[token] = WORKFLOW_BOT
        self.integrations.add(token)

    def add_comment(self, repository: str, number: int, body: str, login: str) -> int:
        with self.lock:
            return self._add(repository, number, body, login)["id"]  # type: ignore[no-any-return]

    def _add(self, repository: str, number: int, body: str, login: str) -> dict[str, Any]:
        comment_id = self.new_id()
        comment = {"id": comment_id, "body": body, "user": {"login": login, "type": "User"},
                   "issue": f"{repository}#{number}",
                   "html_url": f"https://github.example/{repository}/pull/{number}#issuecomment-{comment_id}"}
        self.comments[comment_id] = comment
        return comment

    def of(self, repository: str, number: int) -> list[dict[str, Any]]:
        """The comments of one pull request, oldest first."""
        return [c for c in self.comments.values() if c["issue"] == f"{repository}#{number}"]

    def handle(self, request: Request, path: str) -> Reply:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if not auth.startswith("Bearer ") or token not in self.tokens:
            return Reply(401, {"message": "Bad credentials"})
        login = self.tokens[token]
        if path == "/user" and request.method == "GET":
            if token in self.integrations:
                return Reply(403, {"message": "Resource not accessible by integration"})
            return Reply(200, {"login": login, "id": 1})
        listing = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments", path)
        if listing and request.method == "GET":
            items, page, pages = _page(self.of(listing[1], int(listing[2])), request.query)
            public = [{k: v for k, v in c.items() if k != "issue"} for c in items]
            return Reply(200, public, self._links(request, page, pages))
        if listing and request.method == "POST":
            body = _json(request)["body"]
            if len(body) > self.max_body:
                return Reply(422, {"message": "Validation Failed: body is too long (maximum is 65536)"})
            made = self._add(listing[1], int(listing[2]), body, login)
            return Reply(201, {k: v for k, v in made.items() if k != "issue"})
        one = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
        if one and request.method == "PATCH":
            comment = self.comments.get(int(one[2]))
            if comment is None:
                return Reply(404, {"message": "Not Found"})
            if comment["user"]["login"] != login:
                return Reply(403, {"message": "Resource not accessible by integration"})
            comment["body"] = _json(request)["body"]
            return Reply(200, {k: v for k, v in comment.items() if k != "issue"})
        return Reply(404, {"message": "Not Found"})

    def _links(self, request: Request, page: int, pages: int) -> dict[str, str]:
        if page >= pages:
            return {}
        per_page = request.query.get("per_page", "30")
        url = f"{self.base_url}{request.path}?per_page={per_page}&page="
        return {"Link": f'<{url}{page + 1}>; rel="next", <{url}{pages}>; rel="last"'}


class GitLabStandIn(StandIn):
    """Notes of merge requests, by project and iid; users by token; uploads by project."""

    prefix = "/api/v4"

    def __init__(self) -> None:
        super().__init__()
        self.notes: dict[int, dict[str, Any]] = {}  #: id -> note, with "mr"
        self.tokens: dict[str, int] = {}  #: token -> user id
        self.uploads: list[tuple[str, bytes]] = []

    def add_note(self, project: str, iid: int, body: str, user: int, *, system: bool = False) -> int:
        with self.lock:
            return self._add(project, iid, body, user, system)["id"]  # type: ignore[no-any-return]

    def _add(self, project: str, iid: int, body: str, user: int, system: bool = False) -> dict[str, Any]:
        note_id = self.new_id()
        note = {"id": note_id, "body": body, "author": {"id": user, "username": f"user{user}"},
                "system": system, "mr": f"{project}!{iid}"}
        self.notes[note_id] = note
        return note

    def of(self, project: str, iid: int) -> list[dict[str, Any]]:
        return [n for n in self.notes.values() if n["mr"] == f"{project}!{iid}"]

    def handle(self, request: Request, path: str) -> Reply:
        user = self.tokens.get(request.headers.get("PRIVATE-TOKEN", ""))
        if user is None:
            return Reply(401, {"message": "401 Unauthorized"})
        if path == "/user" and request.method == "GET":
            return Reply(200, {"id": user, "username": f"user{user}"})
        notes = re.fullmatch(r"/projects/([^/]+)/merge_requests/(\d+)/notes", path)
        if notes and request.method == "GET":
            items, page, pages = _page(self.of(notes[1], int(notes[2])), request.query)
            headers = {"X-Next-Page": str(page + 1) if page < pages else "", "X-Total-Pages": str(pages)}
            return Reply(200, [{k: v for k, v in n.items() if k != "mr"} for n in items], headers)
        if notes and request.method == "POST":
            made = self._add(notes[1], int(notes[2]), _json(request)["body"], user)
            return Reply(201, {k: v for k, v in made.items() if k != "mr"})
        one = re.fullmatch(r"/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)", path)
        if one and request.method == "PUT":
            note = self.notes.get(int(one[3]))
            if note is None:
                return Reply(404, {"message": "404 Not found"})
            if note["author"]["id"] != user:
                return Reply(403, {"message": "403 Forbidden"})
            note["body"] = _json(request)["body"]
            return Reply(200, {k: v for k, v in note.items() if k != "mr"})
        upload = re.fullmatch(r"/projects/([^/]+)/uploads", path)
        if upload and request.method == "POST":
            name, data = _multipart_file(request)
            self.uploads.append((name, data))
            secret = f"{len(self.uploads):032x}"
            url = f"/uploads/{secret}/{name}"
            return Reply(201, {"alt": name, "url": url, "full_path": f"/-/project/1/uploads/{secret}/{name}",
                               "markdown": f"![{name}]({url})"})
        return Reply(404, {"message": "404 Not found"})


def _multipart_file(request: Request) -> tuple[str, bytes]:
    """The name and bytes of the `file` part of a multipart/form-data body."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return str(part.get_filename()), payload
    raise AssertionError("no file part")
