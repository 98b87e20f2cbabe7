"""A local emulator of the WeCom 微信客服 API (`/cgi-bin/kf/*` on qyapi.weixin.qq.com).

Built on the shared emulator framework (`kfsync.emulator`), moto style: `urls`,
`responses`, `models` (+ `conversations`), `seed`; `app` serves it.  Defaults:
corp id `DEFAULT_CORPID`, secret `DEFAULT_SECRET`, a verified corp whose app is
authorised and may be called from any IP.

Behaviour: `kf/account/list` pages by offset/limit (1..100); servicer add/del
answer a `result_list` whose items carry their own errcode (60111 unknown user,
60011 outside the visible range, 95014 not activated, 60123 unknown department,
"ignored" when already so) under a top-level 0; media live 3 days on the emulator
clock (then 40007); avatars are served re-encoded at `/wwhead/<id>/0`, a new URL
on each change; an unverified corp holds at most 10 accounts (95027); only
accounts with `manage_privilege` may be changed, those the app adds become
manageable, and an app that manages none cannot add (48002); tokens live 7200 s
(40014 unknown, 42001 expired); seeded `trusted_ips` refuse other callers (60020,
with "from ip: <caller>" in errmsg); 10,000 calls per API per minute (45009).

Switches for what the reference leaves uncertain (`config.Switches`): GET list
honoured, first page only, or refused (`get_list`); duplicate names
(`duplicate_names`); stable or fresh contact URLs (`stable_contact_url`); the
last account deletable or 95005 (`last_account_deletable`); gettoken returning
the valid token or a fresh one (`token_reuse`); the errcode for changing an
unmanaged account, 48002, 95004 or 60011 (`unmanaged_errcode`); a 2 or 10 MB
image cap (`image_max_mb`); the list oldest or newest first (`list_order`).
"""

from __future__ import annotations

from kfsync.providers.wecom.emulator.app import WeComAdmin, WeComEmulator
from kfsync.providers.wecom.emulator.config import DEFAULT_CORPID, DEFAULT_SECRET, Switches

__all__ = ["DEFAULT_CORPID", "DEFAULT_SECRET", "Switches", "WeComAdmin", "WeComEmulator"]
