"""The Python client for the WeChat Official Account customer-service (kf) API.

`KfClient` and `RetryPolicy` are loaded on first use, so importing this
package (or `kfsync.providers.wechat_mp.client.results`) does not import `requests`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfsync.client.transport import RetryPolicy
    from kfsync.providers.wechat_mp.client.api import KfClient

__all__ = ["KfClient", "RetryPolicy"]

_HOMES = {
    "KfClient": "kfsync.providers.wechat_mp.client.api",
    "RetryPolicy": "kfsync.client.transport",
}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
