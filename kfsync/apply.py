"""Apply a plan: run its changes against a provider with bounded parallelism, honestly.

Dependencies are respected; a failed change skips its dependents, not the
whole run.  A change whose answer was lost (outcome unknown) is resolved by
re-reading the live list, never by a blind resend (and so again if the
repeat's answer is lost too).  A quota error stops new work, lets work in
flight finish, and reports the rest as skipped.  So does Ctrl-C, after which
nothing more is sent (no re-read, no repeat, no retry) and a change whose
answer is lost or still awaited is reported as failed, maybe made; a second
Ctrl-C stops the waiting at once.  Every change ends as done, failed or
skipped, even when the re-read that would decide it fails.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from kfsync.errors import KfsyncError, WeChatError
from kfsync.plan import Action, Change, Plan
from kfsync.providers.base import DEFAULT_PARALLELISM, ErrorKind

if TYPE_CHECKING:
    from kfsync.providers.base import Provider

log = logging.getLogger(__name__)

Status = Literal["done", "failed", "skipped"]

#: A change whose answer was lost is re-read (and made again if it did not happen) at most this
#: many times, since the repeat's answer can be lost as well.
LOST_ANSWER_ROUNDS = 4
INTERRUPTED = "interrupted by Ctrl-C"
IN_FLIGHT = "maybe made: interrupted while it was under way; plan again to see"
LOST_AFTER_CTRL_C = ("maybe made: its answer was lost, and after Ctrl-C it was neither checked "
                     "nor sent again; plan again to see")


@dataclass(frozen=True)
class Outcome:
    """How one change ended."""

    change: Change
    status: Status
    duration_ms: int = 0
    errcode: int | None = None
    message: str | None = None
    note: str | None = None  #: e.g. how an unknown outcome was resolved
    kind: ErrorKind | None = None  #: the generic kind of the error it failed with, if known

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.change.id,
            "action": self.change.action.value,
            "account": self.change.account,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "errcode": self.errcode,
            "message": self.message,
            "note": self.note,
        }


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]
    stopped: str | None = None  #: why no new changes were started, if they were not
    interrupted: bool = False  #: by Ctrl-C
    actions: tuple[Action, ...] | None = None  #: the plan's kinds of change (`Plan.actions`)

    @property
    def complete(self) -> bool:
        return all(o.status == "done" for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        """Changes done by kind, and how many failed or were skipped.

        `servicers` is counted only when the plan had servicer changes, as in `Plan.summary`.
        """
        done = [o.change.action for o in self.outcomes if o.status == "done"]
        counts = {
            "added": done.count(Action.ADD),
            "updated": done.count(Action.UPDATE),
            "deleted": done.count(Action.DELETE),
            "invited": done.count(Action.INVITE),
            "avatars": done.count(Action.SET_AVATAR),
            "failed": sum(1 for o in self.outcomes if o.status == "failed"),
            "skipped": sum(1 for o in self.outcomes if o.status == "skipped"),
        }
        if any(o.change.action is Action.SERVICERS for o in self.outcomes):
            counts["servicers"] = done.count(Action.SERVICERS)
        return counts


Progress = Callable[[int, int, Outcome], None]
#: Where each change's thread puts how it ended: its outcome, or what it raised.
Finished = queue.SimpleQueue[tuple[Change, "Outcome | BaseException"]]


def describe(exc: KfsyncError) -> str:
    """An error as an outcome shows it: the account and action are shown beside it already."""
    if isinstance(exc, WeChatError):
        text = f"errcode {exc.errcode} {exc.errmsg}"
        return f"{text} ({exc.hint})" if exc.hint else text
    return str(exc)


class Applier:
    """Runs one plan's changes against one provider."""

    def __init__(
        self,
        provider: Provider,
        uploads: Mapping[str, bytes],
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        progress: Progress | None = None,
    ) -> None:
        self.provider = provider
        self.uploads = uploads  #: normalised pictures to upload, by account
        self.parallelism = max(1, parallelism)
        self.progress = progress
        self._lock = threading.Lock()
        self._finished = 0
        self._stopped = threading.Event()  #: set by Ctrl-C
        self._ended: dict[str, Outcome | BaseException] = {}  #: by change id, as each thread ends

    def run(self, plan: Plan) -> ApplyResult:
        """Run every change once its dependencies are done; each ends done, failed or skipped.

        Among the changes ready to start, the first (in plan order) of the action
        with the fewest calls in flight goes next: mixing actions spreads the
        heavy calls (avatar uploads) among the light ones, so that neither end
        handles a burst of uploads while the light calls wait.
        """
        order = {c.id: index for index, c in enumerate(plan.changes)}
        waiting = {c.id: c for c in plan.changes}  #: neither started nor decided
        unmet: dict[str, int] = {}
        dependents: dict[str, list[Change]] = defaultdict(list)
        ready: dict[Action, list[tuple[int, str]]] = defaultdict(list)  #: heaps, in plan order
        for change in plan.changes:
            needs = {d for d in change.depends_on if d in order}
            unmet[change.id] = len(needs)
            for need in needs:
                dependents[need].append(change)
            if not needs:
                heapq.heappush(ready[change.action], (order[change.id], change.id))
        outcomes: dict[str, Outcome] = {}
        running: dict[str, Change] = {}  #: by id
        in_flight: Counter[Action] = Counter()
        stopped: str | None = None
        total = len(waiting)

        def settle(outcome: Outcome) -> None:
            """Record an outcome; release the changes waiting on it, or skip them if it failed."""
            self._record(outcomes, outcome, total)
            for child in dependents[outcome.change.id]:
                if child.id not in waiting:
                    continue
                if outcome.status != "done":
                    del waiting[child.id]
                    parent = outcome.change  # named as the progress lines name it, not by its id
                    why = stopped or f"{parent.action.value} {parent.account} did not complete"
                    settle(Outcome(child, "skipped", message=why))
                else:
                    unmet[child.id] -= 1
                    if unmet[child.id] == 0:
                        heapq.heappush(ready[child.action], (order[child.id], child.id))

        def skip_all(why: str) -> None:
            for change in sorted(waiting.values(), key=lambda c: order[c.id]):
                self._record(outcomes, Outcome(change, "skipped", message=why), total)
            waiting.clear()
            ready.clear()

        finished: Finished = queue.SimpleQueue()
        interrupted = False

        def settle_ended() -> None:
            """Settle every change whose thread has ended, whether or not its result was taken.

            Ctrl-C can come between taking a result from `finished` and settling it:
            the threads' own record is what says which calls are still under way.
            """
            with self._lock:
                ended = list(self._ended.items())
            for change_id, result in ended:
                running.pop(change_id, None)
                if isinstance(result, Outcome) and change_id not in outcomes:
                    settle(result)

        try:
            while waiting or running:
                if stopped:
                    skip_all(stopped)
                while len(running) < self.parallelism and any(ready.values()):
                    action = min((a for a, heap in ready.items() if heap),
                                 key=lambda a: (in_flight[a], ready[a][0][0]))
                    change = waiting.pop(heapq.heappop(ready[action])[1])
                    running[change.id] = change
                    in_flight[action] += 1
                    self._start(change, finished)
                if not running:  # only a hand-edited plan file makes changes wait on each other
                    skip_all("its depends_on can never be met (the changes wait on each other)")
                    continue
                change, outcome = finished.get()
                del running[change.id]
                in_flight[change.action] -= 1
                if isinstance(outcome, BaseException):  # as if raised here: Ctrl-C, or a bug
                    raise outcome
                if outcome.kind is ErrorKind.QUOTA and stopped is None:
                    code = f" {outcome.errcode}" if outcome.errcode is not None else ""
                    stopped = f"stopped after {self.provider.service} quota error{code}"
                settle(outcome)
        except KeyboardInterrupt:
            # Ctrl-C: start nothing more, not even a repeat, but wait for the calls already
            # sent, so that what they did is reported rather than guessed.
            interrupted = True
            stopped = INTERRUPTED
            self._stop()
            skip_all(stopped)
            try:
                settle_ended()
                while running:
                    finished.get()  # the next call ends: its result is in self._ended
                    settle_ended()
            except KeyboardInterrupt:
                pass  # a second Ctrl-C: stop waiting; the calls still out are reported maybe made
        # A change with no outcome was under way when the waiting stopped.
        for change in plan.changes:
            if change.id not in outcomes:
                self._record(outcomes, Outcome(change, "failed", message=IN_FLIGHT), total)
        ordered = tuple(outcomes[c.id] for c in plan.changes)
        return ApplyResult(ordered, stopped, interrupted, plan.actions)

    def _start(self, change: Change, finished: Finished) -> None:
        """Make the change in a thread of its own, which puts its outcome in `finished`.

        Daemon threads, not a pool: after a second Ctrl-C nobody waits for them,
        neither the report nor the end of the process.
        """

        def work() -> None:
            result: Outcome | BaseException
            try:
                result = self._execute(change)
            except BaseException as exc:  # handed to the main thread, which raises it
                result = exc
            with self._lock:
                self._ended[change.id] = result
            finished.put((change, result))

        threading.Thread(target=work, name=f"kfsync-apply-{change.id}", daemon=True).start()

    def _stop(self) -> None:
        """Nothing more is sent: no new change, no repeat, no retry of a call under way."""
        self._stopped.set()
        self.provider.stop()

    def _record(self, outcomes: dict[str, Outcome], outcome: Outcome, total: int) -> None:
        outcomes[outcome.change.id] = outcome
        with self._lock:
            self._finished += 1
            index = self._finished
        if self.progress:
            self.progress(index, total, outcome)

    # ------------------------------------------------------------------ one change

    def _execute(self, change: Change) -> Outcome:
        started = time.monotonic()

        def ms() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            self.provider.execute(change, self.uploads)
            return Outcome(change, "done", ms())
        except KfsyncError as exc:
            if self.provider.classify(exc) is ErrorKind.OUTCOME_UNKNOWN:
                log.info("%s: answer lost (%s); re-reading the live list", change.id, exc.message)
                return self._resolve_unknown(change, exc, ms)
            return self._refused(change, exc, ms)
        except Exception as exc:  # a bug must cost this change, not the report of the others
            log.debug("%s failed unexpectedly", change.id, exc_info=True)
            return Outcome(change, "failed", ms(), None,
                           f"internal error: {type(exc).__name__}: {exc}; rerun with --debug "
                           "and report it")

    def _already_true(self, change: Change, kind: ErrorKind | None) -> bool:
        """Whether a refusal means the wanted state already holds (re-read when it may)."""
        if kind is ErrorKind.NOT_FOUND:
            return change.action is Action.DELETE
        if kind is ErrorKind.ALREADY_EXISTS:
            return self.provider.holds(change)
        return False

    def _refused(self, change: Change, exc: KfsyncError, ms: Callable[[], int],
                 context: str = "") -> Outcome:
        """Done when the refusal means "already so" (checked by re-reading), else failed."""
        errcode = exc.errcode if isinstance(exc, WeChatError) else None
        kind = self.provider.classify(exc)
        try:
            if self._already_true(change, kind):
                said = f"{self.provider.service} said {errcode}" if errcode is not None else str(exc)
                return Outcome(change, "done", ms(), note=f"{said}; already so")
        except KfsyncError as reread:  # the change must still end as failed, not crash the run
            return Outcome(change, "failed", ms(), errcode,
                           f"{context}{describe(exc)}; the live list could not be re-read to "
                           f"check it: {describe(reread)}", kind=kind)
        return Outcome(change, "failed", ms(), errcode, context + describe(exc), kind=kind)

    def _resolve_unknown(self, change: Change, lost: KfsyncError,
                         ms: Callable[[], int]) -> Outcome:
        """Re-read: done if the change is there, else make it again (never blindly).

        The repeat's answer can be lost too: then the same again, up to
        LOST_ANSWER_ROUNDS times.
        """
        for _ in range(LOST_ANSWER_ROUNDS):
            if self._stopped.is_set():  # after Ctrl-C nothing new starts, not even a re-read
                return Outcome(change, "failed", ms(), None, LOST_AFTER_CTRL_C)
            try:
                if self.provider.holds(change):
                    return Outcome(change, "done", ms(), note="answer lost; confirmed by re-reading")
                # The change did not happen: now it is safe to make it once more.
                if self._stopped.is_set():
                    return Outcome(change, "failed", ms(), None, LOST_AFTER_CTRL_C)
                self.provider.execute(change, self.uploads)
                return Outcome(change, "done", ms(), note="answer lost; not made; made again")
            except KfsyncError as exc:
                if self.provider.classify(exc) is ErrorKind.OUTCOME_UNKNOWN:
                    log.info("%s: answer lost again (%s); re-reading the live list", change.id,
                             exc.message)
                    lost = exc
                    continue
                # e.g. 65406: someone else made it between our re-read and our repeat.
                return self._refused(change, exc, ms, "answer lost, then: ")
        return Outcome(change, "failed", ms(), None,
                       f"answer lost {LOST_ANSWER_ROUNDS + 1} times: {describe(lost)}")
