"""The routing table: WeChat path -> methods, input kind and handler.

Only the two list endpoints live under `/cgi-bin/customservice/`; any path not
listed here answers 40066 `invalid url`.
"""

from __future__ import annotations

from kfsync.providers.wechat_mp.emulator.responses import KfResponses, Route

GET = frozenset({"GET"})
POST = frozenset({"POST"})
GET_OR_POST = GET | POST

ROUTES: dict[str, Route] = {
    "/cgi-bin/token": Route(GET, KfResponses.token, token=False),
    "/cgi-bin/stable_token": Route(POST, KfResponses.stable_token, "json", token=False),
    "/cgi-bin/customservice/getkflist": Route(GET, KfResponses.getkflist),
    "/cgi-bin/customservice/getonlinekflist": Route(GET, KfResponses.getonlinekflist),
    "/customservice/kfaccount/add": Route(POST, KfResponses.add, "json"),
    "/customservice/kfaccount/inviteworker": Route(POST, KfResponses.inviteworker, "json"),
    "/customservice/kfaccount/update": Route(POST, KfResponses.update, "json"),
    # GET with query, POST with a JSON body, or POST with the query and no body.
    "/customservice/kfaccount/del": Route(GET_OR_POST, KfResponses.delete, "optional"),
    "/customservice/kfaccount/uploadheadimg": Route(POST, KfResponses.uploadheadimg, "multipart"),
    "/customservice/kfsession/create": Route(POST, KfResponses.create_session, "json"),
    "/customservice/kfsession/close": Route(POST, KfResponses.close_session, "json"),
    "/customservice/kfsession/getsession": Route(GET, KfResponses.getsession),
    "/customservice/kfsession/getsessionlist": Route(GET, KfResponses.getsessionlist),
    "/customservice/kfsession/getwaitcase": Route(GET, KfResponses.getwaitcase),
    "/customservice/msgrecord/getmsglist": Route(POST, KfResponses.getmsglist, "json"),
    "/customservice/msgrecord/getrecord": Route(POST, KfResponses.getrecord, "json"),
}
