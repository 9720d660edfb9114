"""What an op changed — the one way screens learn that the database moved (after Anki's OpChanges).

An op that writes declares what it changes when it is built (`Op.changes(state, OpChanges(...))`,
see `ui/qt/operations/`). When it succeeds, `ui.qt.ops` hands that to `AppState.notify`, the one
place that emits `AppState.changed(OpChanges)`; each screen refreshes what the flags say it
shows. A screen never announces a change itself, so a new op cannot forget to (a reprint says
`payments` only: Today's list shows the copy count, but nothing new waits to be synced). The one
announcer that is not an op is the payer-notice sender: when a pass of the window's
`NotifyWorker` handled messages, the main window announces `OpChanges(notify=True)`.

No Qt here: a frozen value that crosses threads as is.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol


@dataclass(frozen=True)
class OpChanges:
    payments: bool = False  # recorded, voided or reprinted: today's list, 01-XN
    participants: bool = False  # registered or corrected
    operators: bool = False  # accounts added or changed
    sync: bool = False  # the outbox moved (a new record, a requeue, enrolment): recount
    settings: bool = False  # counter settings or details
    notify: bool = False  # payer notices moved: a resend, or the notice sender reported

    def __or__(self, other: OpChanges) -> OpChanges:
        return OpChanges(
            **{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)}
        )

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


class ChangeSink(Protocol):
    """Where a finished op reports its changes (`AppState`)."""

    def notify(self, changes: OpChanges) -> None: ...
