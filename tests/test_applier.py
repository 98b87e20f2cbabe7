"""The applier against an in-memory provider: no HTTP, every generic error kind, table-driven."""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from kfsync.apply import Applier, ApplyResult
from kfsync.config import Config
from kfsync.errors import KfsyncError
from kfsync.model import LiveState
from kfsync.plan import Action, Change, Output, Plan
from kfsync.progress import Advance, ignore
from kfsync.providers.base import ErrorKind, Provider, Rules


class FakeError(KfsyncError):
    """A provider error of one generic kind."""

    def __init__(self, kind: ErrorKind, *, made: bool = False) -> None:
        super().__init__(f"fake {kind.value}")
        self.kind = kind
        self.made = made  #: for a lost answer: whether the change happened before it was lost


@dataclass
class FakeProvider:
    """Accounts as a dict of nicknames; errors scripted per change id, taken in order."""

    accounts: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[FakeError]] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    stopped: bool = False
    service: str = "Fake"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def read(self, config: Config, *, now: int | None = None, progress: Advance = ignore) -> LiveState:
        raise AssertionError("the applier never reads the whole live side")

    def execute(self, change: Change, uploads: Mapping[str, bytes]) -> None:
        with self.lock:
            self.executed.append(change.id)
            scripted = self.errors.get(change.id)
            error = scripted.pop(0) if scripted else None
        if error is not None and not error.made:
            raise error
        self._make(change, uploads)
        if error is not None:
            raise error

    def _make(self, change: Change, uploads: Mapping[str, bytes]) -> None:
        with self.lock:
            if change.action is Action.DELETE:
                del self.accounts[change.account]
            elif change.action is Action.SET_AVATAR:
                assert uploads[change.account] == b"jpeg"
            else:
                self.accounts[change.account] = str(dict(change.after or {})["nickname"])

    def holds(self, change: Change) -> bool:
        with self.lock:
            if change.action is Action.DELETE:
                return change.account not in self.accounts
            return self.accounts.get(change.account) == dict(change.after or {}).get("nickname")

    def classify(self, error: KfsyncError) -> ErrorKind | None:
        return error.kind if isinstance(error, FakeError) else None

    def rules(self, config: Config) -> Rules:
        raise AssertionError("the applier never plans")

    def outputs(self, wanted: Sequence[Output]) -> tuple[Output, ...]:
        raise AssertionError("the applier reports no outputs")

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        pass


def add(name: str, *, after: str = "") -> Change:
    return Change(Action.ADD, name, None, {"nickname": name.title()}, "declared, not live",
                  (after,) if after else ())


def delete(name: str) -> Change:
    return Change(Action.DELETE, name, {"nickname": name.title()}, None, "tombstone")


def run(provider: FakeProvider, *changes: Change, parallelism: int = 1) -> ApplyResult:
    fake: Provider = provider  # the protocol is all the applier needs
    return Applier(fake, {"alice": b"jpeg"}, parallelism=parallelism).run(Plan("shop", changes))


def test_every_change_is_made_once_in_dependency_order() -> None:
    provider = FakeProvider()
    avatar = Change(Action.SET_AVATAR, "alice", None, {"avatar": "a.png"}, "new", ("add:alice",))
    result = run(provider, add("alice"), avatar, add("bob"), parallelism=4)
    assert result.complete
    assert provider.accounts == {"alice": "Alice", "bob": "Bob"}
    assert provider.executed.index("add:alice") < provider.executed.index("set_avatar:alice")
    assert sorted(provider.executed) == ["add:alice", "add:bob", "set_avatar:alice"]


