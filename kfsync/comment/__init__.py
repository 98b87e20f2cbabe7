"""`kfsync plan --comment`: the plan as the pull or merge request's comment, kept up to date.

`start` finds the request this CI job runs for (`platform.detect`), before
anything is planned, so that a missing token fails at once.  A `Commenting`
then posts the plan (`planned`), or, when the run fails, that it failed and
why (`failed`), through `post.publish`.  Platform code lives in `github` and
`gitlab`, their one request function in `rest`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from kfsync.comment.platform import Comment, Platform, detect
from kfsync.comment.post import UNKNOWN_MARKER, failure_body, publish
from kfsync.comment.rest import CommentError
from kfsync.render.markdown import marker
from kfsync.render.thumbnails import PictureUrl

__all__ = ["NOT_IN_REQUEST", "CommentError", "Commenting", "start"]

NOT_IN_REQUEST = "--comment: not in a pull request; planning without a comment"
_WECHAT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,29}")


def start(config_path: Path) -> Commenting | None:
    """The comment of this CI job's pull or merge request; None when it runs for none."""
    platform = detect()
    return Commenting(platform, config_path) if platform is not None else None


class Commenting:
    """kfsync's comment on one request, for one run of `plan` with one config."""

    def __init__(self, platform: Platform, config_path: Path) -> None:
        self.platform = platform
        self.config_path = config_path
        self.wechat_id: str | None = None  #: known once the config is loaded
        self.posted = False  #: the plan is posted (or was tried): a later failure has its own say

    def planned(self, wechat_id: str, markdown: Callable[[PictureUrl | None], str]) -> str:
        """Post the plan, `markdown(pictures)`; says what was done, for the log."""
        self.wechat_id = wechat_id
        self.posted = True
        folder = self.config_path.resolve().parent  # where the plan's avatar paths start

        def render(found: Comment | None) -> str:
            return markdown(self.platform.pictures(folder, found.body if found else ""))

        return self._said(*publish(self.platform, marker(wechat_id), render))

    def failed(self, error: str) -> str:
        """Say in the comment that the plan failed with `error` (one line, redacted)."""
        wechat_id = self.wechat_id or wechat_id_in(self.config_path)
        wanted = marker(wechat_id) if wechat_id else UNKNOWN_MARKER
        return self._said(*publish(self.platform, wanted, lambda _: failure_body(wechat_id, error)))

    def close(self) -> None:
        self.platform.rest.close()

    def _said(self, comment: Comment, updated: bool) -> str:
        done = "updated kfsync's comment" if updated else "commented"
        where = f" ({comment.url})" if comment.url.startswith("https://") else ""
        return f"--comment: {done} on {self.platform.place}{where}"


def wechat_id_in(config_path: Path) -> str | None:
    """The Official Account's WeChat ID as an unloadable config still says it, or None."""
    from kfsync.config.yamlsafe import read_document
    from kfsync.errors import KfsyncError

    try:
        data = read_document(config_path, str(config_path)).data
    except (KfsyncError, OSError, ValueError):
        return None
    account = data.get("official_account") if isinstance(data, dict) else None
    found = account.get("wechat_id") if isinstance(account, dict) else None
    return found if isinstance(found, str) and _WECHAT_ID.fullmatch(found) else None
