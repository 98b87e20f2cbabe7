"""`kfsync import`: write a kfsync.yaml (and its avatars) describing the live accounts.

The contract: `kfsync plan` on the written file reports no changes (see
`kfsync.providers.wechat_mp.importer` for how each live field is written so that it holds).
Nothing is written until every account checked out, and then each file is
written atomically: avatars first, the config last, so the config never names
a picture that is not there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol, TypeVar

import click

from kfsync.commands._globals import settings
from kfsync.commands._options import chosen_provider, provider_option
from kfsync.errors import ExitCode, UsageError
from kfsync.textsafe import visible
from kfsync.yamltext import SCHEMA_FILE

if TYPE_CHECKING:
    from kfsync.providers.wechat_mp.importer import Imported
    from kfsync.providers.wecom.importer import Imported as WeComImported


class _Warns(Protocol):
    """What the import flow needs of a product's import: the warnings to print."""

    @property
    def warnings(self) -> tuple[str, ...]: ...


_Imported = TypeVar("_Imported", bound=_Warns)

@click.command("import")
@provider_option
@click.option(
    "-o",
    "--out",
    "--output",
    "output",
    default="kfsync.yaml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The configuration file to write.",
)
@click.option(
    "--avatars-dir",
    default="avatars",
    show_default=True,
    metavar="DIR",
    help="Where to save the avatar pictures, relative to the folder of the configuration file.",
)
@click.option(
    "--wechat-id",
    metavar="ID",
    help="The Official Account's WeChat ID, the suffix of its kf accounts "
    "(default: the one suffix all live accounts share); not for WeCom.",
)
@click.option("--force", is_flag=True, help="Overwrite the file and avatar pictures if they exist.")
def command(provider: str | None, output: Path, avatars_dir: str, wechat_id: str | None,
            force: bool) -> ExitCode:
    """Write a kfsync.yaml that describes the live accounts: `kfsync plan` on it shows no changes.

    Nicknames are written as they are; a bound account gets `wechat:`, and so
    does a waiting invitation (with a comment saying until when); an expired or
    rejected invitation is only a comment.  Avatars are downloaded into DIR as
    <prefix>.jpg.  The JSON Schema is written next to the file as
    kfsync.schema.json, for editors.  Existing files are never overwritten
    without --force.  Credentials come from KFSYNC_* as for `kfsync plan`.

    WeCom (--provider wecom): each account the app manages is written under its
    name with its `id:`, its servicers and its avatar (saved as <name>.jpg, or
    <id>.jpg for a name no file can have); accounts the app does not manage are
    only named in a comment.  Contact links cannot be listed: declare `scenes:`.
    """
    if chosen_provider(provider) == "wecom":
        if wechat_id is not None:
            raise UsageError("--wechat-id is for an Official Account; a WeCom file names its "
                             "corp by KFSYNC_CORPID")
        return _import_wecom(output, avatars_dir, force)
    from kfsync.providers.wechat_mp.client import KfClient
    from kfsync.providers.wechat_mp.importer import (
        build_import,
        check_import,
        render_config,
        select_accounts,
    )
    from kfsync.providers.wechat_mp.provider import live_account

    _check_output(output, avatars_dir, force)
    with KfClient() as client:
        live = tuple(live_account(a) for a in client.list_accounts())
        appid = client.appid
        picture_deadline = client.config.picture_deadline
    now = int(time.time())
    chosen, accounts, skipped = select_accounts(live, wechat_id)
    # Prefixes and nicknames are checked before any of them becomes a file name.
    check_import(build_import(chosen, accounts, now=now, appid=appid))

    pictures = {a.prefix: a.headimgurl for a in accounts if a.headimgurl}

    def build(avatars: dict[str, str], failures: dict[str, str]) -> Imported:
        return check_import(build_import(chosen, accounts, now=now, appid=appid, avatars=avatars,
                                         avatar_failures=failures, warnings=skipped))

    return _write_import(output, avatars_dir, force, pictures, {p: p for p in pictures},
                         picture_deadline, build, render_config, _summary)


def _check_output(output: Path, avatars_dir: str, force: bool) -> None:
    """Refuse `output` and `avatars_dir` before any call if they cannot be written."""
    folder = output.parent  # as given, so that messages name files the way the user does
    if output.name == SCHEMA_FILE:
        raise UsageError(f"--out: {SCHEMA_FILE} is where the JSON Schema goes; pick another name")
    _avatar_target(avatars_dir, "x", folder)  # a bad --avatars-dir fails before any call
    _refuse_overwrite([output], force)


def _import_wecom(output: Path, avatars_dir: str, force: bool) -> ExitCode:
    """`kfsync import` of a WeCom corp's accounts (see `kfsync.providers.wecom.importer`)."""
    from kfsync.providers.wecom.client import WeComClient
    from kfsync.providers.wecom.importer import (
        avatar_stems,
        build_import,
        render_config,
        select_accounts,
    )
    from kfsync.providers.wecom.live import read_accounts

    _check_output(output, avatars_dir, force)
    with WeComClient() as client:
        corp_id = client.config.corpid
        if not corp_id:  # a static token alone does not say whose it is
            raise UsageError("set KFSYNC_CORPID: the written file names the corp (wecom.corp_id)")
        managed, unmanaged = select_accounts(read_accounts(client))
        picture_deadline = client.config.picture_deadline

    pictures = {str(a.kf_id): a.headimgurl for a in managed if a.headimgurl}

    def build(avatars: dict[str, str], failures: dict[str, str]) -> WeComImported:
        return build_import(corp_id, managed, unmanaged=unmanaged, avatars=avatars,
                            avatar_failures=failures)

    return _write_import(output, avatars_dir, force, pictures, avatar_stems(managed),
                         picture_deadline, build, render_config, _wecom_summary)


