"""A hostile kfsync.yaml, as a pull request could write it, through `kfsync plan` and `validate`.

tests/config covers each refusal in the loader (paths, links, sizes, depth,
anchors, tags); here the same attacks go through the CLI a CI job runs, and
each must end in one error line, exit 1, before WeChat is asked anything, and
without reading (let alone quoting) what lies outside the config's folder.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from kfsync import avatars
from kfsync.config import yamlsafe
from tests.helpers.security import MIB, OpenLog, Shop, assert_one_line_error, picture

OUTSIDE = "leads outside the folder of the config file through a symbolic link; refused"
LEAK = "leaked-value-4f1c"


def avatar_config(shop: Shop, avatar: str) -> None:
    shop.write_config({"alice": {"nickname": "Alice", "avatar": avatar}})


def link(shop: Shop, name: str, target: str | Path) -> str:
    path = shop.folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return name


def outside_picture(shop: Shop) -> Path:
    """A valid picture next to (not inside) the shop folder: a runner file."""
    path = shop.folder.parent / "runner-file.png"
    path.write_bytes(picture())
    return path


#: name -> (builds the avatar value in the shop, what the error says)
AVATARS: dict[str, tuple[Callable[[Shop], str], str]] = {
    "link-to-picture": (lambda s: link(s, "a.png", outside_picture(s)), OUTSIDE),
    "link-to-passwd": (lambda s: link(s, "a.png", "/etc/passwd"), OUTSIDE),
    "link-to-dev-zero": (lambda s: link(s, "a.png", "/dev/zero"), OUTSIDE),
    "linked-folder": (lambda s: link(s, "pics", s.folder.parent) + "/runner-file.png", OUTSIDE),
    "relative-link": (lambda s: link(s, "a.png", "../runner-file.png"), OUTSIDE),
    "absolute": (lambda s: str(outside_picture(s)), "must be relative to the folder"),
    "dotdot": (lambda s: "../" + outside_picture(s).name, "must stay inside the folder"),
    "backslash": (lambda s: "..\\" + outside_picture(s).name, "use / to separate folders"),
    "proc": (lambda s: "/proc/self/environ", "must be relative to the folder"),
}


@pytest.mark.parametrize("case", sorted(AVATARS))
@pytest.mark.parametrize("command", ["plan", "validate"])
def test_an_avatar_outside_the_folder_is_refused_before_any_call(
        shop: Shop, opens: OpenLog, command: str, case: str) -> None:
    make, message = AVATARS[case]
    outside_picture(shop)
    avatar_config(shop, make(shop))
    opens.paths.clear()
    result = shop.run(command, "-c", shop.config)
    assert result.code == 1, result.text
    assert message in result.text
    if command == "plan":
        assert_one_line_error(result)
    assert shop.requests() == []
    assert opens.opened("runner-file.png") == []
    assert opens.opened("/etc/passwd") == opens.opened("/dev/zero") == []


@pytest.mark.parametrize("command", ["plan", "validate"])
@pytest.mark.parametrize("target", ["outside-yaml", "/etc/passwd", "/dev/zero", "/proc/self/environ"])
def test_a_config_linked_outside_its_folder_is_refused_unread(
        shop: Shop, opens: OpenLog, command: str, target: str) -> None:
    """A pull request could replace kfsync.yaml by a link to any file of the runner."""
    if target == "outside-yaml":
        outside = shop.folder.parent / "other.yaml"
        outside.write_text(f"version: {LEAK}\nhunter2: {LEAK}\n", encoding="utf-8")
        target = str(outside)
    shop.config.symlink_to(target)
    opens.paths.clear()
    result = shop.run(command, "-c", shop.config)
    line = assert_one_line_error(result)
    assert line.endswith(f"{shop.config}: a symbolic link leading outside its folder; refused "
                         "(pass the file it points to with -c FILE)") or "not a regular file" in line
    assert LEAK not in result.text
    assert opens.opened(target) == []
    assert shop.requests() == []


def test_a_config_linked_inside_its_folder_is_fine(shop: Shop) -> None:
    (shop.folder / "configs").mkdir()
    real = shop.folder / "configs" / "prod.yaml"
    shop.write_config({"alice": {"nickname": "Alice"}}).rename(real)
    shop.config.symlink_to("configs/prod.yaml")
    assert shop.run("validate", "-c", shop.config).code == 0


def test_a_two_mib_config_is_refused_before_reading(shop: Shop, opens: OpenLog) -> None:
    shop.write_config({"alice": {"nickname": "Alice"}})
    with shop.config.open("a", encoding="utf-8") as handle:
        handle.write("#" * (2 * MIB - shop.config.stat().st_size - 1) + "\n")
    opens.paths.clear()
    line = assert_one_line_error(shop.plan())
    assert f"the file is {2 * MIB} bytes; the limit is 1 MiB" in line
    assert opens.opened(str(shop.config)) == []
    assert shop.requests() == []


def test_a_thirty_mib_avatar_is_refused_after_reading_at_most_the_cap(shop: Shop) -> None:
    path = shop.folder / "huge.png"
    path.write_bytes(picture())
    os.truncate(path, 30 * MIB)  # sparse: a valid PNG start, then zeros
    avatar_config(shop, "huge.png")
    tracemalloc.start()
    try:
        result = shop.plan()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    line = assert_one_line_error(result)
    assert "huge.png: the file is over 20 MiB; use a smaller picture" in line
    assert peak < avatars.MAX_SOURCE_BYTES + 4 * MIB  # the cap plus one byte, never the file
    assert shop.requests() == []


BILLION_LAUGHS = "\n".join([
    'version: 1',
    'official_account: {wechat_id: shop_cs}',
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"{b}: &{b} [*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a}]"
      for a, b in zip("abcdefgh", "bcdefghi", strict=True)),
    'accounts: {alice: {nickname: *i}}',
    '',
])


@pytest.mark.parametrize(("document", "message"), [
    (BILLION_LAUGHS, "3:4: anchor &a: anchors are not supported"),
    ("aliases: [" + "*a, " * 20_000 + "*a]\n", "1:11: alias *a: aliases are not supported"),
    ("x: " + "[" * 400_000 + "]" * 400_000 + "\n", "the document is nested too deeply"),
    ("x: " + "{a: " * 200_000 + "1" + "}" * 200_000 + "\n", "the document is nested too deeply"),
    ("x: !!python/object/apply:os.system ['touch PWNED']\n", "unsupported YAML tag"),
    ("x: !!binary aGk=\n", "unsupported YAML tag !!binary"),
])
def test_yaml_that_expands_or_runs_code_is_refused(shop: Shop, document: str, message: str) -> None:
    shop.config.write_text(document, encoding="utf-8")
    assert shop.config.stat().st_size <= yamlsafe.MAX_FILE_BYTES
    line = assert_one_line_error(shop.plan())
    assert message in line
    assert not (shop.folder / "PWNED").exists()
    assert not Path("PWNED").exists()
    assert shop.requests() == []
