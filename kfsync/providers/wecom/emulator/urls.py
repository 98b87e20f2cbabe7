"""The routing table: WeCom path -> methods, input kind and handler.

Any other path answers HTTP 404, except `/wwhead/<id>/0`, the avatar pictures.
`kf/account/list` takes GET too (how its answer to GET behaves is a switch);
`kf/servicer/list` takes POST with the query too, as some SDKs send it.
"""

from __future__ import annotations

from kfsync.providers.wecom.emulator.responses import WeComResponses as R
from kfsync.providers.wecom.emulator.responses import WeComRoute

GET = frozenset({"GET"})
POST = frozenset({"POST"})
BOTH = GET | POST

ROUTES: dict[str, WeComRoute] = {
    "/cgi-bin/gettoken": WeComRoute(GET, R.gettoken, "none", token=False),
    "/cgi-bin/media/upload": WeComRoute(POST, R.upload, "multipart"),
    "/cgi-bin/kf/account/list": WeComRoute(BOTH, R.account_list),
    "/cgi-bin/kf/account/add": WeComRoute(POST, R.account_add),
    "/cgi-bin/kf/account/update": WeComRoute(POST, R.account_update),
    "/cgi-bin/kf/account/del": WeComRoute(POST, R.account_del),
    "/cgi-bin/kf/add_contact_way": WeComRoute(POST, R.contact_way),
    "/cgi-bin/kf/servicer/list": WeComRoute(BOTH, R.servicer_list, "none"),
    "/cgi-bin/kf/servicer/add": WeComRoute(POST, R.servicer_add),
    "/cgi-bin/kf/servicer/del": WeComRoute(POST, R.servicer_del),
    "/cgi-bin/kf/service_state/get": WeComRoute(POST, R.service_state_get),
    "/cgi-bin/kf/service_state/trans": WeComRoute(POST, R.service_state_trans),
    "/cgi-bin/kf/sync_msg": WeComRoute(POST, R.sync_msg),
    "/cgi-bin/kf/send_msg": WeComRoute(POST, R.send_msg),
    "/cgi-bin/kf/send_msg_on_event": WeComRoute(POST, R.send_msg_on_event),
    "/cgi-bin/kf/customer/batchget": WeComRoute(POST, R.customer_batchget),
    "/cgi-bin/kf/customer/get_upgrade_service_config": WeComRoute(GET, R.upgrade_config, "none"),
    "/cgi-bin/kf/customer/upgrade_service": WeComRoute(POST, R.upgrade_service),
    "/cgi-bin/kf/customer/cancel_upgrade_service": WeComRoute(POST, R.cancel_upgrade),
    "/cgi-bin/kf/get_corp_statistic": WeComRoute(POST, R.corp_statistic),
    "/cgi-bin/kf/get_servicer_statistic": WeComRoute(POST, R.servicer_statistic),
}
