"""Servicers: batches of 100, per-item results under a top-level 0, members and departments."""

from __future__ import annotations

import pytest

from kfsync.errors import WeChatError
from kfsync.providers.wecom.client import WeComClient
from kfsync.providers.wecom.emulator import WeComEmulator
from kfsync.providers.wecom.results import Servicer
from tests.helpers.wecom import bootstrap, calls_to, people

ADD = "/cgi-bin/kf/servicer/add"


def corp(wecom: WeComEmulator) -> str:
    return bootstrap(wecom, users=[*people("alice", "bob"), *people("hidden", visible=False),
                                   *people("dormant", active=False), *people("inner", visible=False)],
                     departments=[{"department_id": 2, "name": "Sales", "members": ["alice"]},
                                  {"department_id": 3, "name": "Secret", "visible": False},
                                  {"department_id": 4, "name": "Open", "members": ["inner"]}])


def test_failed_items_hide_under_a_top_level_zero(wecom: WeComEmulator,
                                                  client: WeComClient) -> None:
    open_kfid = corp(wecom)
    results = client.add_servicers(open_kfid, ["alice", "ghost", "hidden", "dormant", "inner"],
                                   [2, 3, 99])
    codes = {r.subject: r.errcode for r in results}
    assert codes == {"alice": 0, "ghost": 60111, "hidden": 60011, "dormant": 95014,
                     "inner": 0, "department 2": 0, "department 3": 60011,
                     "department 99": 60123}
    assert [c["errcode"] for c in calls_to(wecom, ADD)] == [0]
    ghost = next(r for r in results if r.userid == "ghost")
    assert not ghost.ok
    assert ghost.hint == "no member of the corp has this userid"
    assert next(r for r in results if r.userid == "alice").hint is None
    # The items that worked stay done.
    assert set(client.list_servicers(open_kfid)) == {
        Servicer(userid="alice", status=0, stop_type=0), Servicer(userid="inner", status=0,
                                                                   stop_type=0),
        Servicer(department_id=2)}


def test_repeats_are_ignored_not_failed(wecom: WeComEmulator, client: WeComClient) -> None:
    open_kfid = corp(wecom)
    client.add_servicers(open_kfid, ["alice"])
    again = client.add_servicers(open_kfid, ["alice"])
    assert again[0].ok
    assert again[0].ignored
    removed = client.delete_servicers(open_kfid, ["alice", "bob"])
    assert [(r.userid, r.ignored) for r in removed] == [("alice", False), ("bob", True)]
    assert client.list_servicers(open_kfid) == ()


def test_250_userids_go_in_3_calls(wecom: WeComEmulator, client: WeComClient) -> None:
    userids = [f"user{n:03d}" for n in range(250)]
    open_kfid = bootstrap(wecom, users=people(*userids))
    batches = list(client.add_servicer_batches(open_kfid, userids, [1]))
    assert [len(b) for b in batches] == [101, 100, 50]
    sent = [c["body"] for c in calls_to(wecom, ADD)]
    assert [len(b["userid_list"]) for b in sent] == [100, 100, 50]
    assert [b.get("department_id_list") for b in sent] == [[1], None, None]
    assert sum(r.ok for b in batches for r in b) == 250  # department 1 does not exist
    assert len(client.list_servicers(open_kfid)) == 250
    removed = client.delete_servicers(open_kfid, userids)
    assert len(removed) == 250
    assert all(r.ok for r in removed)
    assert not any(r.ignored for r in removed)


def test_a_failing_batch_keeps_the_earlier_ones(wecom: WeComEmulator, client: WeComClient) -> None:
    userids = [f"user{n:03d}" for n in range(150)]
    open_kfid = bootstrap(wecom, users=people(*userids))
    wecom.admin.fault(ADD, errcode=40058)  # queued faults hit the next call...
    batches = client.add_servicer_batches(open_kfid, userids)
    with pytest.raises(WeChatError) as exc:
        next(batches)
    assert exc.value.errcode == 40058
    batches = client.add_servicer_batches(open_kfid, userids)
    assert len(next(batches)) == 100
    wecom.admin.fault(ADD, errcode=95004)
    with pytest.raises(WeChatError):
        next(batches)
    assert len(client.list_servicers(open_kfid)) == 100


def test_nothing_to_change_sends_nothing(wecom: WeComEmulator, client: WeComClient) -> None:
    open_kfid = corp(wecom)
    assert client.add_servicers(open_kfid) == ()
    assert calls_to(wecom, ADD) == []


def test_status_shows_only_for_managed_accounts(wecom: WeComEmulator,
                                               client: WeComClient) -> None:
    wecom.admin.seed(users=people("alice"), accounts=[
        {"open_kfid": "wkMine", "name": "Mine", "servicers": [
            {"userid": "alice", "status": 1, "stop_type": 1}]},
        {"open_kfid": "wkTheirs", "name": "Theirs", "manage_privilege": False,
         "servicers": [{"userid": "alice", "status": 1}]}])
    assert client.list_servicers("wkMine") == (Servicer("alice", None, 1, 1),)
    assert client.list_servicers("wkTheirs") == (Servicer("alice"),)


@pytest.mark.parametrize(("open_kfid", "code"), [("wkMissing", 95004), ("bad id", 95000)])
def test_unknown_accounts(wecom: WeComEmulator, client: WeComClient, open_kfid: str,
                          code: int) -> None:
    with pytest.raises(WeChatError) as exc:
        client.list_servicers(open_kfid)
    assert exc.value.errcode == code
