"""The WeCom (企业微信) error codes of the 微信客服 API: wire `errmsg`, meaning and what to do.

The same shape as `kfsync.errcodes`: the emulator answers with `errmsg`, and the
client attaches `hint`.  `WECOM` tells the transport what to do with a code:
40014/42001 refresh the token once; -1, 45033 and 6000 are retried a bounded
number of times; 40001 (a wrong secret) is never repeated, because wrong-secret
calls in a loop get the caller's IP banned for an hour; 60020 names the IP.
"""

from __future__ import annotations

from kfsync.errcodes import ErrCode, ErrcodeTable

#: Where the WeCom admin console lets an app manage a kf account; plans name it when one is not.
CONSOLE = "微信客服 → 通过API管理会话消息 → 企业内部开发 → <app> → 可管理的客服账号"

_TABLE = [
    ErrCode(-1, "system busy", "WeCom is busy; retried at most 3 times, then try again later"),
    ErrCode(6000, "data version conflict",
            "another writer changed the same data at the same time; retried, then try again later"),
    ErrCode(40001, "invalid secret",
            "KFSYNC_CORPSECRET is wrong, was reset, or its app is disabled; fix it before "
            "retrying (repeated wrong-secret calls get this IP banned for 1 hour)"),
    ErrCode(40003, "invalid userid", "the userid is not a member of this corp"),
    ErrCode(40005, "invalid file type", "avatars must be JPG or PNG pictures"),
    ErrCode(40006, "invalid file size", "a file must be larger than 5 bytes"),
    ErrCode(40007, "invalid media_id",
            "the media_id expired (temporary media live 3 days) or is not an image; upload again"),
    ErrCode(40009, "invalid image size", "avatars must be 2 MB or smaller"),
    ErrCode(40013, "invalid corpid", "check KFSYNC_CORPID: it is the corp ID (ww…) of 我的企业"),
    ErrCode(40014, "invalid access_token", "the access token is not valid; it will be fetched again"),
    ErrCode(40058, "invalid parameter",
            "a request argument is missing or malformed (also answered to GET on a POST endpoint)"),
    ErrCode(40096, "invalid external userid", "the external_userid does not belong to this corp"),
    ErrCode(41001, "access_token missing", "no access token was sent"),
    ErrCode(41002, "corpid missing", "set KFSYNC_CORPID"),
    ErrCode(41004, "corpsecret missing", "set KFSYNC_CORPSECRET"),
    ErrCode(42001, "access_token expired", "the access token expired; it will be fetched again"),
    ErrCode(43001, "require GET method", "this endpoint needs GET"),
    ErrCode(43002, "require POST method", "this endpoint needs POST"),
    ErrCode(44002, "empty post data", "the request body was empty"),
    ErrCode(45009, "api freq out of limit",
            "the per-corp call limit (10,000/min, 150,000/h per API) is used up; wait a minute "
            "(an hour for the hourly limit) before calling again"),
    ErrCode(45033, "api concurrent out of limit",
            "too many calls to one API at once; retried, then lower the parallelism"),
    ErrCode(47001, "data format error", "the request body is not valid JSON"),
    ErrCode(48002, "api forbidden",
            "the app may not call this API: add it under 微信客服 → 可调用接口的应用 and use its "
            "secret; for kf/account/add, the app must first manage one account: assign one "
            f"under {CONSOLE}"),
    ErrCode(60003, "department not found", "the department id does not exist"),
    ErrCode(60011, "no privilege to access/modify contact/party/agent",
            "the member, department or account is outside the app's visible range (可见范围) "
            "or management privilege; widen the app's visible range in the admin console"),
    ErrCode(60020, "not allow to access from your ip",
            "add this machine's IP to the app's trusted IPs (企业可信IP) in the admin console; "
            "it takes about a minute to apply"),
    ErrCode(60111, "invalid string value `userid`", "no member of the corp has this userid"),
    ErrCode(60123, "invalid party id", "the department id is not valid"),
    ErrCode(95000, "invalid open_kfid", "the open_kfid is malformed"),
    ErrCode(95001, "send msg count limit exceed",
            "at most 5 messages may answer one customer message"),
    ErrCode(95002, "send msg time limit exceed",
            "messages may be sent only within 48 hours of the customer's last message"),
    ErrCode(95003, "open_kfid exceed", "too many kf accounts in one call"),
    ErrCode(95004, "open_kfid not exist",
            "the kf account does not exist (deleted, or of another corp); list the accounts again"),
    ErrCode(95005, "kf account count exceed",
            "the corp holds the most kf accounts it may (5000), or the last one may not go"),
    ErrCode(95006, "invalid kf account name",
            "a name is 1 to 16 characters (and, where names must be unique, not taken)"),
    ErrCode(95007, "invalid msg token", "the sync_msg token expired (10 minutes) or is wrong"),
    ErrCode(95008, "kf account not authorized", "the account is not assigned to this app"),
    ErrCode(95009, "invalid msgtype", "the message type is not supported"),
    ErrCode(95011, "corp is in unified mode",
            "the corp uses 微信客服 inside WeCom (联合版): use the secret of a WeCom app"),
    ErrCode(95012, "corp is in standalone mode",
            "the corp uses standalone 微信客服 (独立版): use its secret"),
    ErrCode(95013, "session closed", "the session has ended; wait for the customer to write again"),
    ErrCode(95014, "user is not servicer",
            "the member is not a servicer of this account, or not activated in WeCom"),
    ErrCode(95015, "专属服务 configured",
            "the admin console already configured 专属服务 for this; change it there"),
    ErrCode(95016, "invalid service state transition",
            "this session state cannot change to the one asked for"),
    ErrCode(95017, "kf api switch is off",
            "turn on API access in the 微信客服 console (通过API管理微信客服账号)"),
    ErrCode(95018, "service state not allow send msg",
            "messages can be sent only while the session is new (0) or with the assistant (1)"),
    ErrCode(95019, "servicer is not serving", "the servicer has stopped or suspended serving"),
    ErrCode(95022, "servicer count exceed", "the kf account has the most servicers it may"),
    ErrCode(95023, "kf api granted to another app",
            "the 微信客服 API is granted to a 代开发 app; take it back in the console"),
    ErrCode(95026, "kf account usage too low",
            "WeCom refuses new accounts while the existing ones are little used; try later"),
    ErrCode(95027, "corp unverified, at most 10 kf accounts",
            "an unverified corp may hold at most 10 kf accounts; verify the corp (企业认证)"),
    ErrCode(95030, "customer refused", "the customer refuses messages"),
    ErrCode(95031, "no consultation within 48 hours",
            "the customer has not written within 48 hours"),
    ErrCode(95032, "msg rejected", "the message was rejected"),
]

CODES: dict[int, ErrCode] = {entry.code: entry for entry in _TABLE}

WECOM = ErrcodeTable(
    CODES,
    token_invalid=frozenset({40014, 42001}),
    transient=frozenset({-1, 45033, 6000}),
    quota=frozenset({45009, 45033}),
    ip_codes=frozenset({60020}),
    service="WeCom",
)

#: Codes of a token fetch that are never asked again in the same run (IP ban on 40001).
FATAL_TOKEN_CODES = frozenset({40001, 40013, 41002, 41004, 48002, 60020, 95017, 95023})
#: Servicer-item codes whose errmsg "ignored" means: already so, nothing to do.
IGNORED = "ignored"


def errmsg(code: int) -> str:
    return WECOM.errmsg(code)


def hint(code: int) -> str | None:
    return WECOM.hint(code)