def _write_import(output: Path, avatars_dir: str, force: bool, pictures: Mapping[str, str],
                  stems: Mapping[str, str], picture_deadline: float,
                  build: Callable[[dict[str, str], dict[str, str]], _Imported],
                  render: Callable[[_Imported], str],
                  summary: Callable[[_Imported, Path], str]) -> ExitCode:
    """Download the avatars, build the import, write the pictures, the schema and the file; report.

    `pictures` are the live pictures' URLs by account (prefix or open_kfid), `stems` the
    file name each is saved under; `build` makes the import from the avatars saved (their
    paths as written) and why the others were not.  Every file is refused before the
    first download if it exists and `force` is not given.
    """
    from kfsync.config.resources import schema_bytes

    folder = output.parent  # as given, so that messages name files the way the user does
    schema_path = folder / SCHEMA_FILE
    targets = {key: _avatar_target(avatars_dir, stems[key], folder) for key in pictures}
    schema = schema_bytes()
    schema_stale = not _holds(schema_path, schema)
    _refuse_overwrite(
        [output, *([schema_path] if schema_stale else []), *(path for _, path in targets.values())],
        force,
    )
    saved, failures = _download_avatars(pictures, picture_deadline)
    imported = build({key: targets[key][0] for key in saved}, failures)
    for key, data in saved.items():
        _write(targets[key][1], data)
    if schema_stale:
        _write(schema_path, schema)
    _write(output, render(imported).encode("utf-8"))
    _report(imported.warnings, summary(imported, output))
    return ExitCode.OK


def _report(warnings: Iterable[str], summary: str) -> None:
    if settings().quiet:
        return
    from kfsync.redact import redact

    for warning in warnings:
        click.echo(f"kfsync: warning: {visible(redact(warning))}", err=True)
    click.echo(summary, err=True)


def _avatar_target(avatars_dir: str, prefix: str, folder: Path) -> tuple[str, Path]:
    """The avatar path as the config writes it, and the file it names, refused unless inside `folder`."""
    from kfsync.config.semantic import AvatarPathError, resolve_avatar

    written = (PurePosixPath(avatars_dir) / f"{prefix}.jpg").as_posix()
    try:
        resolve_avatar(written, folder.absolute())  # the loader's own check
    except AvatarPathError as exc:
        raise UsageError(f"--avatars-dir {avatars_dir}: {exc}") from None
    return written, folder / written


def _holds(path: Path, data: bytes) -> bool:
    """Whether `path` is a file with exactly `data` (then writing it again is no overwrite)."""
    try:
        return path.is_file() and path.read_bytes() == data
    except OSError:
        return False


def _refuse_overwrite(paths: Iterable[Path], force: bool) -> None:
    from kfsync.files import check_regular_or_new

    paths = list(paths)
    for path in paths:  # not even --force replaces a FIFO, a device or a symbolic link
        try:
            check_regular_or_new(path)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    if force:
        return
    existing = [str(path) for path in paths if path.exists() or path.is_symlink()]
    if existing:
        more = f" (and {len(existing) - 3} more)" if len(existing) > 3 else ""
        raise UsageError(
            f"refusing to overwrite {', '.join(existing[:3])}{more}; pass --force to replace"
        )


def _download_avatars(urls: Mapping[str, str],
                      deadline: float) -> tuple[dict[str, bytes], dict[str, str]]:
    """The picture to save by account (prefix or open_kfid), and why the others were not saved."""
    from kfsync.commands._progress import shown
    from kfsync.downloads import download_pictures
    from kfsync.providers.wechat_mp.importer import prepare_avatar

    with shown("Downloading avatars", "pictures") as advance:
        downloads = download_pictures(urls.values(), deadline=deadline, prepare=prepare_avatar,
                                      progress=advance)
    saved: dict[str, bytes] = {}
    failures: dict[str, str] = {}
    for prefix, url in sorted(urls.items()):
        download = downloads[url]
        if download.data is None:
            failures[prefix] = download.error or "not downloaded"
        else:
            saved[prefix] = download.data
    return saved, failures


def _write(path: Path, data: bytes) -> None:
    from kfsync.files import write_atomic_bytes

    try:
        write_atomic_bytes(path, data, regular_only=True)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _summary(imported: Imported, output: Path) -> str:
    return (
        f"Imported {_count(len(imported.accounts), 'account')} ({imported.bound} bound, "
        f"{_count(imported.pending, 'invitation')} pending, {_count(imported.avatars, 'avatar')}) "
        f"into {output}"
    )


def _wecom_summary(imported: WeComImported, output: Path) -> str:
    written = imported.written
    parts = [_count(sum(1 for a in written if a.avatar), "avatar")]
    commented = len(imported.accounts) - len(written)
    if commented:
        parts.append(f"{commented} left as a comment")
    if imported.unmanaged:
        parts.append(f"{len(imported.unmanaged)} not managed by this app")
    return f"Imported {_count(len(written), 'account')} ({', '.join(parts)}) into {output}"
