"""A local emulator of the WeChat Official Account customer-service (kf) HTTP API.

Structured like a moto service: `urls` (routing), `responses` (request parsing per
endpoint), `models` (state and domain rules), with `app` plugging them into the
generic machinery of `kfsync.emulator` (HTTP server, faults, clock, request
log, state file, admin API), `server` serving it and `admin.EmulatorAdmin`
calling its admin API.

Where the API reference is uncertain the emulator chooses, and tests pin, this:
- kf_id is a JSON number (a string with strict=True); errmsg carries no rid suffix;
- the token endpoint checks grant_type (40002), then appid (41002/40013), then the
  secret (41004/40125); a superseded token past its grace answers 40001, an expired
  one 42001; a force-refreshed stable token loses its predecessor at once;
- invitations: see `models.KfBackend.invite_worker` for the rule order;
  accepting removes the invite_* fields; a rejected or expired one can be renewed;
- a session needs a bound account whose status is not 0; accepting an invitation
  does not bring an account online (seed "status" does);
- a new avatar replaces the old picture, whose URL then answers 404;
- getmsglist: seconds up to 10**10, start <= end, number 1..10000, msgid required
  (65416), window <= 86400 s (65417);
- legacy getrecord: start and end on one China Standard Time day (61500),
  pageindex >= 1 and pagesize 1..50 (61451); its answer has no errcode;
- malformed multipart or no `media` part answers 40097; an empty body 44002.
"""

from __future__ import annotations

from kfsync.providers.wechat_mp.emulator.admin import EmulatorAdmin
from kfsync.providers.wechat_mp.emulator.config import DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_WECHAT_ID
from kfsync.providers.wechat_mp.emulator.server import Emulator

__all__ = ["DEFAULT_APPID", "DEFAULT_SECRET", "DEFAULT_WECHAT_ID", "Emulator", "EmulatorAdmin"]
