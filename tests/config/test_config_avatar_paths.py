"""Avatar paths in a config: they must stay inside its folder and name a usable image.

In a CI job that holds secrets, a pull request must not be able to make kfsync
upload an arbitrary file from the runner: absolute paths, `..` and symbolic
links leading out are all refused, even when the target is a valid image.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kfsync import avatars
from kfsync.config import load_config
from kfsync.config.semantic import AvatarPathError, resolve_avatar
from kfsync.errors import ConfigError

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A config folder with one good avatar, and a valid image outside it."""
    folder = tmp_path / "repo"
    (folder / "avatars").mkdir(parents=True)
    shutil.copy(EXAMPLES / "avatars" / "alice.jpg", folder / "avatars" / "alice.jpg")
    shutil.copy(EXAMPLES / "avatars" / "alice.jpg", tmp_path / "secret.jpg")
    return folder


def config_with_avatar(folder: Path, avatar: str) -> Path:
    path = folder / "kfsync.yaml"
    path.write_text(
        "version: 1\nofficial_account:\n  wechat_id: shop_cs\naccounts:\n"
        f"  alice:\n    nickname: Alice\n    avatar: '{avatar}'\n",
        "utf-8",
    )
    return path


def problems_of(path: Path, *, check_avatars: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, check_avatars=check_avatars)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


OUTSIDE = "7:13: accounts.alice.avatar: leads outside the folder of the config file through a "
OUTSIDE += "symbolic link; refused"


def test_a_good_avatar_resolves_to_an_absolute_path(repo: Path) -> None:
    config = load_config(config_with_avatar(repo, "avatars/alice.jpg"))
    assert config.accounts[0].avatar == (repo / "avatars" / "alice.jpg").resolve()


def test_a_link_to_a_file_outside_is_refused(repo: Path) -> None:
    (repo / "avatars" / "evil.jpg").symlink_to(repo.parent / "secret.jpg")
    assert problems_of(config_with_avatar(repo, "avatars/evil.jpg")) == [OUTSIDE]


def test_a_linked_folder_leading_outside_is_refused(repo: Path) -> None:
    (repo / "pics").symlink_to(repo.parent, target_is_directory=True)
    assert problems_of(config_with_avatar(repo, "pics/secret.jpg")) == [OUTSIDE]


def test_containment_is_checked_even_without_opening_avatars(repo: Path) -> None:
    (repo / "avatars" / "evil.jpg").symlink_to("/etc/hostname")
    path = config_with_avatar(repo, "avatars/evil.jpg")
    assert problems_of(path, check_avatars=False) == [OUTSIDE]


def test_a_link_that_stays_inside_is_fine(repo: Path) -> None:
    (repo / "current.jpg").symlink_to(repo / "avatars" / "alice.jpg")
    config = load_config(config_with_avatar(repo, "current.jpg"))
    assert config.accounts[0].avatar == (repo / "avatars" / "alice.jpg").resolve()


def test_the_config_folder_may_itself_be_reached_through_a_link(repo: Path) -> None:
    config_with_avatar(repo, "avatars/alice.jpg")
    (repo.parent / "link").symlink_to(repo, target_is_directory=True)
    assert load_config(repo.parent / "link" / "kfsync.yaml").accounts[0].avatar is not None


def test_a_link_loop_is_a_problem(repo: Path) -> None:
    (repo / "loop.jpg").symlink_to(repo / "loop.jpg")
    [problem] = problems_of(config_with_avatar(repo, "loop.jpg"))
    assert problem.startswith("7:13: accounts.alice.avatar: ")
    assert "loop.jpg" in problem


def test_a_folder_is_not_an_avatar(repo: Path) -> None:
    assert problems_of(config_with_avatar(repo, "avatars")) == [
        "7:13: accounts.alice.avatar: avatars is not a regular file"
    ]


def test_a_missing_avatar_passes_when_avatars_are_not_checked(repo: Path) -> None:
    path = config_with_avatar(repo, "avatars/later.png")
    assert (
        load_config(path, check_avatars=False).accounts[0].avatar
        == (repo / "avatars" / "later.png").resolve()
    )


def test_an_avatar_too_big_for_wechat_is_a_problem(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(avatars, "MAX_UPLOAD_BYTES", 1000)
    [problem] = problems_of(config_with_avatar(repo, "avatars/alice.jpg"))
    assert problem.startswith("7:13: accounts.alice.avatar: avatars/alice.jpg: the picture is ")
    assert problem.endswith(" bytes as a JPEG; WeChat takes at most 1000 bytes")


def test_a_decompression_bomb_is_a_problem(
    repo: Path, claimed_png: Callable[[int, int], bytes]
) -> None:
    (repo / "bomb.png").write_bytes(claimed_png(30_000, 30_000))
    assert problems_of(config_with_avatar(repo, "bomb.png")) == [
        "7:13: accounts.alice.avatar: bomb.png: not a readable image "
        "(too many pixels: decompression bomb guard)"
    ]


def test_one_file_shared_by_accounts_is_reported_at_each_use(repo: Path) -> None:
    path = repo / "kfsync.yaml"
    path.write_text(
        "version: 1\nofficial_account:\n  wechat_id: shop_cs\ndefaults:\n  avatar: x.png\n"
        "accounts:\n  a:\n    nickname: A\n    avatar: x.png\n  b:\n    nickname: B\n",
        "utf-8",
    )
    message = "no such file x.png (paths are relative to the folder of the config file)"
    assert problems_of(path) == [
        f"5:11: defaults.avatar: {message}",
        f"9:13: accounts.a.avatar: {message}",
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("/etc/passwd", "must be relative to the folder of the config file, not absolute"),
        ("C:/x.png", "must be relative to the folder of the config file, not absolute"),
        ("a/../../x.png", "must stay inside the folder of the config file; remove .."),
        ("a/../x.png", "must stay inside the folder of the config file; remove .."),
        ("a\\x.png", "use / to separate folders, not \\"),
    ],
)
def test_resolve_avatar_refuses_ways_out(tmp_path: Path, value: str, reason: str) -> None:
    with pytest.raises(AvatarPathError) as caught:
        resolve_avatar(value, tmp_path)
    assert str(caught.value) == reason


def test_resolve_avatar_accepts_plain_relative_paths(tmp_path: Path) -> None:
    assert resolve_avatar("./a/b.png", tmp_path) == tmp_path.resolve() / "a" / "b.png"
    assert os.path.isabs(resolve_avatar("b.png", tmp_path))


def test_an_avatar_the_system_will_not_show_us_is_a_problem(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root, permissions cannot be taken away; the error kfsync would get is made instead."""
    real_is_file = Path.is_file

    def is_file(self: Path) -> bool:
        if self.name == "alice.jpg":
            raise PermissionError(13, "Permission denied")
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    assert problems_of(config_with_avatar(repo, "avatars/alice.jpg")) == [
        "7:13: accounts.alice.avatar: avatars/alice.jpg: cannot read it (Permission denied)"
    ]
