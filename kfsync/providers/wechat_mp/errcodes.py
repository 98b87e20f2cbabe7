"""The Official Account's error codes: their wire `errmsg` and a hint for people.

One table serves both sides: the emulator answers with the `errmsg` text, and
the client attaches the `hint` to the errors it raises.
"""

from __future__ import annotations

from kfsync.errcodes import ErrCode, ErrcodeTable

_TABLE = [
    ErrCode(-1, "system error", "WeChat is busy; retry later"),
    ErrCode(40001, "invalid credential, access_token is invalid or not latest",
            "the access token was superseded or the AppSecret is wrong; prefer the "
            "`stable` token mode so that other servers do not invalidate it"),
    ErrCode(40002, "invalid grant_type", "grant_type must be client_credential"),
    ErrCode(40003, "invalid openid", "the openid does not belong to a follower of this account"),
    ErrCode(40005, "invalid file type", "avatars must be JPEG pictures"),
    ErrCode(40009, "invalid media size", "avatars must be 5 MB or smaller"),
    ErrCode(40013, "invalid appid", "check KFSYNC_APPID: it must be the Official Account's AppID"),
    ErrCode(40014, "invalid access_token", "the access token is not valid; it will be fetched again"),
    ErrCode(40033, "invalid charset. please check your request, if include \\uxxxx will create fail!",
            "send JSON as raw UTF-8, without \\u escapes"),
    ErrCode(40066, "invalid url", "the endpoint path is wrong (note which paths carry /cgi-bin)"),
    ErrCode(40097, "invalid args", "a request argument is malformed"),
    ErrCode(40125, "invalid appsecret", "check KFSYNC_APPSECRET: it does not match the AppID"),
    ErrCode(40164, "invalid ip, not in whitelist",
            "add this machine's IP address (see the message) to the IP whitelist in the MP console"),
    ErrCode(41001, "access_token missing", "no access token was sent"),
    ErrCode(41002, "appid missing", "set KFSYNC_APPID"),
    ErrCode(41004, "appsecret missing", "set KFSYNC_APPSECRET"),
    ErrCode(42001, "access_token expired", "the access token expired; it will be fetched again"),
    ErrCode(43001, "require GET method", "this endpoint needs GET"),
    ErrCode(43002, "require POST method", "this endpoint needs POST"),
    ErrCode(43003, "require https", "use an https API base"),
    ErrCode(44002, "empty post data", "the request body was empty"),
    ErrCode(45009, "reach max api daily quota limit",
            "the daily API quota is used up; wait until tomorrow or reset it in the MP console"),
    ErrCode(45011, "api minute-quota reach limit  mustslower  retry next minute",
            "the per-minute quota is used up; slow down and retry in a minute"),
    ErrCode(47001, "data format error", "the request body is not valid JSON"),
    ErrCode(48001, "api unauthorized",
            "this Official Account may not call the API: it must be verified (认证)"),
    ErrCode(48004, "api forbidden for irregularities", "the API was blocked for this account"),
    ErrCode(61451, "invalid parameter",
            "a request argument is out of range (legacy check, e.g. getrecord pagesize above 50)"),
    ErrCode(61452, "invalid kf_account",
            "the kf account was not understood (legacy check; `@` must be sent literally)"),
    ErrCode(61500, "date format error", "start and end must be unix times on the same day"),
    ErrCode(65400, "please enable new custom service, or wait for a while if you have enabled",
            "enable the new customer service (新版客服) in the MP console, then wait a few minutes"),
    ErrCode(65401, "invalid custom service account",
            "the kf account does not exist; it must be created with kfaccount/add first"),
    ErrCode(65402, "the custom service account need to bind a wechat user",
            "the kf account has no WeChat user bound; invite one and have them accept"),
    ErrCode(65403, "illegal nickname", "a nickname is 1 to 16 characters"),
    ErrCode(65404, "illegal custom service account",
            "an account is `prefix@<the account's WeChat ID>`, prefix 1 to 10 of [A-Za-z0-9_]"),
    ErrCode(65405, "custom service account number reach limit",
            "an Official Account has at most 100 kf accounts; delete some first"),
    ErrCode(65406, "custom service account exists", "the kf account already exists"),
    ErrCode(65407, "the wechat user have been one of your workers",
            "that WeChat user already works one of this account's kf accounts"),
    ErrCode(65408, "you have already invited the wechat user",
            "an invitation to that WeChat user is already out for this account"),
    ErrCode(65409, "wechat account invalid", "check the WeChat ID: it is not a valid WeChat user"),
    ErrCode(65410, "too many custom service accounts bound by the worker",
            "that WeChat user is bound to too many kf accounts"),
    ErrCode(65411, "a effective invitation to bind the custom service account exists",
            "the kf account already has a pending invitation; wait for it to be accepted or expire"),
    ErrCode(65412, "the custom service account have been bound by a wechat user",
            "the kf account is already bound; delete and re-create it to bind someone else"),
    ErrCode(65413, "no effective session for the customer", "the customer has no open session"),
    ErrCode(65414, "another worker is serving the customer",
            "the customer is being served by another kf account"),
    ErrCode(65415, "the worker is not online",
            "the kf account is not online; its agent must log in to the web kf tool"),
    ErrCode(65416, "param invalid, please check",
            "times are unix seconds (not milliseconds) and number is 1 to 10000"),
    ErrCode(65417, "it is too long from the starttime to endtime",
            "a chat-record window is at most 24 hours"),
]

CODES: dict[int, ErrCode] = {entry.code: entry for entry in _TABLE}

#: Codes that mean "this access token is no good": refresh it once and retry.
TOKEN_INVALID = frozenset({40001, 40014, 42001})
#: Codes that mean "try again later".
TRANSIENT = frozenset({-1, 45011})
#: Codes that mean "stop calling".
QUOTA = frozenset({45009, 45011})


#: The Official Account's table.
MP = ErrcodeTable(CODES, TOKEN_INVALID, TRANSIENT, QUOTA, frozenset({40164}))


def errmsg(code: int) -> str:
    """The wire `errmsg` for a code (the emulator's answer)."""
    return CODES[code].errmsg


def hint(code: int) -> str | None:
    """What a person should do about a code, if kfsync knows."""
    entry = CODES.get(code)
    return entry.hint if entry else None
