"""Customers, sessions and messages of the emulated corp, and the statistics it reports.

Rules (the emulator's reading of the reference, §5):
- a customer without a session is in state 4 (ended or not started);
- transitions: 0 → 1, 2, 3, 4; 1 → 2, 3, 4; 2 → 3, 4; 3 → 3, 4; from 4 → 95013;
  anything else 95016; 3 needs a servicer of the account (95014) who is serving (95019);
  the answer carries a `msg_code` when the new state is 3 or 4, which send_msg_on_event
  takes once, within 20 s (seeded codes: until used), for a text or menu message;
- sync_msg returns messages of the last 3 days in arrival order; the cursor is opaque;
- send_msg: the session must be in state 0 or 1 (95018); the customer must have written
  to the account (95031) within 48 h (95002), and at most 5 messages answer each of
  their messages (95001).  Messages sent through the API are not returned by sync_msg.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from kfsync.emulator.exceptions import EmulatorError

MSG_WINDOW = 3 * 86400
REPLY_WINDOW = 48 * 3600
REPLIES_PER_MESSAGE = 5
EVENT_CODE_LIFETIME = 20
TRANSITIONS: dict[int, frozenset[int]] = {
    0: frozenset({1, 2, 3, 4}), 1: frozenset({2, 3, 4}), 2: frozenset({3, 4}),
    3: frozenset({3, 4}),
}
MSGTYPES = frozenset({"text", "image", "voice", "video", "file", "link", "miniprogram", "msgmenu",
                      "location", "business_card", "ca_link", "event"})


@dataclass(frozen=True)
class Customer:
    external_userid: str
    nickname: str = ""
    avatar: str = ""
    gender: int = 0
    unionid: str = ""
    enter_session_context: dict[str, Any] | None = None

    def wire(self, context: bool) -> dict[str, Any]:
        item = {k: v for k, v in asdict(self).items() if k != "enter_session_context"}
        if context and self.enter_session_context is not None:
            item["enter_session_context"] = self.enter_session_context
        return item


@dataclass(frozen=True)
class Message:
    seq: int
    msgid: str
    open_kfid: str
    external_userid: str
    send_time: int
    origin: int
    msgtype: str
    content: dict[str, Any]
    servicer_userid: str | None = None

    def wire(self) -> dict[str, Any]:
        item: dict[str, Any] = {"msgid": self.msgid, "open_kfid": self.open_kfid,
                                "external_userid": self.external_userid,
                                "send_time": self.send_time, "origin": self.origin,
                                "msgtype": self.msgtype, self.msgtype: self.content}
        if self.servicer_userid:
            item["servicer_userid"] = self.servicer_userid
        return item


@dataclass
class Conversations:
    customers: dict[str, Customer] = field(default_factory=dict)
    #: "open_kfid external_userid" -> [state, servicer_userid]
    sessions: dict[str, list[Any]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  #: through send_msg
    statistics: list[dict[str, Any]] = field(default_factory=list)
    upgrade: dict[str, list[str]] = field(default_factory=lambda: {"userids": [], "chat_ids": []})
    upgrades: dict[str, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0
    #: event codes (msg_code) -> the moment they stop being valid (0: never)
    codes: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ sessions

    def customer(self, external_userid: str) -> Customer:
        found = self.customers.get(external_userid)
        if found is None:
            raise EmulatorError(40096)
        return found

    def state(self, open_kfid: str, external_userid: str) -> tuple[int, str | None]:
        self.customer(external_userid)
        state, servicer = self.sessions.get(f"{open_kfid} {external_userid}", [4, None])
        return int(state), servicer

    def trans(self, open_kfid: str, external_userid: str, new: int,
              servicer: str | None, now: int) -> str | None:
        """Change the state; the caller checked `servicer` for state 3."""
        old, _ = self.state(open_kfid, external_userid)
        if old == 4:
            raise EmulatorError(95013)
        if new not in TRANSITIONS.get(old, frozenset()):
            raise EmulatorError(95016)
        self.sessions[f"{open_kfid} {external_userid}"] = [new, servicer if new == 3 else None]
        if new not in (3, 4):
            return None
        code = f"MSGCODE{secrets.token_hex(12)}"
        self.codes[code] = now + EVENT_CODE_LIFETIME
        return code

    def send_on_event(self, code: str, msgtype: str, msgid: str | None, now: int) -> str:
        """Send with a single-use event code: 40058 when unknown, used or expired."""
        if msgtype not in ("text", "msgmenu"):
            raise EmulatorError(95009)
        until = self.codes.pop(code, None)
        if until is None or (until and now >= until):
            raise EmulatorError(40058)
        msgid = msgid or f"event{len(self.sent) + 1:08d}"
        self.sent.append({"code": code, "msgtype": msgtype, "msgid": msgid, "time": now})
        return msgid

    def forget_account(self, open_kfid: str) -> None:
        self.sessions = {k: v for k, v in self.sessions.items()
                         if not k.startswith(f"{open_kfid} ")}

    # ------------------------------------------------------------------ messages

    def add_message(self, open_kfid: str, external_userid: str, send_time: int, origin: int,
                    msgtype: str, content: dict[str, Any], servicer: str | None = None) -> None:
        self.seq += 1
        self.messages.append(Message(self.seq, f"msg{self.seq:08d}{secrets.token_hex(4)}",
                                     open_kfid, external_userid, send_time, origin, msgtype,
                                     content, servicer))
        if origin == 3 and f"{open_kfid} {external_userid}" not in self.sessions:
            self.sessions[f"{open_kfid} {external_userid}"] = [0, None]

    def page(self, cursor: str, limit: int, open_kfid: str | None,
             now: int) -> tuple[list[Message], str, bool]:
        after = 0
        if cursor:
            if not cursor.startswith("c") or not cursor[1:].isdigit():
                raise EmulatorError(40058)
            after = int(cursor[1:])
        found = [m for m in self.messages if m.seq > after and m.send_time >= now - MSG_WINDOW
                 and (open_kfid is None or m.open_kfid == open_kfid)]
        page = found[:limit]
        last = page[-1].seq if page else after
        return page, f"c{last}", len(found) > limit

    def send(self, open_kfid: str, touser: str, msgtype: str, msgid: str | None,
             now: int) -> str:
        state, _ = self.state(open_kfid, touser)
        if msgtype not in MSGTYPES - {"event"}:
            raise EmulatorError(95009)
        theirs = [m for m in self.messages if m.open_kfid == open_kfid
                  and m.external_userid == touser and m.origin == 3]
        if not theirs:
            raise EmulatorError(95031)
        if state not in (0, 1):
            raise EmulatorError(95018)
        last = max(m.send_time for m in theirs)
        if now - last > REPLY_WINDOW:
            raise EmulatorError(95002)
        replies = [s for s in self.sent if s.get("open_kfid") == open_kfid
                   and s.get("touser") == touser and s["time"] >= last]
        if len(replies) >= REPLIES_PER_MESSAGE:
            raise EmulatorError(95001)
        msgid = msgid or f"sent{len(self.sent) + 1:08d}"
        self.sent.append({"open_kfid": open_kfid, "touser": touser, "msgtype": msgtype,
                          "msgid": msgid, "time": now})
        return msgid

    # ------------------------------------------------------------------ statistics

    def statistic(self, start: int, end: int, open_kfid: str | None,
                  servicer: str | None, per_servicer: bool) -> list[dict[str, Any]]:
        rows = [row for row in self.statistics
                if start <= row["stat_time"] <= end
                and (open_kfid is None or row.get("open_kfid") == open_kfid)
                and (("servicer_userid" in row) == per_servicer)
                and (servicer is None or row.get("servicer_userid") == servicer)]
        return [{"stat_time": row["stat_time"], "statistic": row["statistic"]}
                for row in sorted(rows, key=lambda row: row["stat_time"])]

    # ------------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        return {"customers": [asdict(c) for c in self.customers.values()],
                "sessions": dict(self.sessions), "messages": [asdict(m) for m in self.messages],
                "sent": list(self.sent), "statistics": list(self.statistics),
                "upgrade": dict(self.upgrade), "upgrades": dict(self.upgrades), "seq": self.seq,
                "codes": dict(self.codes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversations:
        return cls({c["external_userid"]: Customer(**c) for c in data["customers"]},
                   dict(data["sessions"]), [Message(**m) for m in data["messages"]],
                   list(data["sent"]), list(data["statistics"]), dict(data["upgrade"]),
                   dict(data["upgrades"]), int(data["seq"]),
                   {k: int(v) for k, v in data["codes"].items()})
