"""GitHub: the issue comments of the pull request a `pull_request(_target)` workflow runs for.

Everything comes from the variables GitHub Actions sets: the event's payload
(`GITHUB_EVENT_PATH`: the pull request's number and head commit), the API
(`GITHUB_API_URL`, GitHub Enterprise Server's included), the repository and
its web address (`GITHUB_REPOSITORY`, `GITHUB_SERVER_URL`, `GITHUB_WORKSPACE`
for the avatars' paths), and the token in `GITHUB_TOKEN`, which the workflow
passes in (`env: GITHUB_TOKEN: ${{ github.token }}`) with the permission
`pull-requests: write`.  The workflow's token cannot ask `GET /user` who it is;
its comments are by `github-actions[bot]`.  Nor can a GitHub App's installation
token, whose comments are by `APP-SLUG[bot]`: `KFSYNC_GITHUB_AUTHOR` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from kfsync.comment.platform import Comment, commit_sha, page_of, read_json, required
from kfsync.comment.rest import CommentError, Host, Rest, checked_base
from kfsync.render.thumbnails import PictureUrl

PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
#: Who the workflow's own token writes as; `GET /user` is not open to it.
WORKFLOW_BOT = "github-actions[bot]"
#: The login a token that cannot call `GET /user` writes as, when it is not WORKFLOW_BOT.
AUTHOR_VARIABLE = "KFSYNC_GITHUB_AUTHOR"
API_VERSION = "2022-11-28"
#: GitHub's own limit on a comment's body, in characters.
LIMIT = 65_536
PER_PAGE = 100
MAX_PAGES = 300  #: 30,000 comments; a loop of `next` links ends here
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")

HOST = Host(
    name="GitHub",
    base_variable="GITHUB_API_URL",
    token_variable="GITHUB_TOKEN",
    permission="give the job `permissions: pull-requests: write` (or `issues: write`), "
    "and for a token of your own, access to this repository",
    scope="check GITHUB_REPOSITORY and that GITHUB_TOKEN can read this repository",
)


def from_environment(env: Mapping[str, str]) -> GitHub | None:
    """The pull request of this workflow run; None outside GitHub Actions or a pull request event."""
    if env.get("GITHUB_ACTIONS") != "true" or env.get("GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
        return None
    event = read_json(required(env, "GITHUB_EVENT_PATH", "GitHub Actions sets it"), "GITHUB_EVENT_PATH")
    pull = event.get("pull_request") if isinstance(event, dict) else None
    number = pull.get("number") if isinstance(pull, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise CommentError("--comment: the event payload at GITHUB_EVENT_PATH has no pull_request.number")
    repository = required(env, "GITHUB_REPOSITORY", "GitHub Actions sets it")
    if not _REPOSITORY.fullmatch(repository):
        raise CommentError(f"--comment: GITHUB_REPOSITORY {repository!r} is not OWNER/NAME")
    token = required(env, "GITHUB_TOKEN", "pass it to the step: `env: GITHUB_TOKEN: ${{ github.token }}`, "
                     "with `permissions: pull-requests: write`")
    base = checked_base(env.get("GITHUB_API_URL") or "https://api.github.com", "GITHUB_API_URL")
    head = pull.get("head") if isinstance(pull, dict) else None
    server = env.get("GITHUB_SERVER_URL") or "https://github.com"
    workspace = env.get("GITHUB_WORKSPACE")
    return GitHub(
        Rest(base, HOST, {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                          "X-GitHub-Api-Version": API_VERSION}, token=token),
        repository=repository,
        number=number,
        head=commit_sha(head.get("sha") if isinstance(head, dict) else None),
        web=f"{checked_base(server, 'GITHUB_SERVER_URL')}/{repository}",
        workspace=Path(workspace) if workspace else None,
        author=env.get(AUTHOR_VARIABLE, "").strip() or WORKFLOW_BOT,
    )


class GitHub:
    """One pull request's conversation, through the issue-comments endpoints."""

    name = HOST.name
    limit = LIMIT

    def __init__(self, rest: Rest, *, repository: str, number: int, head: str | None, web: str,
                 workspace: Path | None, author: str = WORKFLOW_BOT) -> None:
        self.rest = rest
        self.repository = repository
        self.number = number
        self.commit = head
        self.place = f"pull request #{number}"
        self._web = web
        self._workspace = workspace
        self._author = author  #: who the token writes as, if it cannot ask

    def comments(self) -> Iterator[Comment]:
        """Every comment, oldest first, following the `Link: <…>; rel="next"` header."""
        target: str | None = f"/repos/{self.repository}/issues/{self.number}/comments"
        params: dict[str, str] | None = {"per_page": str(PER_PAGE)}
        seen: set[str] = set()
        while target is not None and len(seen) < MAX_PAGES:
            seen.add(target)
            what = f"list the comments of {self.place}"
            answer = self.rest.request("GET", target, params=params, what=what)
            yield from page_of(answer.data, what, _comment)
            target = _next_link(answer.headers.get("Link", ""))
            params = None  # the next link carries them
            if target in seen:
                break

    def me(self) -> str:
        answer = self.rest.request("GET", "/user", what="ask GitHub who GITHUB_TOKEN is", allow=(403,))
        login = answer.data.get("login") if isinstance(answer.data, dict) else None
        if answer.status == 403 or not isinstance(login, str):
            return self._author  # "Resource not accessible by integration": an installation token
        return login

    def create(self, body: str) -> Comment:
        answer = self.rest.request("POST", f"/repos/{self.repository}/issues/{self.number}/comments",
                                   body={"body": body}, what=f"comment on {self.place}")
        return _comment(answer.data) or Comment(0, body, "")

    def update(self, comment: Comment, body: str) -> Comment:
        answer = self.rest.request("PATCH", f"/repos/{self.repository}/issues/comments/{comment.id}",
                                   body={"body": body}, what=f"update kfsync's comment on {self.place}")
        return _comment(answer.data) or comment

    def pictures(self, folder: Path, previous: str) -> PictureUrl | None:
        """Each avatar file as GitHub serves it at the pull request's head commit."""
        if self.commit is None or self._workspace is None:
            return None
        root = self._workspace.resolve()
        prefix = f"{self._web}/raw/{self.commit}/"

        def url(path: str) -> str | None:
            try:
                relative = (folder / path).resolve().relative_to(root)
            except (ValueError, OSError):
                return None  # outside the checkout: no address on GitHub
            return prefix + "/".join(quote(part, safe="") for part in relative.parts)

        return url


def _comment(item: Any) -> Comment | None:
    if not isinstance(item, dict):
        return None
    number, body, user = item.get("id"), item.get("body"), item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    if not isinstance(number, int) or not isinstance(body, str):
        return None
    url = item.get("html_url")
    return Comment(number, body, login if isinstance(login, str) else "",
                   url if isinstance(url, str) else "")


def _next_link(header: str) -> str | None:
    for link in requests.utils.parse_header_links(header) if header else ():
        if link.get("rel") == "next" and link.get("url"):
            return link["url"]
    return None