@pytest.mark.parametrize(
    ("change", "error", "accounts", "status", "note"),
    [
        (delete("alice"), FakeError(ErrorKind.NOT_FOUND), {}, "done", "fake not found; already so"),
        (add("alice"), FakeError(ErrorKind.ALREADY_EXISTS), {"alice": "Alice"}, "done",
         "fake already exists; already so"),
        (add("alice"), FakeError(ErrorKind.ALREADY_EXISTS), {"alice": "Other"}, "failed", None),
        (add("alice"), FakeError(ErrorKind.NOT_FOUND), {}, "failed", None),  # only a delete's is so
        (add("alice"), FakeError(ErrorKind.TRANSIENT), {}, "failed", None),
        (add("alice"), FakeError(ErrorKind.OUTCOME_UNKNOWN, made=True), {}, "done",
         "answer lost; confirmed by re-reading"),
        (add("alice"), FakeError(ErrorKind.OUTCOME_UNKNOWN), {}, "done",
         "answer lost; not made; made again"),
    ],
    ids=["delete-not-found", "add-exists-holds", "add-exists-differs", "add-not-found",
         "transient", "lost-made", "lost-not-made"],
)
def test_each_error_kind_ends_the_change_as_the_live_side_says(
    change: Change, error: FakeError, accounts: dict[str, str], status: str, note: str | None
) -> None:
    provider = FakeProvider(accounts=dict(accounts), errors={change.id: [error]})
    [outcome] = run(provider, change).outcomes
    assert outcome.status == status, outcome
    assert outcome.note == note
    if status == "failed":
        assert outcome.message == str(error)
        assert outcome.kind is error.kind


def test_an_answer_lost_every_time_fails_after_the_bounded_rounds() -> None:
    lost = [FakeError(ErrorKind.OUTCOME_UNKNOWN) for _ in range(10)]
    provider = FakeProvider(errors={"add:alice": lost})
    [outcome] = run(provider, add("alice")).outcomes
    assert outcome.status == "failed"
    assert outcome.message == "answer lost 5 times: fake outcome unknown"
    assert provider.executed == ["add:alice"] * 5


def test_a_quota_error_stops_new_work_and_skips_the_rest() -> None:
    provider = FakeProvider(errors={"add:a": [FakeError(ErrorKind.QUOTA)]})
    result = run(provider, add("a"), add("b"), add("c", after="add:b"))
    assert [o.status for o in result.outcomes] == ["failed", "skipped", "skipped"]
    assert result.stopped == "stopped after Fake quota error"
    assert provider.executed == ["add:a"]
    assert provider.accounts == {}


def test_a_failed_change_skips_its_dependents_only() -> None:
    provider = FakeProvider(errors={"add:a": [FakeError(ErrorKind.TRANSIENT)]})
    result = run(provider, add("a"), add("b"), add("c", after="add:a"))
    assert [o.status for o in result.outcomes] == ["failed", "done", "skipped"]
    assert result.outcomes[2].message == "add a did not complete"
    assert provider.accounts == {"b": "B"}


def test_a_refusal_the_provider_cannot_classify_fails_without_a_re_read() -> None:
    class Odd(KfsyncError):
        pass

    provider = FakeProvider()

    def refuse(change: Change, uploads: Mapping[str, bytes]) -> None:
        raise Odd("refused for a reason of its own")

    provider.execute = refuse  # type: ignore[method-assign]
    [outcome] = run(provider, delete("a")).outcomes
    assert (outcome.status, outcome.kind, outcome.message) == (
        "failed", None, "refused for a reason of its own")


def test_ctrl_c_right_after_a_result_is_taken_neither_loses_it_nor_waits_for_ever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The signal can land between taking a call's result and settling it: it still counts."""

    class InterruptedOnce(queue.SimpleQueue):  # type: ignore[type-arg]
        fired = False

        def get(self, *args: object, **kwargs: object) -> object:
            item = super().get()
            if not InterruptedOnce.fired:
                InterruptedOnce.fired = True
                raise KeyboardInterrupt  # taken from the queue, and then Ctrl-C
            return item

    monkeypatch.setattr("kfsync.apply.queue.SimpleQueue", InterruptedOnce)
    provider = FakeProvider()
    result = run(provider, add("a"), add("b", after="add:a"))
    assert result.interrupted
    assert [(o.status, o.message) for o in result.outcomes] == [
        ("done", None), ("skipped", "interrupted by Ctrl-C")]
    assert provider.stopped
    assert provider.accounts == {"a": "A"}
