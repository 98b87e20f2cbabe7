"""What `kfsync plan --comment` needs from a code host, and which host the environment names.

A `Platform` lists the comments of one pull or merge request, says who the
token is, and creates or updates one comment; it may also offer a
`PictureUrl` for the thumbnails of avatar changes.  `detect` picks GitHub
Actions (a `pull_request` or `pull_request_target` event) or GitLab CI (a
merge request pipeline) from the environment, or None outside one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kfsync.comment.rest import CommentError, Rest
from kfsync.render.thumbnails import PictureUrl


@dataclass(frozen=True)
class Comment:
    """One comment (GitHub) or note (GitLab) of the pull or merge request."""

    id: int
    body: str
    author: str  #: GitHub: the login; GitLab: the user id
    url: str = ""


class Platform(Protocol):
    """One pull or merge request on one code host, reached with one token."""

    name: str  #: "GitHub"
    place: str  #: "pull request #12", for messages
    limit: int  #: the longest comment the host takes, in characters
    commit: str | None  #: the commit planned, when the host says
    rest: Rest

    def comments(self) -> Iterator[Comment]: ...

    def me(self) -> str:
        """The token's own identity, as `Comment.author` gives it."""

    def create(self, body: str) -> Comment: ...

    def update(self, comment: Comment, body: str) -> Comment: ...

    def pictures(self, folder: Path, previous: str) -> PictureUrl | None:
        """Picture URLs for avatar files under `folder`; `previous` is kfsync's last comment."""


def detect(environ: Mapping[str, str] | None = None) -> Platform | None:
    """The pull or merge request this CI job runs for, or None when it runs for none."""
    from kfsync.comment.github import from_environment as github
    from kfsync.comment.gitlab import from_environment as gitlab

    env = os.environ if environ is None else environ
    return github(env) or gitlab(env)


def required(env: Mapping[str, str], variable: str, why: str) -> str:
    """`env[variable]`, or a CommentError saying it is missing and what it is for."""
    value = env.get(variable, "").strip()
    if not value:
        raise CommentError(f"--comment: {variable} is not set; {why}")
    return value


_HEX_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def commit_sha(value: object) -> str | None:
    """A full commit SHA (SHA-1 or SHA-256, lower-case hex), or None for anything else."""
    return value if isinstance(value, str) and _HEX_SHA.fullmatch(value) else None


def read_json(path: str, variable: str, limit: int = 64 * 1024 * 1024) -> Any:
    """The JSON document at `path` (named by `variable`), or a CommentError saying what is wrong."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise CommentError(f"--comment: cannot read {variable} {path}: {exc.strerror}") from None
    if len(raw) > limit:
        raise CommentError(f"--comment: {variable} {path} is larger than {limit // 2**20} MiB")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CommentError(f"--comment: {variable} {path} is not a JSON document") from None


def page_of(data: Any, what: str, parse: Callable[[Any], Comment | None]) -> Iterator[Comment]:
    """The comments of one page of an answer, each item parsed by `parse` (None: not one to consider)."""
    if not isinstance(data, list):
        raise CommentError(f"cannot {what}: the answer is not a list")
    for item in data:
        found = parse(item)
        if found is not None:
            yield found
