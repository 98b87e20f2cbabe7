"""The products kfsync manages, one package each, behind the `base.Provider` seam.

`open_provider` picks the provider for the product a config declares; the
core (model, plan, apply, engine, renderers) imports nothing else from here
but `base`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kfsync.providers.base import DEFAULT_PARALLELISM

if TYPE_CHECKING:
    from kfsync.cache import Cache
    from kfsync.config import Config
    from kfsync.providers.base import Provider


def open_provider(config: Config, *, cache: Cache | None = None,
                  parallelism: int = DEFAULT_PARALLELISM, connections: int = 1) -> Provider:
    """The provider of the config's product, with credentials from the environment.

    A config declares its product by its section: `official_account:` is the
    WeChat Official Account (`wechat_mp`), `wecom:` a WeCom corp's 微信客服
    accounts (`wecom`).  `parallelism`: the live pictures it downloads (and, for
    WeCom, the servicer lists it reads) at once; `connections`: how many it opens
    before its first call (apply: its parallelism).
    """
    if config.wecom is not None:
        from kfsync.providers.wecom.provider import WeComProvider

        return WeComProvider.from_environment(cache=cache, parallelism=parallelism,
                                              connections=connections)
    from kfsync.providers.wechat_mp.provider import WechatMpProvider

    return WechatMpProvider.from_environment(cache=cache, parallelism=parallelism,
                                             connections=connections)
