"""A WeCom corp's repository for the CI tests: the GitHub action's and the GitLab component's.

Both run the real CLI, as a runner does, on the same folder: a kfsync.yaml with `wecom:` whose two
accounts share one avatar (the bootstrap "Front desk" to update, "售前咨询" to add with zhangsan
serving it), against the WeCom emulator reset to that corp.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kfsync.providers.wecom.emulator import DEFAULT_CORPID, WeComEmulator
from tests.helpers.wecom import bootstrap, people, picture
from tests.helpers.wecom_e2e import WRITES


def corp_folder(folder: Path, server: WeComEmulator, *, scenes: Sequence[str] = ()) -> None:
    """Reset `server` to the corp and write its kfsync.yaml and avatar into `folder`.

    `scenes` are the second account's contact-link scenes (none: the `scenes:` key is left out).
    """
    server.admin.reset()
    bootstrap(server, users=people("zhangsan"))
    (folder / "avatars").mkdir(parents=True, exist_ok=True)
    (folder / "avatars" / "desk.png").write_bytes(picture("PNG"))
    scene_line = f"    scenes: [{', '.join(scenes)}]\n" if scenes else ""
    config = (
        f"version: 1\nwecom:\n  corp_id: {DEFAULT_CORPID}\naccounts:\n"
        "  Front desk:\n    avatar: avatars/desk.png\n"
        "  售前咨询:\n    avatar: avatars/desk.png\n    servicers:\n      users: [zhangsan]\n"
        f"{scene_line}"
    )
    (folder / "kfsync.yaml").write_text(config, encoding="utf-8")


def writes(server: WeComEmulator) -> list[str]:
    """The paths of the logged calls that changed the corp, in order."""
    return [r["path"] for r in server.admin.requests() if r["path"] in WRITES]
