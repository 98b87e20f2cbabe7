"""Options that several commands share, declared once."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        default="kfsync.yaml",
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The configuration file.",
    )(func)


def parallelism_option(func: F) -> F:
    """--parallelism: calls made at once (apply), and live pictures downloaded at once."""
    from kfsync.providers.base import DEFAULT_PARALLELISM

    return click.option(
        "--parallelism",
        type=click.IntRange(1, 32),
        default=DEFAULT_PARALLELISM,
        show_default=True,
        help="How many calls to make, and live pictures to download, at once.",
    )(func)


def reconcile_options(func: F) -> F:
    """--allow-delete and --cache-dir, for plan and apply."""
    func = click.option(
        "--allow-delete",
        default="",
        metavar="A,B",
        help="Prefixes that may be deleted (or rebound) beyond policy.max_deletes; each must be named.",
    )(func)
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where live picture fingerprints are cached (default: the user cache directory).",
    )(func)


def allowed(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


#: Old format names still accepted: `table` was the human format of the listing commands.
FORMAT_ALIASES = {"table": "text"}


class FormatChoice(click.Choice):  # type: ignore[type-arg]
    """`--format`'s names, and the aliases of the ones renamed (shown: the names only)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.lower() in FORMAT_ALIASES:
            alias = FORMAT_ALIASES[value.lower()]
            if alias in self.choices:
                value = alias
        return super().convert(value, param, ctx)


def format_option(choices: tuple[str, ...], help_text: str, *, dest: str = "fmt") -> Callable[[F], F]:
    """`--format` with `choices`, the first being the default."""
    return click.option("--format", dest, type=FormatChoice(choices), default=choices[0],
                        show_default=True, help=help_text)


#: The products `--provider` names: the WeChat Official Account and WeCom's 微信客服.
PROVIDERS = ("wechat_mp", "wecom")


def provider_option(func: F) -> F:
    """--provider, for the commands that read live accounts without a config file."""
    return click.option(
        "--provider",
        type=click.Choice(PROVIDERS),
        default=None,
        help="The product to read: wechat_mp (the Official Account) or wecom (a WeCom corp's "
             "微信客服) [default: wecom when KFSYNC_CORPID is set and KFSYNC_APPID is not, "
             "else wechat_mp].",
    )(func)


def chosen_provider(value: str | None, environ: Mapping[str, str] | None = None) -> str:
    """`--provider` as given, else guessed from which credentials are set (empty is unset)."""
    if value is not None:
        return value
    env = os.environ if environ is None else environ
    return "wecom" if env.get("KFSYNC_CORPID") and not env.get("KFSYNC_APPID") else "wechat_mp"
