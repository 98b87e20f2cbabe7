"""GitLab: the notes of the merge request a merge request pipeline runs for.

GitLab CI sets the API (`CI_API_V4_URL`), the project (`CI_PROJECT_ID`) and the
merge request (`CI_MERGE_REQUEST_IID`).  The job token cannot write notes, so
the token comes from `KFSYNC_GITLAB_TOKEN`: a project access token (or a
personal one) with the `api` scope, sent as `PRIVATE-TOKEN`.  `GET /user`
says whose it is.

Avatar thumbnails are uploads to the project (`POST /projects/:id/uploads`) of
the very JPEG apply would send to WeChat.  An upload's file name carries the
picture's digest, so a picture already shown in kfsync's previous note is not
uploaded again: its address is taken from that note.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kfsync.comment.platform import Comment, commit_sha, page_of, required
from kfsync.comment.rest import CommentError, Host, Rest, checked_base
from kfsync.errors import KfsyncError
from kfsync.render.thumbnails import PictureUrl

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "KFSYNC_GITLAB_TOKEN"
#: GitLab's limit on a note, in characters.
LIMIT = 1_000_000
PER_PAGE = 100
MAX_PAGES = 300
_UPLOAD = re.compile(r"/uploads/[0-9a-f]{32}/avatar-[0-9a-f]{16}\.jpg")

HOST = Host(
    name="GitLab",
    base_variable="CI_API_V4_URL",
    token_variable=TOKEN_VARIABLE,
    permission=f"{TOKEN_VARIABLE} needs the `api` scope and at least the Reporter role in the project",
    scope=f"check CI_PROJECT_ID and CI_MERGE_REQUEST_IID, and that {TOKEN_VARIABLE} can read the project",
)


def from_environment(env: Mapping[str, str]) -> GitLab | None:
    """The merge request of this pipeline; None outside GitLab CI or a merge request pipeline."""
    if env.get("GITLAB_CI") != "true" or not env.get("CI_MERGE_REQUEST_IID", "").strip():
        return None
    iid = env["CI_MERGE_REQUEST_IID"].strip()
    if not iid.isascii() or not iid.isdigit():
        raise CommentError(f"--comment: CI_MERGE_REQUEST_IID {iid!r} is not a number")
    project = required(env, "CI_PROJECT_ID", "GitLab CI sets it")
    token = required(env, TOKEN_VARIABLE, "set it as a masked CI/CD variable: a project access token "
                     "with the `api` scope and the Reporter role")
    base = checked_base(required(env, "CI_API_V4_URL", "GitLab CI sets it"), "CI_API_V4_URL")
    return GitLab(Rest(base, HOST, {"PRIVATE-TOKEN": token}, token=token), project=project, iid=int(iid),
                  commit=commit_sha(env.get("CI_COMMIT_SHA")))


class GitLab:
    """One merge request's discussion, through the notes endpoints."""

    name = HOST.name
    limit = LIMIT

    def __init__(self, rest: Rest, *, project: str, iid: int, commit: str | None) -> None:
        self.rest = rest
        self.project = quote(project, safe="")
        self.iid = iid
        self.commit = commit
        self.place = f"merge request !{iid}"
        self._notes = f"/projects/{self.project}/merge_requests/{iid}/notes"

    def comments(self) -> Iterator[Comment]:
        """Every note people wrote (no system notes), oldest first, following `X-Next-Page`."""
        page: str | None = "1"
        pages = 0
        while page and pages < MAX_PAGES:
            pages += 1
            what = f"list the notes of {self.place}"
            answer = self.rest.request(
                "GET", self._notes, what=what,
                params={"per_page": str(PER_PAGE), "page": page, "sort": "asc", "order_by": "created_at"})
            yield from page_of(answer.data, what, _note)
            following = answer.headers.get("X-Next-Page", "").strip()
            page = following if following.isascii() and following.isdigit() and following != page else None

    def me(self) -> str:
        answer = self.rest.request("GET", "/user", what=f"ask GitLab who {TOKEN_VARIABLE} is")
        user = answer.data.get("id") if isinstance(answer.data, dict) else None
        if not isinstance(user, int):
            raise CommentError(f"cannot ask GitLab who {TOKEN_VARIABLE} is: the answer has no user id")
        return str(user)

    def create(self, body: str) -> Comment:
        answer = self.rest.request("POST", self._notes, body={"body": body},
                                   what=f"comment on {self.place}")
        return _note(answer.data) or Comment(0, body, "")

    def update(self, comment: Comment, body: str) -> Comment:
        answer = self.rest.request("PUT", f"{self._notes}/{comment.id}", body={"body": body},
                                   what=f"update kfsync's note on {self.place}")
        return _note(answer.data) or comment

    def pictures(self, folder: Path, previous: str) -> PictureUrl | None:
        """Each avatar, normalised as apply uploads it, as an upload to the project."""
        known = {match[-len("avatar-0123456789abcdef.jpg"):]: match for match in _UPLOAD.findall(previous)}
        made: dict[str, str | None] = {}

        def url(path: str) -> str | None:
            if path not in made:
                made[path] = self._upload(folder / path, known)
            return made[path]

        return url

    def _upload(self, file: Path, known: dict[str, str]) -> str | None:
        from kfsync.avatars import load_avatar

        try:
            jpeg = load_avatar(file)
            name = f"avatar-{hashlib.sha256(jpeg).hexdigest()[:16]}.jpg"
            if name in known:
                return known[name]
            answer = self.rest.request("POST", f"/projects/{self.project}/uploads",
                                       files={"file": (name, jpeg, "image/jpeg")},
                                       what=f"upload the picture of {file.name}")
        except KfsyncError as exc:
            log.warning("--comment: no thumbnail for %s: %s", file.name, exc)
            return None
        found = answer.data.get("url") if isinstance(answer.data, dict) else None
        if not isinstance(found, str) or not _UPLOAD.fullmatch(found):
            log.warning("--comment: no thumbnail for %s: GitLab's answer has no upload URL", file.name)
            return None
        known[name] = found
        return found


def _note(item: Any) -> Comment | None:
    if not isinstance(item, dict) or item.get("system") is True:
        return None
    number, body, author = item.get("id"), item.get("body"), item.get("author")
    user = author.get("id") if isinstance(author, dict) else None
    if not isinstance(number, int) or not isinstance(body, str):
        return None
    return Comment(number, body, str(user) if isinstance(user, int) else "")
