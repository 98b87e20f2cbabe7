"""`python rel_launch.py ARGS` runs `kfsync ARGS`, with retry delays of milliseconds.

The one difference from `python -m kfsync`: the clients' default `RetryPolicy`
(the Official Account's and WeCom's) waits 1 to 20 ms between its attempts
instead of 0.25 to 8 s, so that the subprocess tests stay fast.  The attempts
and everything else are kfsync's own.
"""

from __future__ import annotations

import sys

import kfsync.providers.wechat_mp.client.api
import kfsync.providers.wecom.client
from kfsync.cli import main
from kfsync.client.transport import RetryPolicy


def quick_retries() -> RetryPolicy:
    return RetryPolicy(base_delay=0.002, max_delay=0.02)


if __name__ == "__main__":
    for client in (kfsync.providers.wechat_mp.client.api, kfsync.providers.wecom.client):
        vars(client)["RetryPolicy"] = quick_retries
    sys.exit(main())
